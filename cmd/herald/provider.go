package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/webhook"
	"github.com/spf13/cobra"
)

// secretEnv is the environment variable --secret falls back to.
const secretEnv = "HERALD_SECRET"

// providerFlags are the flags shared by sign, verify and trigger.
type providerFlags struct {
	provider  string
	secret    string
	tolerance time.Duration
}

func (f *providerFlags) register(cmd *cobra.Command, defaultProvider string) {
	cmd.Flags().StringVar(&f.provider, "provider", defaultProvider,
		"signature scheme: "+strings.Join(webhook.ProviderNames(), ", "))
	cmd.Flags().StringVar(&f.secret, "secret", "", "signing secret (default $"+secretEnv+")")
}

// build returns the provider the flags describe.
func (f *providerFlags) build(cmd *cobra.Command) (webhook.Provider, error) {
	secret := f.secret
	if secret == "" {
		secret = os.Getenv(secretEnv)
	}
	if secret == "" {
		return nil, usageError{err: fmt.Errorf("a secret is required: pass --secret or set $%s", secretEnv), cmd: cmd}
	}
	var opts []webhook.Option
	if fl := cmd.Flags().Lookup("tolerance"); fl != nil && fl.Changed { // providers without a signed timestamp refuse it
		opts = append(opts, webhook.WithTolerance(f.tolerance))
	}
	p, err := webhook.NewProvider(f.provider, secret, opts...)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// readInput reads the named file, or stdin for "" and "-".
func readInput(cmd *cobra.Command, args []string) ([]byte, error) {
	if len(args) == 0 || args[0] == "-" {
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// sortedHeaderLines formats headers as "name: value" lines, lower-case names, sorted.
func sortedHeaderLines(h map[string][]string) []string {
	var lines []string
	for k, vs := range h {
		for _, v := range vs {
			lines = append(lines, strings.ToLower(k)+": "+v)
		}
	}
	sort.Strings(lines)
	return lines
}
