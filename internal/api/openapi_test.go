package api

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t)
	resp := e.do(req{method: "GET", path: "/openapi.yaml"})
	if resp.status != 200 || resp.header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /openapi.yaml: %d %s", resp.status, resp.header.Get("Content-Type"))
	}
	if !bytes.Equal(resp.body, openapiYAML) {
		t.Error("GET /openapi.yaml does not serve the embedded document")
	}
	doc := string(resp.body)
	if !strings.HasPrefix(doc, "openapi: 3.") {
		t.Errorf("the document starts with %.20q", doc)
	}
	if strings.Contains(doc, "\t") {
		t.Error("the document has tabs, which YAML does not allow for indentation")
	}
	// newEnv loaded the document with kin-openapi and validated it: every reference
	// points at a defined component, every example matches its schema.

	// Every route is documented with its method, and every documented /v1 operation is a route.
	ops := e.contract.Operations()
	routes := map[string]bool{"GET /openapi.yaml": true}
	for _, rt := range e.server.routes() {
		routes[rt.pattern] = true
	}
	for r := range routes {
		if !ops[r] {
			t.Errorf("operation %s is not in openapi.yaml", r)
		}
	}
	var extra []string
	for op := range ops {
		if _, path, _ := strings.Cut(op, " "); strings.HasPrefix(path, "/v1/") && !routes[op] {
			extra = append(extra, op)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("openapi.yaml documents operations that are not routes: %v", extra)
	}

	// POST /in/{source} is documented too, though served by internal/ingest beside this
	// API (so it is not a route), and without an API key.
	if in := e.contract.Document().Paths.Find("/in/{source}"); in == nil || in.Post == nil {
		t.Error("operation POST /in/{source} is not in openapi.yaml")
	} else if sec := in.Post.Security; sec == nil || len(*sec) != 0 {
		t.Error("POST /in/{source} is not documented with security: [] (no API key)")
	}

	// Every error code is documented; not_implemented (sources or listeners without
	// the server support) and upgrade_required (GET /v1/listen without a WebSocket
	// handshake) are answered only by the routes of the receiving gateway.
	codes := e.contract.DocumentedCodes()
	for _, code := range []string{codeMalformedJSON, codeUnknownField, codeWrongType, codeInvalidField, codeInvalidQuery,
		codeURLNotAllowed, codeUnauthorized, codeForbidden, codeNotFound, codeMethodNotAllowed, codeConflict,
		codePayloadTooLarge, codeUnsupportedMedia, codeInternal, codeUnavailable, "not_implemented", "upgrade_required"} {
		if !slices.Contains(codes, code) {
			t.Errorf("error code %s is not in the Error schema's enum", code)
		}
	}
}
