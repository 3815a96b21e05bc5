package openai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// responseState is an emulated response and what it will become.
type responseState struct {
	obj         *response
	stored      bool              // retrievable with GET (store was not false)
	outcome     outcome           // decided at creation
	calls       map[string]string // call_id → function name of the calls in its output
	inputTokens int64
	timer       *time.Timer
	done        chan struct{} // closed at the terminal state
}

// outcome is how a response ends.
type outcome struct {
	status string // completed, failed or incomplete
	text   string // the reply (possibly cut short)
	call   *functionCall
	err    *responseError
	delay  time.Duration
}

// item is one parsed input item.
type item struct {
	kind   string // message, function_call, function_call_output, or another type to ignore
	role   string
	text   string
	callID string
	name   string
}

// createParams are the parsed members of POST /v1/responses.
type createParams struct {
	model           string
	input           []item
	background      bool
	store           bool
	instructions    *string
	maxOutputTokens *int64
	maxToolCalls    *int64
	parallel        bool
	previousID      string
	promptCacheKey  *string
	safetyID        *string
	user            *string
	temperature     float64
	topP            float64
	topLogprobs     int64
	metadata        map[string]string
	tools           []json.RawMessage
	functions       map[string]bool
	toolChoice      json.RawMessage
	choice          string // "auto", "none", "required" or the name of a forced function
	text            json.RawMessage
	truncation      string
	serviceTier     string
	reasoning       json.RawMessage
}

// responseParam reports whether name is a member of a create request; the SDK may
// send any of them.
func responseParam(name string) bool {
	switch name {
	case "background", "instructions", "max_output_tokens", "max_tool_calls", "parallel_tool_calls",
		"previous_response_id", "prompt_cache_key", "safety_identifier", "store", "temperature",
		"top_logprobs", "top_p", "user", "context_management", "conversation", "include", "metadata",
		"moderation", "prompt", "prompt_cache_retention", "service_tier", "stream", "stream_options",
		"truncation", "access_programs", "image", "input", "model", "prompt_cache_options", "reasoning",
		"text", "tool_choice", "tools":
		return true
	}
	return false
}

