package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Script is an ordered list of rules that decide how emulated responses and batches
// end. The first rule whose pattern matches wins; the built-in rules (see
// docs/emulator.md) are tried after a script's own.
type Script struct {
	Rules []*Rule `json:"rules"`
}

// Rule maps an input pattern to an outcome.
type Rule struct {
	// Match is a regular expression (RE2 syntax) searched for in the request's text:
	// for a response, the text of its user messages and function call outputs; for a
	// batch, its input_file_id.
	Match string `json:"match"`
	// Object is "response" (the default) or "batch".
	Object string `json:"object,omitempty"`
	// Status is the terminal status: "completed" (the default), "failed" or
	// "incomplete" for responses; "completed", "failed" or "expired" for batches.
	Status string `json:"status,omitempty"`
	// Reply is the assistant's text; $1 or ${name} insert the match's groups.
	Reply string `json:"reply,omitempty"`
	// Tool names a function tool to call instead of replying; the rule is skipped
	// when the request does not offer a function tool of that name.
	Tool string `json:"tool,omitempty"`
	// Arguments is the function call's JSON arguments (an object, or a string holding
	// JSON); groups inserted with $1 or ${name} are JSON-escaped.
	Arguments json.RawMessage `json:"arguments,omitempty"`
	// Error is the error of a failed response or batch.
	Error *RuleError `json:"error,omitempty"`
	// Delay overrides how long the response or batch takes, such as "30s". A rule
	// that sets only Match and Delay changes the timing and matching goes on.
	Delay string `json:"delay,omitempty"`

	re        *regexp.Regexp
	delay     time.Duration
	arguments string // the arguments template as JSON text
}

// RuleError is the error object a failing rule puts on the response or batch.
type RuleError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// LoadScript reads and checks a script file (JSON: {"rules": [...]}).
func LoadScript(path string) (*Script, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	s, err := ParseScript(b)
	if err != nil {
		return nil, fmt.Errorf("script %s: %w", path, err)
	}
	return s, nil
}

// ParseScript parses and checks a script.
func ParseScript(b []byte) (*Script, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Script
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("not a script (want {\"rules\": [...]}): %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a script: more than one JSON value")
	}
	for i, r := range s.Rules {
		if r == nil {
			return nil, fmt.Errorf("rule %d: null", i+1)
		}
		if err := r.compile(); err != nil {
			return nil, fmt.Errorf("rule %d (%q): %w", i+1, r.Match, err)
		}
	}
	return &s, nil
}

func (r *Rule) compile() error {
	if r.Match == "" {
		return errors.New("match is required")
	}
	re, err := regexp.Compile(r.Match)
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	r.re = re
	if r.Delay != "" {
		if r.delay, err = time.ParseDuration(r.Delay); err != nil || r.delay < 0 {
			return fmt.Errorf("delay %q: want a duration such as 500ms or 30s", r.Delay)
		}
	}
	switch r.Object {
	case "", "response":
		r.Object = "response"
		switch r.Status {
		case "", "completed", "failed", "incomplete":
		default:
			return fmt.Errorf("status %q: want completed, failed or incomplete", r.Status)
		}
	case "batch":
		switch r.Status {
		case "", "completed", "failed", "expired":
		default:
			return fmt.Errorf("status %q: a batch can be completed, failed or expired", r.Status)
		}
		if r.Reply != "" || r.Tool != "" || len(r.Arguments) > 0 {
			return errors.New("reply, tool and arguments apply to responses, not batches")
		}
	default:
		return fmt.Errorf("object %q: want response or batch", r.Object)
	}
	if r.Tool != "" && r.Status != "" && r.Status != "completed" {
		return fmt.Errorf("a tool call completes the response; status %q does not go with tool", r.Status)
	}
	if len(r.Arguments) > 0 {
		if r.Tool == "" {
			return errors.New("arguments without tool")
		}
		args := string(bytes.TrimSpace(r.Arguments))
		if strings.HasPrefix(args, `"`) {
			if err := json.Unmarshal(r.Arguments, &args); err != nil {
				return fmt.Errorf("arguments: %w", err)
			}
		}
		if !json.Valid([]byte(expand(args, func(string) string { return "0" }))) {
			return fmt.Errorf("arguments %s: not JSON", args)
		}
		r.arguments = args
	}
	if r.Tool != "" && r.arguments == "" {
		r.arguments = "{}"
	}
	if r.Error != nil && r.Status != "failed" {
		return errors.New("error is for rules with status failed")
	}
	return nil
}

// delayOnly reports whether the rule only changes the timing.
func (r *Rule) delayOnly() bool {
	return r.Delay != "" && r.Status == "" && r.Reply == "" && r.Tool == "" && r.Error == nil
}

// groups returns the value of each group of a match, by number and by name.
func (r *Rule) groups(text string, m []int) func(key string) string {
	return func(key string) string {
		i, err := strconv.Atoi(key)
		if err != nil {
			i = r.re.SubexpIndex(key)
		}
		if i < 0 || 2*i+1 >= len(m) || m[2*i] < 0 {
			return ""
		}
		return text[m[2*i]:m[2*i+1]]
	}
}

// expand replaces $name and ${name} in template with value(name); "$$" is a "$".
func expand(template string, value func(string) string) string {
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		c := template[i]
		if c != '$' || i+1 == len(template) {
			b.WriteByte(c)
			continue
		}
		rest := template[i+1:]
		switch {
		case rest[0] == '$':
			b.WriteByte('$')
			i++
		case rest[0] == '{':
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			b.WriteString(value(rest[1:end]))
			i += end + 1
		default:
			n := 0
			for n < len(rest) && (rest[n] == '_' || rest[n] >= '0' && rest[n] <= '9' ||
				rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= 'A' && rest[n] <= 'Z') {
				n++
			}
			if n == 0 {
				b.WriteByte(c)
				continue
			}
			b.WriteString(value(rest[:n]))
			i += n
		}
	}
	return b.String()
}

// jsonEscape returns s as the inside of a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// builtinRules are tried after a script's rules; docs/emulator.md documents them.
func builtinRules() []*Rule {
	rules := []*Rule{
		{Match: `\[fail\]`, Status: "failed", Error: &RuleError{Code: "server_error",
			Message: "The model failed to generate a response (emulated: the input asked for [fail])."}},
		{Match: `\[incomplete\]`, Status: "incomplete"},
		{Match: `\[slow\]`, Delay: "1m"},
		{Match: `(?i)\border\b\D{0,20}?(\d+)`, Tool: "lookup_order", Arguments: json.RawMessage(`{"order_id":"$1"}`)},
		{Object: "batch", Match: `(?i)fail`, Status: "failed", Error: &RuleError{Code: "invalid_request",
			Message: "The batch input file is invalid (emulated: the input_file_id asked for failure)."}},
		{Object: "batch", Match: `(?i)expire`, Status: "expired"},
	}
	for _, r := range rules {
		if err := r.compile(); err != nil {
			panic(fmt.Sprintf("built-in rule %q: %v", r.Match, err))
		}
	}
	return rules
}
