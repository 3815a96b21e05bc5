// Package openai knows the events OpenAI sends by webhook: the event types, their
// typed data, ParseEvent for the envelope, and Events, a webhook.Handler option that
// hands typed events to your functions. Verify OpenAI's signatures with webhook.NewOpenAI.
//
// OpenAI's events are thin: the data names the resource (a response, a batch, a
// fine-tuning job...), and the receiver fetches it with the OpenAI API. The Assistants
// API's thread.run.* events are streamed server-sent events, not webhooks; the
// Responses API's background mode sends the response.* webhooks listed here.
//
// Like package webhook, this package follows semantic versioning from v1: exported
// names are not removed or changed, and new event types are added as OpenAI adds them.
package openai
