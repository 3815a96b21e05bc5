package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook/openai"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

// factsBody is the OpenAI sample body of ../shared/reference/webhook-facts.md, verbatim.
const factsBody = `{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}`

// catalogue lists every OpenAI event type with its data struct, independently of
// openAIEvents, so that a type dropped from or added to the catalogue fails the tests.
var catalogue = []struct {
	typ      string
	data     any    // a nil pointer of the expected data type
	idPrefix string // prefix of DataID in samples
}{
	{"response.completed", (*openai.ResponseEventData)(nil), "resp_"},
	{"response.cancelled", (*openai.ResponseEventData)(nil), "resp_"},
	{"response.failed", (*openai.ResponseEventData)(nil), "resp_"},
	{"response.incomplete", (*openai.ResponseEventData)(nil), "resp_"},
	{"batch.completed", (*openai.BatchEventData)(nil), "batch_"},
	{"batch.cancelled", (*openai.BatchEventData)(nil), "batch_"},
	{"batch.failed", (*openai.BatchEventData)(nil), "batch_"},
	{"batch.expired", (*openai.BatchEventData)(nil), "batch_"},
	{"fine_tuning.job.succeeded", (*openai.FineTuningJobEventData)(nil), "ftjob-"},
	{"fine_tuning.job.failed", (*openai.FineTuningJobEventData)(nil), "ftjob-"},
	{"fine_tuning.job.cancelled", (*openai.FineTuningJobEventData)(nil), "ftjob-"},
	{"eval.run.succeeded", (*openai.EvalRunEventData)(nil), "evalrun_"},
	{"eval.run.failed", (*openai.EvalRunEventData)(nil), "evalrun_"},
	{"eval.run.canceled", (*openai.EvalRunEventData)(nil), "evalrun_"},
	{"realtime.call.incoming", (*openai.RealtimeCallIncomingData)(nil), "rtc_"},
	{"live.call.incoming", (*openai.LiveCallIncomingData)(nil), "live_"},
	{"live.transport.incoming", (*openai.LiveTransportIncomingData)(nil), "live_"},
	{"agent.environment.ready", (*openai.AgentEnvironmentEventData)(nil), "env_"},
	{"agent.environment.failed", (*openai.AgentEnvironmentEventData)(nil), "env_"},
	{"agent.environment.suspended", (*openai.AgentEnvironmentEventData)(nil), "env_"},
	{"agent.environment.expired", (*openai.AgentEnvironmentEventData)(nil), "env_"},
	{"agent.session.created", (*openai.AgentSessionCreatedData)(nil), "as_"},
	{"agent.session.in_progress", (*openai.AgentSessionEventData)(nil), "as_"},
	{"agent.session.idle", (*openai.AgentSessionEventData)(nil), "as_"},
	{"agent.session.action_required", (*openai.AgentSessionActionRequiredData)(nil), "as_"},
	{"agent.session.failed", (*openai.AgentSessionEventData)(nil), "as_"},
	{"safety.alert.created", (*openai.SafetyAlertEventData)(nil), "alert_"},
	{"safety.org_alert.created", (*openai.SafetyAlertEventData)(nil), "alert_"},
	{"safety.warning_issued", (*openai.SafetyCaseEventData)(nil), "case_"},
	{"safety.deactivation_issued", (*openai.SafetyCaseEventData)(nil), "case_"},
}

func TestEventTypes(t *testing.T) {
	got := openai.EventTypes()
	var want []string
	for _, c := range catalogue {
		want = append(want, c.typ)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("EventTypes() =\n%q\nwant\n%q", got, want)
	}
	// The 15 types of OpenAI's webhook guide (webhook-facts.md) come first.
	documented := []string{
		openai.EventResponseCompleted, openai.EventResponseCancelled, openai.EventResponseFailed, openai.EventResponseIncomplete,
		openai.EventBatchCompleted, openai.EventBatchCancelled, openai.EventBatchFailed, openai.EventBatchExpired,
		openai.EventFineTuningJobSucceeded, openai.EventFineTuningJobFailed, openai.EventFineTuningJobCancelled,
		openai.EventEvalRunSucceeded, openai.EventEvalRunFailed, openai.EventEvalRunCanceled, openai.EventRealtimeCallIncoming,
	}
	if !slices.Equal(got[:len(documented)], documented) {
		t.Errorf("documented types = %q, want %q", got[:len(documented)], documented)
	}
	if openai.EventEvalRunCanceled != "eval.run.canceled" || openai.EventFineTuningJobCancelled != "fine_tuning.job.cancelled" {
		t.Error("cancel spellings differ from OpenAI's")
	}
	got[0] = "mutated"
	if openai.EventTypes()[0] != openai.EventResponseCompleted {
		t.Error("EventTypes returns the package's own slice")
	}
	for _, typ := range want {
		if !openai.IsEventType(typ) {
			t.Errorf("IsEventType(%q) = false", typ)
		}
	}
	for _, typ := range []string{"", "response", "response.completed ", "Response.Completed", "eval.run.cancelled", "thread.run.completed"} {
		if openai.IsEventType(typ) {
			t.Errorf("IsEventType(%q) = true", typ)
		}
	}
}

