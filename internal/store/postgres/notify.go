package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Nodes wake each other with NOTIFY on a channel of the schema. The notification is sent
// after the commit that made work claimable, in a transaction of its own: NOTIFY inside a
// transaction holds a database-wide lock from its commit until the end of the WAL flush,
// which would serialise every publishing transaction of every node. If a node dies
// between the commit and the notification, the others still find the work by themselves
// (the engine looks again at least every few seconds while work is due, and when a lease
// expires).

// requestNotify asks the notify loop to send one notification soon; requests made while
// one is pending coalesce.
func (s *Store) requestNotify() {
	select {
	case s.notifyReq <- struct{}{}:
	default:
	}
}

func (s *Store) notifyLoop() {
	defer s.notifier.Done()
	for {
		select {
		case <-s.quit:
			select {
			case <-s.notifyReq:
				s.sendNotify()
			default:
			}
			return
		case <-s.notifyReq:
			s.sendNotify()
		}
	}
}

// endpointNotice prefixes the payload of a notification that an endpoint changed; the
// notifications that wake claim loops have an empty payload.
const endpointNotice = "endpoint:"

// notifyEndpoints tells every node's engine (this one's too) that endpoints changed, so
// that none keeps sending with a cached URL, state or secret. It runs after the commit
// that changed them; a node that misses it reloads the endpoint when its cache expires.
func (s *Store) notifyEndpoints(ids ...string) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(`SELECT pg_notify($1, $2)`, s.channel, endpointNotice+id)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		s.log.Warn("postgres: tell other nodes endpoints changed", "endpoints", ids, "err", err)
	}
}

func (s *Store) sendNotify() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, s.channel); err != nil {
		s.log.Warn("postgres: notify other nodes", "err", err)
	}
}

// Subscribe implements store.Notifier. Notifications arrive on one connection per Store
// (LISTEN), opened on the first subscription and reopened after it fails; a reopening
// also delivers a notification, since some may have been missed meanwhile.
func (s *Store) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	ch := make(chan struct{}, 1)
	s.subsMu.Lock()
	s.subs[ch] = struct{}{}
	if err := s.startListeningLocked(); err != nil {
		s.unsubscribe(ch)
		return nil, err
	}
	go func() {
		<-ctx.Done()
		s.unsubscribe(ch)
	}()
	return ch, nil
}

// WatchEndpoints implements store.Store, on the same LISTEN connection as Subscribe:
// every node's endpoint changes arrive as notifications. Besides the first "", the
// channel receives "" whenever the connection is (re)established, since changes may
// have gone unheard meanwhile.
func (s *Store) WatchEndpoints(ctx context.Context) (<-chan string, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	s.subsMu.Lock()
	ch, stop := s.endpoints.Watch(ctx)
	if err := s.startListeningLocked(); err != nil {
		stop()
		return nil, err
	}
	return ch, nil
}

// startListeningLocked opens the LISTEN connection unless it is open, and waits for the
// first attempt. s.subsMu must be held; it is released on return.
func (s *Store) startListeningLocked() error {
	if !s.listening {
		s.listening = true
		lctx, cancel := context.WithCancel(context.Background())
		s.stopListen = cancel
		ready := make(chan error, 1)
		s.listener.Add(1)
		go s.listen(lctx, ready)
		s.subsMu.Unlock()
		return <-ready
	}
	s.subsMu.Unlock()
	return nil
}

func (s *Store) unsubscribe(ch chan struct{}) {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	if _, ok := s.subs[ch]; ok {
		delete(s.subs, ch)
		close(ch)
	}
}

func (s *Store) broadcast() {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// listen holds the LISTEN connection until ctx ends, reconnecting with a backoff. The
// first connection's outcome goes to ready.
func (s *Store) listen(ctx context.Context, ready chan<- error) {
	defer s.listener.Done()
	defer func() {
		s.subsMu.Lock()
		for ch := range s.subs {
			delete(s.subs, ch)
			close(ch)
		}
		s.endpoints.Close()
		s.listening = false
		s.subsMu.Unlock()
	}()
	wait := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, s.connCfg.Copy())
		if err == nil {
			_, err = conn.Exec(ctx, `LISTEN `+pgx.Identifier{s.channel}.Sanitize())
			if err != nil {
				conn.Close(context.Background())
			}
		}
		reconnected := !first
		if first {
			first = false
			ready <- err
			if err != nil {
				return
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("postgres: listen for other nodes", "err", err, "retry_in", wait)
			}
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait = min(wait*2, 10*time.Second)
			continue
		}
		wait = 100 * time.Millisecond
		if reconnected { // anything sent while we were not listening
			s.broadcast()
		}
		// Endpoints may have changed before LISTEN took effect, after a watcher's engine
		// cached them: now that no change goes unheard, drop them all once.
		s.endpoints.Publish("")
		for {
			var n *pgconn.Notification
			if n, err = conn.WaitForNotification(ctx); err != nil {
				break
			}
			if id, ok := strings.CutPrefix(n.Payload, endpointNotice); ok {
				s.endpoints.Publish(id)
			} else {
				s.broadcast()
			}
		}
		conn.Close(context.Background())
		if ctx.Err() == nil {
			s.log.Warn("postgres: lost the connection listening for other nodes; reconnecting", "err", err)
		}
	}
}

// TryLock implements store.Locker with a session-level advisory lock, held on a pooled
// connection until release (or until the connection dies with its node).
func (s *Store) TryLock(ctx context.Context, name string) (func(), bool, error) {
	if err := s.enter(); err != nil {
		return nil, false, err
	}
	defer s.leave()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	key := s.lockKey(name)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	release := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var unlocked bool
		if err := conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&unlocked); err != nil || !unlocked {
			// Do not return a connection that may still hold the lock to the pool.
			conn.Hijack().Close(context.Background())
			if err == nil {
				err = errors.New("the lock was not held")
			}
			s.log.Warn("postgres: unlock", "lock", name, "err", err)
			return
		}
		conn.Release()
	}
	return release, true, nil
}
