package webhooktest_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/openai"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

// A Server receives deliveries as a real receiver would, so a sender can be tested end
// to end; NewRequest signs a request to pass to a handler directly.
func ExampleServer() {
	secret := webhook.NewHMACSecret()
	verifier, err := webhook.NewOpenAI(secret.Reveal())
	if err != nil {
		panic(err)
	}
	srv := webhooktest.NewServer(verifier)
	defer srv.Close()

	body, err := webhooktest.SampleEvent(openai.EventBatchCompleted, time.Now())
	if err != nil {
		panic(err)
	}
	req := webhooktest.NewRequest(verifier, webhook.Delivery{ID: "msg_1"}, srv.URL, body)
	req.RequestURI = "" // a client request, not a server one
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	events, err := srv.Wait(1, 5*time.Second)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, events[0].ID, events[0].Type)
	// Output: 200 msg_1 batch.completed
}
