package webhook

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// slackVector is Slack's documented example (webhook-facts.md), verbatim.
var slackVector = struct{ secret, ts, body, sig string }{
	secret: "8f742231b10e8888abcd99yyyzzz85a5",
	ts:     "1531420618",
	body:   "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
	sig:    "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
}

func slackHeader(ts, sig string) http.Header {
	return provHeader("X-Slack-Request-Timestamp", ts, "X-Slack-Signature", sig)
}

func TestSlackVector(t *testing.T) {
	v := slackVector
	s, err := NewSlack(v.secret, provClock(1531420618+10))
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Verify([]byte(v.body), slackHeader(v.ts, "v0="+v.sig))
	if err != nil {
		t.Fatal(err)
	}
	want := Delivery{ID: "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c", Type: "slash_command", Timestamp: time.Unix(1531420618, 0)}
	if d != want {
		t.Errorf("delivery = %+v, want %+v", d, want)
	}
	h, err := s.Sign(Delivery{Timestamp: time.Unix(1531420618, 0)}, []byte(v.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"X-Slack-Signature":         "v0=" + v.sig,
		"X-Slack-Request-Timestamp": v.ts,
		"Content-Type":              "application/x-www-form-urlencoded",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("Sign: %s = %q, want %q", k, got, want)
		}
	}
}

func TestSlackRejects(t *testing.T) {
	v := slackVector
	const now = 1531420618
	s, _ := NewSlack(v.secret, WithSecrets("rotated-out"), provClock(now))
	signAt := func(ts int64) http.Header {
		h, err := s.Sign(Delivery{Timestamp: time.Unix(ts, 0)}, []byte(v.body))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	runRejects(t, s, []provReject{
		{"missing signature", v.body, slackHeader(v.ts, ""), ErrMissingHeader},
		{"missing timestamp", v.body, slackHeader("", "v0="+v.sig), ErrMissingHeader},
		{"no version", v.body, slackHeader(v.ts, v.sig), ErrMalformedHeader},
		{"other version", v.body, slackHeader(v.ts, "v1="+v.sig), ErrMalformedHeader},
		{"timestamp not a number", v.body, slackHeader("1531420618.5", "v0="+v.sig), ErrMalformedHeader},
		{"timestamp in milliseconds", v.body, slackHeader("1531420618000", "v0="+v.sig), ErrTimestampTooNew},
		{"stale", v.body, signAt(now - 301), ErrTimestampTooOld},
		{"future", v.body, signAt(now + 301), ErrTimestampTooNew},
		{"replayed with new timestamp", v.body, slackHeader("1531420619", "v0="+v.sig), ErrNoMatchingSignature},
		{"wrong signature", v.body, slackHeader(v.ts, "v0=b2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"), ErrNoMatchingSignature},
		{"tampered body", v.body + "&x=1", slackHeader(v.ts, "v0="+v.sig), ErrNoMatchingSignature},
	})
	for _, ts := range []int64{now - 300, now + 300} {
		if _, err := s.Verify([]byte(v.body), signAt(ts)); err != nil {
			t.Errorf("ts %d at the edge: %v", ts, err)
		}
	}
	if _, err := NewSlack(""); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("empty secret: err = %v", err)
	}
}

func TestSlackLabels(t *testing.T) {
	interactive := url.Values{"payload": {`{"type":"block_actions","trigger_id":"13345224609.738474920.8088930838d88f008e0","user":{"id":"U1"}}`}}.Encode()
	cases := []struct {
		name, body, id, typ string
	}{
		{"slash command", slackVector.body, "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c", "slash_command"},
		{"event callback", `{"token":"x","team_id":"T1","event":{"type":"app_mention","user":"U1","text":"<@U0> hi","ts":"1.2"},"type":"event_callback","event_id":"Ev08MFMKH6","event_time":1234567890}`, "Ev08MFMKH6", "app_mention"},
		{"event callback, type first", "\n {\"type\": \"event_callback\", \"event_id\": \"Ev1\", \"event\": {\"channel\": \"C1\", \"type\": \"message\"}}", "Ev1", "message"},
		{"event callback without event", `{"type":"event_callback","event_id":"Ev2"}`, "Ev2", "event_callback"},
		{"url verification", `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`, "", "url_verification"},
		{"rate limited", `{"token":"x","type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820}`, "", "app_rate_limited"},
		{"interactive payload", interactive, "13345224609.738474920.8088930838d88f008e0", "block_actions"},
		{"interactive payload, form trigger id wins", interactive + "&trigger_id=form", "form", "block_actions"},
		{"unknown form", "a=b&c=%zz", "", ""},
		{"not json", "{oops", "", ""},
		{"empty", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, typ := slackLabels([]byte(c.body))
			if id != c.id || typ != c.typ {
				t.Errorf("slackLabels = %q, %q; want %q, %q", id, typ, c.id, c.typ)
			}
		})
	}
}

func TestSlackRoundTrip(t *testing.T) {
	s, _ := NewSlack("signing-secret")
	bodies := append(provBodies(t), []byte(`{"type":"event_callback","event_id":"Ev3","event":{"type":"reaction_added"}}`))
	for _, body := range bodies {
		at := time.Now().Add(-time.Minute).Truncate(time.Second)
		h, err := s.Sign(Delivery{Timestamp: at, ID: "ignored", Type: "ignored"}, body)
		if err != nil {
			t.Fatal(err)
		}
		if h.Get("X-Slack-Request-Timestamp") != strconv.FormatInt(at.Unix(), 10) {
			t.Errorf("timestamp header = %q", h.Get("X-Slack-Request-Timestamp"))
		}
		d, err := s.Verify(body, h)
		if err != nil {
			t.Fatalf("Verify(Sign(%d bytes)): %v", len(body), err)
		}
		if !d.Timestamp.Equal(at) {
			t.Errorf("timestamp = %v, want %v", d.Timestamp, at)
		}
		if wantID, wantType := slackLabels(body); d.ID != wantID || d.Type != wantType {
			t.Errorf("delivery = %+v", d)
		}
		for _, b := range provTamper(body) {
			if _, err := s.Verify(b, h); !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("tampered %d-byte body: err = %v", len(b), err)
			}
		}
	}
}
