package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api/apitest"
)

// exampleServer starts herald's real API on 127.0.0.1 over a store in a temporary
// directory; in your code, the server is `herald serve`, at its URL.
func exampleServer() (srv *apitest.Server, stop func()) {
	dir, err := os.MkdirTemp("", "herald-example")
	if err != nil {
		log.Fatal(err)
	}
	srv, err = apitest.Start(dir, logReporter{})
	if err != nil {
		log.Fatal(err)
	}
	return srv, func() { srv.Close(); os.RemoveAll(dir) }
}

// logReporter reports answers that depart from the API's document on the log.
type logReporter struct{}

func (logReporter) Helper()                           {}
func (logReporter) Errorf(format string, args ...any) { log.Printf(format, args...) }

// A backend creates an app for each of its customers, registers the customer's
// endpoint, and publishes events with idempotency keys, so that a retried publish
// never sends an event twice.
func Example() {
	srv, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c := client.New(srv.URL, srv.AdminKey, nil)

	if _, err := c.CreateApp(ctx, client.AppInput{Name: "Acme Inc", UID: "acme"}); err != nil {
		log.Fatal(err)
	}
	ep, err := c.CreateEndpoint(ctx, "acme", client.EndpointInput{
		URL:        "https://hooks.acme.example/herald",
		EventTypes: []string{"invoice.*"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("endpoint", ep.State, ep.EventTypes)

	in := client.MessageInput{
		Type:           "invoice.paid",
		Payload:        json.RawMessage(`{"id": "inv_1", "amount": 4200}`),
		IdempotencyKey: "inv_1-paid",
	}
	msg, deliveries, replayed, err := c.Publish(ctx, "acme", in)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published", msg.Type, "to", deliveries, "endpoint(s); replayed:", replayed)

	// Retrying after a timeout is safe: the key was seen, nothing new is sent.
	again, _, replayed, err := c.Publish(ctx, "acme", in)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published again:", again.ID == msg.ID, "replayed:", replayed)
	// Output:
	// endpoint enabled [invoice.*]
	// published invoice.paid to 1 endpoint(s); replayed: false
	// published again: true replayed: true
}

// Every answer other than 2xx is a *client.Error with the API's status, code and
// message; ErrorCode reads the code out of any error.
func ExampleErrorCode() {
	srv, stop := exampleServer()
	defer stop()
	c := client.New(srv.URL, srv.AdminKey, nil)

	_, err := c.GetApp(context.Background(), "no-such-app")
	switch client.ErrorCode(err) {
	case client.CodeNotFound:
		fmt.Println("not found:", err)
	case "":
		fmt.Println("no answer from the server:", err)
	default:
		fmt.Println("refused:", err)
	}
	// Output:
	// not found: not_found: app "no-such-app" not found (HTTP 404)
}

// List methods return one page and the cursor of the next; an empty cursor means
// the last page.
func ExampleClient_ListApps() {
	srv, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c := client.New(srv.URL, srv.AdminKey, nil)
	for _, name := range []string{"one", "two", "three"} {
		if _, err := c.CreateApp(ctx, client.AppInput{Name: name}); err != nil {
			log.Fatal(err)
		}
	}

	var cursor string
	for {
		apps, next, err := c.ListApps(ctx, client.ListParams{Limit: 2, Cursor: cursor})
		if err != nil {
			log.Fatal(err)
		}
		for _, a := range apps {
			fmt.Println(a.Name)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	// Output:
	// three
	// two
	// one
}

// PublishBatch publishes many events in one request; a repeated idempotency key
// is answered with the original message, marked Duplicate.
func ExampleClient_PublishBatch() {
	srv, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c := client.New(srv.URL, srv.AdminKey, nil)
	app, err := c.CreateApp(ctx, client.AppInput{Name: "Acme"})
	if err != nil {
		log.Fatal(err)
	}

	results, err := c.PublishBatch(ctx, app.ID, []client.MessageInput{
		{Type: "user.created", Payload: json.RawMessage(`{"id": "u1"}`), IdempotencyKey: "u1"},
		{Type: "user.created", Payload: json.RawMessage(`{"id": "u2"}`), IdempotencyKey: "u2"},
		{Type: "user.created", Payload: json.RawMessage(`{"id": "u1"}`), IdempotencyKey: "u1"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Println(string(r.Payload), "duplicate:", r.Duplicate)
	}
	// Output:
	// {"id":"u1"} duplicate: false
	// {"id":"u2"} duplicate: false
	// {"id":"u1"} duplicate: true
}

// An app key can manage only its app: give each service that publishes for a
// customer a key of the customer's app.
func ExampleClient_CreateAPIKey() {
	srv, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	admin := client.New(srv.URL, srv.AdminKey, nil)
	if _, err := admin.CreateApp(ctx, client.AppInput{Name: "Acme", UID: "acme"}); err != nil {
		log.Fatal(err)
	}
	key, err := admin.CreateAPIKey(ctx, "acme", client.APIKeyInput{Name: "billing service"})
	if err != nil {
		log.Fatal(err)
	}

	billing := client.New(srv.URL, key.Key, nil)
	if _, err := billing.GetApp(ctx, "acme"); err == nil {
		fmt.Println("its own app: allowed")
	}
	_, _, err = billing.ListApps(ctx, client.ListParams{})
	fmt.Println("every app:", client.ErrorCode(err))
	// Output:
	// its own app: allowed
	// every app: forbidden
}
