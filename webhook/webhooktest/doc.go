// Package webhooktest provides utilities for testing webhook senders and receivers,
// as net/http/httptest does for HTTP: realistic OpenAI sample events, signed requests
// for any provider, and a Server that verifies and records the deliveries it receives.
//
// It follows the same stability promise as package webhook.
package webhooktest
