package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/webhook/internal/jsonscan"
)

// ErrMalformedEvent means a body is not a JSON object or one of its event members has the wrong type.
var ErrMalformedEvent = errors.New("malformed event")

// Event is one OpenAI webhook event, the envelope of the body.
//
// ParseEvent fills it in. For a type in the OpenAI catalogue (see EventTypes)
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
	id, _ := jsonscan.TopLevelString(e.RawData, "id")
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
			return nil, fmt.Errorf("parse event: %w: member \"created_at\" is %s, want integer unix seconds", ErrMalformedEvent, jsonscan.DescribeJSON(raw))
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
	newData := eventData(e.Type)
	if newData == nil {
		e.Data = raw
		return e, nil
	}
	if raw[0] != '{' {
		return nil, fmt.Errorf("parse event: %w: data of %s is %s, want an object", ErrMalformedEvent, e.Type, jsonscan.DescribeJSON(raw))
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
	s := jsonscan.Scanner{B: body}
	s.WS()
	if !s.Eat('{') {
		return members, fmt.Errorf("body is %s, want a JSON object", jsonscan.DescribeJSON(bytes.TrimSpace(body)))
	}
	for {
		s.WS()
		if s.Eat('}') {
			return members, nil // json.Valid guarantees only whitespace follows
		}
		k0, k1, escaped, _ := s.Str()
		key := body[k0:k1]
		if escaped {
			var unescaped string
			if err := json.Unmarshal(body[k0-1:k1+1], &unescaped); err != nil {
				return members, err
			}
			key = []byte(unescaped)
		}
		s.WS()
		s.Eat(':')
		s.WS()
		v0 := s.I
		s.Value()
		if i := memberIndex(key); i >= 0 {
			if members[i] != nil {
				return members, fmt.Errorf("member %q appears more than once", memberNames[i])
			}
			members[i] = body[v0:s.I]
		}
		s.WS()
		s.Eat(',')
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
		return "", fmt.Errorf("member %q is %s, want a string", name, jsonscan.DescribeJSON(raw))
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