func TestParseEventFactsSample(t *testing.T) {
	body := []byte(factsBody)
	e, err := openai.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	if e.Object != "event" || e.ID != "evt_685c059ae3a481909bdc86819b066fb6" || e.Type != openai.EventResponseCompleted {
		t.Errorf("envelope = %q %q %q", e.Object, e.ID, e.Type)
	}
	if !e.CreatedAt.Equal(time.Unix(1750861210, 0)) || e.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want 1750861210 in UTC", e.CreatedAt)
	}
	if d, ok := e.Data.(*openai.ResponseEventData); !ok || *d != (openai.ResponseEventData{ID: "resp_123"}) {
		t.Errorf("Data = %#v", e.Data)
	}
	if string(e.RawData) != `{"id": "resp_123"}` {
		t.Errorf("RawData = %s, want the data member as received", e.RawData)
	}
	if &e.Body[0] != &body[0] {
		t.Error("Body is not the parsed slice")
	}
	if id := e.DataID(); id != "resp_123" {
		t.Errorf("DataID() = %q", id)
	}
	if d, ok := openai.EventData[*openai.ResponseEventData](e); !ok || d.ID != "resp_123" {
		t.Errorf("EventData[*openai.ResponseEventData] = %v, %v", d, ok)
	}
	if _, ok := openai.EventData[*openai.BatchEventData](e); ok {
		t.Error("EventData[*openai.BatchEventData] of a response event reports ok")
	}
	if _, ok := openai.EventData[*openai.ResponseEventData](nil); ok {
		t.Error("EventData of a nil event reports ok")
	}
}

// TestParseEventCatalogue parses a sample of every catalogue type into its data struct.
func TestParseEventCatalogue(t *testing.T) {
	now := time.Unix(1750861210, 0)
	for _, c := range catalogue {
		t.Run(c.typ, func(t *testing.T) {
			body, err := webhooktest.SampleEvent(c.typ, now)
			if err != nil {
				t.Fatal(err)
			}
			e, err := openai.ParseEvent(body)
			if err != nil {
				t.Fatalf("ParseEvent(%s): %v", body, err)
			}
			if e.Object != "event" || e.Type != c.typ || !strings.HasPrefix(e.ID, "evt_") || !e.CreatedAt.Equal(now) {
				t.Errorf("envelope = %q %q %q %v", e.Object, e.ID, e.Type, e.CreatedAt)
			}
			if reflect.TypeOf(e.Data) != reflect.TypeOf(c.data) || reflect.ValueOf(e.Data).IsNil() {
				t.Fatalf("Data is %T, want %T", e.Data, c.data)
			}
			if id := e.DataID(); !strings.HasPrefix(id, c.idPrefix) || len(id) < len(c.idPrefix)+24 {
				t.Errorf("DataID() = %q, want %s plus at least 24 characters", id, c.idPrefix)
			}
			// The typed data re-encodes to exactly the data member: every member has a field.
			var again bytes.Buffer
			enc := json.NewEncoder(&again)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(e.Data); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.TrimSuffix(again.Bytes(), []byte("\n")), e.RawData) {
				t.Errorf("data re-encodes to\n%s\nwant\n%s", again.Bytes(), e.RawData)
			}
		})
	}
}

func TestParseEventTypedFields(t *testing.T) {
	cases := []struct {
		body string
		want any
	}{
		{
			`{"object":"event","id":"evt_1","type":"realtime.call.incoming","created_at":1,"data":{"call_id":"rtc_1","sip_headers":[{"name":"From","value":"<sip:a@b>"},{"name":"From","value":"x"}],"sip_media_security":"srtp","future":1}}`,
			&openai.RealtimeCallIncomingData{CallID: "rtc_1", SIPHeaders: []openai.SIPHeader{{"From", "<sip:a@b>"}, {"From", "x"}}, SIPMediaSecurity: "srtp"},
		},
		{
			`{"type":"live.transport.incoming","data":{"session_id":"live_1","sip_headers":[],"type":"sip"}}`,
			&openai.LiveTransportIncomingData{SessionID: "live_1", SIPHeaders: []openai.SIPHeader{}, Type: "sip"},
		},
		{
			`{"type":"agent.session.created","data":{"id":"as_1","environment_type":"self_hosted","connect":{"remote_url":"https://agent.example/x"}}}`,
			&openai.AgentSessionCreatedData{ID: "as_1", EnvironmentType: "self_hosted", Connect: &openai.AgentSessionConnect{RemoteURL: "https://agent.example/x"}},
		},
		{
			`{"type":"agent.session.action_required","data":{"id":"as_1","required_action":{"type":"computer_use_approval_request"}}}`,
			&openai.AgentSessionActionRequiredData{ID: "as_1", RequiredAction: openai.AgentSessionRequiredAction{Type: "computer_use_approval_request"}},
		},
		{`{"type":"eval.run.canceled","data":{"id":"evalrun_1"}}`, &openai.EvalRunEventData{ID: "evalrun_1"}},
		{`{"type":"response.completed","data":{}}`, &openai.ResponseEventData{}},
	}
	for _, c := range cases {
		e, err := openai.ParseEvent([]byte(c.body))
		if err != nil {
			t.Errorf("ParseEvent(%s): %v", c.body, err)
			continue
		}
		if !reflect.DeepEqual(e.Data, c.want) {
			t.Errorf("ParseEvent(%s).Data = %#v, want %#v", c.body, e.Data, c.want)
		}
	}
}

