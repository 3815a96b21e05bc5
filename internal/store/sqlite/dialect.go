package sqlite

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// dialect is SQLite's sqlstore.Dialect: times are unix milliseconds, lists JSON text.
type dialect struct{}

func (dialect) Time(t time.Time) any { return ms(t) }

func (dialect) NullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

func (dialect) List(l []string) any { return encodeJSON(l) }

func (dialect) ScanTime(dst *time.Time) any        { return msTime{dst} }
func (dialect) ScanNullTime(dst **time.Time) any   { return nullMSTime{dst} }
func (dialect) ScanList(dst *[]string) any         { return jsonText{dst} }
func (dialect) ScanMap(dst *map[string]string) any { return jsonText{dst} }
func (dialect) In(column, param string) string {
	return column + ` IN (SELECT value FROM json_each(` + param + `))`
}
func (dialect) Epoch(column string) string           { return `(` + column + ` / 1000)` }
func (dialect) ForUpdate() string                    { return "" } // the single writer serialises every write
func (dialect) IsForeignKey(err error) bool          { return isForeignKey(err) }
func (dialect) IsUnique(err error, name string) bool { return isUnique(err, name) }

// uniqueColumns maps the constraint names of sqlstore (PostgreSQL's) to the columns
// SQLite names when one is violated.
var uniqueColumns = map[string]string{
	"apps_uid_key":           "apps.uid",
	"endpoints_listener_url": "endpoints.app_id, endpoints.url",
	"sources_uid_key":        "sources.uid",
}

// isUnique reports whether err violates the named unique constraint (any, if name is "").
func isUnique(err error, name string) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	i := strings.Index(msg, "UNIQUE constraint failed")
	if i < 0 {
		return false
	}
	if name == "" {
		return true
	}
	cols, ok := uniqueColumns[name]
	return ok && strings.HasPrefix(strings.TrimPrefix(msg[i:], "UNIQUE constraint failed: "), cols)
}

func isForeignKey(err error) bool {
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// msTime scans a time stored as unix milliseconds.
type msTime struct{ dst *time.Time }

func (t msTime) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("sqlite: time column holds %T, want unix milliseconds", src)
	}
	*t.dst = fromMS(v)
	return nil
}

// nullMSTime scans a nullable time stored as unix milliseconds.
type nullMSTime struct{ dst **time.Time }

func (t nullMSTime) Scan(src any) error {
	if src == nil {
		*t.dst = nil
		return nil
	}
	var v time.Time
	if err := (msTime{&v}).Scan(src); err != nil {
		return err
	}
	*t.dst = &v
	return nil
}

// jsonText scans a list or map stored as JSON text; what does not parse reads as empty.
type jsonText struct{ dst any }

func (j jsonText) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		return nil
	default:
		return fmt.Errorf("sqlite: JSON column holds %T", src)
	}
	_ = json.Unmarshal(b, j.dst)
	return nil
}

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqlite: encode %T: %v", v, err)) // maps of strings and string slices always encode
	}
	return string(b)
}
