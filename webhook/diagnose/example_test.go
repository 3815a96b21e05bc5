package diagnose_test

import (
	"fmt"
	"net/http"

	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/diagnose"
)

// A receiver explains a refused webhook in its log, on the failure path only.
func ExampleExplain() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	header := http.Header{
		"Webhook-Id":        {"msg_p5jXN8AQM9LWM0D4loKWxJek"},
		"Webhook-Timestamp": {"1614265330"},
		"Webhook-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	}
	// The sender signed {"test": 2432232314}; a framework parsed it and wrote it again.
	body := []byte(`{"test":2432232314}`)

	v, _ := webhook.NewStandard(secret, webhook.WithTolerance(0)) // an old capture: no timestamp check
	if _, err := v.Verify(body, header); err != nil {
		r := diagnose.Explain(diagnose.Input{Provider: "standard", Secrets: []string{secret}, Header: header, Body: body, Tolerance: -1})
		for _, f := range r.Findings {
			fmt.Printf("%s (confirmed: %v): %s\n", f.Code, f.Confirmed, f.Message)
		}
	}
	// Output:
	// body_changed (confirmed: true): The body was re-serialised after it was signed: the signature matches the same JSON written with spaces after "," and ":" (Python's json.dumps spacing).
}
