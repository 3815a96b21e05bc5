package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/respjson"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/heraldhq/herald/internal/emulate/openai"
)

// recorder is a Publisher that hands events to the test.
type recorder struct{ ch chan openai.Event }

func (r *recorder) Publish(_ context.Context, e openai.Event) error {
	r.ch <- e
	return nil
}

// next returns the next published event, failing the test if none comes.
func (r *recorder) next(t *testing.T) openai.Event {
	t.Helper()
	select {
	case e := <-r.ch:
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook event was published")
		return openai.Event{}
	}
}

// wantEvent checks the next event's type and resource id, and that its body is
// OpenAI's thin event.
func (r *recorder) wantEvent(t *testing.T, typ, id string) {
	t.Helper()
	e := r.next(t)
	var body struct {
		ID        string `json:"id"`
		Object    string `json:"object"`
		CreatedAt int64  `json:"created_at"`
		Type      string `json:"type"`
		Data      struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(e.Body, &body); err != nil {
		t.Fatalf("event body %s: %v", e.Body, err)
	}
	if e.Type != typ || body.Type != typ || body.Data.ID != id || body.Object != "event" ||
		!strings.HasPrefix(body.ID, "evt_") || body.ID != e.ID || body.CreatedAt < time.Now().Add(-time.Minute).Unix() {
		t.Fatalf("event %s %s, want %s about %s", e.Type, e.Body, typ, id)
	}
}

// start runs an emulator with a recording publisher and returns an SDK client for it.
func start(t *testing.T, cfg openai.Config) (sdk.Client, *recorder, *openai.Emulator) {
	t.Helper()
	rec := &recorder{ch: make(chan openai.Event, 100)}
	cfg.Publisher = rec
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.Delay == 0 {
		cfg.Delay = 20 * time.Millisecond
	}
	if cfg.BatchDelay == 0 {
		cfg.BatchDelay = 30 * time.Millisecond
	}
	em := openai.New(cfg)
	srv := httptest.NewServer(em)
	t.Cleanup(func() {
		if err := em.Close(); err != nil {
			t.Error(err)
		}
		srv.Close()
	})
	c := sdk.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("sk-anything"), option.WithMaxRetries(0))
	return c, rec, em
}

// strict checks that the SDK decoded every member of v: no member it does not know
// (ExtraFields) and none of the wrong type, at any depth.
func strict(t *testing.T, v any) {
	t.Helper()
	var walk func(path string, v reflect.Value)
	fieldType := reflect.TypeFor[respjson.Field]()
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(path+"[]", v.Index(i))
			}
		case reflect.Struct:
			if meta := v.FieldByName("JSON"); meta.IsValid() && meta.Kind() == reflect.Struct {
				for i := 0; i < meta.NumField(); i++ {
					f, name := meta.Field(i), meta.Type().Field(i).Name
					switch {
					case f.Type() == fieldType:
						rf := f.Interface().(respjson.Field)
						if raw := rf.Raw(); raw != "" && raw != "null" && !rf.Valid() {
							t.Errorf("%s.%s: the SDK could not decode %s", path, name, raw)
						}
					case name == "ExtraFields" && f.Len() > 0:
						for _, k := range f.MapKeys() {
							t.Errorf("%s: member %q is unknown to the SDK", path, k)
						}
					}
				}
			}
			for i := 0; i < v.NumField(); i++ {
				if sf := v.Type().Field(i); sf.IsExported() && sf.Name != "JSON" {
					walk(path+"."+sf.Name, v.Field(i))
				}
			}
		}
	}
	walk(reflect.TypeOf(v).String(), reflect.ValueOf(v))
}

// apiError returns err as the SDK's *Error, failing the test otherwise.
func apiError(t *testing.T, err error, status int) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want an API error", err)
	}
	if e.StatusCode != status || e.Message == "" || e.Type == "" {
		t.Fatalf("error %d %q (type %q, code %q), want status %d with a message and a type", e.StatusCode, e.Message, e.Type, e.Code, status)
	}
	return e
}

func lookupOrder() responses.ToolUnionParam {
	return responses.ToolParamOfFunction("lookup_order", map[string]any{
		"type": "object", "properties": map[string]any{"order_id": map[string]any{"type": "string"}},
		"required": []string{"order_id"}, "additionalProperties": false,
	}, true)
}

