package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/ingest"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/diagnose"
)

// sourceJSON is a Source as answered; secrets are only in GET .../secrets.
type sourceJSON struct {
	ID                  string     `json:"id"`
	AppID               string     `json:"app_id"`
	UID                 string     `json:"uid,omitempty"`
	Name                string     `json:"name"`
	Provider            string     `json:"provider"`
	HMAC                *hmacInput `json:"hmac,omitempty"` // the shape it is given in
	MaxBodyBytes        int64      `json:"max_body_bytes"`
	DedupeWindowSeconds int64      `json:"dedupe_window_seconds"`
	IngestPath          string     `json:"ingest_path"`
	IngestURL           string     `json:"ingest_url"`
	CreatedAt           timestamp  `json:"created_at"`
	UpdatedAt           timestamp  `json:"updated_at"`
}

// ingestPath is where a source receives: /in/{uid} when it has a uid, else /in/{id}.
// Both work; the uid's is the one to give the provider when the source has one.
func ingestPath(s *domain.Source) string {
	if s.UID != "" {
		return "/in/" + s.UID
	}
	return "/in/" + s.ID
}

// sourceConv returns the conversion of sources for answers to r: their ingest_url
// starts with the server's public URL (see baseURL).
func (s *server) sourceConv(r *http.Request) func(*domain.Source) sourceJSON {
	base := s.baseURL(r)
	return func(src *domain.Source) sourceJSON {
		j := toSourceJSON(src)
		j.IngestURL = base + j.IngestPath
		return j
	}
}

func toSourceJSON(s *domain.Source) sourceJSON {
	var h *hmacInput
	if c := s.HMAC; c != nil {
		h = &hmacInput{
			Header: c.Header, Prefix: c.Prefix, Encoding: c.Encoding, Algorithm: c.Algorithm,
			Template: c.Template, TimestampHeader: c.TimestampHeader, IDHeader: c.IDHeader, TypeHeader: c.TypeHeader,
		}
	}
	maxBody, window := s.MaxBodyBytes, s.DedupeWindow
	if maxBody <= 0 {
		maxBody = ingest.DefaultMaxBodyBytes
	}
	if window <= 0 {
		window = ingest.DefaultDedupeWindow
	}
	return sourceJSON{
		ID: s.ID, AppID: s.AppID, UID: s.UID, Name: s.Name, Provider: s.Provider, HMAC: h,
		MaxBodyBytes: maxBody, DedupeWindowSeconds: int64(window / time.Second),
		IngestPath: ingestPath(s), CreatedAt: timestamp(s.CreatedAt), UpdatedAt: timestamp(s.UpdatedAt),
	}
}

// hmacInput configures the generic hmac provider.
type hmacInput struct {
	Header          string `json:"header"`
	Prefix          string `json:"prefix"`
	Encoding        string `json:"encoding"`
	Algorithm       string `json:"algorithm"`
	Template        string `json:"template"`
	TimestampHeader string `json:"timestamp_header"`
	IDHeader        string `json:"id_header"`
	TypeHeader      string `json:"type_header"`
}

// UnmarshalJSON rejects unknown fields, as decodeBody does for the body itself.
func (h *hmacInput) UnmarshalJSON(b []byte) error {
	type plain hmacInput
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(h))
}

// sourceInput is the body of POST and PATCH /v1/apps/{app}/sources[/{src}].
type sourceInput struct {
	UID                 opt[string]    `json:"uid"`
	Name                opt[string]    `json:"name"`
	Provider            opt[string]    `json:"provider"`
	Secret              opt[string]    `json:"secret"`
	Secrets             opt[[]string]  `json:"secrets"`
	HMAC                opt[hmacInput] `json:"hmac"`
	MaxBodyBytes        opt[int64]     `json:"max_body_bytes"`
	DedupeWindowSeconds opt[int64]     `json:"dedupe_window_seconds"`
}

// Bounds on source settings.
const (
	maxSourceBodyBytes = 16 << 20
	maxDedupeWindow    = 30 * 24 * time.Hour
	maxSourceSecrets   = 8
)