func parseCreate(m map[string]json.RawMessage) (*createParams, *apiError) {
	if err := checkKeys(m, responseParam); err != nil {
		return nil, err
	}
	p := &createParams{store: true, parallel: true, temperature: 1, topP: 1, truncation: "disabled", serviceTier: "default"}
	var stream bool
	if _, err := member(m, "stream", "a boolean", &stream); err != nil {
		return nil, err
	}
	if stream {
		return nil, invalid("stream", "unsupported_value", "Streaming is not emulated by herald; create the response with background set to true and wait for its webhook (or poll it).")
	}
	for _, name := range []string{"conversation", "prompt"} {
		if raw, ok := m[name]; ok && string(raw) != "null" {
			return nil, invalid(name, "unsupported_parameter", "'%s' is not emulated by herald; chain responses with previous_response_id instead.", name)
		}
	}
	if ok, err := member(m, "model", "a string", &p.model); err != nil {
		return nil, err
	} else if !ok || p.model == "" {
		return nil, invalid("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"background", &p.background}, {"store", &p.store}, {"parallel_tool_calls", &p.parallel}} {
		if _, err := member(m, f.name, "a boolean", f.dst); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"instructions", &p.instructions}, {"prompt_cache_key", &p.promptCacheKey}, {"safety_identifier", &p.safetyID}, {"user", &p.user}} {
		if _, err := member(m, f.name, "a string", f.dst); err != nil {
			return nil, err
		}
	}
	if _, err := member(m, "previous_response_id", "a string", &p.previousID); err != nil {
		return nil, err
	}
	if _, err := member(m, "max_output_tokens", "an integer", &p.maxOutputTokens); err != nil {
		return nil, err
	}
	if p.maxOutputTokens != nil && *p.maxOutputTokens < 16 {
		return nil, invalid("max_output_tokens", "integer_below_min_value",
			"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got %d instead.", *p.maxOutputTokens)
	}
	if _, err := member(m, "max_tool_calls", "an integer", &p.maxToolCalls); err != nil {
		return nil, err
	}
	if _, err := member(m, "top_logprobs", "an integer", &p.topLogprobs); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name     string
		dst      *float64
		min, max float64
	}{{"temperature", &p.temperature, 0, 2}, {"top_p", &p.topP, 0, 1}} {
		if _, err := member(m, f.name, "a decimal", f.dst); err != nil {
			return nil, err
		}
		if *f.dst < f.min || *f.dst > f.max {
			return nil, invalid(f.name, "invalid_value", "Invalid '%s': expected a value between %g and %g, but got %g instead.", f.name, f.min, f.max, *f.dst)
		}
	}
	if _, err := member(m, "truncation", "a string", &p.truncation); err != nil {
		return nil, err
	}
	var tier string
	if _, err := member(m, "service_tier", "a string", &tier); err != nil {
		return nil, err
	}
	if tier != "" && tier != "auto" {
		p.serviceTier = tier
	}
	var err *apiError
	if p.metadata, err = metadata(m); err != nil {
		return nil, err
	}
	if p.tools, p.functions, err = parseTools(m); err != nil {
		return nil, err
	}
	if p.toolChoice, p.choice, err = parseToolChoice(m, p.functions); err != nil {
		return nil, err
	}
	p.text = json.RawMessage(`{"format":{"type":"text"},"verbosity":"medium"}`)
	if raw, ok := m["text"]; ok && string(raw) != "null" {
		p.text = raw
	}
	p.reasoning = json.RawMessage(`{"effort":null,"summary":null}`)
	if raw, ok := m["reasoning"]; ok && string(raw) != "null" {
		p.reasoning = raw
	}
	raw, ok := m["input"]
	if !ok || string(raw) == "null" {
		return nil, invalid("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	}
	if p.input, err = parseInput(raw); err != nil {
		return nil, err
	}
	if p.background && !p.store {
		return nil, invalid("store", "invalid_value", "Background responses must be stored: store cannot be false when background is true.")
	}
	return p, nil
}

// parseTools returns the tools as sent and the names of the function tools.
func parseTools(m map[string]json.RawMessage) ([]json.RawMessage, map[string]bool, *apiError) {
	tools := []json.RawMessage{}
	if _, err := member(m, "tools", "an array", &tools); err != nil {
		return nil, nil, err
	}
	if tools == nil {
		tools = []json.RawMessage{}
	}
	functions := map[string]bool{}
	for i, raw := range tools {
		var t struct {
			Type *string `json:"type"`
			Name *string `json:"name"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, nil, invalid(fmt.Sprintf("tools[%d]", i), "invalid_type", "Invalid type for 'tools[%d]': expected an object, but got %s instead.", i, jsonKind(raw))
		}
		if t.Type == nil {
			return nil, nil, invalid(fmt.Sprintf("tools[%d].type", i), "missing_required_parameter", "Missing required parameter: 'tools[%d].type'.", i)
		}
		if *t.Type == "function" {
			if t.Name == nil || *t.Name == "" {
				return nil, nil, invalid(fmt.Sprintf("tools[%d].name", i), "missing_required_parameter", "Missing required parameter: 'tools[%d].name'.", i)
			}
			functions[*t.Name] = true
		}
	}
	return tools, functions, nil
}

// parseToolChoice returns tool_choice as sent (default "auto") and the mode it selects.
func parseToolChoice(m map[string]json.RawMessage, functions map[string]bool) (json.RawMessage, string, *apiError) {
	raw, ok := m["tool_choice"]
	if !ok || string(raw) == "null" {
		return json.RawMessage(`"auto"`), "auto", nil
	}
	var mode string
	if json.Unmarshal(raw, &mode) == nil {
		switch mode {
		case "auto", "none", "required":
			return raw, mode, nil
		}
		return nil, "", invalid("tool_choice", "invalid_value", "Invalid value: '%s'. Supported values are: 'none', 'auto', and 'required'.", mode)
	}
	var obj struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, "", invalid("tool_choice", "invalid_type", "Invalid type for 'tool_choice': expected a string or an object, but got %s instead.", jsonKind(raw))
	}
	if obj.Type == "function" {
		if !functions[obj.Name] {
			return nil, "", invalid("tool_choice", "invalid_value", "Tool choice '%s' not found in 'tools' parameter.", obj.Name)
		}
		return raw, "function:" + obj.Name, nil
	}
	return raw, "auto", nil
}

// parseInput parses input: a string (one user message) or a list of items.
func parseInput(raw json.RawMessage) ([]item, *apiError) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []item{{kind: "message", role: "user", text: s}}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalid("input", "invalid_type", "Invalid type for 'input': expected a string or an array of input items, but got %s instead.", jsonKind(raw))
	}
	items := make([]item, 0, len(list))
	for i, r := range list {
		it, err := parseItem(i, r)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

func parseItem(i int, raw json.RawMessage) (item, *apiError) {
	at := func(field string) string { return fmt.Sprintf("input[%d]%s", i, field) }
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return item{}, invalid(at(""), "invalid_type", "Invalid type for '%s': expected an object, but got %s instead.", at(""), jsonKind(raw))
	}
	var typ string
	if _, err := member(m, "type", "a string", &typ); err != nil {
		return item{}, err.at(at(".type"))
	}
	if typ == "" {
		typ = "message" // the SDK's EasyInputMessage has no type
	}
	it := item{kind: typ}
	switch typ {
	case "message":
		if ok, err := member(m, "role", "a string", &it.role); err != nil {
			return item{}, err.at(at(".role"))
		} else if !ok {
			return item{}, invalid(at(".role"), "missing_required_parameter", "Missing required parameter: '%s'.", at(".role"))
		}
		switch it.role {
		case "user", "assistant", "system", "developer":
		default:
			return item{}, invalid(at(".role"), "invalid_value", "Invalid value: '%s'. Supported values are: 'user', 'assistant', 'system', and 'developer'.", it.role)
		}
		text, err := contentText(m["content"], at(".content"))
		if err != nil {
			return item{}, err
		}
		it.text = text
	case "function_call_output":
		if ok, err := member(m, "call_id", "a string", &it.callID); err != nil {
			return item{}, err.at(at(".call_id"))
		} else if !ok || it.callID == "" {
			return item{}, invalid(at(".call_id"), "missing_required_parameter", "Missing required parameter: '%s'.", at(".call_id"))
		}
		text, err := contentText(m["output"], at(".output"))
		if err != nil {
			return item{}, err
		}
		it.text = text
	case "function_call":
		for _, f := range []struct {
			name string
			dst  *string
		}{{"call_id", &it.callID}, {"name", &it.name}} {
			if ok, err := member(m, f.name, "a string", f.dst); err != nil {
				return item{}, err.at(at("." + f.name))
			} else if !ok || *f.dst == "" {
				return item{}, invalid(at("."+f.name), "missing_required_parameter", "Missing required parameter: '%s'.", at("."+f.name))
			}
		}
	case "reasoning", "item_reference":
		// Accepted and ignored: the emulator has no reasoning and keeps no item store.
	default:
		return item{}, invalid(at(".type"), "invalid_value", "Invalid value: '%s'. herald's emulator supports the input item types 'message', 'function_call', 'function_call_output', 'reasoning' and 'item_reference'.", typ)
	}
	return it, nil
}

// contentText returns the text of a message's content or a function call's output:
// a string, or a list of parts whose text parts are joined.
func contentText(raw json.RawMessage, param string) (string, *apiError) {
	if raw == nil || string(raw) == "null" {
		return "", invalid(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type    string `json:"type"`
		Text    string `json:"text"`
		Refusal string `json:"refusal"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", invalid(param, "invalid_type", "Invalid type for '%s': expected a string or an array of content parts, but got %s instead.", param, jsonKind(raw))
	}
	var texts []string
	for j, part := range parts {
		switch part.Type {
		case "input_text", "output_text":
			texts = append(texts, part.Text)
		case "refusal":
			texts = append(texts, part.Refusal)
		case "input_image", "input_file", "input_audio":
			// Accepted; the emulator does not look at them.
		default:
			return "", invalid(fmt.Sprintf("%s[%d].type", param, j), "invalid_value", "Invalid value: '%s'. Supported content types are: 'input_text', 'output_text', 'refusal', 'input_image', 'input_file' and 'input_audio'.", part.Type)
		}
	}
	return strings.Join(texts, "\n"), nil
}

// at returns the error with param replaced, for errors of nested members.
func (e *apiError) at(param string) *apiError {
	c := *e
	c.message = strings.Replace(c.message, "'"+e.param+"'", "'"+param+"'", 1)
	c.param = param
	return &c
}

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

func (e *Emulator) createResponse(w http.ResponseWriter, r *http.Request) *apiError {
	m, err := readObject(r)
	if err != nil {
		return err
	}
	p, err := parseCreate(m)
	if err != nil {
		return err
	}
	now := time.Now()
	obj := &response{
		ID: newID("resp_", 50), Object: "response", CreatedAt: now.Unix(), Status: "in_progress",
		Background: p.background, Instructions: p.instructions, MaxOutputTokens: p.maxOutputTokens,
		MaxToolCalls: p.maxToolCalls, Model: p.model, Output: []any{}, ParallelToolCalls: p.parallel,
		PromptCacheKey: p.promptCacheKey, Reasoning: p.reasoning, SafetyIdentifier: p.safetyID,
		ServiceTier: p.serviceTier, Temperature: p.temperature, Text: p.text,
		ToolChoice: p.toolChoice, Tools: p.tools, TopLogprobs: p.topLogprobs, TopP: p.topP,
		Truncation: p.truncation, User: p.user, Metadata: p.metadata, AccessPrograms: accessPrograms{Cyber: "standard"},
	}
	if p.background {
		obj.Status = "queued"
	}
	if p.previousID != "" {
		obj.PreviousResponseID = &p.previousID
	}

	e.mu.Lock()
	callNames, prevTokens, err := e.checkChainLocked(p)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	o := e.decide(p, callNames)
	inTokens := prevTokens
	if p.instructions != nil {
		inTokens += tokens(*p.instructions)
	}
	for _, it := range p.input {
		inTokens += tokens(it.text)
	}
	rs := &responseState{obj: obj, stored: p.store, outcome: o, inputTokens: inTokens, done: make(chan struct{})}

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", message: "The emulator is shutting down."}
	}
	e.responses[obj.ID] = rs
	if p.background {
		rs.timer = time.AfterFunc(o.delay/2, func() { e.startResponse(rs, o.delay-o.delay/2) })
	} else {
		rs.timer = time.AfterFunc(o.delay, func() { e.finishResponse(rs) })
	}
	body, merr := e.snapshotLocked(rs)
	e.mu.Unlock()
	if merr != nil {
		return merr
	}
	if p.background {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
		return nil
	}
	select {
	case <-rs.done:
	case <-r.Context().Done():
		return nil // the client went away; the response still finishes
	}
	e.mu.Lock()
	if !terminal(rs.obj.Status) {
		e.mu.Unlock()
		return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", message: "The emulator is shutting down."}
	}
	body, merr = e.snapshotLocked(rs)
	e.mu.Unlock()
	if merr != nil {
		return merr
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	return nil
}

// checkChainLocked checks previous_response_id and the function call outputs in the
// input: every output must answer a call, and every call of the previous response
// must be answered, as OpenAI requires. It returns the function name of each call
// and the previous response's total tokens. The caller holds e.mu.
func (e *Emulator) checkChainLocked(p *createParams) (map[string]string, int64, *apiError) {
	open := map[string]string{}
	var prevTokens int64
	if p.previousID != "" {
		prev, ok := e.responses[p.previousID]
		if !ok || !prev.stored {
			return nil, 0, invalid("previous_response_id", "previous_response_not_found", "Previous response with id '%s' not found.", p.previousID)
		}
		switch prev.obj.Status {
		case "queued", "in_progress":
			return nil, 0, invalid("previous_response_id", "previous_response_in_progress",
				"Previous response with id '%s' is still %s; wait for it to finish before continuing from it.", p.previousID, prev.obj.Status)
		}
		for id, name := range prev.calls {
			open[id] = name
		}
		if prev.obj.Usage != nil {
			prevTokens = prev.obj.Usage.TotalTokens
		}
	}
	names := map[string]string{}
	for _, it := range p.input {
		if it.kind == "function_call" {
			open[it.callID] = it.name
		}
	}
	for id, name := range open {
		names[id] = name
	}
	answered := map[string]bool{}
	for _, it := range p.input {
		if it.kind != "function_call_output" {
			continue
		}
		if _, ok := open[it.callID]; !ok {
			return nil, 0, invalid("input", "", "No tool call found for function call output with call_id %s.", it.callID)
		}
		answered[it.callID] = true
	}
	for id := range open {
		if !answered[id] {
			return nil, 0, invalid("input", "", "No tool output found for function call %s.", id)
		}
	}
	return names, prevTokens, nil
}

// snapshotLocked encodes a response as it is now.
func (e *Emulator) snapshotLocked(rs *responseState) ([]byte, *apiError) {
	b, err := json.Marshal(rs.obj)
	if err != nil {
		return nil, &apiError{status: http.StatusInternalServerError, typ: "server_error", message: "encoding the response failed: " + err.Error()}
	}
	return append(b, '\n'), nil
}

func terminal(status string) bool {
	switch status {
	case "completed", "failed", "incomplete", "cancelled":
		return true
	}
	return false
}

// startResponse moves a background response from queued to in_progress.
func (e *Emulator) startResponse(rs *responseState, rest time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || rs.obj.Status != "queued" {
		return
	}
	rs.obj.Status = "in_progress"
	rs.timer = time.AfterFunc(rest, func() { e.finishResponse(rs) })
}

// finishResponse gives a response its decided outcome.
func (e *Emulator) finishResponse(rs *responseState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || terminal(rs.obj.Status) {
		return
	}
	now := time.Now()
	o, obj := rs.outcome, rs.obj
	obj.Status = o.status
	var outTokens int64
	switch {
	case o.status == "failed":
		obj.Error = o.err
	case o.call != nil:
		call := *o.call
		call.ID, call.Type, call.Status, call.CallID = newID("fc_", 50), "function_call", "completed", newID("call_", 24)
		obj.Output = []any{&call}
		rs.calls = map[string]string{call.CallID: call.Name}
		outTokens = tokens(call.Arguments)
	default:
		status := "completed"
		if o.status == "incomplete" {
			status = "incomplete"
			obj.IncompleteDetails = &incomplete{Reason: "max_output_tokens"}
		}
		obj.Output = []any{&outputMessage{
			ID: newID("msg_", 50), Type: "message", Status: status, Role: "assistant",
			Content: []outputText{{Type: "output_text", Annotations: []any{}, Logprobs: []any{}, Text: o.text}},
		}}
		outTokens = tokens(o.text)
	}
	if o.status == "completed" {
		obj.CompletedAt = ptr(now.Unix())
	}
	if o.status != "failed" {
		in := rs.inputTokens
		obj.Usage = &usage{InputTokens: in, OutputTokens: outTokens, TotalTokens: in + outTokens}
	}
	rs.timer = nil
	close(rs.done)
	if obj.Background {
		e.emitLocked("response."+o.status, obj.ID, now)
	}
	if !rs.stored {
		delete(e.responses, obj.ID)
	}
}

func (e *Emulator) getResponse(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	if r.URL.Query().Get("stream") == "true" {
		return invalid("stream", "unsupported_value", "Streaming is not emulated by herald.")
	}
	e.mu.Lock()
	rs, ok := e.responses[id]
	if !ok || !rs.stored {
		e.mu.Unlock()
		return notFound("Response", id)
	}
	body, err := e.snapshotLocked(rs)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	return nil
}

func (e *Emulator) deleteResponse(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	e.mu.Lock()
	rs, ok := e.responses[id]
	if ok && rs.stored {
		if rs.timer != nil {
			rs.timer.Stop()
		}
		delete(e.responses, id)
	}
	e.mu.Unlock()
	if !ok || !rs.stored {
		return notFound("Response", id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "response", "deleted": true})
	return nil
}

// cancelResponse cancels a background response that is queued or in progress; a
// response already cancelled is returned as it is.
func (e *Emulator) cancelResponse(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	e.mu.Lock()
	defer e.mu.Unlock()
	rs, ok := e.responses[id]
	if !ok || !rs.stored {
		return notFound("Response", id)
	}
	obj := rs.obj
	if !obj.Background {
		return invalid("", "", "Only responses created with background set to true can be cancelled.")
	}
	switch obj.Status {
	case "queued", "in_progress":
		if rs.timer != nil {
			rs.timer.Stop()
			rs.timer = nil
		}
		obj.Status = "cancelled"
		close(rs.done)
		e.emitLocked("response.cancelled", obj.ID, time.Now())
	case "cancelled":
	default:
		return invalid("", "", "Cannot cancel a %s response.", obj.Status)
	}
	body, err := e.snapshotLocked(rs)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	return nil
}
