package api

import (
	"bytes"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// openapiOperations returns the "METHOD /path" operations of the OpenAPI document,
// read from its layout: paths at two spaces of indentation, methods at four.
func openapiOperations(doc string) map[string]bool {
	ops := map[string]bool{}
	inPaths := false
	path := ""
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && line != "" && !strings.HasPrefix(line, " "):
			inPaths = false
		case inPaths && strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case inPaths && path != "" && len(line) > 4 && line[:4] == "    " && line[4] != ' ':
			name := strings.TrimSuffix(strings.TrimSpace(line), ":")
			switch name {
			case "get", "put", "post", "patch", "delete", "head", "options":
				ops[strings.ToUpper(name)+" "+path] = true
			}
		}
	}
	return ops
}

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

	// Every route is documented with its method, and every documented /v1 operation is a route.
	ops := openapiOperations(doc)
	routes := map[string]bool{"GET /openapi.yaml": true}
	for _, rt := range e.server.routes() {
		routes[rt.pattern] = true
	}
	for r := range routes {
		_, path, _ := strings.Cut(r, " ")
		if !strings.Contains(doc, "\n  "+path+":\n") {
			t.Errorf("path %s is not in openapi.yaml", path)
		}
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
	if !ops["POST /in/{source}"] {
		t.Error("operation POST /in/{source} is not in openapi.yaml")
	} else {
		_, block, _ := strings.Cut(doc, "\n  /in/{source}:\n")
		if i := strings.Index(block, "\n  /"); i >= 0 {
			block = block[:i]
		}
		block, _, _ = strings.Cut(block, "\ncomponents:")
		if !strings.Contains(block, "\n      security: []\n") {
			t.Error("POST /in/{source} is not documented with security: [] (no API key)")
		}
	}

	// Every error code is documented; not_implemented (sources or listeners without
	// the server support) and upgrade_required (GET /v1/listen without a WebSocket
	// handshake) are answered only by the routes of the receiving gateway.
	for _, code := range []string{codeMalformedJSON, codeUnknownField, codeWrongType, codeInvalidField, codeInvalidQuery,
		codeURLNotAllowed, codeUnauthorized, codeForbidden, codeNotFound, codeMethodNotAllowed, codeConflict,
		codePayloadTooLarge, codeUnsupportedMedia, codeInternal, codeUnavailable, "not_implemented", "upgrade_required"} {
		if !strings.Contains(doc, "- "+code+"\n") {
			t.Errorf("error code %s is not in the Error schema's enum", code)
		}
	}

	// Every local reference points at a defined component.
	components := map[string]bool{}
	section := ""
	inComponents := false
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case line == "components:":
			inComponents = true
		case inComponents && len(line) > 2 && line[:2] == "  " && line[2] != ' ':
			section = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case inComponents && len(line) > 4 && line[:4] == "    " && line[4] != ' ':
			components["#/components/"+section+"/"+strings.TrimSuffix(strings.TrimSpace(line), ":")] = true
		}
	}
	refs := regexp.MustCompile(`\$ref: "([^"]+)"`).FindAllStringSubmatch(doc, -1)
	if len(refs) == 0 {
		t.Fatal("no references found")
	}
	for _, m := range refs {
		if !components[m[1]] {
			t.Errorf("reference %s is not defined", m[1])
		}
	}
}
