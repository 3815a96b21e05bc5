package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// ErrMalformedEvent means a body is not a JSON object or one of its event members has the wrong type.
var ErrMalformedEvent = errors.New("malformed event")

// Event is one webhook event: the OpenAI envelope plus what the transport said about it.
//
// ParseEvent fills in the envelope. For a type in the OpenAI catalogue (see OpenAIEventTypes)
// Data is a pointer to the type's data struct, such as *ResponseEventData; for any other type
// it is the data member as a json.RawMessage. Data is nil when the body has no data member
// or its value is null.
type Event struct {
	Object    string          // "event" for OpenAI
	ID        string          // the event id, "evt_..." for OpenAI
	Type      string          // the event type, such as "response.completed"
	CreatedAt time.Time       // from the unix-seconds created_at member; zero if absent
	Data      any             // typed pointer for catalogue types, json.RawMessage otherwise
	RawData   json.RawMessage // the data member exactly as received, sharing Body's memory; nil if absent
	Delivery  Delivery        // filled in by the receiver (Handler); zero from ParseEvent
	Header    http.Header     // the request headers, filled in by the receiver (Handler); nil from ParseEvent
	Body      []byte          // the raw body; ParseEvent does not copy it
}

// eventResource is implemented by the catalogue's data structs.
type eventResource interface {
	resourceID() string
}

// DataID returns the id of the resource an event is about, which an OpenAI receiver
// fetches to act on the event: data.id, or data.call_id / data.session_id for incoming
// calls. It returns "" if there is none.
func (e *Event) DataID() string {
	if e == nil {
		return ""
	}
	if r, ok := e.Data.(eventResource); ok {
		return r.resourceID()
	}
	id, _ := topLevelString(e.RawData, "id")
	return id
}

// EventData returns e.Data as a T, such as *ResponseEventData, and whether it is one.
func EventData[T any](e *Event) (T, bool) {
	if e == nil {
		var zero T
		return zero, false
	}
	v, ok := e.Data.(T)
	return v, ok
}

// Indexes of the envelope members ParseEvent reads.
const (
	memberObject = iota
	memberID
	memberType
	memberCreatedAt
	memberData
	numMembers
)

var memberNames = [numMembers]string{"object", "id", "type", "created_at", "data"}

// ParseEvent parses an event body: any JSON object, with OpenAI's envelope members
// object, id, type, created_at (unix seconds) and data. Missing members are left zero and
// other members are ignored, so bodies from other senders parse too. It returns an error
// wrapping ErrMalformedEvent if body is not exactly one JSON object, if an envelope member
// appears twice or has the wrong JSON type, or if the data of a catalogue type does not
// fit its data struct. The returned Event's Body is body itself, not a copy, and RawData
// is a subslice of it.
func ParseEvent(body []byte) (*Event, error) {
	members, err := splitEnvelope(body)
	if err != nil {
		return nil, fmt.Errorf("parse event: %w: %w", ErrMalformedEvent, err)
	}
	e := &Event{Body: body}
	for i, dst := range [...]*string{memberObject: &e.Object, memberID: &e.ID, memberType: &e.Type} {
		if *dst, err = stringMember(memberNames[i], members[i]); err != nil {
			return nil, fmt.Errorf("parse event: %w: %w", ErrMalformedEvent, err)
		}
	}
	if raw := members[memberCreatedAt]; raw != nil && !isNull(raw) {
		sec, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse event: %w: member \"created_at\" is %s, want integer unix seconds", ErrMalformedEvent, describeJSON(raw))
		}
		e.CreatedAt = time.Unix(sec, 0).UTC()
	}
	raw := members[memberData]
	if raw == nil {
		return e, nil
	}
	e.RawData = raw
	if isNull(raw) {
		return e, nil
	}
	newData := openAIEventData(e.Type)
	if newData == nil {
		e.Data = raw
		return e, nil
	}
	if raw[0] != '{' {
		return nil, fmt.Errorf("parse event: %w: data of %s is %s, want an object", ErrMalformedEvent, e.Type, describeJSON(raw))
	}
	data := newData()
	if err := json.Unmarshal(raw, data); err != nil {
		return nil, fmt.Errorf("parse event: %w: data of %s: %w", ErrMalformedEvent, e.Type, err)
	}
	e.Data = data
	return e, nil
}

// splitEnvelope checks that body is exactly one JSON object and returns the raw values of
// the envelope members, which alias body. Keys match exactly (not case-insensitively, as
// encoding/json does for structs), and a repeated envelope member is refused, because
// parsers disagree on which of the values counts.
func splitEnvelope(body []byte) ([numMembers]json.RawMessage, error) {
	var members [numMembers]json.RawMessage
	if !json.Valid(body) {
		if len(bytes.TrimSpace(body)) == 0 {
			return members, errors.New("empty body")
		}
		var v json.RawMessage
		if err := json.Unmarshal(body, &v); err != nil {
			return members, err // the syntax error, with its offset
		}
		return members, errors.New("invalid JSON")
	}
	// body is valid JSON, so the forgiving scanner walks it exactly.
	s := scanner{b: body}
	s.ws()
	if !s.eat('{') {
		return members, fmt.Errorf("body is %s, want a JSON object", describeJSON(bytes.TrimSpace(body)))
	}
	for {
		s.ws()
		if s.eat('}') {
			return members, nil // json.Valid guarantees only whitespace follows
		}
		k0, k1, escaped, _ := s.str()
		key := body[k0:k1]
		if escaped {
			var unescaped string
			if err := json.Unmarshal(body[k0-1:k1+1], &unescaped); err != nil {
				return members, err
			}
			key = []byte(unescaped)
		}
		s.ws()
		s.eat(':')
		s.ws()
		v0 := s.i
		s.value()
		if i := memberIndex(key); i >= 0 {
			if members[i] != nil {
				return members, fmt.Errorf("member %q appears more than once", memberNames[i])
			}
			members[i] = body[v0:s.i]
		}
		s.ws()
		s.eat(',')
	}
}

func memberIndex(key []byte) int {
	for i, name := range memberNames {
		if string(key) == name {
			return i
		}
	}
	return -1
}

// stringMember decodes an optional string member; absent and null give "".
func stringMember(name string, raw json.RawMessage) (string, error) {
	if raw == nil || isNull(raw) {
		return "", nil
	}
	if raw[0] != '"' {
		return "", fmt.Errorf("member %q is %s, want a string", name, describeJSON(raw))
	}
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var s string // escaped or invalid UTF-8: let encoding/json decode it as every other parser would
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("member %q: %w", name, err)
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// describeJSON names the kind of a valid JSON value, for error messages.
func describeJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if len(raw) > 24 {
		return "a number"
	}
	return "the number " + string(raw)
}
