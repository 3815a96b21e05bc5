// Command openai-receiver is the ten-line OpenAI webhook receiver from herald's README.
// It listens on $ADDR (default 127.0.0.1:8000) and logs "listening on ..." once it
// takes connections, so that scripts can wait for that line.
package main

import (
	"cmp"
	"context"
	"log"
	"net"
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
	ln, err := net.Listen("tcp", cmp.Or(os.Getenv("ADDR"), "127.0.0.1:8000"))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s/webhooks", ln.Addr())
	log.Fatal(http.Serve(ln, nil))
}
