package webhook

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrUnknownEventType means an event type is not in the OpenAI catalogue (see OpenAIEventTypes).
var ErrUnknownEventType = errors.New("unknown event type")

// SampleEvent returns a realistic body for eventType, byte for byte as OpenAI sends it:
// compact JSON in OpenAI's member order, a random "evt_" id, created_at set to now
// (a zero now means time.Now()) and data with realistic random ids. It returns an
// error wrapping ErrUnknownEventType if eventType is not in the OpenAI catalogue.
func SampleEvent(eventType string, now time.Time) ([]byte, error) {
	ev := lookupOpenAIEvent(eventType)
	if ev == nil {
		return nil, fmt.Errorf("sample event: %w: %q is not in the OpenAI event catalogue", ErrUnknownEventType, eventType)
	}
	if now.IsZero() {
		now = time.Now()
	}
	return SampleEventWithData(eventType, now, ev.sample(now))
}

// SampleEventWithData is SampleEvent with the given data, which must encode to a JSON
// object (a json.RawMessage is compacted). eventType may be any non-empty type, so it
// also builds OpenAI-shaped events for types outside the catalogue.
func SampleEventWithData(eventType string, now time.Time, data any) ([]byte, error) {
	if eventType == "" {
		return nil, errors.New("sample event: empty event type")
	}
	if now.IsZero() {
		now = time.Now()
	}
	var buf bytes.Buffer
	buf.WriteString(`{"object":"event","id":"`)
	buf.WriteString(newOpenAIID("evt_", now))
	buf.WriteString(`","type":`)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // OpenAI sends SIP headers' "<sip:...>" unescaped
	if err := enc.Encode(eventType); err != nil {
		return nil, fmt.Errorf("sample event %s: type: %w", eventType, err)
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	buf.WriteString(`,"created_at":`)
	buf.WriteString(strconv.FormatInt(now.Unix(), 10))
	buf.WriteString(`,"data":`)
	start := buf.Len()
	if err := enc.Encode(data); err != nil {
		return nil, fmt.Errorf("sample event %s: data: %w", eventType, err)
	}
	buf.Truncate(buf.Len() - 1)
	if buf.Bytes()[start] != '{' {
		return nil, fmt.Errorf("sample event %s: data is %s, want a JSON object", eventType, describeJSON(buf.Bytes()[start:]))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// newOpenAIID returns an id shaped like OpenAI's: prefix, the creation time as 8 hex
// digits, then 24 random hex digits ("evt_685c059ae3a481909bdc86819b066fb6").
func newOpenAIID(prefix string, now time.Time) string {
	return prefix + fmt.Sprintf("%08x", uint32(now.Unix())) + randomHex(12)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// randomAlnum returns n random characters from [0-9A-Za-z].
func randomAlnum(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	const limit = 256 - 256%len(alphabet) // reject bytes at or above it to avoid modulo bias
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		for int(b[i]) >= limit {
			_, _ = rand.Read(b[i : i+1])
		}
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func sampleResponse(now time.Time) any {
	// Response ids are longer than most: 8 hex digits of time and 40 more.
	return &ResponseEventData{ID: newOpenAIID("resp_", now) + randomHex(8)}
}

func sampleBatch(now time.Time) any { return &BatchEventData{ID: newOpenAIID("batch_", now)} }

func sampleFineTuningJob(time.Time) any {
	return &FineTuningJobEventData{ID: "ftjob-" + randomAlnum(24)}
}

func sampleEvalRun(now time.Time) any { return &EvalRunEventData{ID: newOpenAIID("evalrun_", now)} }

func sampleRealtimeCall(time.Time) any {
	return &RealtimeCallIncomingData{CallID: "rtc_" + randomHex(16), SIPHeaders: sampleSIPHeaders()}
}

func sampleLiveCall(time.Time) any {
	return &LiveCallIncomingData{SessionID: "live_" + randomHex(16), SIPHeaders: sampleSIPHeaders()}
}

func sampleLiveTransport(time.Time) any {
	return &LiveTransportIncomingData{SessionID: "live_" + randomHex(16), SIPHeaders: sampleSIPHeaders(), Type: "sip"}
}

// sampleSIPHeaders returns the headers of a typical SIP INVITE from a carrier trunk,
// with numbers from the fictional 555-01xx range.
func sampleSIPHeaders() []SIPHeader {
	return []SIPHeader{
		{Name: "Max-Forwards", Value: "63"},
		{Name: "CSeq", Value: "851287 INVITE"},
		{Name: "Content-Type", Value: "application/sdp"},
		{Name: "To", Value: "<sip:+14155550100@sip.example.com>"},
		{Name: "From", Value: `"Herald Test" <sip:+14155550123@sip.example.com>;tag=` + randomHex(4)},
		{Name: "Call-ID", Value: randomAlnum(32)},
	}
}

func sampleAgentEnvironment(now time.Time) any {
	return &AgentEnvironmentEventData{ID: newOpenAIID("env_", now)}
}

func sampleAgentSession(now time.Time) any {
	return &AgentSessionEventData{ID: newOpenAIID("as_", now), EnvironmentType: "openai_hosted", EnvironmentID: newOpenAIID("env_", now)}
}

func sampleAgentSessionCreated(now time.Time) any {
	return &AgentSessionCreatedData{ID: newOpenAIID("as_", now), EnvironmentType: "openai_hosted", EnvironmentID: newOpenAIID("env_", now)}
}

func sampleAgentSessionActionRequired(now time.Time) any {
	return &AgentSessionActionRequiredData{ID: newOpenAIID("as_", now), RequiredAction: AgentSessionRequiredAction{Type: "function_call"}}
}

func sampleSafetyAlert(now time.Time) any {
	return &SafetyAlertEventData{ID: newOpenAIID("alert_", now)}
}

func sampleSafetyCase(now time.Time) any { return &SafetyCaseEventData{ID: newOpenAIID("case_", now)} }