func (in *sourceInput) apply(src *domain.Source, create bool) error {
	if err := in.UID.setChecked(&src.UID, domain.CheckSourceUID); err != nil {
		return err
	}
	if in.Name.set {
		if err := domain.CheckName("name", in.Name.v, 0); err != nil {
			return err
		}
		src.Name = in.Name.v
	}
	if in.Provider.set {
		p := strings.ToLower(in.Provider.v)
		known := p == "hmac"
		for _, n := range webhook.ProviderNames() {
			known = known || n == p
		}
		if !known {
			return invalidField("provider", "must be one of %s or hmac, not %q", strings.Join(webhook.ProviderNames(), ", "), in.Provider.v)
		}
		src.Provider = p
	} else if create {
		return invalidField("provider", "is required: one of %s or hmac", strings.Join(webhook.ProviderNames(), ", "))
	}
	switch {
	case in.Secret.set && in.Secrets.set:
		return invalidField("secret", "give secret or secrets, not both")
	case in.Secret.set:
		src.Secrets = []string{in.Secret.v}
	case in.Secrets.set:
		src.Secrets = in.Secrets.v
	case create:
		return invalidField("secret", "is required: the signing secret the provider gave you")
	}
	if len(src.Secrets) == 0 || len(src.Secrets) > maxSourceSecrets {
		return invalidField("secrets", "must hold 1 to %d secrets", maxSourceSecrets)
	}
	for i, sec := range src.Secrets {
		if sec == "" || utf8.RuneCountInString(sec) > 1024 {
			return invalidField("secrets", "secret %d must be 1 to 1024 characters", i+1)
		}
	}
	if in.HMAC.set {
		h := in.HMAC.v
		src.HMAC = &webhook.HMACConfig{
			Name: "hmac", Header: h.Header, Prefix: h.Prefix, Encoding: h.Encoding, Algorithm: h.Algorithm,
			Template: h.Template, TimestampHeader: h.TimestampHeader, IDHeader: h.IDHeader, TypeHeader: h.TypeHeader,
		}
	}
	if src.Provider != "hmac" {
		if in.HMAC.set {
			return invalidField("hmac", "is only for provider hmac")
		}
		src.HMAC = nil
	} else if src.HMAC == nil {
		return invalidField("hmac", "is required for provider hmac: at least the signature header")
	}
	if in.MaxBodyBytes.set {
		if in.MaxBodyBytes.v < 0 || in.MaxBodyBytes.v > maxSourceBodyBytes {
			return invalidField("max_body_bytes", "must be 0 (the default, 1 MiB) to %d", maxSourceBodyBytes)
		}
		src.MaxBodyBytes = in.MaxBodyBytes.v
	}
	if in.DedupeWindowSeconds.set {
		if in.DedupeWindowSeconds.v < 0 || in.DedupeWindowSeconds.v > int64(maxDedupeWindow/time.Second) {
			return invalidField("dedupe_window_seconds", "must be 0 (the default, 72 hours) to %d", int64(maxDedupeWindow/time.Second))
		}
		src.DedupeWindow = time.Duration(in.DedupeWindowSeconds.v) * time.Second
	}
	// The configuration must make a working verifier.
	if _, err := ingest.Verifier(src); err != nil {
		field := "secret"
		if src.Provider == "hmac" {
			field = "hmac"
		}
		return invalidField(field, "%v", err)
	}
	return nil
}

func (s *server) sourceStore() (store.SourceStore, error) {
	if s.sources == nil {
		return nil, errorf(http.StatusNotImplemented, "not_implemented", "this server's database does not support sources")
	}
	return s.sources, nil
}

