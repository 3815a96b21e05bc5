// Command openai-receiver is the ten-line OpenAI webhook receiver from herald's README.
package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/openai"
)

func main() {
	verifier, err := webhook.NewOpenAI(os.Getenv("OPENAI_WEBHOOK_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	handler := webhook.NewHandler(verifier, openai.Events()).On(openai.EventResponseCompleted, func(ctx context.Context, e *webhook.Event) error {
		event := e.Data.(*openai.Event) // typed, thanks to openai.Events()
		log.Printf("response %s completed (event %s); fetch it with client.Responses.Get", event.DataID(), event.ID)
		return nil // an error here answers 500, and OpenAI retries
	})
	http.Handle("POST /webhooks", handler)
	log.Fatal(http.ListenAndServe("127.0.0.1:8000", nil))
}
