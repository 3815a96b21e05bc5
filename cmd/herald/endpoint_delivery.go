package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/transform"
	"github.com/spf13/cobra"
)

// deliveryFlags are the endpoint flags that shape what is sent: the transformation and
// the receiver's credentials.
type deliveryFlags struct {
	transformation, template         string
	basic, bearer                    string
	tokenURL, clientID, clientSecret string
	scopes                           []string
	cert, key, ca                    string
	noAuth                           bool
}

// authFlags are the flags that set credentials, and the type each implies ("" for any).
var authFlags = []struct{ name, typ string }{
	{"auth-basic", client.AuthBasic}, {"auth-bearer", client.AuthBearer},
	{"oauth2-token-url", client.AuthOAuth2}, {"oauth2-client-id", client.AuthOAuth2},
	{"oauth2-client-secret", client.AuthOAuth2}, {"oauth2-scope", client.AuthOAuth2},
	{"mtls-cert", client.AuthMTLS}, {"mtls-key", client.AuthMTLS}, {"ca-cert", ""},
}

func (f *deliveryFlags) register(cmd *cobra.Command, create bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.transformation, "transformation", "", "a JavaScript file defining handler(webhook), run before each attempt ('-': stdin)")
	fl.StringVar(&f.template, "transformation-template", "", "a ready transformation: slack, discord or teams")
	fl.StringVar(&f.basic, "auth-basic", "", "HTTP Basic credentials, user:password (or @FILE, env:VAR)")
	fl.StringVar(&f.bearer, "auth-bearer", "", "a bearer token sent as Authorization (or @FILE, env:VAR)")
	fl.StringVar(&f.tokenURL, "oauth2-token-url", "", "OAuth2 client credentials: the token URL")
	fl.StringVar(&f.clientID, "oauth2-client-id", "", "OAuth2 client credentials: the client id")
	fl.StringVar(&f.clientSecret, "oauth2-client-secret", "", "OAuth2 client credentials: the client secret (or @FILE, env:VAR)")
	fl.StringSliceVar(&f.scopes, "oauth2-scope", nil, "OAuth2 scopes to ask for (repeatable or comma-separated)")
	fl.StringVar(&f.cert, "mtls-cert", "", "mutual TLS: a PEM file with the client certificate (chain)")
	fl.StringVar(&f.key, "mtls-key", "", "mutual TLS: a PEM file with its private key")
	fl.StringVar(&f.ca, "ca-cert", "", "a PEM file of CA certificates to trust for this receiver instead of the system's")
	fl.BoolVar(&f.noAuth, "no-auth", false, "remove the endpoint's credentials")
	if !create {
		fl.Lookup("transformation").Usage = "a JavaScript file defining handler(webhook) ('-': stdin; --transformation '' removes it)"
	}
}

// readTransformation returns the transformation the flags give, and whether they give one.
func (f *deliveryFlags) readTransformation(cmd *cobra.Command) (string, bool, error) {
	fl := cmd.Flags()
	switch {
	case fl.Changed("transformation") && fl.Changed("transformation-template"):
		return "", false, usageError{err: errors.New("give --transformation or --transformation-template, not both"), cmd: cmd}
	case fl.Changed("transformation-template"):
		t, ok := transform.TemplateByName(f.template)
		if !ok {
			return "", false, usageError{err: fmt.Errorf("--transformation-template %q: want slack, discord or teams", f.template), cmd: cmd}
		}
		return t.Script, true, nil
	case !fl.Changed("transformation"):
		return "", false, nil
	case f.transformation == "":
		return "", true, nil
	case f.transformation == "-":
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), transform.MaxScript+1))
		if err != nil {
			return "", false, fmt.Errorf("--transformation -: read stdin: %w", err)
		}
		return string(b), true, nil
	}
	b, err := readFlagFile(cmd, "transformation", f.transformation)
	return b, true, err
}

