package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/diagnose"
	"github.com/spf13/cobra"
)

// explainMaxWork bounds the verification debugger's work in herald verify: more than the
// gateway allows itself, since one person waits for one answer.
const explainMaxWork = 64 << 20

// explainFlags are herald verify's debugger flags.
type explainFlags struct {
	explain bool
	json    bool
	retired []string
}

func (f *explainFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.explain, "explain", false, "when the signature does not verify, say why and what to do")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the result, and the diagnosis, as JSON (implies --explain)")
	cmd.Flags().StringArrayVar(&f.retired, "retired-secret", nil, "a secret rotated out, to recognise requests still signed with it (repeatable)")
}

// verifyResult is what herald verify --json prints.
type verifyResult struct {
	Provider  string             `json:"provider"`
	Verified  bool               `json:"verified"`
	ID        string             `json:"id,omitempty"`
	Type      string             `json:"type,omitempty"`
	Timestamp *time.Time         `json:"timestamp,omitempty"`
	Code      string             `json:"code,omitempty"`  // webhook.ErrorCode of the failure
	Error     string             `json:"error,omitempty"` // the verifier's error
	Findings  []diagnose.Finding `json:"findings"`
	Partial   bool               `json:"partial,omitempty"`
}

// run verifies body and h as pf describes and, when that fails, explains why. A
// configuration the verifier refuses (a public key for an HMAC scheme) is explained too.
func (f *explainFlags) run(cmd *cobra.Command, pf *providerFlags, h http.Header, body []byte) error {
	res := verifyResult{Provider: strings.ToLower(pf.provider), Findings: []diagnose.Finding{}}
	p, err := pf.build(cmd)
	if _, usage := errors.AsType[usageError](err); usage {
		return err
	}
	if err == nil {
		var d webhook.Delivery
		if d, err = p.Verify(body, h); err == nil {
			res.Verified, res.ID, res.Type = true, d.ID, d.Type
			if !d.Timestamp.IsZero() {
				ts := d.Timestamp.UTC()
				res.Timestamp = &ts
			}
		}
	}
	if err != nil {
		secret := pf.secret
		if secret == "" {
			secret = os.Getenv(secretEnv)
		}
		in := diagnose.Input{Provider: pf.provider, Secrets: []string{secret}, Retired: f.retired,
			Header: h, Body: body, MaxWork: explainMaxWork}
		if fl := cmd.Flags().Lookup("tolerance"); fl != nil && fl.Changed {
			if in.Tolerance = pf.tolerance; in.Tolerance == 0 {
				in.Tolerance = -1 // off
			}
		}
		r := diagnose.Explain(in)
		res.Code, res.Error, res.Findings, res.Partial = webhook.ErrorCode(err), err.Error(), r.Findings, r.Partial
	}
	out := cmd.OutOrStdout()
	switch {
	case f.json:
		if err := writeJSON(out, res); err != nil {
			return err
		}
	case res.Verified:
		printVerified(out, p.Name(), webhook.Delivery{ID: res.ID, Type: res.Type, Timestamp: derefTime(res.Timestamp)})
	default:
		fmt.Fprintf(out, "not verified (%s): %s\n", res.Provider, terminalSafe(res.Error))
		writeFindings(out, "", toClientFindings(res.Findings))
		if res.Partial {
			fmt.Fprintln(out, "(not every candidate was tried: the body is large or the work limit was reached)")
		}
	}
	if !res.Verified {
		return verifyFailed{err: err}
	}
	return nil
}

// printVerified prints the one line of a verified webhook.
func printVerified(out io.Writer, provider string, d webhook.Delivery) {
	fmt.Fprintf(out, "verified: provider=%s", provider)
	if d.ID != "" {
		fmt.Fprintf(out, " id=%s", d.ID)
	}
	if d.Type != "" {
		fmt.Fprintf(out, " type=%s", d.Type)
	}
	if !d.Timestamp.IsZero() {
		fmt.Fprintf(out, " timestamp=%s", d.Timestamp.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(out)
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func toClientFindings(fs []diagnose.Finding) []client.Finding {
	out := make([]client.Finding, len(fs))
	for i, f := range fs {
		out[i] = client.Finding(f)
	}
	return out
}

// writeFindings prints a diagnosis, one line per finding and one per hint, each line
// starting with prefix.
func writeFindings(w io.Writer, prefix string, fs []client.Finding) {
	for _, f := range fs {
		mark := ""
		if f.Confirmed {
			mark = " (confirmed)"
		}
		fmt.Fprintf(w, "%s- %s%s: %s\n", prefix, terminalSafe(f.Code), mark, terminalSafe(f.Message))
		fmt.Fprintf(w, "%s  hint: %s\n", prefix, terminalSafe(f.Hint))
	}
}

// rejectionDiagnosis is the DIAGNOSIS cell of a rejection: its first finding's code, and
// how many more there are.
func rejectionDiagnosis(fs []client.Finding) string {
	switch len(fs) {
	case 0:
		return "-"
	case 1:
		return terminalSafe(fs[0].Code)
	}
	return fmt.Sprintf("%s (+%d)", terminalSafe(fs[0].Code), len(fs)-1)
}

// terminalSafe replaces the characters of server- or request-supplied text that would
// move a terminal's cursor or break a table (control characters, tabs, newlines).
func terminalSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
}
