package openai

import (
	"encoding/json"
	"fmt"
	"strings"
)

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

// parseCreate parses and checks the members of a create request, in the order OpenAI
// reports their errors.
func parseCreate(m map[string]json.RawMessage) (*createParams, *apiError) {
	if err := checkKeys(m, responseParam); err != nil {
		return nil, err
	}
	if err := rejectUnemulated(m); err != nil {
		return nil, err
	}
	p := &createParams{store: true, parallel: true, temperature: 1, topP: 1, truncation: "disabled", serviceTier: "default"}
	if ok, err := member(m, "model", "a string", &p.model); err != nil {
		return nil, err
	} else if !ok || p.model == "" {
		return nil, invalid("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	if err := p.parseScalars(m); err != nil {
		return nil, err
	}
	if err := p.parseObjects(m); err != nil {
		return nil, err
	}
	raw, ok := m["input"]
	if !ok || string(raw) == "null" {
		return nil, invalid("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	}
	var err *apiError
	if p.input, err = parseInput(raw); err != nil {
		return nil, err
	}
	if p.background && !p.store {
		return nil, invalid("store", "invalid_value", "Background responses must be stored: store cannot be false when background is true.")
	}
	return p, nil
}

// rejectUnemulated refuses the members that ask for what herald does not emulate:
// streaming, conversations and stored prompts.
func rejectUnemulated(m map[string]json.RawMessage) *apiError {
	var stream bool
	if _, err := member(m, "stream", "a boolean", &stream); err != nil {
		return err
	}
	if stream {
		return invalid("stream", "unsupported_value", "Streaming is not emulated by herald; create the response with background set to true and wait for its webhook (or poll it).")
	}
	for _, name := range []string{"conversation", "prompt"} {
		if raw, ok := m[name]; ok && string(raw) != "null" {
			return invalid(name, "unsupported_parameter", "'%s' is not emulated by herald; chain responses with previous_response_id instead.", name)
		}
	}
	return nil
}

// parseScalars parses the boolean, string and number members into p, checking the
// ranges of those that have one.
func (p *createParams) parseScalars(m map[string]json.RawMessage) *apiError {
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"background", &p.background}, {"store", &p.store}, {"parallel_tool_calls", &p.parallel}} {
		if _, err := member(m, f.name, "a boolean", f.dst); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"instructions", &p.instructions}, {"prompt_cache_key", &p.promptCacheKey}, {"safety_identifier", &p.safetyID}, {"user", &p.user}} {
		if _, err := member(m, f.name, "a string", f.dst); err != nil {
			return err
		}
	}
	if _, err := member(m, "previous_response_id", "a string", &p.previousID); err != nil {
		return err
	}
	if _, err := member(m, "max_output_tokens", "an integer", &p.maxOutputTokens); err != nil {
		return err
	}
	if p.maxOutputTokens != nil && *p.maxOutputTokens < 16 {
		return invalid("max_output_tokens", "integer_below_min_value",
			"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got %d instead.", *p.maxOutputTokens)
	}
	if _, err := member(m, "max_tool_calls", "an integer", &p.maxToolCalls); err != nil {
		return err
	}
	if _, err := member(m, "top_logprobs", "an integer", &p.topLogprobs); err != nil {
		return err
	}
	for _, f := range []struct {
		name     string
		dst      *float64
		min, max float64
	}{{"temperature", &p.temperature, 0, 2}, {"top_p", &p.topP, 0, 1}} {
		if _, err := member(m, f.name, "a decimal", f.dst); err != nil {
			return err
		}
		if *f.dst < f.min || *f.dst > f.max {
			return invalid(f.name, "invalid_value", "Invalid '%s': expected a value between %g and %g, but got %g instead.", f.name, f.min, f.max, *f.dst)
		}
	}
	if _, err := member(m, "truncation", "a string", &p.truncation); err != nil {
		return err
	}
	var tier string
	if _, err := member(m, "service_tier", "a string", &tier); err != nil {
		return err
	}
	if tier != "" && tier != "auto" {
		p.serviceTier = tier
	}
	return nil
}

// parseObjects parses the structured members into p: metadata, tools and tool choice,
// and the text and reasoning settings, which are echoed as sent (with OpenAI's
// defaults when absent).
func (p *createParams) parseObjects(m map[string]json.RawMessage) *apiError {
	var err *apiError
	if p.metadata, err = metadata(m); err != nil {
		return err
	}
	if p.tools, p.functions, err = parseTools(m); err != nil {
		return err
	}
	if p.toolChoice, p.choice, err = parseToolChoice(m, p.functions); err != nil {
		return err
	}
	p.text = json.RawMessage(`{"format":{"type":"text"},"verbosity":"medium"}`)
	if raw, ok := m["text"]; ok && string(raw) != "null" {
		p.text = raw
	}
	p.reasoning = json.RawMessage(`{"effort":null,"summary":null}`)
	if raw, ok := m["reasoning"]; ok && string(raw) != "null" {
		p.reasoning = raw
	}
	return nil
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
