// Package openapitest checks HTTP exchanges with herald's API against its OpenAPI
// document, for tests: wrap the API handler with [Validator.Handler], or a client's
// transport with [Validator.Transport], and every answer that the document does not
// describe (an undocumented route or status, a missing header, a JSON body that does
// not match its schema) is reported as a test failure. A request the server took
// (answered 2xx) is checked against the document as well: what the server accepts,
// the document must allow.
//
// Bodies that are not JSON are not checked beyond their status and headers: the
// document itself (application/yaml) and the 101 answer of a WebSocket handshake
// (GET /v1/listen), whose messages [Validator.CheckSchema] checks instead.
package openapitest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Reporter is where failures go: a *testing.T or *testing.B.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// Validator checks requests and answers against one OpenAPI document; it is safe for
// concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// New loads and validates the OpenAPI document spec and returns a Validator for it.
//
// Response objects are checked as closed: a property the document does not list
// fails, though the document does not say additionalProperties: false (which would
// forbid clients to accept fields added later). Where the document says
// additionalProperties, that stands.
func New(ctx context.Context, spec []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(ctx, openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	closeResponseObjects(doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// Document returns the loaded document, for tests that read it.
func (v *Validator) Document() *openapi3.T { return v.doc }

// schemaOptions are the options of every schema check.
func schemaOptions() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{openapi3.MultiErrors(), openapi3.EnableFormatValidation(), openapi3.DisableSchemaErrorDetails()}
}

// CheckSchema reports how value (decoded JSON, as from json.Unmarshal into an any)
// departs from the component schema name, such as "ListenHello".
func (v *Validator) CheckSchema(name string, value any) error {
	ref := v.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("the document has no schema %s", name)
	}
	if err := ref.Value.VisitJSON(value, append(schemaOptions(), openapi3.VisitAsResponse())...); err != nil {
		return fmt.Errorf("does not match the schema %s: %w", name, err)
	}
	return nil
}

// CheckResponse reports how the answer (status, header, body) to r departs from the
// document, and, when the answer is 2xx, how r does. A path the document does not
// have must be answered 404, and a method it does not have on a path 405, as its
// conventions say. The body of r, if any, must be readable with r.GetBody.
func (v *Validator) CheckResponse(ctx context.Context, r *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.router.FindRoute(r)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		if status != http.StatusNotFound {
			return fmt.Errorf("the path is not in the document, yet it was answered %d", status)
		}
		route, err = v.conventionRoute(r, status, "NotFound")
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if status != http.StatusMethodNotAllowed {
			return fmt.Errorf("the path is in the document without the method %s, yet it was answered %d", r.Method, status)
		}
		route, err = v.conventionRoute(r, status, "MethodNotAllowed")
	}
	if err != nil {
		return fmt.Errorf("find the operation: %w", err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, SchemaValidationOptions: schemaOptions(),
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	if status >= 200 && status <= 299 && params != nil {
		// The server took the request: the document must allow it too.
		rin := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(ctx, rin); err != nil {
			return fmt.Errorf("the server took a request the document does not allow: %w", err)
		}
	}
	ct := header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
		opts.ExcludeResponseBody = true // only JSON bodies are checked
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return err
	}
	// Checks ValidateResponse leaves out: a body where the document has none, and
	// a Content-Type that the document does not give.
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return nil
	}
	content := resp.Value.Content
	switch {
	case len(content) == 0 && len(body) > 0 && status != http.StatusSwitchingProtocols:
		return fmt.Errorf("status %d has no body in the document, yet the answer has %d bytes (%s)", status, len(body), ct)
	case len(content) > 0 && content.Get(ct) == nil:
		return fmt.Errorf("status %d: Content-Type %q is not in the document", status, ct)
	}
	return nil
}

// conventionRoute is an operation made up for a request the document's paths do not
// cover, whose only answer is the component response name (NotFound, MethodNotAllowed).
func (v *Validator) conventionRoute(r *http.Request, status int, name string) (*routers.Route, error) {
	resp := v.doc.Components.Responses[name]
	if resp == nil {
		return nil, fmt.Errorf("the document has no response %s", name)
	}
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(status, resp))
	return &routers.Route{Spec: v.doc, Path: r.URL.Path, Method: r.Method, Operation: op}, nil
}

// Handler returns h wrapped so that every answer it gives is checked with
// CheckResponse; a failure is reported to t, naming the request.
func (v *Validator) Handler(t Reporter, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The request as the client sent it: handlers may change r.
		checked := r.Clone(r.Context())
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				t.Errorf("%s %s: read the request body: %v", r.Method, r.URL.RequestURI(), err)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			checked.Body = io.NopCloser(bytes.NewReader(body))
			checked.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		rec := &recorder{ResponseWriter: w}
		rec.hijacked = func() { v.report(t, checked, rec.status, rec.Header(), nil) }
		h.ServeHTTP(rec, r)
		if rec.isHijacked {
			return // checked when it was hijacked
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		v.report(t, checked, rec.status, rec.Header(), rec.body.Bytes())
	})
}

