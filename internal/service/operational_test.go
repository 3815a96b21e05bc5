package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

// recordingObserver keeps what the service tells its Observer.
type recordingObserver struct {
	mu  sync.Mutex
	got []string
}

func (o *recordingObserver) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, s)
}

func (o *recordingObserver) EndpointCreated(e *domain.Endpoint) { o.add("created " + e.ID) }
func (o *recordingObserver) EndpointUpdated(prev, next *domain.Endpoint) {
	o.add(fmt.Sprintf("updated %s %s->%s", next.ID, prev.State, next.State))
}
func (o *recordingObserver) EndpointDeleted(e *domain.Endpoint) { o.add("deleted " + e.ID) }
func (o *recordingObserver) OperationalEndpointsChanged()       { o.add("operational") }

func (o *recordingObserver) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	got := o.got
	o.got = nil
	return got
}

func TestOperationalApp(t *testing.T) {
	ctx := context.Background()
	svc, _, st := newService(t)
	obs := &recordingObserver{}
	svc.observer = obs
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := svc.CreateOperationalEndpoint(ctx, &domain.Endpoint{ID: ids.New("ep")}, nil); !errors.Is(err, errNoOperationalApp) {
		t.Fatalf("an operational endpoint before the app: %v", err)
	}
	opID, err := svc.EnsureOperationalApp(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := svc.EnsureOperationalApp(ctx, now); again != opID || svc.OperationalAppID() != opID {
		t.Fatalf("EnsureOperationalApp again = %s, want %s", again, opID)
	}

	newEndpoint := func(types []string) (*domain.Endpoint, *domain.EndpointSecret) {
		e := &domain.Endpoint{ID: ids.New("ep"), URL: "https://example.com/ops", State: domain.EndpointEnabled, EventTypes: types,
			Headers: map[string]string{}, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}
		return e, &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}
	}
	// The ordinary methods refuse the reserved app, as if it did not exist.
	msg := &domain.Message{ID: ids.New("msg"), AppID: opID, Type: "endpoint.disabled", Payload: json.RawMessage(`{}`), CreatedAt: now}
	for name, err := range map[string]error{
		"Publish":        second(svc.Publish(ctx, msg)),
		"PublishWithTTL": second(svc.PublishWithTTL(ctx, msg, time.Hour)),
		"PublishTo":      second(svc.PublishTo(ctx, msg, nil)),
		"CreateEndpoint": func() error { e, sec := newEndpoint(nil); e.AppID = opID; return svc.CreateEndpoint(ctx, e, sec) }(),
		"UpdateApp":      svc.UpdateApp(ctx, &domain.App{ID: opID, Name: "x", Metadata: map[string]string{}, UpdatedAt: now}),
		"DeleteApp":      svc.DeleteApp(ctx, opID),
		"AttachListener": third(svc.AttachListener(ctx, Listener{AppID: opID, Name: "laptop"}, now)),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s into the operational app: %v, want not found", name, err)
		}
	}
	if ms, _, _ := st.ListMessages(ctx, store.MessageFilter{AppID: opID}); len(ms) != 0 {
		t.Fatalf("%d messages published into the operational app", len(ms))
	}

	// Operational endpoints: operational types only, and no events about themselves.
	e, sec := newEndpoint([]string{"invoice.paid"})
	var fe *domain.FieldError
	if err := svc.CreateOperationalEndpoint(ctx, e, sec); !errors.As(err, &fe) || !strings.Contains(err.Error(), "operational event type") {
		t.Fatalf("an operational endpoint for invoice.paid: %v", err)
	}
	e.EventTypes = []string{"message.attempt.*"}
	if err := svc.CreateOperationalEndpoint(ctx, e, sec); err != nil {
		t.Fatal(err)
	}
	if e.AppID != opID || e.Kind != domain.KindHTTP {
		t.Fatalf("operational endpoint = %+v", e)
	}
	e.Description = "ops"
	if err := svc.UpdateOperationalEndpoint(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetEndpoint(ctx, opID, e.ID); got.Description != "ops" {
		t.Fatalf("after update = %+v", got)
	}
	if err := svc.UpdateEndpoint(ctx, e); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateEndpoint of an operational endpoint: %v", err)
	}
	if err := svc.DeleteEndpoint(ctx, opID, e.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteEndpoint of an operational endpoint: %v", err)
	}
	if err := svc.DeleteOperationalEndpoint(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if got := obs.take(); strings.Join(got, ",") != "operational,operational,operational" {
		t.Fatalf("observer heard %v, want three operational changes and no endpoint event", got)
	}

	// A customer endpoint's writes reach the observer with what they changed from.
	app := &domain.App{ID: ids.New("app"), Name: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	if err := svc.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	c, csec := newEndpoint(nil)
	c.AppID = app.ID
	if err := svc.CreateEndpoint(ctx, c, csec); err != nil {
		t.Fatal(err)
	}
	c.SetState(domain.EndpointDisabled, "")
	if err := svc.UpdateEndpoint(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteEndpoint(ctx, app.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	want := "created " + c.ID + ",updated " + c.ID + " enabled->disabled,deleted " + c.ID
	if got := strings.Join(obs.take(), ","); got != want {
		t.Fatalf("observer heard %s, want %s", got, want)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }
