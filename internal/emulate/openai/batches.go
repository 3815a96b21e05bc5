package openai

import (
	"encoding/json"
	"net/http"
	"time"
)

// batchState is an emulated batch and what it will become.
type batchState struct {
	obj     *batch
	outcome string // completed, failed or expired
	err     *RuleError
	step    time.Duration // time spent in each status on the way
	timer   *time.Timer
}

// batchParam reports whether name is a member of a create-batch request.
func batchParam(name string) bool {
	switch name {
	case "input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after":
		return true
	}
	return false
}

// batchEndpoint reports whether the Batch API accepts endpoint.
func batchEndpoint(endpoint string) bool {
	switch endpoint {
	case "/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/moderations",
		"/v1/images/generations", "/v1/images/edits", "/v1/videos":
		return true
	}
	return false
}

func (e *Emulator) createBatch(w http.ResponseWriter, r *http.Request) *apiError {
	m, err := readObject(r)
	if err != nil {
		return err
	}
	if err := checkKeys(m, batchParam); err != nil {
		return err
	}
	var fileID, endpoint, window string
	for _, f := range []struct {
		name string
		dst  *string
	}{{"input_file_id", &fileID}, {"endpoint", &endpoint}, {"completion_window", &window}} {
		if ok, err := member(m, f.name, "a string", f.dst); err != nil {
			return err
		} else if !ok || *f.dst == "" {
			return invalid(f.name, "missing_required_parameter", "Missing required parameter: '%s'.", f.name)
		}
	}
	if !batchEndpoint(endpoint) {
		return invalid("endpoint", "invalid_value", "Invalid value: '%s'. Supported values are: '/v1/responses', '/v1/chat/completions', '/v1/embeddings', '/v1/completions', '/v1/moderations', '/v1/images/generations', '/v1/images/edits', and '/v1/videos'.", endpoint)
	}
	if window != "24h" {
		return invalid("completion_window", "invalid_value", "Invalid value: '%s'. Supported values are: '24h'.", window)
	}
	md, err := metadata(m)
	if err != nil {
		return err
	}
	if len(md) == 0 {
		md = nil
	}
	var expiresAfter struct {
		Anchor  string `json:"anchor"`
		Seconds int64  `json:"seconds"`
	}
	if _, err := member(m, "output_expires_after", "an object", &expiresAfter); err != nil {
		return err
	}

	bs := &batchState{outcome: "completed", step: e.cfg.BatchDelay / 3}
	for _, rule := range e.rules {
		if rule.Object != "batch" || !rule.re.MatchString(fileID) {
			continue
		}
		if rule.Delay != "" {
			bs.step = rule.delay / 3
		}
		if rule.delayOnly() {
			continue
		}
		if rule.Status != "" {
			bs.outcome = rule.Status
		}
		bs.err = rule.Error
		break
	}
	if bs.outcome == "failed" && bs.err == nil {
		bs.err = &RuleError{Code: "invalid_request", Message: "The batch failed (emulated)."}
	}
	now := time.Now().Unix()
	bs.obj = &batch{
		ID: newID("batch_", 32), Object: "batch", Endpoint: endpoint, InputFileID: fileID,
		CompletionWindow: window, Status: "validating", CreatedAt: now, ExpiresAt: ptr(now + 24*3600),
		Metadata: md,
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", message: "The emulator is shutting down."}
	}
	e.batches[bs.obj.ID] = bs
	first := bs.step
	if bs.outcome == "failed" {
		first = 3 * bs.step // a batch fails while it is validated
	}
	bs.timer = time.AfterFunc(first, func() { e.advanceBatch(bs) })
	return e.writeBatchLocked(w, bs)
}

// advanceBatch moves a batch to its next status: validating, in_progress,
// finalizing and completed; or validating and failed; or validating, in_progress and
// expired; or, once cancelled, cancelling and cancelled.
func (e *Emulator) advanceBatch(bs *batchState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	now := time.Now()
	b := bs.obj
	next := time.Duration(-1)
	switch {
	case b.Status == "cancelling":
		b.Status, b.CancelledAt = "cancelled", ptr(now.Unix())
		e.emitLocked("batch.cancelled", b.ID, now)
	case b.Status == "validating" && bs.outcome == "failed":
		b.Status, b.FailedAt = "failed", ptr(now.Unix())
		b.Errors = &batchErrors{Object: "list", Data: []batchError{{Code: bs.err.Code, Message: bs.err.Message}}}
		e.emitLocked("batch.failed", b.ID, now)
	case b.Status == "validating":
		b.Status, b.InProgressAt = "in_progress", ptr(now.Unix())
		next = bs.step
	case b.Status == "in_progress" && bs.outcome == "expired":
		b.Status, b.ExpiredAt = "expired", ptr(now.Unix())
		e.emitLocked("batch.expired", b.ID, now)
	case b.Status == "in_progress":
		b.Status, b.FinalizingAt = "finalizing", ptr(now.Unix())
		next = bs.step
	case b.Status == "finalizing":
		b.Status, b.CompletedAt = "completed", ptr(now.Unix())
		b.OutputFileID = ptr(newID("file-", 22))
		e.emitLocked("batch.completed", b.ID, now)
	}
	bs.timer = nil
	if next >= 0 {
		bs.timer = time.AfterFunc(next, func() { e.advanceBatch(bs) })
	}
}

func (e *Emulator) getBatch(w http.ResponseWriter, r *http.Request) *apiError {
	return e.withBatch(w, r, nil)
}

// cancelBatch cancels a batch that has not finished: it is cancelling at once and
// cancelled a moment later (a quarter of the batch delay); cancelling again is harmless.
func (e *Emulator) cancelBatch(w http.ResponseWriter, r *http.Request) *apiError {
	return e.withBatch(w, r, func(bs *batchState) *apiError {
		switch b := bs.obj; b.Status {
		case "validating", "in_progress", "finalizing":
			if bs.timer != nil {
				bs.timer.Stop()
			}
			b.Status, b.CancellingAt = "cancelling", ptr(time.Now().Unix())
			bs.timer = time.AfterFunc(3*bs.step/4, func() { e.advanceBatch(bs) })
		case "cancelling", "cancelled":
		default:
			return invalid("", "", "Cannot cancel a batch with status '%s'.", b.Status)
		}
		return nil
	})
}

// withBatch finds the batch the request's path names, changes it with change (if not
// nil) while e.mu is held, and writes it.
func (e *Emulator) withBatch(w http.ResponseWriter, r *http.Request, change func(bs *batchState) *apiError) *apiError {
	id := r.PathValue("id")
	e.mu.Lock()
	defer e.mu.Unlock()
	bs, ok := e.batches[id]
	if !ok {
		return notFound("Batch", id)
	}
	if change != nil {
		if aerr := change(bs); aerr != nil {
			return aerr
		}
	}
	return e.writeBatchLocked(w, bs)
}

func (e *Emulator) writeBatchLocked(w http.ResponseWriter, bs *batchState) *apiError {
	b, err := json.Marshal(bs.obj)
	if err != nil {
		return &apiError{status: http.StatusInternalServerError, typ: "server_error", message: "encoding the batch failed: " + err.Error()}
	}
	return writeObject(w, append(b, '\n'), nil)
}
