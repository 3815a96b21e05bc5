package openai_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/openai"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

// OpenAI events are thin: the data names the resource, and the receiver fetches it.
// Data holds a typed pointer for every type in the OpenAI catalogue.
func ExampleParseEvent() {
	body := []byte(`{"object":"event","id":"evt_685c059ae3a481909bdc86819b066fb6","type":"response.completed","created_at":1750861210,"data":{"id":"resp_123"}}`)
	e, err := openai.ParseEvent(body)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Type, e.ID, e.CreatedAt.Format(time.RFC3339))
	switch data := e.Data.(type) {
	case *openai.ResponseEventData:
		fmt.Println("fetch response", data.ID)
	case *openai.RealtimeCallIncomingData:
		fmt.Println("accept or reject call", data.CallID)
	}
	// Output:
	// response.completed evt_685c059ae3a481909bdc86819b066fb6 2025-06-25T14:20:10Z
	// fetch response resp_123
}

// SampleEvent produces the body OpenAI would send, with fresh random ids, for tests and
// for triggering a receiver by hand.
func ExampleSampleEvent() {
	body, err := webhooktest.SampleEvent(openai.EventRealtimeCallIncoming, time.Now())
	if err != nil {
		panic(err)
	}
	e, err := openai.ParseEvent(body)
	if err != nil {
		panic(err)
	}
	call, _ := openai.EventData[*openai.RealtimeCallIncomingData](e)
	fmt.Println(e.Type, strings.HasPrefix(call.CallID, "rtc_"))
	var names []string
	for _, h := range call.SIPHeaders {
		names = append(names, h.Name)
	}
	fmt.Println(strings.Join(names, " "))
	// Output:
	// realtime.call.incoming true
	// Max-Forwards CSeq Content-Type To From Call-ID
}

// Events gives the Handler's functions typed OpenAI events: the envelope in e.Data,
// and the resource's data, typed, in its Data.
func ExampleEvents() {
	verifier, err := webhook.NewOpenAI(webhook.NewHMACSecret().Reveal()) // os.Getenv("OPENAI_WEBHOOK_SECRET")
	if err != nil {
		panic(err)
	}
	h := webhook.NewHandler(verifier, openai.Events()).On("response.*", func(ctx context.Context, e *webhook.Event) error {
		event := e.Data.(*openai.Event)
		resp := event.Data.(*openai.ResponseEventData)
		fmt.Println(event.Type, strings.HasPrefix(resp.ID, "resp_"))
		return nil // fetch the response with client.Responses.Get(ctx, resp.ID)
	})
	body, err := webhooktest.SampleEvent(openai.EventResponseFailed, time.Now())
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, webhooktest.NewRequest(verifier, webhook.Delivery{}, "/webhooks", body))
	fmt.Println(w.Code)
	// Output:
	// response.failed true
	// 200
}
