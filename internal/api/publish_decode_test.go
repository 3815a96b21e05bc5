package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// publishSeeds are bodies of both publish routes, common and odd.
var publishSeeds = []string{
	`{"type":"a.b","payload":{"x":1}}`,
	` {"type" : "a.b" , "idempotency_key":"k1", "payload" : { "x" : [1, 2.5e3, -0.1, true, false, null, "s\n\u00e9"] } } ` + "\n",
	`{"payload":{},"type":"a"}`, `{}`, `{"type":"a"}`, `{"payload":{"a":{"b":{"a":1}}}}`,
	`{"type":"a","type":"b"}`, `{"type":"a","payload":{"x":1,"x":2}}`, `{"type":"a","payload":{"x":1,"\u0078":2}}`,
	`{"Type":"a"}`, `{"type":"a","extra":1}`, `{"type":1}`, `{"type":null}`, `{"type":"a\u002eb"}`,
	`{"payload":[1]}`, `{"payload":"x"}`, `{"payload":null}`, `{"type":"a"} x`, `{"type":"a"}{}`, `[]`, `null`, ``, `  `,
	`{"type":"a","payload":{"s":"` + "\xff" + `"}}`, `{"type":"a","payload":{"n":01}}`, `{"type":"a","payload":{"n":1.}}`,
	`{"type":"a","payload":{"n":-}}`, `{"type":"a","payload":{"s":"\x"}}`, `{"type":"a","payload":{"s":"` + "\t" + `"}}`,
	`{"type":"a","payload":{"a":1,}}`, `{"type":"a","payload":{"a" 1}}`, `{"type":"a","payload":{"x":1}`,
	`{"messages":[{"type":"a","payload":{"x":1}},{"type":"b","idempotency_key":"k","payload":{"y":[]}}]}`,
	`{"messages":[]}`, `{"messages":null}`, `{"messages":[{"type":"a"},null]}`, `{"messages":[{"type":"a"}],"messages":[]}`,
	`{"messages":[{"type":"a"}]} []`, `{"messages":[{"type":"a","x":1}]}`,
	`{"type":"a","payload":` + strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 300) + `}`,
	`{"type":"a","payload":{` + manyKeys(70) + `}}`,
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strings.Repeat("x", i) + `":1`)
	}
	return b.String()
}

// FuzzDecodeFast checks the publish routes' fast decoding against the strict decoder:
// whatever the fast path takes, the strict one takes too, into the same values.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range publishSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastDecode(t, body, &messageInput{}, &messageInput{})
		checkFastDecode(t, body, &batchInput{}, &batchInput{})
	})
}

func TestDecodeFastSeeds(t *testing.T) {
	for _, s := range publishSeeds {
		checkFastDecode(t, []byte(s), &messageInput{}, &messageInput{})
		checkFastDecode(t, []byte(s), &batchInput{}, &batchInput{})
	}
}

// checkFastDecode decodes body with fast's decodeFast and with decodeStrict into strict.
func checkFastDecode[T fastDecoder](t *testing.T, body []byte, fast, strict T) {
	t.Helper()
	zero := reflect.New(reflect.TypeOf(fast).Elem()).Interface().(T)
	took := fast.decodeFast(body)
	err := decodeStrict(body, false, strict)
	if !took {
		if !reflect.DeepEqual(fast, zero) {
			t.Fatalf("%q: declined, but changed the value to %+v", body, fast)
		}
		return
	}
	if err != nil {
		t.Fatalf("%q: the fast path took what the strict decoder refuses: %v", body, err)
	}
	if !reflect.DeepEqual(fast, strict) {
		t.Fatalf("%q: fast %+v, strict %+v", body, fast, strict)
	}
}

// TestDecodeFastTakesCommonBodies checks that the bodies publishers send do take the fast
// path (else it would be dead code that the fuzz test cannot tell from a working one),
// and that odd ones are left to the strict decoder.
func TestDecodeFastTakesCommonBodies(t *testing.T) {
	for _, tc := range []struct {
		body string
		fast bool
	}{
		{publishBody(1), true},
		{`{"type":"a.b","payload":{"x":1}}`, true},
		{"{\n  \"type\": \"invoice.paid\",\n  \"payload\": {\"amount\": 12.5, \"tags\": [\"a\", \"b\"], \"note\": \"caf\u00e9 \\\"x\\\"\"}\n}\n", true},
		{`{"type":"a","payload":{"s":"\u00e9"}}`, true},
		{`{"type":"a","payload":{"x":1,"x":2}}`, false},
		{`{"type":"a","payload":{"\u0078":1}}`, false},
		{`{"Type":"a","payload":{}}`, false},
		{`{"type":"a","payload":[]}`, false},
	} {
		var in messageInput
		if got := in.decodeFast([]byte(tc.body)); got != tc.fast {
			t.Errorf("decodeFast(%s) = %v, want %v", tc.body, got, tc.fast)
		}
	}
	var in batchInput
	if !in.decodeFast([]byte(batchBody(3))) || len(in.Messages) != 3 || in.Messages[2].IdempotencyKey.v != "key-2" {
		t.Errorf("batch of 3: %+v", in)
	}
}

// TestDecodeFastPayloadMemory checks that a payload decoded on the fast path is as sent,
// byte for byte, and holds no more than its share of the body: a batch's payloads are
// copies, a single publish's payload shares the body only when it is most of it.
func TestDecodeFastPayloadMemory(t *testing.T) {
	payload := `{ "a" : [1, 2],` + "\n" + `"b":"x y" }`
	var in messageInput
	if !in.decodeFast([]byte(`{"type":"a","payload":`+payload+`}`)) || string(in.Payload) != payload {
		t.Fatalf("payload %q, want %q", in.Payload, payload)
	}
	if cap(in.Payload) != len(in.Payload) {
		t.Errorf("payload cap %d, len %d: an append could write into the body", cap(in.Payload), len(in.Payload))
	}
	padded := []byte(`{"type":"a",` + strings.Repeat(" ", 4096) + `"payload":` + payload + `}`)
	if !in.decodeFast(padded) || string(in.Payload) != payload {
		t.Fatalf("payload %q, want %q", in.Payload, payload)
	}
	if cap(in.Payload) > 2*len(payload) {
		t.Errorf("a %d-byte payload holds on to %d bytes of the body", len(payload), cap(in.Payload))
	}
	var batch batchInput
	body := []byte(batchBody(2))
	if !batch.decodeFast(body) {
		t.Fatal("batch declined")
	}
	for _, m := range batch.Messages {
		if string(m.Payload) != benchPayload || cap(m.Payload) >= len(body) {
			t.Errorf("batch payload: len %d cap %d, body %d", len(m.Payload), cap(m.Payload), len(body))
		}
	}
}

// FuzzJSONScan checks that the scanner accepts only valid JSON, and that compactJSON
// writes what encoding/json writes for a json.RawMessage.
func FuzzJSONScan(f *testing.F) {
	for _, s := range publishSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := jsonScan{b: b}
		if _, ok := s.value(); ok && s.end() && !json.Valid(b) {
			t.Fatalf("the scanner took %q, which is not valid JSON", b)
		}
		if validJSON(b) != json.Valid(b) {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", b, validJSON(b), json.Valid(b))
		}
		if !json.Valid(b) {
			return
		}
		var want bytes.Buffer
		if err := json.Compact(&want, b); err != nil {
			t.Fatal(err)
		}
		if got := compactJSON(nil, b); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("compactJSON(%q) = %q, want %q", b, got, want.Bytes())
		}
	})
}
