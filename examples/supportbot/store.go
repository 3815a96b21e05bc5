package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Conversation states, as the customer sees them.
const (
	StateThinking = "thinking"  // the assistant is writing a reply
	StateAnswered = "answered"  // the reply is there
	StateFailed   = "failed"    // the model failed; a human follows up
	StateStopped  = "stopped"   // the customer stopped the reply
	StateCutShort = "cut_short" // the reply was cut short
)

// Conversation is one customer's thread with the assistant.
type Conversation struct {
	ID       string    `json:"id"`
	State    string    `json:"state"`
	Messages []Message `json:"messages"`
	// Pending is the model response the conversation waits for. A response is acted
	// on only while it is pending, which makes duplicate webhooks harmless.
	Pending string `json:"pending_response_id,omitempty"`
	// LastAnswer is the last response that answered the customer; the next message
	// continues from it with previous_response_id.
	LastAnswer string `json:"last_answer_response_id,omitempty"`
	// Settled lists each model response once, when the conversation acted on its outcome.
	Settled []Settlement `json:"settled"`
	// ToolRounds counts the tool calls answered since the customer's last message.
	ToolRounds int `json:"-"`
}

// Message is one line of the thread.
type Message struct {
	From       string    `json:"from"` // "customer", "assistant" or "tool"
	Text       string    `json:"text"`
	ResponseID string    `json:"response_id,omitempty"` // the model response it came from
	At         time.Time `json:"at"`
}

// Settlement records how a model response ended for the conversation.
type Settlement struct {
	ResponseID string    `json:"response_id"`
	Status     string    `json:"status"` // the response's status: completed, failed, cancelled, incomplete
	At         time.Time `json:"at"`
}

// ErrNotFound means there is no conversation with that id.
var ErrNotFound = errors.New("conversation not found")

// Store keeps conversations. Replace the in-memory one with your database.
type Store interface {
	// Create adds a new conversation.
	Create(ctx context.Context, c *Conversation) error
	// Get returns a copy of a conversation, or ErrNotFound.
	Get(ctx context.Context, id string) (*Conversation, error)
	// Update changes a conversation atomically: fn sees the current version and its
	// changes are kept only if it returns nil.
	Update(ctx context.Context, id string, fn func(c *Conversation) error) error
}

// MemoryStore is a Store in memory, safe for concurrent use.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]*Conversation
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: make(map[string]*Conversation)} }

// Create implements Store.
func (s *MemoryStore) Create(_ context.Context, c *Conversation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[c.ID]; ok {
		return errors.New("conversation " + c.ID + " exists")
	}
	s.m[c.ID] = c.clone()
	return nil
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, id string) (*Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[id]
	if !ok {
		return nil, ErrNotFound
	}
	return c.clone(), nil
}

// Update implements Store.
func (s *MemoryStore) Update(_ context.Context, id string, fn func(c *Conversation) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[id]
	if !ok {
		return ErrNotFound
	}
	next := c.clone()
	if err := fn(next); err != nil {
		return err
	}
	s.m[id] = next
	return nil
}

func (c *Conversation) clone() *Conversation {
	out := *c
	out.Messages = slices.Clone(c.Messages)
	out.Settled = slices.Clone(c.Settled)
	return &out
}
