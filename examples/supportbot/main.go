// Command supportbot is a customer-support backend that asks an LLM for replies in
// background mode and learns that a reply is ready from OpenAI's webhooks, instead
// of polling. README.md walks through it.
//
//	POST /messages                 {"conversation_id"?, "text"}: a customer message
//	GET  /conversations/{id}       the thread and its state
//	POST /conversations/{id}/stop  cancel the reply being written
//	POST /webhooks                 OpenAI's webhooks
//
// Environment: OPENAI_API_KEY, OPENAI_BASE_URL (e.g. herald emulate openai's),
// OPENAI_MODEL (default gpt-5-mini), ADDR (default 127.0.0.1:8000), and either
// WEBHOOK_URL, the URL the bot registers for its webhooks through the API (default
// http://ADDR/webhooks), or OPENAI_WEBHOOK_SECRET, the secret of webhooks someone
// else registered (in the dashboard, or a herald listener's), in which case the bot
// registers nothing.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ai := openai.NewClient() // reads OPENAI_API_KEY and OPENAI_BASE_URL
	ln, err := net.Listen("tcp", getenv("ADDR", "127.0.0.1:8000"))
	if err != nil {
		return err
	}
	defer ln.Close()
	secret := os.Getenv("OPENAI_WEBHOOK_SECRET")
	if hookURL := os.Getenv("WEBHOOK_URL"); secret == "" || hookURL != "" {
		if secret != "" {
			return errors.New("set WEBHOOK_URL to register the bot's webhooks, or OPENAI_WEBHOOK_SECRET to use webhooks registered elsewhere, not both")
		}
		if hookURL == "" {
			hookURL = localURL(ln.Addr()) + "/webhooks"
		}
		if _, secret, err = Register(ctx, ai, hookURL, log); err != nil {
			return err
		}
	} else {
		log.Info("OPENAI_WEBHOOK_SECRET is set: registering no webhook endpoint; whoever has that secret sends the webhooks to /webhooks")
	}
	verifier, err := webhook.NewOpenAI(secret)
	if err != nil {
		return err
	}
	bot := NewBot(ai, getenv("OPENAI_MODEL", "gpt-5-mini"), NewMemoryStore(), log)

	srv := &http.Server{Handler: bot.Handler(verifier), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Info("supportbot listening", "addr", ln.Addr().String(), "openai", getenv("OPENAI_BASE_URL", "https://api.openai.com/v1"))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// localURL returns the http:// URL of a listening address; an unspecified address
// (":8000") is reached on loopback.
func localURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port)))
}

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
