package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// WritesRacingClose starts eight writes on s (apps created, messages published to an
// app that does not exist), closes s, and fails t unless every write either commits or
// fails with store.ErrClosed within wait: a write must never wait forever on a closed
// store.
func WritesRacingClose(t *testing.T, s store.Store, wait time.Duration) {
	t.Helper()
	ctx := context.Background()
	errc := make(chan error, 8)
	for j := 0; j < 8; j++ {
		go func(j int) {
			now := time.Now()
			if j%2 == 0 {
				errc <- s.CreateApp(ctx, &domain.App{ID: ids.New("app"), Name: "x", CreatedAt: now, UpdatedAt: now})
				return
			}
			m := &domain.Message{ID: ids.New("msg"), AppID: "app_missing", Type: "t", Payload: json.RawMessage(`{}`), CreatedAt: now}
			_, err := s.Publish(ctx, &store.PublishInput{Message: m})
			if errors.Is(err, store.ErrNotFound) {
				err = nil
			}
			errc <- err
		}(j)
	}
	s.Close()
	for j := 0; j < 8; j++ {
		select {
		case err := <-errc:
			if err != nil && !errors.Is(err, store.ErrClosed) {
				t.Fatalf("write racing Close: %v", err)
			}
		case <-time.After(wait):
			t.Fatal("a write racing Close never returned")
		}
	}
}
