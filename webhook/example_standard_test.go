package webhook_test

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// A sender signs a delivery with the endpoint's secret; the receiver verifies the raw
// body against the three webhook-* headers. The inputs are the Standard Webhooks
// reference test vector, so the signature printed is the one the specification expects.
func ExampleNewStandard() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sentAt := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)

	sender, err := webhook.NewStandard(secret)
	if err != nil {
		panic(err)
	}
	header, err := sender.Sign(webhook.Delivery{ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: sentAt}, body)
	if err != nil {
		panic(err)
	}
	fmt.Println("webhook-id:", header.Get(webhook.HeaderID))
	fmt.Println("webhook-timestamp:", header.Get(webhook.HeaderTimestamp))
	fmt.Println("webhook-signature:", header.Get(webhook.HeaderSignature))

	// The receiver's clock is fixed here so the example is deterministic; in production
	// omit WithClock and deliveries older or newer than five minutes are rejected.
	receiver, err := webhook.NewStandard(secret, webhook.WithClock(func() time.Time { return sentAt.Add(2 * time.Second) }))
	if err != nil {
		panic(err)
	}
	d, err := receiver.Verify(body, header)
	fmt.Println("verified:", d.ID, d.Timestamp.Unix(), err)

	// Any change to the body, however small, is rejected.
	_, err = receiver.Verify([]byte(`{"test": 2432232315}`), header)
	fmt.Println("tampered:", errors.Is(err, webhook.ErrNoMatchingSignature), webhook.ErrorCode(err))
	// Output:
	// webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
	// webhook-timestamp: 1614265330
	// webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// verified: msg_p5jXN8AQM9LWM0D4loKWxJek 1614265330 <nil>
	// tampered: true invalid_signature
}

// Verifying an OpenAI webhook in an HTTP handler: read the raw body (never a re-encoded
// one) and pass it with the request's headers. The request is OpenAI's published test
// delivery; the secret would normally come from OPENAI_WEBHOOK_SECRET.
func ExampleNewOpenAI() {
	const secret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	wh, err := webhook.NewOpenAI(secret,
		// Fixed for the example; omit in production.
		webhook.WithClock(func() time.Time { return time.Unix(1750861210, 0).Add(3 * time.Second) }))
	if err != nil {
		panic(err)
	}

	r := httptest.NewRequest("POST", "/webhooks/openai", strings.NewReader(
		`{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}`))
	r.Header.Set("webhook-id", "wh_685c059ae39c8190af8c71ed1022a24d")
	r.Header.Set("webhook-timestamp", "1750861210")
	r.Header.Set("webhook-signature", "v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=")

	// In an http.Handler, from here on:
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(err)
	}
	d, err := wh.Verify(body, r.Header)
	if err != nil {
		// Respond 400 with webhook.ErrorCode(err); do not process the body.
		fmt.Println("rejected:", webhook.ErrorCode(err))
		return
	}
	fmt.Println("id:", d.ID)
	fmt.Println("type:", d.Type)
	fmt.Println("sent:", d.Timestamp.UTC().Format(time.RFC3339))
	// Output:
	// id: wh_685c059ae39c8190af8c71ed1022a24d
	// type: response.completed
	// sent: 2025-06-25T14:20:10Z
}