func TestBackgroundResponse(t *testing.T) {
	c, rec, _ := start(t, openai.Config{})
	ctx := context.Background()
	r, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model:        shared.ResponsesModel("gpt-5-mini"),
		Input:        responses.ResponseNewParamsInputUnion{OfString: sdk.String("Hello there")},
		Instructions: sdk.String("Be brief."),
		Background:   sdk.Bool(true),
		Metadata:     shared.Metadata{"conversation_id": "c1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	strict(t, *r)
	if !strings.HasPrefix(r.ID, "resp_") || r.Object != "response" || r.Status != responses.ResponseStatusQueued ||
		!r.Background || r.Model != "gpt-5-mini" || r.Metadata["conversation_id"] != "c1" || r.Instructions.OfString != "Be brief." ||
		len(r.Output) != 0 || r.JSON.Usage.Valid() || r.JSON.CompletedAt.Valid() || r.JSON.Error.Valid() {
		t.Fatalf("created: %s", r.RawJSON())
	}
	rec.wantEvent(t, "response.completed", r.ID)
	got, err := c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	if err != nil {
		t.Fatal(err)
	}
	strict(t, *got)
	want := `You said: "Hello there". This is an emulated reply from herald.`
	if got.Status != responses.ResponseStatusCompleted || got.OutputText() != want || got.CompletedAt == 0 ||
		got.Usage.OutputTokens == 0 || got.Usage.TotalTokens != got.Usage.InputTokens+got.Usage.OutputTokens ||
		got.Metadata["conversation_id"] != "c1" || got.Output[0].Type != "message" || got.Output[0].Role != "assistant" {
		t.Fatalf("completed: %s", got.RawJSON())
	}
}

func TestSynchronousResponse(t *testing.T) {
	c, rec, _ := start(t, openai.Config{})
	ctx := context.Background()
	r, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model: shared.ResponsesModel("gpt-5-mini"),
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("You are helpful.", responses.EasyInputMessageRoleDeveloper),
			responses.ResponseInputItemParamOfMessage("first question", responses.EasyInputMessageRoleUser),
			responses.ResponseInputItemParamOfMessage("first answer", responses.EasyInputMessageRoleAssistant),
			responses.ResponseInputItemParamOfMessage(responses.ResponseInputMessageContentListParam{
				responses.ResponseInputContentParamOfInputText("second question"),
			}, responses.EasyInputMessageRoleUser),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	strict(t, *r)
	if r.Status != responses.ResponseStatusCompleted || r.Background || !strings.Contains(r.OutputText(), `"second question"`) {
		t.Fatalf("synchronous response: %s", r.RawJSON())
	}
	// Synchronous responses send no webhook, as with OpenAI: only background ones do.
	select {
	case e := <-rec.ch:
		t.Fatalf("a synchronous response published %s", e.Type)
	default:
	}
	// store: false is answered but not kept.
	r, err = c.Responses.New(ctx, responses.ResponseNewParams{
		Model: shared.ResponsesModel("gpt-5-mini"), Store: sdk.Bool(false),
		Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("forget me")},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	if e := apiError(t, err, 404); e.Message != "Response with id '"+r.ID+"' not found." {
		t.Errorf("message %q", e.Message)
	}
}

func TestFunctionCallAndChain(t *testing.T) {
	c, rec, _ := start(t, openai.Config{})
	ctx := context.Background()
	r, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model:      shared.ResponsesModel("gpt-5-mini"),
		Input:      responses.ResponseNewParamsInputUnion{OfString: sdk.String("Where is my order #1234?")},
		Tools:      []responses.ToolUnionParam{lookupOrder()},
		Background: sdk.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec.wantEvent(t, "response.completed", r.ID)
	r, err = c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	if err != nil {
		t.Fatal(err)
	}
	strict(t, *r)
	if len(r.Output) != 1 || r.Output[0].Type != "function_call" {
		t.Fatalf("want one function call: %s", r.RawJSON())
	}
	call := r.Output[0].AsFunctionCall()
	if call.Name != "lookup_order" || call.Arguments != `{"order_id":"1234"}` || !strings.HasPrefix(call.CallID, "call_") ||
		!strings.HasPrefix(call.ID, "fc_") || len(r.Tools) != 1 || r.Tools[0].Type != "function" || r.Tools[0].Name != "lookup_order" {
		t.Fatalf("function call %+v in %s", call, r.RawJSON())
	}

	// Continuing without answering the call is refused, as OpenAI refuses it.
	_, err = c.Responses.New(ctx, responses.ResponseNewParams{
		Model: shared.ResponsesModel("gpt-5-mini"), PreviousResponseID: sdk.String(r.ID),
		Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("hello?")},
	})
	if e := apiError(t, err, 400); e.Message != "No tool output found for function call "+call.CallID+"." || e.Param != "input" {
		t.Errorf("error %q param %q", e.Message, e.Param)
	}
	output := func(callID string) responses.ResponseInputItemUnionParam {
		item := responses.ResponseInputItemParamOfFunctionCallOutput(`{"order_id":"1234","status":"shipped"}`)
		item.OfFunctionCallOutput.CallID = sdk.String(callID)
		return item
	}
	_, err = c.Responses.New(ctx, responses.ResponseNewParams{
		Model: shared.ResponsesModel("gpt-5-mini"), PreviousResponseID: sdk.String(r.ID),
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{output("call_nope")}},
	})
	if e := apiError(t, err, 400); !strings.Contains(e.Message, "call_nope") {
		t.Errorf("error %q", e.Message)
	}
	_, err = c.Responses.New(ctx, responses.ResponseNewParams{
		Model: shared.ResponsesModel("gpt-5-mini"), PreviousResponseID: sdk.String("resp_nope"),
		Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("hi")},
	})
	if e := apiError(t, err, 400); e.Code != "previous_response_not_found" || e.Param != "previous_response_id" {
		t.Errorf("error code %q param %q", e.Code, e.Param)
	}

	next, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model: shared.ResponsesModel("gpt-5-mini"), PreviousResponseID: sdk.String(r.ID),
		Input:      responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{output(call.CallID)}},
		Tools:      []responses.ToolUnionParam{lookupOrder()},
		Background: sdk.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if next.PreviousResponseID != r.ID {
		t.Errorf("previous_response_id %q", next.PreviousResponseID)
	}
	rec.wantEvent(t, "response.completed", next.ID)
	next, err = c.Responses.Get(ctx, next.ID, responses.ResponseGetParams{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `Here is what I found: lookup_order returned {"order_id":"1234","status":"shipped"}`; next.OutputText() != want {
		t.Errorf("reply %q, want %q", next.OutputText(), want)
	}
	if next.Usage.InputTokens <= r.Usage.TotalTokens {
		t.Errorf("input tokens %d do not count the previous response's %d", next.Usage.InputTokens, r.Usage.TotalTokens)
	}

	// Without the tool on offer, or with tool_choice none, the model just replies.
	for _, p := range []responses.ResponseNewParams{
		{Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("order 1234")}},
		{Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("order 1234")}, Tools: []responses.ToolUnionParam{lookupOrder()},
			ToolChoice: responses.ResponseNewParamsToolChoiceUnion{OfToolChoiceMode: sdk.Opt(responses.ToolChoiceOptionsNone)}},
	} {
		p.Model = "gpt-5-mini"
		r, err := c.Responses.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Output[0].Type != "message" {
			t.Errorf("without the tool: %s", r.RawJSON())
		}
	}
	// tool_choice required forces a call.
	r, err = c.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt-5-mini", Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("hi")},
		Tools:      []responses.ToolUnionParam{lookupOrder()},
		ToolChoice: responses.ResponseNewParamsToolChoiceUnion{OfToolChoiceMode: sdk.Opt(responses.ToolChoiceOptionsRequired)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Output[0].Type != "function_call" || r.Output[0].Name != "lookup_order" {
		t.Errorf("tool_choice required: %s", r.RawJSON())
	}
}