// TestParseEventLenient checks that bodies of other senders parse.
func TestParseEventLenient(t *testing.T) {
	cases := []struct {
		name, body      string
		typ, id         string
		hasCreated      bool // CreatedAt is unix created, not the zero time
		created         int64
		data            any
		rawData, dataID string
	}{
		{name: "empty object", body: `{}`},
		{name: "whitespace", body: " \n\t{ } \r\n"},
		{name: "no created_at or data", body: `{"type":"response.completed","id":"evt_1"}`, typ: "response.completed", id: "evt_1"},
		{name: "null members", body: `{"object":null,"id":null,"type":null,"created_at":null,"data":null}`, rawData: "null"},
		{name: "known type, null data", body: `{"type":"batch.failed","data":null}`, typ: "batch.failed", rawData: "null"},
		{
			name: "unknown type keeps raw data", body: `{"type":"push","data": {"id": 7, "ref":"main"} }`,
			typ: "push", data: json.RawMessage(`{"id": 7, "ref":"main"}`), rawData: `{"id": 7, "ref":"main"}`,
		},
		{
			name: "unknown type, non-object data", body: `{"type":"x.y","data":[1,2]}`,
			typ: "x.y", data: json.RawMessage(`[1,2]`), rawData: `[1,2]`,
		},
		{
			name: "no type, data id", body: `{"data":{"id":"obj_1"},"extra":{"type":"ignored"}}`,
			data: json.RawMessage(`{"id":"obj_1"}`), rawData: `{"id":"obj_1"}`, dataID: "obj_1",
		},
		{name: "Standard Webhooks payload", body: `{"type":"invoice.paid","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"in_1"}}`, typ: "invoice.paid", data: json.RawMessage(`{"id":"in_1"}`), rawData: `{"id":"in_1"}`, dataID: "in_1"},
		{name: "negative created_at", body: `{"created_at":-5}`, hasCreated: true, created: -5},
		{name: "created_at zero", body: `{"created_at":0}`, hasCreated: true, created: 0},
		{name: "keys are case-sensitive", body: `{"Type":"response.completed","ID":"x","Data":5}`},
		{name: "escaped strings", body: `{"type":"response.completed","id":"evt_\u00e9\n","data":{"id":"resp_\"q\""}}`, typ: "response.completed", id: "evt_é\n", data: &openai.ResponseEventData{ID: `resp_"q"`}, rawData: `{"id":"resp_\"q\""}`, dataID: `resp_"q"`},
		{name: "escaped keys", body: `{"t\u0079pe":"batch.failed","\u0069d":"evt_1","data":{"\u0069d":"batch_1"}}`, typ: "batch.failed", id: "evt_1", data: &openai.BatchEventData{ID: "batch_1"}, rawData: `{"\u0069d":"batch_1"}`, dataID: "batch_1"},
		{name: "nested look-alikes", body: `{"x":{"type":"a","s":"}\"{["},"y":["type",{"id":1}],"z":-1.5e3,"w":true,"v":null,"type":"eval.run.failed","data":{"id":"evalrun_1"}}`, typ: "eval.run.failed", data: &openai.EvalRunEventData{ID: "evalrun_1"}, rawData: `{"id":"evalrun_1"}`, dataID: "evalrun_1"},
		{name: "invalid UTF-8 is replaced", body: "{\"id\":\"evt_\xff\"}", id: "evt_\ufffd"},
		{name: "unknown data members", body: `{"type":"response.failed","data":{"id":"resp_1","status":"failed"}}`, typ: "response.failed", data: &openai.ResponseEventData{ID: "resp_1"}, rawData: `{"id":"resp_1","status":"failed"}`, dataID: "resp_1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := openai.ParseEvent([]byte(c.body))
			if err != nil {
				t.Fatalf("ParseEvent(%s): %v", c.body, err)
			}
			if e.Type != c.typ || e.ID != c.id || e.Object != "" {
				t.Errorf("envelope = %q %q %q", e.Object, e.ID, e.Type)
			}
			if c.hasCreated && !e.CreatedAt.Equal(time.Unix(c.created, 0)) || !c.hasCreated && !e.CreatedAt.IsZero() {
				t.Errorf("CreatedAt = %v, want unix %d (set: %v)", e.CreatedAt, c.created, c.hasCreated)
			}
			if !reflect.DeepEqual(e.Data, c.data) {
				t.Errorf("Data = %#v, want %#v", e.Data, c.data)
			}
			if string(e.RawData) != c.rawData || (c.rawData == "") != (e.RawData == nil) {
				t.Errorf("RawData = %q, want %q", e.RawData, c.rawData)
			}
			if got := e.DataID(); got != c.dataID {
				t.Errorf("DataID() = %q, want %q", got, c.dataID)
			}
		})
	}
	var nilEvent *openai.Event
	if nilEvent.DataID() != "" {
		t.Error("DataID of a nil event is not empty")
	}
}

