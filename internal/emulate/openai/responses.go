package openai

import (
	"encoding/json"
	"net/http"
	"time"
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
	if merr != nil || p.background {
		return writeObject(w, body, merr)
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
	return writeObject(w, body, merr)
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
	return writeObject(w, body, err)
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
	return writeObject(w, body, err)
}
