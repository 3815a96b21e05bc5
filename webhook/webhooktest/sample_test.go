package webhooktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook/openai"
)

// sampleDataID matches the data id of each kind of sample.
var sampleDataID = map[string]*regexp.Regexp{
	"resp_":    regexp.MustCompile(`^resp_685c059a[0-9a-f]{40}$`),
	"batch_":   regexp.MustCompile(`^batch_685c059a[0-9a-f]{24}$`),
	"ftjob-":   regexp.MustCompile(`^ftjob-[0-9A-Za-z]{24}$`),
	"evalrun_": regexp.MustCompile(`^evalrun_685c059a[0-9a-f]{24}$`),
	"rtc_":     regexp.MustCompile(`^rtc_[0-9a-f]{32}$`),
	"live_":    regexp.MustCompile(`^live_[0-9a-f]{32}$`),
	"env_":     regexp.MustCompile(`^env_685c059a[0-9a-f]{24}$`),
	"as_":      regexp.MustCompile(`^as_685c059a[0-9a-f]{24}$`),
	"alert_":   regexp.MustCompile(`^alert_685c059a[0-9a-f]{24}$`),
	"case_":    regexp.MustCompile(`^case_685c059a[0-9a-f]{24}$`),
}

// sampleIDPrefix returns the prefix of the data id in samples of typ.
func sampleIDPrefix(typ string) string {
	for _, p := range []struct{ family, prefix string }{
		{"response.", "resp_"}, {"batch.", "batch_"}, {"fine_tuning.", "ftjob-"}, {"eval.", "evalrun_"},
		{"realtime.", "rtc_"}, {"live.", "live_"}, {"agent.environment.", "env_"}, {"agent.session.", "as_"},
		{"safety.alert.", "alert_"}, {"safety.org_alert.", "alert_"}, {"safety.", "case_"},
	} {
		if strings.HasPrefix(typ, p.family) {
			return p.prefix
		}
	}
	return ""
}

func TestSampleEventFormat(t *testing.T) {
	now := time.Unix(1750861210, 0) // 0x685c059a, the time in OpenAI's ids
	if len(samples) != len(openai.EventTypes()) {
		t.Errorf("%d samples for %d catalogue types", len(samples), len(openai.EventTypes()))
	}
	for _, typ := range openai.EventTypes() {
		c := struct{ typ, idPrefix string }{typ, sampleIDPrefix(typ)}
		t.Run(c.typ, func(t *testing.T) {
			body, err := SampleEvent(c.typ, now)
			if err != nil {
				t.Fatal(err)
			}
			envelope := regexp.MustCompile(`^\{"object":"event","id":"evt_685c059a[0-9a-f]{24}","type":"` +
				regexp.QuoteMeta(c.typ) + `","created_at":1750861210,"data":\{.+\}\}$`)
			if !envelope.Match(body) {
				t.Errorf("body does not look like OpenAI's:\n%s", body)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, body); err != nil || !bytes.Equal(compact.Bytes(), body) {
				t.Errorf("body is not compact JSON (%v):\n%s", err, body)
			}
			e, err := openai.ParseEvent(body)
			if err != nil {
				t.Fatal(err)
			}
			if re := sampleDataID[c.idPrefix]; !re.MatchString(e.DataID()) {
				t.Errorf("data id %q does not match %s", e.DataID(), re)
			}
			other, err := SampleEvent(c.typ, now)
			if err != nil {
				t.Fatal(err)
			}
			o, _ := openai.ParseEvent(other)
			if o.ID == e.ID || o.DataID() == e.DataID() {
				t.Errorf("two samples share ids: %s and %s", body, other)
			}
		})
	}
}

