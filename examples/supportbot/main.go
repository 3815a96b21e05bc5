// Command supportbot is a customer-support backend that asks an LLM for replies in
// background mode and learns that a reply is ready from OpenAI's webhooks, instead
// of polling. README.md walks through it.
//
//	POST /messages                 {"conversation_id"?, "text"}: a customer message
//	GET  /conversations/{id}       the thread and its state
//	POST /conversations/{id}/stop  cancel the reply being written
//	POST /webhooks                 OpenAI's webhooks
//
// Environment: OPENAI_WEBHOOK_SECRET (required), OPENAI_API_KEY, OPENAI_BASE_URL
// (e.g. herald emulate openai's), OPENAI_MODEL (default gpt-5-mini), ADDR (default
// 127.0.0.1:8000).
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/heraldhq/herald/webhook"
	"github.com/openai/openai-go/v3"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("supportbot", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	secret := os.Getenv("OPENAI_WEBHOOK_SECRET")
	if secret == "" {
		return errors.New("set OPENAI_WEBHOOK_SECRET to your webhook endpoint's signing secret (whsec_...)")
	}
	verifier, err := webhook.NewOpenAI(secret)
	if err != nil {
		return err
	}
	ai := openai.NewClient() // reads OPENAI_API_KEY and OPENAI_BASE_URL
	bot := NewBot(ai, getenv("OPENAI_MODEL", "gpt-5-mini"), NewMemoryStore(), log)

	srv := &http.Server{Addr: getenv("ADDR", "127.0.0.1:8000"), Handler: bot.Handler(verifier), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Info("supportbot listening", "addr", srv.Addr, "openai", getenv("OPENAI_BASE_URL", "https://api.openai.com/v1"))
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
