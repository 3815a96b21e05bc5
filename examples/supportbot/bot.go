package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/webhook"
	whopenai "github.com/heraldhq/herald/webhook/openai"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
)

// instructions tell the model how to behave.
const instructions = "You are the support assistant of Acme. Answer briefly and kindly. " +
	"When the customer asks about an order, call lookup_order with its number."

// maxToolRounds stops a model that keeps calling tools instead of answering.
const maxToolRounds = 3

// What the customer reads when a reply does not come through.
const (
	textFailed   = "Sorry, something went wrong — a human will follow up."
	textStopped  = "Stopped."
	textCutShort = " … (the reply was cut short)"
)

// Bot is the support assistant's backend.
type Bot struct {
	ai    openai.Client
	model string
	store Store
	log   *slog.Logger
	locks [64]sync.Mutex // one conversation's work is serialised; see lock
}

// NewBot returns a Bot that asks model, through ai, for replies.
func NewBot(ai openai.Client, model string, store Store, log *slog.Logger) *Bot {
	return &Bot{ai: ai, model: model, store: store, log: log}
}

// Handler returns the bot's HTTP API, with OpenAI's webhooks at POST /webhooks.
func (b *Bot) Handler(v webhook.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /messages", b.postMessage)
	mux.HandleFunc("GET /conversations/{id}", b.getConversation)
	mux.HandleFunc("POST /conversations/{id}/stop", b.stop)
	mux.Handle("POST /webhooks", b.Webhooks(v))
	return mux
}

// Webhooks returns the webhook receiver: it verifies each delivery, answers a
// delivery it already handled (same webhook-id) without handling it again, and
// passes response.* events to onResponse.
func (b *Bot) Webhooks(v webhook.Verifier) *webhook.Handler {
	return webhook.NewHandler(v, whopenai.Events(), webhook.WithLogger(b.log)).On("response.*", b.onResponse)
}

// lock serialises the work on one conversation (a message, a webhook, a stop) and
// returns the unlock function.
func (b *Bot) lock(conversationID string) func() {
	h := fnv.New32a()
	h.Write([]byte(conversationID))
	m := &b.locks[h.Sum32()%uint32(len(b.locks))]
	m.Lock()
	return m.Unlock
}

