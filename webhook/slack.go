package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/heraldhq/herald/webhook/internal/jsonscan"
)

// Slack verifies and signs Slack request signatures (Events API, slash commands,
// interactivity): X-Slack-Signature is "v0=" followed by the hex HMAC-SHA256 of
// "v0:{X-Slack-Request-Timestamp}:{raw body}", keyed with the app's signing secret as raw
// bytes. Requests whose timestamp is more than the tolerance (default 5 minutes) from now
// are rejected. A Slack is safe for concurrent use.
type Slack struct {
	h *HMAC
}

var _ Provider = (*Slack)(nil)

// NewSlack returns a Slack verifier for an app's signing secret. Use WithSecrets to accept
// more secrets during rotation; Sign uses secret. Options: WithSecrets, WithTolerance, WithClock.
func NewSlack(secret string, opts ...Option) (*Slack, error) {
	h, err := newHMAC(HMACConfig{
		Name:            "slack",
		Secret:          secret,
		Header:          "X-Slack-Signature",
		Prefix:          "v0=",
		Template:        "v0:{timestamp}:{body}",
		TimestampHeader: "X-Slack-Request-Timestamp",
	}, optSecrets|optTolerance|optClock, opts)
	if err != nil {
		return nil, err
	}
	h.labels = slackLabels
	return &Slack{h: h}, nil
}

// Name returns "slack".
func (s *Slack) Name() string { return "slack" }

// Verify authenticates a Slack request. Delivery.Timestamp is X-Slack-Request-Timestamp;
// ID and Type come from the body (see slackLabels): for Events API JSON the "event_id" and
// the inner event's type (or the top-level type, such as "url_verification"); for
// form-encoded slash commands the trigger_id and "slash_command"; for interactive
// payloads the trigger_id and the payload's type ("block_actions", ...).
func (s *Slack) Verify(body []byte, header http.Header) (Delivery, error) {
	return s.h.Verify(body, header)
}

// Sign returns the headers Slack sends with body: X-Slack-Request-Timestamp (d.Timestamp,
// or now if zero), X-Slack-Signature, a Content-Type that matches the body (JSON or form)
// and User-Agent. Slack carries ids and types in the body, so d.ID and d.Type are not used.
func (s *Slack) Sign(d Delivery, body []byte) (http.Header, error) {
	h, err := s.h.Sign(Delivery{Timestamp: d.Timestamp}, body)
	if err != nil {
		return nil, err
	}
	if !isJSONObject(body) {
		h["Content-Type"] = []string{"application/x-www-form-urlencoded"}
	}
	h["User-Agent"] = []string{"Slackbot 1.0 (+https://api.slack.com/robots)"}
	return h, nil
}

// isJSONObject reports whether body looks like a JSON object rather than a form.
func isJSONObject(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// slackLabels returns the id and type of a Slack request body. It only labels requests
// that are already authenticated and returns empty strings for anything it does not know.
func slackLabels(body []byte) (id, typ string) {
	if isJSONObject(body) {
		id, _ = jsonscan.TopLevelString(body, "event_id")
		typ, _ = jsonscan.TopLevelString(body, "type")
		if typ == "event_callback" {
			var env struct {
				Event struct {
					Type string `json:"type"`
				} `json:"event"`
			}
			if json.Unmarshal(body, &env) == nil && env.Event.Type != "" {
				typ = env.Event.Type
			}
		}
		return id, typ
	}
	form, _ := url.ParseQuery(string(body)) // keep what parses; the body is authenticated
	id = form.Get("trigger_id")
	switch {
	case form.Has("command"):
		typ = "slash_command"
	case form.Has("payload"):
		payload := []byte(form.Get("payload"))
		typ, _ = jsonscan.TopLevelString(payload, "type")
		if id == "" {
			id, _ = jsonscan.TopLevelString(payload, "trigger_id")
		}
	}
	return id, typ
}