func TestFailedAndIncomplete(t *testing.T) {
	c, rec, _ := start(t, openai.Config{})
	ctx := context.Background()
	newBG := func(text string, maxTokens int64) *responses.Response {
		t.Helper()
		p := responses.ResponseNewParams{
			Model: "gpt-5-mini", Background: sdk.Bool(true),
			Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String(text)},
		}
		if maxTokens > 0 {
			p.MaxOutputTokens = sdk.Int(maxTokens)
		}
		r, err := c.Responses.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := newBG("please [fail] now", 0)
	rec.wantEvent(t, "response.failed", r.ID)
	r, _ = c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	strict(t, *r)
	if r.Status != responses.ResponseStatusFailed || r.Error.Code != responses.ResponseErrorCodeServerError || r.Error.Message == "" ||
		len(r.Output) != 0 || r.JSON.CompletedAt.Valid() {
		t.Fatalf("failed: %s", r.RawJSON())
	}

	r = newBG("tell me everything [incomplete]", 0)
	rec.wantEvent(t, "response.incomplete", r.ID)
	r, _ = c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	strict(t, *r)
	full := `You said: "tell me everything [incomplete]". This is an emulated reply from herald.`
	if r.Status != responses.ResponseStatusIncomplete || r.IncompleteDetails.Reason != "max_output_tokens" ||
		r.OutputText() != full[:len(full)/2] || r.Output[0].Status != "incomplete" {
		t.Fatalf("incomplete: %s", r.RawJSON())
	}

	long := strings.Repeat("word ", 100)
	r = newBG(long, 16)
	rec.wantEvent(t, "response.incomplete", r.ID)
	r, _ = c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	if r.Status != responses.ResponseStatusIncomplete || len(r.OutputText()) != 64 || r.MaxOutputTokens != 16 {
		t.Fatalf("max_output_tokens 16: %d bytes: %s", len(r.OutputText()), r.RawJSON())
	}
}

