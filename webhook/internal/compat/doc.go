// Package compat holds the tests and benchmarks that compare package webhook with the
// official OpenAI Go SDK and the Standard Webhooks reference library. It is its own
// module so that the webhook module requires nothing outside the standard library.
package compat