// parseFilterFlag checks that --filter (JSON, or @FILE holding it) is a JSON object
// (the server validates the rest and names the bad part); "" means none.
func parseFilterFlag(cmd *cobra.Command, v string) (json.RawMessage, error) {
	if path, ok := strings.CutPrefix(v, "@"); ok {
		var err error
		if v, err = readFlagFile(cmd, "filter", path); err != nil {
			return nil, err
		}
	}
	if v == "" {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &obj); err != nil {
		return nil, usageError{err: fmt.Errorf("--filter: want a JSON object: %v", err), cmd: cmd}
	}
	return json.RawMessage(v), nil
}

// readFlagFile reads a file named by a flag, of at most 1 MiB.
func readFlagFile(cmd *cobra.Command, flag, path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flag, err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, 1<<20+1))
	if err != nil {
		return "", fmt.Errorf("--%s: read %s: %w", flag, path, err)
	}
	if len(b) > 1<<20 {
		return "", usageError{err: fmt.Errorf("--%s: %s is larger than 1 MiB", flag, path), cmd: cmd}
	}
	return string(b), nil
}

// secretFlag resolves a secret flag's value: env:VAR reads the environment variable,
// @FILE the file (without its trailing line break), anything else is the secret.
func secretFlag(cmd *cobra.Command, flag, v string) (string, error) {
	if name, ok := strings.CutPrefix(v, "env:"); ok {
		s := os.Getenv(name)
		if s == "" {
			return "", usageError{err: fmt.Errorf("--%s env:%s: the variable is not set", flag, name), cmd: cmd}
		}
		return s, nil
	}
	if path, ok := strings.CutPrefix(v, "@"); ok {
		s, err := readFlagFile(cmd, flag, path)
		return strings.TrimRight(s, "\r\n"), err
	}
	return v, nil
}

// authType returns the credential type the auth flags given ask for: "" when they name
// none (only --ca-cert, or no auth flag at all); set reports whether any was given.
func (f *deliveryFlags) authType(cmd *cobra.Command) (typ string, set bool, err error) {
	for _, a := range authFlags {
		if !cmd.Flags().Changed(a.name) {
			continue
		}
		set = true
		switch {
		case a.typ == "" || a.typ == typ:
		case typ != "":
			return "", true, usageError{err: fmt.Errorf("--%s cannot go with %s credentials: give one kind of credentials", a.name, typ), cmd: cmd}
		default:
			typ = a.typ
		}
	}
	if set && f.noAuth {
		return "", true, usageError{err: errors.New("--no-auth cannot go with credentials"), cmd: cmd}
	}
	return typ, set, nil
}

// buildAuth returns the credentials the flags describe. current (nil: none) supplies
// what they leave out when it is of the same type, such as the token URL when only a
// new client secret is given; the server keeps the secrets left out.
func (f *deliveryFlags) buildAuth(cmd *cobra.Command, current *client.EndpointAuth) (*client.AuthInput, error) {
	typ, _, err := f.authType(cmd)
	if err != nil {
		return nil, err
	}
	if typ == "" { // only --ca-cert: for the current credentials
		if current == nil {
			return nil, usageError{err: errors.New("--ca-cert goes with credentials: --auth-basic, --auth-bearer, --oauth2-* or --mtls-*"), cmd: cmd}
		}
		typ = current.Type
	}
	a := &client.AuthInput{Type: typ}
	if current != nil && current.Type == typ {
		a.Username, a.TokenURL, a.ClientID, a.Scopes = current.Username, current.TokenURL, current.ClientID, current.Scopes
		a.Audience, a.ClientAuth, a.CertPEM, a.CAPEM = current.Audience, current.ClientAuth, current.CertPEM, current.CAPEM
	}
	fl := cmd.Flags()
	if fl.Changed("auth-basic") {
		v, err := secretFlag(cmd, "auth-basic", f.basic)
		if err != nil {
			return nil, err
		}
		var ok bool
		if a.Username, a.Password, ok = strings.Cut(v, ":"); !ok || a.Username == "" {
			return nil, usageError{err: errors.New("--auth-basic: want user:password"), cmd: cmd}
		}
	}
	if err := f.readAuthValues(cmd, a); err != nil {
		return nil, err
	}
	return a, nil
}

