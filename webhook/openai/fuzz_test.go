package openai

import (
	"testing"

	"github.com/heraldhq/herald/webhook/internal/jsonscan"
)

// FuzzParseEvent checks that ParseEvent never panics, and that whenever it accepts a body
// the type it reports agrees with the cheap scanner the verifiers use to label deliveries.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"object":"event","id":"evt_1","type":"response.completed","created_at":1750861210,"data":{"id":"resp_1"}}`))
	f.Add([]byte(`{"type":"realtime.call.incoming","data":{"call_id":"rtc_1","sip_headers":[{"name":"From","value":"x"}]}}`))
	f.Add([]byte(`{"type":"t\u0079pe","data":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"created_at":1.5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseEvent(body)
		if err != nil {
			return
		}
		if typ, ok := jsonscan.TopLevelString(body, "type"); ok && typ != e.Type {
			t.Fatalf("ParseEvent type %q, scanner type %q", e.Type, typ)
		}
	})
}
