package openai

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// newInput returns the text the emulated model answers — the input items after the
// last assistant message or function call, that is the new user messages and function
// call outputs — and those outputs.
func newInput(items []item) (text string, outputs []item) {
	start := 0
	for i, it := range items {
		if it.kind == "function_call" || it.kind == "message" && it.role == "assistant" {
			start = i + 1
		}
	}
	var texts []string
	for _, it := range items[start:] {
		switch {
		case it.kind == "message" && it.role == "user":
			texts = append(texts, it.text)
		case it.kind == "function_call_output":
			texts = append(texts, it.text)
			outputs = append(outputs, it)
		}
	}
	return strings.Join(texts, "\n"), outputs
}

// decide computes how a response ends, from its parameters and the names of the
// function calls its input answers.
func (e *Emulator) decide(p *createParams, callNames map[string]string) outcome {
	text, outputs := newInput(p.input)
	o := outcome{status: "completed", delay: e.ResponseDelay(text)}
	decided := false
	apply := func(r *Rule, m []int) bool {
		if r.delayOnly() {
			o.delay = r.delay
			return false
		}
		if r.Tool != "" {
			if !p.functions[r.Tool] || p.choice == "none" {
				return false
			}
			args := expand(r.arguments, func(k string) string { return jsonEscape(r.groups(text, m)(k)) })
			o.call = &functionCall{Name: r.Tool, Arguments: args}
		} else {
			o.status = "completed"
			if r.Status != "" {
				o.status = r.Status
			}
			if r.Reply != "" {
				o.text = expand(r.Reply, r.groups(text, m))
			}
			if r.Error != nil {
				o.err = &responseError{Code: r.Error.Code, Message: r.Error.Message}
			}
		}
		if r.Delay != "" {
			o.delay = r.delay
		}
		return true
	}
	for _, r := range e.rules {
		if r.Object != "response" {
			continue
		}
		if m := r.re.FindStringSubmatchIndex(text); m != nil && apply(r, m) {
			decided = true
			break
		}
	}
	if !decided && len(outputs) > 0 {
		var parts []string
		for _, out := range outputs {
			name := callNames[out.callID]
			parts = append(parts, fmt.Sprintf("%s returned %s", name, out.text))
		}
		o.text = "Here is what I found: " + strings.Join(parts, "; ")
		decided = true
	}
	if !decided {
		for _, r := range e.toolRule {
			if m := r.re.FindStringSubmatchIndex(text); m != nil && apply(r, m) {
				decided = true
				break
			}
		}
	}
	if !decided && o.call == nil && (p.choice == "required" || strings.HasPrefix(p.choice, "function:")) && len(p.functions) > 0 {
		name := strings.TrimPrefix(p.choice, "function:")
		if name == "required" {
			name = firstFunction(p.tools)
		}
		o.call = &functionCall{Name: name, Arguments: "{}"}
	}
	if o.call != nil {
		o.status, o.text = "completed", ""
		return o
	}
	if o.status == "failed" {
		if o.err == nil {
			o.err = &responseError{Code: "server_error", Message: "The model failed to generate a response (emulated)."}
		}
		o.text = ""
		return o
	}
	if o.text == "" {
		o.text = defaultReply(text)
		if o.status == "incomplete" {
			o.text = cut(o.text, len(o.text)/2)
		}
	}
	if p.maxOutputTokens != nil && tokens(o.text) > *p.maxOutputTokens {
		o.status = "incomplete"
		o.text = cut(o.text, int(*p.maxOutputTokens)*4)
	}
	return o
}

// defaultReply is the answer when no rule decides: an echo of the input.
func defaultReply(text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return "Hello! This is an emulated reply from herald."
	}
	return fmt.Sprintf("You said: \"%s\". This is an emulated reply from herald.", text)
}

// firstFunction returns the name of the first function tool.
func firstFunction(tools []json.RawMessage) string {
	for _, raw := range tools {
		var t struct{ Type, Name string }
		if json.Unmarshal(raw, &t) == nil && t.Type == "function" {
			return t.Name
		}
	}
	return ""
}

// cut returns at most n bytes of s, on a rune boundary.
func cut(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// tokens estimates a token count the usual way: one token per four bytes.
func tokens(s string) int64 {
	return int64(len(s)+3) / 4
}
