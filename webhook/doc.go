// Package webhook signs and verifies webhooks and receives them over HTTP.
//
// It implements Standard Webhooks 1.0 (the scheme OpenAI's webhooks use): the headers
// webhook-id, webhook-timestamp and webhook-signature, the signed content
// "{id}.{timestamp}.{raw body}", "v1" HMAC-SHA256 and "v1a" Ed25519 signatures, several
// signatures in one header for key rotation, and a timestamp tolerance (5 minutes by
// default, in both directions). It also verifies the schemes of Svix, Stripe, GitHub,
// Shopify and Slack, and any other HMAC scheme through NewHMAC. Every verifier
// implements Verifier and returns the sender's delivery id, the receiver's idempotency key.
//
// Receivers usually need only NewHandler, which routes on the type the verifier
// reports and never rejects an authentic body for its shape:
//
//	verifier, err := webhook.NewShopify(os.Getenv("SHOPIFY_CLIENT_SECRET"))
//	...
//	h := webhook.NewHandler(verifier).
//		On("orders/create", onOrder).
//		On("*", onAnythingElse)
//	http.Handle("POST /webhooks", h)
//
// Package webhook/openai adds OpenAI's event catalogue and typed events, and package
// webhook/webhooktest sample events, signed requests and a recording test server.
//
// # Stability
//
// This module follows semantic versioning and, from v1.0.0, keeps the Go 1
// compatibility promise for its exported API: names are not removed or changed and
// behaviour documented here does not change within v1; new providers, options and
// methods may be added. The module requires only the standard library and the Go
// version in its go.mod; scripts/test in herald's repository fails on any change to
// the recorded API (webhook/testdata/api).
//
// # Mistakes this package avoids, and your own code should too
//
//   - Verify the raw bytes you received. Parsing the JSON and serialising it again
//     changes whitespace and key order, and the signature no longer matches.
//   - Use the result of the comparison. A verifier that calls a constant-time compare
//     and ignores its result verifies nothing; so does one that logs a mismatch and
//     carries on.
//   - Compare in constant time (this package does), and check the timestamp: without
//     the tolerance check a captured request can be replayed forever.
//   - Deduplicate on the delivery id (webhook-id for OpenAI): senders retry, and a
//     retry of a delivery you handled is not a new event.
//   - OpenAI has no "openai-signature" header with a hex HMAC; it sends Standard
//     Webhooks headers. The Assistants API's thread.run.* events are streamed
//     server-sent events, not webhooks; the Responses API's background mode emits
//     response.* webhooks.
package webhook
