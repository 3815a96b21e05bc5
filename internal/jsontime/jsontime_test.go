package jsontime

import (
	"encoding/json"
	"testing"
	"time"
)

func TestJSON(t *testing.T) {
	at := time.Date(2026, 11, 26, 13, 4, 5, 678_900_000, time.FixedZone("CET", 3600))
	b, err := json.Marshal(struct {
		At   Time  `json:"at"`
		Opt  *Time `json:"opt"`
		None *Time `json:"none"`
	}{Time(at), Opt(&at), Opt(nil)})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"at":"2026-11-26T12:04:05.678Z","opt":"2026-11-26T12:04:05.678Z","none":null}`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	var back Time
	if err := json.Unmarshal([]byte(`"2026-11-26T13:04:05.678+01:00"`), &back); err != nil {
		t.Fatal(err)
	}
	if !time.Time(back).Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("read %v, want %v", time.Time(back), at)
	}
	if err := json.Unmarshal([]byte(`"yesterday"`), &back); err == nil {
		t.Fatal("a time that is not RFC 3339 was read")
	}
}
