// Package jsontime is the form of a time in herald's JSON, the REST API's answers and
// the operational webhooks alike: RFC 3339 in UTC with milliseconds, quoted, such as
// "2026-11-26T12:00:00.000Z".
package jsontime

import "time"

// layout is the form Append writes.
const layout = "2006-01-02T15:04:05.000Z07:00"

// Time is a time that marshals to JSON in herald's form.
type Time time.Time

// Opt converts an optional time; nil stays nil.
func Opt(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

// Append appends t to b in herald's form, quotes included.
func Append(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, layout)
	return append(b, '"')
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return Append(make([]byte, 0, len(`"2006-01-02T15:04:05.000Z"`)), time.Time(t)), nil
}

// UnmarshalJSON implements json.Unmarshaler; it reads any RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	var v time.Time
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	*t = Time(v)
	return nil
}