// createSource serves POST /v1/apps/{app}/sources.
func (s *server) createSource(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.sourceStore(); err != nil {
		return err
	}
	var in sourceInput
	if err := decodeBody(w, r, maxBodyBytes, false, &in); err != nil {
		return err
	}
	now := s.timeNow()
	src := &domain.Source{ID: ids.New("src"), AppID: c.appID, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(src, true); err != nil {
		return err
	}
	err := s.svc.CreateSource(r.Context(), src)
	return writeOne(w, http.StatusCreated, src, storeError(err, "app", c.appID), s.sourceConv(r))
}

// listSources serves GET /v1/apps/{app}/sources.
func (s *server) listSources(w http.ResponseWriter, r *http.Request, c *call) error {
	ss, err := s.sourceStore()
	if err != nil {
		return err
	}
	p, err := pageQuery(r.URL, "src")
	if err != nil {
		return err
	}
	srcs, next, err := ss.ListSources(r.Context(), c.appID, p)
	return writePage(w, "sources", srcs, next, err, s.sourceConv(r))
}

// loadSource returns the source store and the {src} of the request's app.
func (s *server) loadSource(r *http.Request, c *call) (store.SourceStore, *domain.Source, error) {
	ss, err := s.sourceStore()
	if err != nil {
		return nil, nil, err
	}
	src, err := loadPath(r, c, "src", "source", ss.GetSource)
	if err != nil {
		return nil, nil, err
	}
	return ss, src, nil
}

// getSource serves GET /v1/apps/{app}/sources/{src}.
func (s *server) getSource(w http.ResponseWriter, r *http.Request, c *call) error {
	_, src, err := s.loadSource(r, c)
	return writeOne(w, http.StatusOK, src, err, s.sourceConv(r))
}

// getSourceByID serves GET /v1/sources/{src}: a source by id alone, for keys of its app.
func (s *server) getSourceByID(w http.ResponseWriter, r *http.Request, c *call) error {
	ss, err := s.sourceStore()
	if err != nil {
		return err
	}
	id := r.PathValue("src")
	src, err := ss.GetSource(r.Context(), "", id)
	if err != nil {
		return storeError(err, "source", id)
	}
	if c.onlyApp != "" && c.onlyApp != src.AppID {
		return notFound("source", id)
	}
	writeJSON(w, http.StatusOK, s.sourceConv(r)(src))
	return nil
}

// updateSource serves PATCH /v1/apps/{app}/sources/{src}.
func (s *server) updateSource(w http.ResponseWriter, r *http.Request, c *call) error {
	_, src, err := s.loadSource(r, c)
	if err != nil {
		return err
	}
	var in sourceInput
	if err := decodeBody(w, r, maxBodyBytes, false, &in); err != nil {
		return err
	}
	if err := in.apply(src, false); err != nil {
		return err
	}
	src.UpdatedAt = s.timeNow()
	err = s.svc.UpdateSource(r.Context(), src)
	return writeOne(w, http.StatusOK, src, storeError(err, "source", src.ID), s.sourceConv(r))
}

// deleteSource serves DELETE /v1/apps/{app}/sources/{src}.
func (s *server) deleteSource(w http.ResponseWriter, r *http.Request, c *call) error {
	_, src, err := s.loadSource(r, c) // {src} may be the uid: delete by the id it names
	if err != nil {
		return err
	}
	if err := s.svc.DeleteSource(r.Context(), c.appID, src.ID); err != nil {
		return storeError(err, "source", src.ID)
	}
	return noContent(w)
}

// getSourceSecrets serves GET /v1/apps/{app}/sources/{src}/secrets.
func (s *server) getSourceSecrets(w http.ResponseWriter, r *http.Request, c *call) error {
	_, src, err := s.loadSource(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"secrets": src.Secrets})
	return nil
}

// rejectionJSON is a Rejection as answered; the body is text (invalid UTF-8 replaced).
type rejectionJSON struct {
	ID          string             `json:"id"`
	SourceID    string             `json:"source_id"`
	ReceivedAt  timestamp          `json:"received_at"`
	Status      int                `json:"status"`
	Code        string             `json:"code"`
	Message     string             `json:"message"`
	RemoteAddr  string             `json:"remote_addr"`
	Headers     map[string]string  `json:"headers"`
	Body        string             `json:"body"`
	HeaderCount int                `json:"header_count"`
	HeaderBytes int64              `json:"header_bytes"`
	BodyBytes   int64              `json:"body_bytes"`
	Diagnosis   []diagnose.Finding `json:"diagnosis"`
}

func toRejectionJSON(r *domain.Rejection) rejectionJSON {
	return rejectionJSON{
		ID: r.ID, SourceID: r.SourceID, ReceivedAt: timestamp(r.ReceivedAt), Status: r.Status, Code: r.Code,
		Message: r.Message, RemoteAddr: r.RemoteAddr, Headers: nonNil(r.Headers), Body: strings.ToValidUTF8(string(r.Body), "\uFFFD"),
		HeaderCount: r.HeaderCount, HeaderBytes: r.HeaderBytes, BodyBytes: r.BodyBytes,
		Diagnosis: domain.RejectionDiagnosis(r.Diagnosis), // never null
	}
}

// listRejections serves GET /v1/apps/{app}/sources/{src}/rejections.
func (s *server) listRejections(w http.ResponseWriter, r *http.Request, c *call) error {
	ss, src, err := s.loadSource(r, c)
	if err != nil {
		return err
	}
	p, err := pageQuery(r.URL, "rej")
	if err != nil {
		return err
	}
	rs, next, err := ss.ListRejections(r.Context(), c.appID, src.ID, p)
	return writePage(w, "rejections", rs, next, err, toRejectionJSON)
}
