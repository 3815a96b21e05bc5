package webhooktest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald/webhook/internal/jsonscan"
	"github.com/heraldhq/herald/webhook/openai"
)

// ErrUnknownEventType means an event type is not in the OpenAI catalogue (see openai.EventTypes).
var ErrUnknownEventType = errors.New("unknown event type")

// SampleEvent returns a realistic body for eventType, byte for byte as OpenAI sends it:
// compact JSON in OpenAI's member order, a random "evt_" id, created_at set to now
// (a zero now means time.Now()) and data with realistic random ids. It returns an
// error wrapping ErrUnknownEventType if eventType is not in the OpenAI catalogue.
func SampleEvent(eventType string, now time.Time) ([]byte, error) {
	sample, ok := samples[eventType]
	if !ok {
		return nil, fmt.Errorf("sample event: %w: %q is not in the OpenAI event catalogue", ErrUnknownEventType, eventType)
	}
	if now.IsZero() {
		now = time.Now()
	}
	return SampleEventWithData(eventType, now, sample(now))
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
		return nil, fmt.Errorf("sample event %s: data is %s, want a JSON object", eventType, jsonscan.DescribeJSON(buf.Bytes()[start:]))
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
	return &openai.ResponseEventData{ID: newOpenAIID("resp_", now) + randomHex(8)}
}

func sampleBatch(now time.Time) any { return &openai.BatchEventData{ID: newOpenAIID("batch_", now)} }

func sampleFineTuningJob(time.Time) any {
	return &openai.FineTuningJobEventData{ID: "ftjob-" + randomAlnum(24)}
}

func sampleEvalRun(now time.Time) any {
	return &openai.EvalRunEventData{ID: newOpenAIID("evalrun_", now)}
}

func sampleRealtimeCall(time.Time) any {
	return &openai.RealtimeCallIncomingData{CallID: "rtc_" + randomHex(16), SIPHeaders: sampleSIPHeaders()}
}

func sampleLiveCall(time.Time) any {
	return &openai.LiveCallIncomingData{SessionID: "live_" + randomHex(16), SIPHeaders: sampleSIPHeaders()}
}

func sampleLiveTransport(time.Time) any {
	return &openai.LiveTransportIncomingData{SessionID: "live_" + randomHex(16), SIPHeaders: sampleSIPHeaders(), Type: "sip"}
}

// sampleSIPHeaders returns the headers of a typical SIP INVITE from a carrier trunk,
// with numbers from the fictional 555-01xx range.
func sampleSIPHeaders() []openai.SIPHeader {
	return []openai.SIPHeader{
		{Name: "Max-Forwards", Value: "63"},
		{Name: "CSeq", Value: "851287 INVITE"},
		{Name: "Content-Type", Value: "application/sdp"},
		{Name: "To", Value: "<sip:+14155550100@sip.example.com>"},
		{Name: "From", Value: `"Herald Test" <sip:+14155550123@sip.example.com>;tag=` + randomHex(4)},
		{Name: "Call-ID", Value: randomAlnum(32)},
	}
}

func sampleAgentEnvironment(now time.Time) any {
	return &openai.AgentEnvironmentEventData{ID: newOpenAIID("env_", now)}
}

func sampleAgentSession(now time.Time) any {
	return &openai.AgentSessionEventData{ID: newOpenAIID("as_", now), EnvironmentType: "openai_hosted", EnvironmentID: newOpenAIID("env_", now)}
}

func sampleAgentSessionCreated(now time.Time) any {
	return &openai.AgentSessionCreatedData{ID: newOpenAIID("as_", now), EnvironmentType: "openai_hosted", EnvironmentID: newOpenAIID("env_", now)}
}

func sampleAgentSessionActionRequired(now time.Time) any {
	return &openai.AgentSessionActionRequiredData{ID: newOpenAIID("as_", now), RequiredAction: openai.AgentSessionRequiredAction{Type: "function_call"}}
}

func sampleSafetyAlert(now time.Time) any {
	return &openai.SafetyAlertEventData{ID: newOpenAIID("alert_", now)}
}

func sampleSafetyCase(now time.Time) any {
	return &openai.SafetyCaseEventData{ID: newOpenAIID("case_", now)}
}

// samples makes realistic data for every type of the OpenAI catalogue; a test checks
// that it covers openai.EventTypes.
var samples = map[string]func(now time.Time) any{
	openai.EventResponseCompleted:          sampleResponse,
	openai.EventResponseCancelled:          sampleResponse,
	openai.EventResponseFailed:             sampleResponse,
	openai.EventResponseIncomplete:         sampleResponse,
	openai.EventBatchCompleted:             sampleBatch,
	openai.EventBatchCancelled:             sampleBatch,
	openai.EventBatchFailed:                sampleBatch,
	openai.EventBatchExpired:               sampleBatch,
	openai.EventFineTuningJobSucceeded:     sampleFineTuningJob,
	openai.EventFineTuningJobFailed:        sampleFineTuningJob,
	openai.EventFineTuningJobCancelled:     sampleFineTuningJob,
	openai.EventEvalRunSucceeded:           sampleEvalRun,
	openai.EventEvalRunFailed:              sampleEvalRun,
	openai.EventEvalRunCanceled:            sampleEvalRun,
	openai.EventRealtimeCallIncoming:       sampleRealtimeCall,
	openai.EventLiveCallIncoming:           sampleLiveCall,
	openai.EventLiveTransportIncoming:      sampleLiveTransport,
	openai.EventAgentEnvironmentReady:      sampleAgentEnvironment,
	openai.EventAgentEnvironmentFailed:     sampleAgentEnvironment,
	openai.EventAgentEnvironmentSuspended:  sampleAgentEnvironment,
	openai.EventAgentEnvironmentExpired:    sampleAgentEnvironment,
	openai.EventAgentSessionCreated:        sampleAgentSessionCreated,
	openai.EventAgentSessionInProgress:     sampleAgentSession,
	openai.EventAgentSessionIdle:           sampleAgentSession,
	openai.EventAgentSessionActionRequired: sampleAgentSessionActionRequired,
	openai.EventAgentSessionFailed:         sampleAgentSession,
	openai.EventSafetyAlertCreated:         sampleSafetyAlert,
	openai.EventSafetyOrgAlertCreated:      sampleSafetyAlert,
	openai.EventSafetyWarningIssued:        sampleSafetyCase,
	openai.EventSafetyDeactivationIssued:   sampleSafetyCase,
}