func TestParseEventErrors(t *testing.T) {
	cases := []struct{ body, want string }{
		{"", "empty body"},
		{" \n ", "empty body"},
		{"not json", "invalid character"},
		{"[]", "body is an array, want a JSON object"},
		{"null", "body is null, want a JSON object"},
		{`"event"`, "body is a string, want a JSON object"},
		{"42", "body is the number 42, want a JSON object"},
		{" 1234567890123456789012345678901234567890 ", "body is a number, want a JSON object"},
		{"true", "body is a boolean, want a JSON object"},
		{`{"id":"evt_1"`, "unexpected end of JSON input"},
		{`{"id":"evt_1",}`, "invalid character"},
		{`{"id":"evt_1"} x`, "invalid character"},
		{`{"id":"evt_1"}{"id":"evt_2"}`, "invalid character '{' after top-level value"},
		{`{"id":"evt_1"} []`, "invalid character '[' after top-level value"},
		{"{\"id\":\"\xff\"", "unexpected end of JSON input"},
		{`{"type":"a","type":"b"}`, `member "type" appears more than once`},
		{`{"data":{},"data":{}}`, `member "data" appears more than once`},
		{`{"type":"a","t\u0079pe":"b"}`, `member "type" appears more than once`},
		{`{"id":5}`, `member "id" is the number 5, want a string`},
		{`{"type":true}`, `member "type" is a boolean, want a string`},
		{`{"object":{}}`, `member "object" is an object, want a string`},
		{`{"created_at":"1750861210"}`, `member "created_at" is a string, want integer unix seconds`},
		{`{"created_at":1.5}`, `member "created_at" is the number 1.5, want integer unix seconds`},
		{`{"created_at":1e9}`, `want integer unix seconds`},
		{`{"created_at":99999999999999999999}`, `want integer unix seconds`},
		{`{"created_at":[]}`, `member "created_at" is an array`},
		{`{"type":"response.completed","data":[]}`, "data of response.completed is an array, want an object"},
		{`{"type":"response.completed","data":"resp_1"}`, "data of response.completed is a string, want an object"},
		{`{"type":"response.completed","data":{"id":5}}`, "data of response.completed: json: cannot unmarshal number"},
		{`{"type":"realtime.call.incoming","data":{"call_id":"rtc_1","sip_headers":{}}}`, "data of realtime.call.incoming: json: cannot unmarshal object"},
		{`{"type":"agent.session.action_required","data":{"id":"as_1","required_action":"x"}}`, "data of agent.session.action_required"},
	}
	for _, c := range cases {
		e, err := openai.ParseEvent([]byte(c.body))
		if err == nil {
			t.Errorf("ParseEvent(%q) = %+v, want an error", c.body, e)
			continue
		}
		if e != nil {
			t.Errorf("ParseEvent(%q) returned an event with its error", c.body)
		}
		if !errors.Is(err, openai.ErrMalformedEvent) {
			t.Errorf("ParseEvent(%q) error %q does not wrap ErrMalformedEvent", c.body, err)
		}
		if !strings.HasPrefix(err.Error(), "parse event: malformed event: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseEvent(%q) error = %q, want it to contain %q", c.body, err, c.want)
		}
	}
	// Errors from the typed data keep encoding/json's error for errors.As.
	_, err := openai.ParseEvent([]byte(`{"type":"batch.expired","data":{"id":[]}}`))
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) || typeErr.Field != "id" {
		t.Errorf("error %v does not wrap a *json.UnmarshalTypeError for field id", err)
	}
}
