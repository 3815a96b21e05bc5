package jsonedit

import (
	"strings"
	"testing"
)

const sample = `{"id":"evt_1","data":{"object":{"amount":2000,"currency":"usd","metadata":{},"items":[{"name":"a"},{"name":"b"}],"note":null}},"big":1.50e3,"esc":"caf\u00e9 <b>"}`

func TestSetUnset(t *testing.T) {
	cases := []struct {
		name  string
		edits []string // "set:arg" or "unset:path"
		want  string   // compact JSON, or "error: <substring>"
	}{
		{"number", []string{"set:data.object.amount=5000"}, `"amount":5000,`},
		{"string", []string{"set:data.object.currency=eur"}, `"currency":"eur"`},
		{"quoted forces a string", []string{`set:data.object.amount="5000"`}, `"amount":"5000"`},
		{"leading zero stays text", []string{"set:data.object.amount=02134"}, `"amount":"02134"`},
		{"true", []string{"set:data.object.paid=true"}, `"paid":true`},
		{"false", []string{"set:data.object.paid=false"}, `"paid":false`},
		{"null", []string{"set:data.object.currency=null"}, `"currency":null`},
		{"object", []string{`set:data.object.metadata={"order": 42, "tags":["x"]}`}, `"metadata":{"order":42,"tags":["x"]}`},
		{"array", []string{"set:data.object.items=[1, 2]"}, `"items":[1,2]`},
		{"empty string", []string{"set:data.object.currency="}, `"currency":""`},
		{"text with spaces and html", []string{"set:data.object.currency=a <b> & c"}, `"currency":"a <b> & c"`},
		{"strict JSON", []string{"set:data.object.amount:=7"}, `"amount":7`},
		{"strict string", []string{`set:data.object.amount:="7"`}, `"amount":"7"`},
		{"strict refuses text", []string{"set:data.object.amount:=seven"}, "error: not valid JSON"},
		{"strict refuses a broken object", []string{`set:data.object.metadata:={"a":1`}, "error: not valid JSON"},
		{"array index", []string{"set:data.object.items.1.name=x"}, `"items":[{"name":"a"},{"name":"x"}]`},
		{"append with -", []string{"set:data.object.items.-.name=c"}, `{"name":"b"},{"name":"c"}]`},
		{"append at length", []string{"set:data.object.items.2=3"}, `{"name":"b"},3]`},
		{"index past the end", []string{"set:data.object.items.3=3"}, "error: data.object.items.3: index 3 out of range (the array has 2 elements)"},
		{"name on an array", []string{"set:data.object.items.name=x"}, `error: data.object.items is an array: want an index (0, 1, ... or "-" to append), got "name"`},
		{"leading-zero index", []string{"set:data.object.items.01=x"}, "error: want an index"},
		{"missing objects are created", []string{"set:data.object.shipping.address.city=Paris"}, `"shipping":{"address":{"city":"Paris"}}}`},
		{"missing array is created", []string{"set:data.object.lines.0.id=li_1"}, `"lines":[{"id":"li_1"}]`},
		{"null is replaced", []string{"set:data.object.note.text=hi"}, `"note":{"text":"hi"}`},
		{"through a number", []string{"set:data.object.amount.value=1"}, "error: data.object.amount is a number, not an object or array"},
		{"through a string", []string{"set:id.x=1"}, "error: id is a string"},
		{"new top-level member goes last", []string{"set:livemode=false"}, `"esc":"caf\u00e9 <b>","livemode":false}`},
		{"replace the root", []string{"set:id=1", "unset:data"}, `{"id":1,"big":1.50e3,`},
		{"escaped dot", []string{`set:data.object.metadata.order\.id=7`}, `"metadata":{"order.id":7}`},
		{"escaped equals", []string{`set:data.object.metadata.a\=b=7`}, `"metadata":{"a=b":7}`},
		{"escaped colon before =", []string{`set:data.object.metadata.a\:=7`}, `"metadata":{"a:":7}`},
		{"value contains =", []string{"set:data.object.currency=a=b"}, `"currency":"a=b"`},
		{"unset member", []string{"unset:data.object.currency"}, `{"amount":2000,"metadata":{}`},
		{"unset element", []string{"unset:data.object.items.0"}, `"items":[{"name":"b"}]`},
		{"unset missing", []string{"unset:data.object.nope"}, "error: data.object.nope: no such member"},
		{"unset missing index", []string{"unset:data.object.items.5"}, "error: index 5 out of range"},
		{"unset through a number", []string{"unset:data.object.amount.x"}, "error: data.object.amount is a number"},
		{"unset -", []string{"unset:data.object.items.-"}, "error: cannot be unset"},
		{"set then unset", []string{"set:a.b=1", "unset:a.b"}, `"a":{}}`},
		{"empty path", []string{"set:=1"}, "error: empty path"},
		{"empty segment", []string{"set:data..amount=1"}, "error: empty segment"},
		{"trailing dot", []string{"set:data.=1"}, "error: empty segment"},
		{"no equals", []string{"set:data.object.amount"}, "error: want path=value"},
		{"bad escape", []string{`set:data.\x=1`}, "error: a backslash escapes only"},
		{"untouched values keep their bytes", []string{"set:id=evt_2"}, `"big":1.50e3,"esc":"caf\u00e9 <b>"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse([]byte(sample))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range c.edits {
				op, arg, _ := strings.Cut(e, ":")
				var ed Edit
				if op == "set" {
					ed, err = ParseSet(arg)
				} else {
					ed, err = ParseUnset(arg)
				}
				if err == nil {
					err = doc.Apply(ed)
				}
				if err != nil {
					break
				}
			}
			if want, isErr := strings.CutPrefix(c.want, "error: "); isErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("error = %v, want one containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(doc.JSON()); !strings.Contains(got, c.want) {
				t.Fatalf("got %s\nwant it to contain %s", got, c.want)
			}
		})
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, in := range []string{
		sample,
		`[]`, `{}`, `"s"`, `12`, `-0.5e-3`, `true`, `null`,
		`{"a":[1,[2,[3]],{"b":{}}],"c":"\"quoted\" \\ \n"}`,
		`{"dup":1,"dup":2}`,
	} {
		doc, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := string(doc.JSON()); got != in {
			t.Errorf("round trip of %s = %s", in, got)
		}
	}
	doc, _ := Parse([]byte(" {\n  \"a\" : 1 ,\n  \"b\": [ true , null ]\n}\n"))
	if got := string(doc.JSON()); got != `{"a":1,"b":[true,null]}` {
		t.Errorf("compacted = %s", got)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		``, `{`, `{"a":}`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `{1:2}`, `nope`, `{} {}`, `1 2`, `]`,
		strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%.40q) accepted it", in)
		}
	}
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse([]byte(deep)); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	if _, err := ParseSet("a=" + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)); err == nil {
		t.Error("a value nested too deeply was accepted")
	}
}

func TestDuplicates(t *testing.T) {
	doc, _ := Parse([]byte(`{"a":1,"a":2}`))
	v, _ := Parse([]byte(`3`))
	if err := doc.Set("a", v); err != nil {
		t.Fatal(err)
	}
	if got := string(doc.JSON()); got != `{"a":1,"a":3}` {
		t.Errorf("set on a duplicate = %s, want the last one (the one decoders keep) changed", got)
	}
	if err := doc.Unset("a"); err != nil {
		t.Fatal(err)
	}
	if got := string(doc.JSON()); got != `{}` {
		t.Errorf("unset on a duplicate = %s, want every copy gone", got)
	}
}

func TestGetAndFields(t *testing.T) {
	doc, _ := Parse([]byte(sample))
	for path, want := range map[string]string{
		"id":                         `"evt_1"`,
		"data.object.items.1.name":   `"b"`,
		"data.object.metadata":       `{}`,
		"data.object.items.2":        "",
		"data.object.amount.x":       "",
		"nope":                       "",
		"data..x":                    "",
		"data.object.items.01":       "",
		"data.object.items.1":        `{"name":"b"}`,
		"data.object.items.1.name.x": "",
	} {
		got, ok := doc.Get(path)
		if string(got) != want || ok != (want != "") {
			t.Errorf("Get(%s) = %s, %v; want %s", path, got, ok, want)
		}
	}
	fields, err := doc.Fields()
	if err != nil || len(fields) != 4 {
		t.Fatalf("Fields = %v, %v", fields, err)
	}
	if f := fields[0]; f.Name != "id" || !f.IsString || f.String != "evt_1" {
		t.Errorf("fields[0] = %+v", f)
	}
	if f := fields[3]; f.Name != "esc" || f.String != "café <b>" {
		t.Errorf("fields[3] = %+v", f)
	}
	if f := fields[1]; f.IsString || string(f.Value[:10]) != `{"object":` {
		t.Errorf("fields[1] = %+v", f)
	}
	arr, _ := Parse([]byte(`[1]`))
	if _, err := arr.Fields(); err == nil {
		t.Error("Fields of an array: no error")
	}
}
