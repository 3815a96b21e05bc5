package openai

import "github.com/heraldhq/herald/webhook"

// Events returns a webhook.Handler option that parses every verified body with
// ParseEvent, so that each EventFunc finds the typed event in e.Data:
//
//	h := webhook.NewHandler(verifier, openai.Events()).On(openai.EventResponseCompleted, func(ctx context.Context, e *webhook.Event) error {
//		resp := e.Data.(*openai.Event).Data.(*openai.ResponseEventData)
//		...
//	})
//
// An authentic body that is not an OpenAI event is answered 400 invalid_body.
func Events() webhook.HandlerOption {
	return webhook.WithDecoder(func(e *webhook.Event) (any, error) { return ParseEvent(e.Body) })
}
