package store

import (
	"context"
	"sync"
)

// feedBuffer is how many changes a watcher may fall behind before they coalesce.
const feedBuffer = 64

// EndpointFeed passes endpoint changes on to the channels of WatchEndpoints, with the
// semantics that method promises: each channel first receives "" (whatever the watcher
// cached before may be stale), then the id of every change, and "" in place of what no
// longer fits when the watcher falls behind. Publishing never blocks. The zero value is
// ready to use.
type EndpointFeed struct {
	mu       sync.Mutex
	watchers map[chan string]struct{}
}

// Watch returns a new watcher's channel, closed when ctx ends or on Close, and a
// function that closes it sooner.
func (f *EndpointFeed) Watch(ctx context.Context) (<-chan string, func()) {
	ch := make(chan string, feedBuffer)
	ch <- ""
	f.mu.Lock()
	if f.watchers == nil {
		f.watchers = make(map[chan string]struct{})
	}
	f.watchers[ch] = struct{}{}
	f.mu.Unlock()
	stop := func() { f.stop(ch) }
	context.AfterFunc(ctx, stop)
	return ch, stop
}

func (f *EndpointFeed) stop(ch chan string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.watchers[ch]; ok {
		delete(f.watchers, ch)
		close(ch)
	}
}

// Publish passes the ids of changed endpoints ("": any may have changed) to every
// watcher. A watcher whose buffer is full gets "" in place of its oldest entry.
func (f *EndpointFeed) Publish(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.watchers {
		for _, id := range ids {
			if !offer(ch, id) {
				break // "" now stands for the rest too
			}
		}
	}
}

// offer sends id to ch, or, when ch is full, replaces its oldest entry with "" and
// reports false.
func offer(ch chan string, id string) bool {
	select {
	case ch <- id:
		return true
	default:
	}
	select {
	case <-ch:
	default:
	}
	select {
	case ch <- "":
	default:
	}
	return false
}

// Close closes every watcher's channel: the store stopped watching.
func (f *EndpointFeed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.watchers {
		delete(f.watchers, ch)
		close(ch)
	}
}