func TestSampleEventSIPHeaders(t *testing.T) {
	for _, typ := range []string{openai.EventRealtimeCallIncoming, openai.EventLiveCallIncoming, openai.EventLiveTransportIncoming} {
		body, err := SampleEvent(typ, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		e, err := openai.ParseEvent(body)
		if err != nil {
			t.Fatal(err)
		}
		var headers []openai.SIPHeader
		switch d := e.Data.(type) {
		case *openai.RealtimeCallIncomingData:
			headers = d.SIPHeaders
		case *openai.LiveCallIncomingData:
			headers = d.SIPHeaders
		case *openai.LiveTransportIncomingData:
			headers = d.SIPHeaders
			if d.Type != "sip" {
				t.Errorf("%s: transport type = %q, want sip", typ, d.Type)
			}
		}
		got := map[string]string{}
		for _, h := range headers {
			got[h.Name] = h.Value
		}
		for _, name := range []string{"From", "To", "Call-ID"} {
			if got[name] == "" {
				t.Errorf("%s: sample lacks SIP header %s: %+v", typ, name, headers)
			}
		}
		if !strings.HasPrefix(got["To"], "<sip:") || !strings.Contains(string(body), `<sip:`) {
			t.Errorf("%s: SIP URIs are missing or HTML-escaped: %s", typ, body)
		}
		if bytes.Contains(body, []byte("sip_media_security")) {
			t.Errorf("%s: sample sets sip_media_security, which OpenAI omits when unknown", typ)
		}
	}
}

func TestSampleEventClock(t *testing.T) {
	before := time.Now().Unix()
	body, err := SampleEvent(openai.EventBatchCompleted, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := openai.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.CreatedAt.Unix(); got < before || got > time.Now().Unix() {
		t.Errorf("zero now gave created_at %d, want the current time", got)
	}
	if hexTime := strconv.FormatInt(e.CreatedAt.Unix(), 16); !strings.HasPrefix(e.ID, "evt_"+hexTime) {
		t.Errorf("id %s does not start with the creation time %s", e.ID, hexTime)
	}
}

func TestSampleEventUnknownType(t *testing.T) {
	for _, typ := range []string{"", "response.complete", "eval.run.cancelled", "thread.run.completed", "push"} {
		body, err := SampleEvent(typ, time.Now())
		if err == nil {
			t.Errorf("SampleEvent(%q) = %s, want an error", typ, body)
			continue
		}
		if !errors.Is(err, ErrUnknownEventType) || !strings.Contains(err.Error(), fmt.Sprintf("%q is not in the OpenAI event catalogue", typ)) {
			t.Errorf("SampleEvent(%q) error = %v", typ, err)
		}
	}
}

func TestSampleEventWithData(t *testing.T) {
	now := time.Unix(1750861210, 0)
	cases := []struct {
		typ  string
		data any
		want string // the body after the id
	}{
		{"response.completed", &openai.ResponseEventData{ID: "resp_123"}, `"type":"response.completed","created_at":1750861210,"data":{"id":"resp_123"}}`},
		{"custom.thing", json.RawMessage("{ \"a\" : [1, 2],\n \"b\": \"<&>\" }"), `"type":"custom.thing","created_at":1750861210,"data":{"a":[1,2],"b":"<&>"}}`},
		{`odd"type`, map[string]int{"n": 1}, `"type":"odd\"type","created_at":1750861210,"data":{"n":1}}`},
		{openai.EventRealtimeCallIncoming, &openai.RealtimeCallIncomingData{CallID: "rtc_1", SIPHeaders: []openai.SIPHeader{{Name: "To", Value: "<sip:x@y>"}}, SIPMediaSecurity: "srtp"},
			`"type":"realtime.call.incoming","created_at":1750861210,"data":{"call_id":"rtc_1","sip_headers":[{"name":"To","value":"<sip:x@y>"}],"sip_media_security":"srtp"}}`},
	}
	for _, c := range cases {
		body, err := SampleEventWithData(c.typ, now, c.data)
		if err != nil {
			t.Errorf("SampleEventWithData(%q): %v", c.typ, err)
			continue
		}
		prefix := regexp.MustCompile(`^\{"object":"event","id":"evt_[0-9a-f]{32}",`)
		if loc := prefix.FindIndex(body); loc == nil || string(body[loc[1]:]) != c.want {
			t.Errorf("SampleEventWithData(%q) = %s, want ...%s", c.typ, body, c.want)
		}
		if _, err := openai.ParseEvent(body); err != nil {
			t.Errorf("sample does not parse: %v", err)
		}
	}
	for _, bad := range []struct {
		typ  string
		data any
		want string
	}{
		{"", map[string]int{}, "empty event type"},
		{"x", nil, "data is null, want a JSON object"},
		{"x", []int{1}, "data is an array, want a JSON object"},
		{"x", json.RawMessage(`"s"`), "data is a string, want a JSON object"},
		{"x", json.RawMessage(`{`), "data: json: error calling MarshalJSON"},
		{"x", make(chan int), "data: json: unsupported type"},
	} {
		if body, err := SampleEventWithData(bad.typ, now, bad.data); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("SampleEventWithData(%q, %#v) = %s, %v; want an error containing %q", bad.typ, bad.data, body, err, bad.want)
		}
	}
}