// readAuthValues sets the fields of a that the bearer, OAuth2 and certificate flags give.
func (f *deliveryFlags) readAuthValues(cmd *cobra.Command, a *client.AuthInput) error {
	fl := cmd.Flags()
	var err error
	for _, s := range []struct {
		flag   string
		dst    *string
		v      string
		read   func(*cobra.Command, string, string) (string, error)
		secret bool
	}{
		{"auth-bearer", &a.Token, f.bearer, secretFlag, true},
		{"oauth2-token-url", &a.TokenURL, f.tokenURL, nil, false},
		{"oauth2-client-id", &a.ClientID, f.clientID, nil, false},
		{"oauth2-client-secret", &a.ClientSecret, f.clientSecret, secretFlag, true},
		{"mtls-cert", &a.CertPEM, f.cert, readFlagFile, false},
		{"mtls-key", &a.KeyPEM, f.key, readFlagFile, true},
		{"ca-cert", &a.CAPEM, f.ca, readFlagFile, false},
	} {
		if !fl.Changed(s.flag) {
			continue
		}
		*s.dst = s.v
		if s.read != nil {
			if *s.dst, err = s.read(cmd, s.flag, s.v); err != nil {
				return err
			}
		}
	}
	if fl.Changed("oauth2-scope") {
		a.Scopes = f.scopes
	}
	return nil
}

// applyCreate sets the transformation and credentials of a create request.
func (f *deliveryFlags) applyCreate(cmd *cobra.Command, in *client.EndpointInput) error {
	script, set, err := f.readTransformation(cmd)
	if err != nil {
		return err
	}
	if set {
		in.Transformation = script
	}
	if _, set, err := f.authType(cmd); err != nil || !set {
		return err
	}
	in.Auth, err = f.buildAuth(cmd, nil)
	return err
}

// applyUpdate sets the transformation and credentials of an update request, reading
// the endpoint's current credentials (through current) when the flags change only
// part of them, and reports whether the flags change anything.
func (f *deliveryFlags) applyUpdate(cmd *cobra.Command, in *client.EndpointUpdate, current func() (*client.Endpoint, error)) (bool, error) {
	script, scriptSet, err := f.readTransformation(cmd)
	if err != nil {
		return false, err
	}
	if scriptSet {
		in.Transformation = &script
	}
	_, authSet, err := f.authType(cmd)
	switch {
	case err != nil:
		return false, err
	case f.noAuth:
		in.RemoveAuth = true
		return true, nil
	case !authSet:
		return scriptSet, nil
	}
	ep, err := current()
	if err != nil {
		return false, err
	}
	in.Auth, err = f.buildAuth(cmd, ep.Auth)
	return true, err
}

// fmtAuth describes an endpoint's credentials in one line, without secrets.
func fmtAuth(a *client.EndpointAuth) string {
	if a == nil {
		return "-"
	}
	var parts []string
	switch a.Type {
	case client.AuthBasic:
		parts = append(parts, "basic", "user "+a.Username)
	case client.AuthOAuth2:
		parts = append(parts, "oauth2", "client "+a.ClientID, "token URL "+a.TokenURL)
		if len(a.Scopes) > 0 {
			parts = append(parts, "scopes "+strings.Join(a.Scopes, " "))
		}
	default:
		parts = append(parts, a.Type)
	}
	if a.CAPEM != "" {
		parts = append(parts, "own CA")
	}
	if a.SecretSet {
		parts = append(parts, "secret set")
	} else {
		parts = append(parts, "no secret")
	}
	return strings.Join(parts, ", ")
}

// fmtTransformation describes an endpoint's transformation in one line.
func fmtTransformation(script string) string {
	if script == "" {
		return "-"
	}
	for _, t := range transform.Templates() {
		if t.Script == script {
			return "the " + t.Name + " template"
		}
	}
	lines := strings.Count(strings.TrimRight(script, "\n"), "\n") + 1
	if lines == 1 {
		return fmt.Sprintf("%d bytes, 1 line (--json shows it)", len(script))
	}
	return fmt.Sprintf("%d bytes, %d lines (--json shows it)", len(script), lines)
}