func TestCancel(t *testing.T) {
	c, rec, _ := start(t, openai.Config{})
	ctx := context.Background()
	r, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt-5-mini", Background: sdk.Bool(true),
		Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("[slow] take your time")},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Responses.Cancel(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	strict(t, *got)
	if got.Status != responses.ResponseStatusCancelled || got.ID != r.ID {
		t.Fatalf("cancel: %s", got.RawJSON())
	}
	rec.wantEvent(t, "response.cancelled", r.ID)
	// Cancelling again returns the final object and sends nothing more.
	if got, err = c.Responses.Cancel(ctx, r.ID); err != nil || got.Status != responses.ResponseStatusCancelled {
		t.Fatalf("cancel again: %v %v", got, err)
	}

	// A completed response cannot be cancelled; nor can a synchronous one.
	done, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt-5-mini", Background: sdk.Bool(true), Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("quick")},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec.wantEvent(t, "response.completed", done.ID)
	_, err = c.Responses.Cancel(ctx, done.ID)
	if e := apiError(t, err, 400); e.Message != "Cannot cancel a completed response." {
		t.Errorf("message %q", e.Message)
	}
	sync, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt-5-mini", Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("quick")},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Responses.Cancel(ctx, sync.ID)
	if e := apiError(t, err, 400); !strings.Contains(e.Message, "background") {
		t.Errorf("message %q", e.Message)
	}
	_, err = c.Responses.Cancel(ctx, "resp_nope")
	apiError(t, err, 404)
	select {
	case e := <-rec.ch:
		t.Fatalf("unexpected event %s", e.Type)
	default:
	}
	if err := c.Responses.Delete(ctx, done.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Responses.Get(ctx, done.ID, responses.ResponseGetParams{})
	apiError(t, err, 404)
}

func TestScript(t *testing.T) {
	script, err := openai.ParseScript([]byte(`{"rules": [
		{"match": "hurry", "delay": "1ms"},
		{"match": "(?i)refund for (?P<item>\\w+)", "reply": "Refunds for ${item} take 5 days."},
		{"match": "(?i)weather in (\\w+)", "tool": "get_weather", "arguments": {"city": "$1"}},
		{"match": "overloaded", "status": "failed", "error": {"code": "rate_limit_exceeded", "message": "Slow down."}},
		{"match": "essay", "status": "incomplete", "reply": "Once upon a"},
		{"match": "file-bad", "object": "batch", "status": "failed", "error": {"code": "invalid_json_line", "message": "Line 3 is not JSON."}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	c, rec, _ := start(t, openai.Config{Script: script, Delay: time.Hour, BatchDelay: 3 * time.Millisecond})
	ctx := context.Background()
	create := func(text string, tools ...responses.ToolUnionParam) *responses.Response {
		t.Helper()
		r, err := c.Responses.New(ctx, responses.ResponseNewParams{
			Model: "gpt-5-mini", Background: sdk.Bool(true), Tools: tools,
			Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String(text)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The default delay is an hour: only "hurry" makes these finish during the test.
	r := create("hurry: a refund for shoes?")
	rec.wantEvent(t, "response.completed", r.ID)
	r, _ = c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	if r.OutputText() != "Refunds for shoes take 5 days." {
		t.Errorf("reply %q", r.OutputText())
	}
	weather := responses.ToolParamOfFunction("get_weather", map[string]any{"type": "object"}, false)
	r = create(`hurry, the weather in Paris"`, weather)
	rec.wantEvent(t, "response.completed", r.ID)
	r, _ = c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	if call := r.Output[0].AsFunctionCall(); call.Name != "get_weather" || call.Arguments != `{"city": "Paris"}` {
		t.Errorf("call %s(%s)", call.Name, call.Arguments)
	}
	r = create("hurry, we are overloaded")
	rec.wantEvent(t, "response.failed", r.ID)
	r, _ = c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	if r.Error.Code != "rate_limit_exceeded" || r.Error.Message != "Slow down." {
		t.Errorf("error %+v", r.Error)
	}
	r = create("hurry, write an essay")
	rec.wantEvent(t, "response.incomplete", r.ID)
	r, _ = c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
	if r.OutputText() != "Once upon a" || r.IncompleteDetails.Reason != "max_output_tokens" {
		t.Errorf("incomplete: %s", r.RawJSON())
	}
	b, err := c.Batches.New(ctx, sdk.BatchNewParams{InputFileID: "file-bad", Endpoint: sdk.BatchNewParamsEndpointV1Responses, CompletionWindow: sdk.BatchNewParamsCompletionWindow24h})
	if err != nil {
		t.Fatal(err)
	}
	rec.wantEvent(t, "batch.failed", b.ID)
	b, _ = c.Batches.Get(ctx, b.ID)
	if b.Status != sdk.BatchStatusFailed || len(b.Errors.Data) != 1 || b.Errors.Data[0].Code != "invalid_json_line" {
		t.Errorf("batch %s", b.RawJSON())
	}

	for _, bad := range []string{
		`[]`, `{"rules": [{"reply": "no match"}]}`, `{"rules": [{"match": "("}]}`, `{"rules": [{"match": "x", "status": "done"}]}`,
		`{"rules": [{"match": "x", "delay": "soon"}]}`, `{"rules": [{"match": "x", "tool": "t", "status": "failed"}]}`,
		`{"rules": [{"match": "x", "tool": "t", "arguments": "{not json"}]}`, `{"rules": [{"match": "x", "arguments": {}}]}`,
		`{"rules": [{"match": "x", "object": "batch", "reply": "hi"}]}`, `{"rules": [{"match": "x", "object": "file"}]}`,
		`{"rules": [{"match": "x", "error": {"code": "c", "message": "m"}}]}`, `{"rules": [{"match": "x", "colour": "red"}]}`,
		`{"rules": []} {}`,
	} {
		if _, err := openai.ParseScript([]byte(bad)); err == nil {
			t.Errorf("ParseScript(%s) accepted a bad script", bad)
		}
	}
}

func TestBatches(t *testing.T) {
	c, rec, _ := start(t, openai.Config{})
	ctx := context.Background()
	create := func(fileID string) *sdk.Batch {
		t.Helper()
		b, err := c.Batches.New(ctx, sdk.BatchNewParams{
			InputFileID: fileID, Endpoint: sdk.BatchNewParamsEndpointV1Responses,
			CompletionWindow: sdk.BatchNewParamsCompletionWindow24h, Metadata: shared.Metadata{"job": "nightly"},
		})
		if err != nil {
			t.Fatal(err)
		}
		strict(t, *b)
		if !strings.HasPrefix(b.ID, "batch_") || b.Status != sdk.BatchStatusValidating || b.InputFileID != fileID ||
			b.Endpoint != "/v1/responses" || b.CompletionWindow != "24h" || b.ExpiresAt != b.CreatedAt+24*3600 || b.Metadata["job"] != "nightly" {
			t.Fatalf("created: %s", b.RawJSON())
		}
		return b
	}
	for _, tc := range []struct{ file, event string }{
		{"file-abc123", "batch.completed"}, {"file-please-fail", "batch.failed"}, {"file-will-expire", "batch.expired"},
	} {
		b := create(tc.file)
		rec.wantEvent(t, tc.event, b.ID)
		got, err := c.Batches.Get(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		strict(t, *got)
		ok := false
		switch tc.event {
		case "batch.completed":
			ok = got.Status == sdk.BatchStatusCompleted && got.CompletedAt > 0 && got.InProgressAt > 0 && got.FinalizingAt > 0 && strings.HasPrefix(got.OutputFileID, "file-")
		case "batch.failed":
			ok = got.Status == sdk.BatchStatusFailed && got.FailedAt > 0 && len(got.Errors.Data) == 1 && got.Errors.Object == "list"
		case "batch.expired":
			ok = got.Status == sdk.BatchStatusExpired && got.ExpiredAt > 0
		}
		if !ok {
			t.Errorf("%s: %s", tc.file, got.RawJSON())
		}
	}

	c2, _, _ := start(t, openai.Config{BatchDelay: time.Hour})
	b, err := c2.Batches.New(ctx, sdk.BatchNewParams{InputFileID: "file-1", Endpoint: sdk.BatchNewParamsEndpointV1ChatCompletions, CompletionWindow: sdk.BatchNewParamsCompletionWindow24h})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c2.Batches.Cancel(ctx, b.ID)
	if err != nil || got.Status != sdk.BatchStatusCancelling || got.CancellingAt == 0 {
		t.Fatalf("cancel: %v %v", got, err)
	}
	_, err = c2.Batches.Get(ctx, "batch_nope")
	apiError(t, err, 404)

	b = create("file-2")
	rec.wantEvent(t, "batch.completed", b.ID)
	_, err = c.Batches.Cancel(ctx, b.ID)
	apiError(t, err, 400)
}

func TestBatchCancelled(t *testing.T) {
	c, rec, _ := start(t, openai.Config{BatchDelay: 40 * time.Millisecond})
	ctx := context.Background()
	b, err := c.Batches.New(ctx, sdk.BatchNewParams{InputFileID: "file-1", Endpoint: sdk.BatchNewParamsEndpointV1Embeddings, CompletionWindow: sdk.BatchNewParamsCompletionWindow24h})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Batches.Cancel(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	rec.wantEvent(t, "batch.cancelled", b.ID)
	got, err := c.Batches.Get(ctx, b.ID)
	if err != nil || got.Status != sdk.BatchStatusCancelled || got.CancelledAt == 0 {
		t.Fatalf("cancelled: %v %v", got, err)
	}
	if got, err = c.Batches.Cancel(ctx, b.ID); err != nil || got.Status != sdk.BatchStatusCancelled {
		t.Fatalf("cancel again: %v %v", got, err)
	}
}

// TestBadRequests sends malformed requests as raw HTTP and checks OpenAI's error shape.
func TestBadRequests(t *testing.T) {
	em := openai.New(openai.Config{Delay: -1, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(em)
	defer srv.Close()
	defer em.Close()
	for _, tc := range []struct {
		method, path, body string
		status             int
		param, code        string
		message            string
	}{
		{"POST", "/v1/responses", `not json`, 400, "", "", "We could not parse the JSON body"},
		{"POST", "/v1/responses", ``, 400, "", "", "empty body"},
		{"POST", "/v1/responses", `[]`, 400, "", "", "We could not parse"},
		{"POST", "/v1/responses", `{"input": "hi"}`, 400, "model", "missing_required_parameter", "Missing required parameter: 'model'."},
		{"POST", "/v1/responses", `{"model": "m"}`, 400, "input", "missing_required_parameter", "Missing required parameter: 'input'."},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "colour": 1}`, 400, "colour", "unknown_parameter", "Unknown parameter: 'colour'."},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "background": "yes"}`, 400, "background", "invalid_type", "Invalid type for 'background': expected a boolean, but got a string instead."},
		{"POST", "/v1/responses", `{"model": "m", "input": 5}`, 400, "input", "invalid_type", "Invalid type for 'input'"},
		{"POST", "/v1/responses", `{"model": "m", "input": [{"role": "robot", "content": "x"}]}`, 400, "input[0].role", "invalid_value", "Invalid value: 'robot'."},
		{"POST", "/v1/responses", `{"model": "m", "input": [{"content": "x"}]}`, 400, "input[0].role", "missing_required_parameter", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": [{"type": "function_call_output", "output": "x"}]}`, 400, "input[0].call_id", "missing_required_parameter", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": [{"type": "web_search_call"}]}`, 400, "input[0].type", "invalid_value", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": [{"role": "user", "content": [{"type": "input_video"}]}]}`, 400, "input[0].content[0].type", "invalid_value", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "stream": true}`, 400, "stream", "unsupported_value", "Streaming is not emulated"},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "conversation": "conv_1"}`, 400, "conversation", "unsupported_parameter", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "background": true, "store": false}`, 400, "store", "invalid_value", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "max_output_tokens": 5}`, 400, "max_output_tokens", "integer_below_min_value", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "temperature": 3}`, 400, "temperature", "invalid_value", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "tools": [{"type": "function"}]}`, 400, "tools[0].name", "missing_required_parameter", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "tool_choice": "sometimes"}`, 400, "tool_choice", "invalid_value", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "tool_choice": {"type": "function", "name": "x"}}`, 400, "tool_choice", "invalid_value", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "metadata": {"k": 1}}`, 400, "metadata", "invalid_type", ""},
		{"POST", "/v1/responses", `{"model": "m", "input": "hi", "metadata": {"k": "` + strings.Repeat("v", 513) + `"}}`, 400, "metadata.k", "string_above_max_length", ""},
		{"GET", "/v1/responses/resp_nope", ``, 404, "", "", "Response with id 'resp_nope' not found."},
		{"POST", "/v1/responses/resp_nope/cancel", ``, 404, "", "", "not found"},
		{"GET", "/v1/responses", ``, 404, "", "", "Invalid URL (GET /v1/responses)"},
		{"POST", "/v1/chat/completions", `{}`, 404, "", "", "Invalid URL (POST /v1/chat/completions)"},
		{"POST", "/v1/batches", `{"endpoint": "/v1/responses", "completion_window": "24h"}`, 400, "input_file_id", "missing_required_parameter", ""},
		{"POST", "/v1/batches", `{"input_file_id": "f", "endpoint": "/v1/nope", "completion_window": "24h"}`, 400, "endpoint", "invalid_value", ""},
		{"POST", "/v1/batches", `{"input_file_id": "f", "endpoint": "/v1/responses", "completion_window": "1h"}`, 400, "completion_window", "invalid_value", ""},
		{"POST", "/v1/batches", `{"input_file_id": "f", "endpoint": "/v1/responses", "completion_window": "24h", "priority": 1}`, 400, "priority", "unknown_parameter", ""},
		{"GET", "/v1/batches/batch_nope", ``, 404, "", "", "Batch with id 'batch_nope' not found."},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error *struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
				Code    *string `json:"code"`
			} `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		name := tc.method + " " + tc.path + " " + tc.body
		if len(name) > 120 {
			name = name[:120]
		}
		if err != nil || body.Error == nil {
			t.Errorf("%s: status %d, body not OpenAI's error shape: %v", name, resp.StatusCode, err)
			continue
		}
		e := body.Error
		param, code := "", ""
		if e.Param != nil {
			param = *e.Param
		}
		if e.Code != nil {
			code = *e.Code
		}
		if resp.StatusCode != tc.status || param != tc.param || code != tc.code || !strings.Contains(e.Message, tc.message) ||
			e.Type != "invalid_request_error" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %+v (param %q code %q), want %d param %q code %q message ~%q", name, resp.StatusCode, e, param, code, tc.status, tc.param, tc.code, tc.message)
		}
	}
}

func TestRequestsCounted(t *testing.T) {
	c, _, em := start(t, openai.Config{})
	ctx := context.Background()
	r, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "m", Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("x")}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{}); err != nil {
			t.Fatal(err)
		}
	}
	got := em.Requests()
	if got["POST /v1/responses"] != 1 || got["GET /v1/responses/{id}"] != 3 {
		t.Errorf("requests %v", got)
	}
}

// TestDocumentedScript checks that the script in docs/emulator.md parses.
func TestDocumentedScript(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/emulator.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "### Script files")
	if !ok {
		t.Fatal("docs/emulator.md has no script section")
	}
	_, rest, _ = strings.Cut(rest, "```json\n")
	script, _, _ := strings.Cut(rest, "```")
	if _, err := openai.ParseScript([]byte(script)); err != nil {
		t.Errorf("the documented script: %v\n%s", err, script)
	}
}