// report checks one answer and reports a failure to t.
func (v *Validator) report(t Reporter, r *http.Request, status int, header http.Header, body []byte) {
	if err := v.CheckResponse(context.Background(), r, status, header, body); err != nil {
		t.Helper()
		t.Errorf("%s %s: answer %d does not match openapi.yaml: %v\nbody: %.2000s", r.Method, r.URL.RequestURI(), status, err, body)
	}
}

// recorder passes an answer through to the client and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status     int
	body       bytes.Buffer
	hijacked   func()
	isHijacked bool
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush implements http.Flusher.
func (r *recorder) Flush() { http.NewResponseController(r.ResponseWriter).Flush() }

// Hijack implements http.Hijacker, for WebSocket handshakes: the answer so far (the
// 101 status and its headers) is checked, and nothing after it.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && !r.isHijacked {
		r.isHijacked = true
		if r.status == 0 {
			r.status = http.StatusSwitchingProtocols
		}
		r.hijacked()
	}
	return conn, rw, err
}

// Transport returns rt (http.DefaultTransport if nil) wrapped so that every answer
// that passes through it is checked with CheckResponse; a failure is reported to t.
// Use it in the *http.Client of a client that talks to a real herald server.
func (v *Validator) Transport(t Reporter, rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &transport{v: v, t: t, next: rt}
}

type transport struct {
	v    *Validator
	t    Reporter
	next http.RoundTripper
	mu   sync.Mutex // serializes reports, for readable output
}

func (tr *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := tr.next.RoundTrip(r)
	if err != nil || resp.StatusCode == http.StatusSwitchingProtocols {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	checked := r.Clone(context.Background()) // a RoundTripper must not change r
	if r.GetBody != nil {
		if checked.Body, err = r.GetBody(); err != nil {
			return nil, err
		}
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.v.report(tr.t, checked, resp.StatusCode, resp.Header, body)
	return resp, nil
}

// closeResponseObjects makes every object schema with properties and without
// additionalProperties closed, so that an answer with a property the document does
// not list fails. An allOf of objects (such as BatchResult, a Message and more) is
// first merged into one object, since each part, closed, would refuse the other's.
func closeResponseObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	merged := map[*openapi3.Schema]*openapi3.Schema{} // an allOf schema → its merged copy
	var walk func(s *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil {
			return
		}
		if m, ok := merged[ref.Value]; ok {
			ref.Value = m // every reference resolves to its own pointer to the schema
			return
		}
		s := ref.Value
		if seen[s] {
			return
		}
		seen[s] = true
		if m := mergeAllOf(s); m != nil {
			merged[s], ref.Value, s = m, m, m
			seen[s] = true
		}
		if s.Type.Is(openapi3.TypeObject) && len(s.Properties) > 0 &&
			s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, sub := range list {
				walk(sub)
			}
		}
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref)
	}
	for _, resp := range doc.Components.Responses {
		walkContent(resp.Value, walk)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, resp := range op.Responses.Map() {
				walkContent(resp.Value, walk)
			}
		}
	}
}

func walkContent(resp *openapi3.Response, walk func(*openapi3.SchemaRef)) {
	if resp == nil {
		return
	}
	for _, mt := range resp.Content {
		walk(mt.Schema)
	}
}

// mergeAllOf returns a copy of s with its allOf of objects merged into its own
// properties and required, or nil when s is not such a schema.
func mergeAllOf(s *openapi3.Schema) *openapi3.Schema {
	if len(s.AllOf) < 2 {
		return nil
	}
	merged := *s
	merged.AllOf = nil
	merged.Type = &openapi3.Types{openapi3.TypeObject}
	merged.Properties = openapi3.Schemas{}
	merged.Required = append([]string(nil), s.Required...)
	for k, p := range s.Properties {
		merged.Properties[k] = p
	}
	for _, part := range s.AllOf {
		p := part.Value
		if p == nil || !p.Type.Is(openapi3.TypeObject) || len(p.AllOf) > 0 {
			return nil
		}
		for k, prop := range p.Properties {
			merged.Properties[k] = prop
		}
		merged.Required = append(merged.Required, p.Required...)
	}
	return &merged
}

// DocumentedCodes returns the error codes of the Error schema's enum.
func (v *Validator) DocumentedCodes() []string {
	var codes []string
	if ref := v.doc.Components.Schemas["Error"]; ref != nil && ref.Value != nil {
		if e := ref.Value.Properties["error"]; e != nil && e.Value != nil {
			if c := e.Value.Properties["code"]; c != nil && c.Value != nil {
				for _, v := range c.Value.Enum {
					codes = append(codes, fmt.Sprint(v))
				}
			}
		}
	}
	return codes
}

// Operations returns the document's operations as "METHOD /path".
func (v *Validator) Operations() map[string]bool {
	ops := map[string]bool{}
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			ops[strings.ToUpper(method)+" "+path] = true
		}
	}
	return ops
}
