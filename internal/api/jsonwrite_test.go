package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

// encodeReflect is what writeJSON writes for v with encoding/json.
func encodeReflect(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzMessageJSON checks that the publish answers written without reflection are byte
// for byte what encoding/json writes for them, whatever the strings and the payload.
func FuzzMessageJSON(f *testing.F) {
	f.Add("msg_1", "a.b", "key", "", "X-A", "v", []byte(`{"x": [1, 2] }`), int64(1733000000123), 1, false)
	f.Add("m\"\\\n\x01\u2028<>&", "t\xff\xfe", "é\u2029", "src_1", "K\x7f", "\b\f\r\t", []byte("not json \xff"), int64(-1), 0, true)
	f.Add("", "", "", "", "", "", []byte(nil), int64(0), -1, false)
	f.Add("a", "b", "", "", "Z", "1", []byte("plain text"), int64(253402300799999), 1000, true)
	f.Fuzz(func(t *testing.T, id, typ, key, source, hk, hv string, payload []byte, created int64, deliveries int, dup bool) {
		m := &domain.Message{ID: id, AppID: "app_" + id, Type: typ, Payload: payload, IdempotencyKey: key, SourceID: source,
			CreatedAt: time.UnixMilli(created)}
		if hk != "" {
			m.Headers = map[string]string{hk: hv, "Content-Type": "application/json", "a" + hk: hv + hv}
		}
		out := toMessageJSON(m)
		if deliveries >= 0 {
			out.Deliveries = &deliveries
		}
		for _, v := range []jsonAppender{out, batchResultJSON{messageJSON: out, Duplicate: dup},
			batchAnswerJSON{Data: []batchResultJSON{{messageJSON: out}, {messageJSON: out, Duplicate: dup}}}, batchAnswerJSON{}} {
			want := encodeReflect(t, v)
			got := append(v.appendJSON(nil), '\n')
			if !bytes.Equal(got, want) {
				t.Fatalf("%T:\n got %q\nwant %q", v, got, want)
			}
			w := httptest.NewRecorder()
			writeJSON(w, 202, v)
			if !bytes.Equal(w.Body.Bytes(), want) || w.Code != 202 || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("writeJSON: %d %q", w.Code, w.Body.Bytes())
			}
		}
	})
}