// postMessage takes a customer message, {"conversation_id"?, "text"}, and starts a
// background response: the reply arrives later, by webhook.
func (b *Bot) postMessage(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	var in struct {
		ConversationID string `json:"conversation_id"`
		Text           string `json:"text"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "want a JSON object {\"conversation_id\"?, \"text\"}: "+err.Error())
		return
	}
	in.Text = strings.TrimSpace(in.Text)
	if in.Text == "" || len(in.Text) > 4000 {
		writeError(w, http.StatusBadRequest, "text must have 1 to 4000 characters")
		return
	}
	ctx := r.Context()
	id, isNew := in.ConversationID, in.ConversationID == ""
	if isNew {
		id = newID("conv_")
	}
	defer b.lock(id)()
	c := &Conversation{ID: id, Messages: []Message{}, Settled: []Settlement{}}
	if !isNew {
		var err error
		if c, err = b.store.Get(ctx, id); errors.Is(err, ErrNotFound) {
			writeError(w, http.StatusNotFound, "no conversation "+id)
			return
		} else if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if c.State == StateThinking {
			writeError(w, http.StatusConflict, "the assistant is still answering the previous message; wait for it, or stop it")
			return
		}
	}
	input := responses.ResponseNewParamsInputUnion{OfString: openai.String(in.Text)}
	resp, err := b.ai.Responses.New(ctx, b.params(id, c.LastAnswer, input))
	if err != nil {
		b.log.Error("start a response", "conversation", id, "err", err)
		writeError(w, http.StatusBadGateway, "the assistant is unavailable right now; try again")
		return
	}
	start := func(c *Conversation) error {
		c.Messages = append(c.Messages, Message{From: "customer", Text: in.Text, At: arrived})
		c.State, c.Pending, c.ToolRounds = StateThinking, resp.ID, 0
		return nil
	}
	if isNew {
		start(c)
		err = b.store.Create(ctx, c)
	} else {
		err = b.store.Update(ctx, id, start)
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	status := http.StatusOK
	if isNew {
		status = http.StatusCreated
	}
	b.writeConversation(w, ctx, status, id)
}

// params are the request for a background response in a conversation.
func (b *Bot) params(conversationID, previous string, input responses.ResponseNewParamsInputUnion) responses.ResponseNewParams {
	p := responses.ResponseNewParams{
		Model:        shared.ResponsesModel(b.model),
		Instructions: openai.String(instructions),
		Input:        input,
		Background:   openai.Bool(true), // answer at once; the result comes by webhook
		Tools:        []responses.ToolUnionParam{lookupOrderTool()},
		Metadata:     shared.Metadata{"conversation_id": conversationID},
	}
	if previous != "" {
		p.PreviousResponseID = openai.String(previous)
	}
	return p
}

// onResponse handles response.completed, .failed, .cancelled and .incomplete. The
// event only names the response; the response itself, fetched from the API, is the
// truth. Returning an error makes the sender retry the webhook later.
func (b *Bot) onResponse(ctx context.Context, e *webhook.Event) error {
	event := e.Data.(*whopenai.Event)
	resp, err := b.ai.Responses.Get(ctx, event.DataID(), responses.ResponseGetParams{})
	var apiErr *openai.Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		// A test event (client.Webhooks.Test, the dashboard's "Send test event") names
		// a response that does not exist: acknowledge it, or the sender retries for days.
		b.log.Warn("webhook for a response that does not exist", "response", event.DataID(), "event", event.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("fetch response %s: %w", event.DataID(), err)
	}
	if resp.Status == responses.ResponseStatusQueued || resp.Status == responses.ResponseStatusInProgress {
		return fmt.Errorf("response %s is still %s", resp.ID, resp.Status)
	}
	id := resp.Metadata["conversation_id"]
	defer b.lock(id)()
	c, err := b.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		b.log.Warn("webhook for an unknown conversation", "response", resp.ID, "conversation", id)
		return nil // not ours: acknowledge, or the sender retries for days
	} else if err != nil {
		return err
	}
	if c.Pending != resp.ID {
		return nil // handled already (a duplicate webhook), or superseded
	}
	return b.settle(ctx, c, resp)
}

// settle acts on how the conversation's pending response ended. The caller holds
// the conversation's lock.
func (b *Bot) settle(ctx context.Context, c *Conversation, resp *responses.Response) error {
	now := time.Now()
	var calls []responses.ResponseFunctionToolCall
	for _, item := range resp.Output {
		if item.Type == "function_call" {
			calls = append(calls, item.AsFunctionCall())
		}
	}
	if resp.Status == responses.ResponseStatusCompleted && len(calls) > 0 && c.ToolRounds < maxToolRounds {
		// The model wants tool results: run the tools and send their outputs as a new
		// background response that continues from this one.
		var input responses.ResponseInputParam
		var notes []Message
		for _, call := range calls {
			output := runTool(call.Name, call.Arguments)
			item := responses.ResponseInputItemParamOfFunctionCallOutput(output)
			item.OfFunctionCallOutput.CallID = openai.String(call.CallID)
			input = append(input, item)
			notes = append(notes, Message{From: "tool", Text: call.Name + " " + call.Arguments + " → " + output, ResponseID: resp.ID, At: now})
		}
		next, err := b.ai.Responses.New(ctx, b.params(c.ID, resp.ID, responses.ResponseNewParamsInputUnion{OfInputItemList: input}))
		if err != nil {
			return fmt.Errorf("send tool outputs for %s: %w", resp.ID, err)
		}
		return b.transition(ctx, c.ID, resp, func(c *Conversation) {
			c.Messages = append(c.Messages, notes...)
			c.Pending = next.ID
			c.ToolRounds++
		})
	}
	return b.transition(ctx, c.ID, resp, func(c *Conversation) {
		reply := Message{From: "assistant", ResponseID: resp.ID, At: now}
		switch resp.Status {
		case responses.ResponseStatusCompleted:
			if len(calls) > 0 { // still calling tools after maxToolRounds
				reply.Text, c.State = textFailed, StateFailed
				break
			}
			reply.Text, c.State, c.LastAnswer = resp.OutputText(), StateAnswered, resp.ID
		case responses.ResponseStatusIncomplete:
			reply.Text, c.State = resp.OutputText()+textCutShort, StateCutShort
		case responses.ResponseStatusCancelled:
			reply.Text, c.State = textStopped, StateStopped
		default: // failed
			reply.Text, c.State = textFailed, StateFailed
		}
		c.Messages = append(c.Messages, reply)
		c.Pending = ""
	})
}

// errSettled means the response was settled before; transition ignores it.
var errSettled = errors.New("response already settled")

// transition applies change to the conversation if resp is still the one it waits
// for, and records the settlement: each response is acted on once.
func (b *Bot) transition(ctx context.Context, id string, resp *responses.Response, change func(c *Conversation)) error {
	var state string
	err := b.store.Update(ctx, id, func(c *Conversation) error {
		if c.Pending != resp.ID {
			return errSettled
		}
		change(c)
		c.Settled = append(c.Settled, Settlement{ResponseID: resp.ID, Status: string(resp.Status), At: time.Now()})
		state = c.State
		return nil
	})
	if errors.Is(err, errSettled) {
		return nil
	}
	if err == nil {
		b.log.Info("response settled", "conversation", id, "response", resp.ID, "status", resp.Status, "state", state)
	}
	return err
}

// stop cancels the reply being written.
func (b *Bot) stop(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	defer b.lock(id)()
	c, ok := b.loadConversation(w, ctx, id)
	if !ok {
		return
	}
	if c.State != StateThinking {
		writeError(w, http.StatusConflict, "there is no reply being written to stop")
		return
	}
	resp, err := b.ai.Responses.Cancel(ctx, c.Pending)
	var apiErr *openai.Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest {
		writeError(w, http.StatusConflict, "too late: the reply has just finished")
		return
	} else if err != nil {
		b.log.Error("cancel a response", "conversation", id, "response", c.Pending, "err", err)
		writeError(w, http.StatusBadGateway, "the assistant is unavailable right now; try again")
		return
	}
	// Cancel answers with the final response, so settle now; the response.cancelled
	// webhook that follows finds nothing left to do.
	if err := b.settle(ctx, c, resp); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	b.writeConversation(w, ctx, http.StatusOK, id)
}

func (b *Bot) getConversation(w http.ResponseWriter, r *http.Request) {
	b.writeConversation(w, r.Context(), http.StatusOK, r.PathValue("id"))
}

func (b *Bot) writeConversation(w http.ResponseWriter, ctx context.Context, status int, id string) {
	if c, ok := b.loadConversation(w, ctx, id); ok {
		writeJSON(w, status, c)
	}
}

// loadConversation returns the conversation id names, or answers 404 (no such
// conversation) or 500 and returns false.
func (b *Bot) loadConversation(w http.ResponseWriter, ctx context.Context, id string) (*Conversation, bool) {
	c, err := b.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, "no conversation "+id)
		return nil, false
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return nil, false
	}
	return c, true
}

// lookupOrderTool describes the lookup_order function to the model.
func lookupOrderTool() responses.ToolUnionParam {
	tool := responses.ToolParamOfFunction("lookup_order", map[string]any{
		"type":                 "object",
		"properties":           map[string]any{"order_id": map[string]any{"type": "string", "description": "the order number"}},
		"required":             []string{"order_id"},
		"additionalProperties": false,
	}, true)
	tool.OfFunction.Description = openai.String("Look up the status of a customer's order.")
	return tool
}

// runTool runs a function the model called and returns its output (JSON).
func runTool(name, arguments string) string {
	if name != "lookup_order" {
		return `{"error":"unknown tool ` + name + `"}`
	}
	var args struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal([]byte(arguments), &args); err != nil || args.OrderID == "" {
		return `{"error":"want {\"order_id\": \"...\"}"}`
	}
	// A stand-in for your order database.
	var order map[string]string
	switch args.OrderID {
	case "1234":
		order = map[string]string{"status": "shipped", "carrier": "UPS", "eta": "Friday"}
	case "5678":
		order = map[string]string{"status": "processing"}
	default:
		order = map[string]string{"error": "not_found"}
	}
	order["order_id"] = args.OrderID
	out, _ := json.Marshal(order)
	return string(out)
}

func newID(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
