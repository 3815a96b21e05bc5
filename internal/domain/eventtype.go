package domain

import (
	"bytes"
	"encoding/json"
	"time"
)

// Limits on an event type's documents, in bytes of JSON.
const (
	MaxSchemaBytes  = 64 << 10
	MaxExampleBytes = 64 << 10
)

// EventType is an entry of the event catalogue: a type of message an operator
// publishes, described for the people who receive it.
type EventType struct {
	Name        string          // the message type it describes, such as invoice.paid
	Description string          // free text
	Schema      json.RawMessage // a JSON Schema object of the payload; nil for none
	Example     json.RawMessage // an example payload, any JSON; nil for none
	Deprecated  bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Check validates every field of the event type.
func (t *EventType) Check() error {
	if err := CheckEventType("name", t.Name); err != nil {
		return err
	}
	if err := CheckDescription(t.Description); err != nil {
		return err
	}
	if err := CheckEventSchema(t.Schema); err != nil {
		return err
	}
	return CheckEventExample(t.Example)
}

// CheckEventSchema validates an event type's schema: a JSON object of at most
// MaxSchemaBytes, or nil for none.
func CheckEventSchema(schema json.RawMessage) error {
	if err := checkJSON("schema", schema, MaxSchemaBytes); err != nil || schema == nil {
		return err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(schema), []byte("{")) {
		return fieldErrorf("schema", "must be a JSON Schema object, such as {\"type\":\"object\"}")
	}
	return nil
}

// CheckEventExample validates an event type's example: any JSON value of at most
// MaxExampleBytes, or nil for none.
func CheckEventExample(example json.RawMessage) error {
	return checkJSON("example", example, MaxExampleBytes)
}

// checkJSON validates field's value v: valid JSON of at most max bytes, or nil for none.
func checkJSON(field string, v json.RawMessage, max int) error {
	switch {
	case v == nil:
		return nil
	case len(v) > max:
		return fieldErrorf(field, "is %d bytes of JSON; the most is %d", len(v), max)
	case !json.Valid(v):
		return fieldErrorf(field, "is not valid JSON")
	}
	return nil
}
