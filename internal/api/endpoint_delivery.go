package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/transform"
)

// authJSON is an endpoint's receiver credentials as answered: never a secret, only
// whether the secret its type needs is stored.
type authJSON struct {
	Type       string   `json:"type"`
	Username   string   `json:"username,omitempty"`
	TokenURL   string   `json:"token_url,omitempty"`
	ClientID   string   `json:"client_id,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	Audience   string   `json:"audience,omitempty"`
	ClientAuth string   `json:"client_auth,omitempty"`
	CertPEM    string   `json:"cert_pem,omitempty"`
	CAPEM      string   `json:"ca_pem,omitempty"`
	SecretSet  bool     `json:"secret_set"`
}

// toAuthJSON answers a's public parts; nil for none.
func toAuthJSON(a *domain.Auth) *authJSON {
	if a == nil {
		return nil
	}
	p := a.Public()
	return &authJSON{
		Type: p.Type, Username: p.Username, TokenURL: p.TokenURL, ClientID: p.ClientID, Scopes: p.Scopes,
		Audience: p.Audience, ClientAuth: p.ClientAuth, CertPEM: p.CertPEM, CAPEM: p.CAPEM, SecretSet: a.SecretSet(),
	}
}

// authInput is the auth field of an endpoint write: absent (set false), null (removes
// the credentials) or a domain.Auth object, decoded strictly. secret_set, as answered
// by a read, is accepted and ignored, so that an endpoint can be sent back as read.
type authInput struct {
	set  bool
	null bool
	v    authFields
}

// authFields are the fields auth takes.
type authFields struct {
	domain.Auth
	SecretSet *bool `json:"secret_set"` // ignored
}

// UnmarshalJSON implements json.Unmarshaler.
func (in *authInput) UnmarshalJSON(b []byte) error {
	in.set = true
	if string(b) == "null" {
		in.null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in.v); err != nil {
		return authDecodeError(err)
	}
	return nil
}

// authDecodeError names the auth field a decoding error is about, with the codes of
// the top level's errors.
func authDecodeError(err error) error {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return errorf(http.StatusBadRequest, codeWrongType, "field \"auth\" must be an object or null; found %s", jsonKind(te.Value))
		}
		field := strings.TrimPrefix(te.Field, "Auth.") // the embedded domain.Auth
		return errorf(http.StatusBadRequest, codeWrongType, "field \"auth.%s\" must be %s; found %s", field, jsonTypeName(te.Type), jsonKind(te.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return errorf(http.StatusBadRequest, codeUnknownField, "unknown field %s in auth; it takes type, username, password, token, "+
			"token_url, client_id, client_secret, scopes, audience, client_auth, cert_pem, key_pem and ca_pem", name)
	}
	return jsonError(err)
}

// applyAuth validates the auth of an endpoint write and sets it on e: null removes the
// credentials; secrets left out of credentials of the same type are kept.
func (s *server) applyAuth(ctx context.Context, in authInput, e *domain.Endpoint) error {
	if !in.set {
		return nil
	}
	if in.null {
		e.Auth = nil
		return nil
	}
	if e.IsListener() {
		return invalidField("auth", "cannot be set on a herald listen endpoint")
	}
	a := in.v.Auth
	a.KeepSecrets(e.Auth)
	if err := a.Check(ctx, func(ctx context.Context, u string) error { return s.guard.CheckURL(ctx, u, s.resolver) }); err != nil {
		return err
	}
	e.Auth = &a
	return nil
}

// applyTransformation validates the transformation of an endpoint write by compiling
// it in the delivery sandbox, and sets it on e; "" removes it.
func (s *server) applyTransformation(ctx context.Context, in opt[string], e *domain.Endpoint) error {
	if !in.set {
		return nil
	}
	if in.v != "" {
		if e.IsListener() {
			return invalidField("transformation", "cannot be set on a herald listen endpoint")
		}
		if _, err := s.sandbox.Compile(ctx, in.v); err != nil {
			if te, ok := errors.AsType[*transform.Error](err); ok {
				return invalidField("transformation", "does not compile: %s", te.Error())
			}
			return err
		}
	}
	e.Transformation = in.v
	return nil
}
