// Command openai-receiver is the ten-line OpenAI webhook receiver from herald's README.
package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/heraldhq/herald/webhook"
)

func main() {
	verifier, err := webhook.NewOpenAI(os.Getenv("OPENAI_WEBHOOK_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	handler := webhook.NewHandler(verifier).On(webhook.EventResponseCompleted, func(ctx context.Context, e *webhook.Event) error {
		resp := e.Data.(*webhook.ResponseEventData)
		log.Printf("response %s completed (event %s); fetch it with client.Responses.Get", resp.ID, e.ID)
		return nil // an error here answers 500, and OpenAI retries
	})
	http.Handle("POST /webhooks", handler)
	log.Fatal(http.ListenAndServe("127.0.0.1:8000", nil))
}
