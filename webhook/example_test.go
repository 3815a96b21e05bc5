package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

// serve posts a signed request through h and prints the status and answer.
func serve(h http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
}

// A receiver registers a function per event type; the Handler verifies, deduplicates
// and answers. Here a Shopify order (numeric id, string dates: any authentic body is
// accepted) reaches its function, and the sender's retry is acknowledged without
// running it again.
func ExampleNewHandler() {
	verifier, err := webhook.NewShopify("shpss_client_secret") // os.Getenv("SHOPIFY_CLIENT_SECRET")
	if err != nil {
		panic(err)
	}
	h := webhook.NewHandler(verifier).
		On("orders/create", func(ctx context.Context, e *webhook.Event) error {
			var order struct {
				ID    int64  `json:"id"`
				Total string `json:"total_price"`
			}
			if err := e.Decode(&order); err != nil {
				return err // answered 500: Shopify retries
			}
			fmt.Println("order", order.ID, "total", order.Total, "delivery", e.ID)
			return nil
		}).
		On("*", func(ctx context.Context, e *webhook.Event) error {
			fmt.Println("ignoring", e.Type)
			return nil
		})

	body := []byte(`{"id":820982911946154508,"created_at":"2021-12-31T19:00:00-05:00","total_price":"403.00"}`)
	d := webhook.Delivery{ID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", Type: "orders/create"}
	serve(h, webhooktest.NewRequest(verifier, d, "/webhooks", body))
	serve(h, webhooktest.NewRequest(verifier, d, "/webhooks", body)) // a retry
	serve(h, webhooktest.NewRequest(verifier, webhook.Delivery{Type: "app/uninstalled"}, "/webhooks", []byte(`{}`)))
	// Output:
	// order 820982911946154508 total 403.00 delivery b54557e4-bdd9-4b37-8a5f-bf7d70bcd043
	// 200 {"received":true}
	// 200 {"duplicate":true,"received":true}
	// ignoring app/uninstalled
	// 200 {"received":true}
}

// Svix signs like Standard Webhooks, with svix-* headers. The request is Svix's
// documented test vector.
func ExampleNewSvix() {
	v, err := webhook.NewSvix("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		webhook.WithClock(func() time.Time { return time.Unix(1614265330, 0) })) // fixed for the example
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("svix-timestamp", "1614265330")
	h.Set("svix-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	d, err := v.Verify([]byte(`{"test": 2432232314}`), h)
	fmt.Println(d.ID, err)
	// Output: msg_p5jXN8AQM9LWM0D4loKWxJek <nil>
}

// Stripe signs "{t}.{body}" with the whole whsec_ endpoint secret; the event id in the
// body is the delivery id.
func ExampleNewStripe() {
	const secret = "whsec_test_secret"
	body := `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"setup_intent.created"}`
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("1686089970." + body))
	h := http.Header{}
	h.Set("Stripe-Signature", "t=1686089970,v1="+hex.EncodeToString(m.Sum(nil)))

	v, err := webhook.NewStripe(secret, webhook.WithClock(func() time.Time { return time.Unix(1686089970, 0) }))
	if err != nil {
		panic(err)
	}
	d, err := v.Verify([]byte(body), h)
	fmt.Println(d.ID, d.Type, err)
	// Output: evt_1NG8Du2eZvKYlo2CUI79vXWy setup_intent.created <nil>
}

// GitHub's documented example: the body need not be JSON, and GitHub signs no
// timestamp, so deduplicate on X-GitHub-Delivery.
func ExampleNewGitHub() {
	v, err := webhook.NewGitHub("It's a Secret to Everybody")
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	h.Set("X-GitHub-Event", "ping")
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	d, err := v.Verify([]byte("Hello, World!"), h)
	fmt.Println(d.ID, d.Type, err)
	// Output: 72d3162e-cc78-11e3-81ab-4c9367dc0958 ping <nil>
}

// Shopify signs the body with the app's client secret (base64); the topic and webhook
// id come from headers.
func ExampleNewShopify() {
	v, err := webhook.NewShopify("shpss_client_secret")
	if err != nil {
		panic(err)
	}
	body := []byte(`{"id":820982911946154508}`)
	r := webhooktest.NewRequest(v, webhook.Delivery{ID: "b54557e4", Type: "orders/create"}, "/", body)
	fmt.Println(r.Header.Get("X-Shopify-Hmac-Sha256") != "")
	d, err := v.Verify(body, r.Header)
	fmt.Println(d.ID, d.Type, err)
	// Output:
	// true
	// b54557e4 orders/create <nil>
}

// Slack's documented slash-command request: a form body, labelled by its trigger_id.
func ExampleNewSlack() {
	v, err := webhook.NewSlack("8f742231b10e8888abcd99yyyzzz85a5",
		webhook.WithClock(func() time.Time { return time.Unix(1531420618, 0) })) // fixed for the example
	if err != nil {
		panic(err)
	}
	body := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	h := http.Header{}
	h.Set("X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	h.Set("X-Slack-Request-Timestamp", "1531420618")
	d, err := v.Verify([]byte(body), h)
	fmt.Println(d.Type, d.ID, err)
	// Output: slash_command 398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c <nil>
}

// Any other HMAC scheme is a configuration: here a sender that signs
// "{timestamp}.{body}" in X-Acme-Signature and names the event in X-Acme-Event.
func ExampleNewHMAC() {
	acme, err := webhook.NewHMAC(webhook.HMACConfig{
		Name:            "acme",
		Secret:          "acme-signing-secret",
		Header:          "X-Acme-Signature",
		Prefix:          "sha256=",
		Template:        "{timestamp}.{body}",
		TimestampHeader: "X-Acme-Timestamp",
		IDHeader:        "X-Acme-Delivery",
		TypeHeader:      "X-Acme-Event",
	})
	if err != nil {
		panic(err)
	}
	h := webhook.NewHandler(acme).On("invoice.paid", func(ctx context.Context, e *webhook.Event) error {
		fmt.Println("paid:", string(e.Body))
		return nil
	})
	r := webhooktest.NewRequest(acme, webhook.Delivery{ID: "d_1", Type: "invoice.paid"}, "/", []byte(`{"invoice":"in_1"}`))
	serve(h, r)
	// Output:
	// paid: {"invoice":"in_1"}
	// 200 {"received":true}
}

// Key rotation. The sender signs with every active key, one signature each; a receiver
// accepts a delivery if any signature matches any of its keys, so senders and receivers
// switch keys independently. Here the sender moves from an HMAC secret to an Ed25519
// key, and receivers holding the old secret, the new public key, or both all verify.
func ExampleNewStandardKeys() {
	oldSecret, newKey := webhook.NewHMACSecret(), webhook.NewEd25519Key()
	sender, err := webhook.NewStandardKeys([]webhook.Secret{oldSecret, newKey})
	if err != nil {
		panic(err)
	}
	body := []byte(`{"type":"user.created"}`)
	header, err := sender.Sign(webhook.Delivery{ID: "msg_1"}, body)
	if err != nil {
		panic(err)
	}
	for _, keys := range [][]string{
		{oldSecret.Reveal()},
		{newKey.Public().Reveal()},
		{newKey.Public().Reveal(), oldSecret.Reveal()},
	} {
		receiver, err := webhook.NewStandard(keys[0], webhook.WithSecrets(keys[1:]...))
		if err != nil {
			panic(err)
		}
		_, err = receiver.Verify(body, header)
		fmt.Println(len(keys), "key(s):", err)
	}
	// Secrets print redacted; Reveal is how to store or hand one over.
	fmt.Println(strings.HasPrefix(fmt.Sprint(newKey), "whsk_…"), strings.HasPrefix(newKey.Reveal(), "whsk_"))
	// Output:
	// 1 key(s): <nil>
	// 1 key(s): <nil>
	// 2 key(s): <nil>
	// true true
}

// kv is the part of a Redis client a DedupeStore needs (go-redis's SetNX, Get, Set and
// Del have these shapes once their results are unwrapped).
type kv interface {
	SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	Del(ctx context.Context, key string) error
}

// redisDedupe is a DedupeStore shared by every receiver process. With SQL instead:
//
//	CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, done BOOLEAN NOT NULL, expires_at TIMESTAMP NOT NULL);
//	-- Claim:   INSERT INTO webhook_deliveries VALUES ($1, false, now() + interval '10 minutes')
//	--          ON CONFLICT (id) DO NOTHING; 1 row: ClaimNew, else SELECT done: ClaimDone or ClaimBusy
//	-- Done:    UPDATE webhook_deliveries SET done = true, expires_at = now() + interval '72 hours' WHERE id = $1
//	-- Release: DELETE FROM webhook_deliveries WHERE id = $1 AND NOT done
//	-- and delete expired rows from time to time.
type redisDedupe struct{ kv kv }

func (s redisDedupe) Claim(ctx context.Context, id string) (webhook.ClaimState, error) {
	// A claim expires by itself if its process dies while handling the delivery.
	ok, err := s.kv.SetNX(ctx, "webhook:"+id, "busy", 10*time.Minute)
	if err != nil || ok {
		return webhook.ClaimNew, err
	}
	state, err := s.kv.Get(ctx, "webhook:"+id)
	if state == "done" {
		return webhook.ClaimDone, err
	}
	return webhook.ClaimBusy, err
}

func (s redisDedupe) Done(ctx context.Context, id string) error {
	return s.kv.Set(ctx, "webhook:"+id, "done", webhook.DefaultDedupeTTL)
}

func (s redisDedupe) Release(ctx context.Context, id string) error {
	return s.kv.Del(ctx, "webhook:"+id)
}

// A DedupeStore on Redis (or any database with a unique key) makes deduplication hold
// across several receiver processes. Here a map stands in for Redis.
func ExampleDedupeStore() {
	verifier, err := webhook.NewOpenAI(webhook.NewHMACSecret().Reveal())
	if err != nil {
		panic(err)
	}
	store := redisDedupe{kv: &fakeRedis{m: map[string]string{}}}
	h := webhook.NewHandler(verifier, webhook.WithDedupeStore(store)).On("*", func(ctx context.Context, e *webhook.Event) error {
		fmt.Println("handling", e.ID)
		return nil
	})
	body := []byte(`{"type":"response.completed"}`)
	serve(h, webhooktest.NewRequest(verifier, webhook.Delivery{ID: "msg_1"}, "/", body))
	serve(h, webhooktest.NewRequest(verifier, webhook.Delivery{ID: "msg_1"}, "/", body))
	// Output:
	// handling msg_1
	// 200 {"received":true}
	// 200 {"duplicate":true,"received":true}
}

// fakeRedis is an in-memory kv without expiry, for the example.
type fakeRedis struct {
	mu sync.Mutex
	m  map[string]string
}

func (f *fakeRedis) SetNX(_ context.Context, k, v string, _ time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[k]; ok {
		return false, nil
	}
	f.m[k] = v
	return true, nil
}

func (f *fakeRedis) Get(_ context.Context, k string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[k], nil
}

func (f *fakeRedis) Set(_ context.Context, k, v string, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[k] = v
	return nil
}

func (f *fakeRedis) Del(_ context.Context, k string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, k)
	return nil
}
