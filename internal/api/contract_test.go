package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/api/openapitest"
)

// failures collects what a Validator reports, in place of a *testing.T.
type failures []string

func (f *failures) Helper() {}

func (f *failures) Errorf(format string, args ...any) { *f = append(*f, fmt.Sprintf(format, args...)) }

// TestContractCheckerCatchesDrift makes sure the check every test's answers go
// through (env.http) fails for each kind of departure from openapi.yaml, so that a
// passing suite means the answers match the document.
func TestContractCheckerCatchesDrift(t *testing.T) {
	v, err := openapitest.New(context.Background(), openapiYAML)
	if err != nil {
		t.Fatal(err)
	}
	const app = `{"id":"app_01JD3XK5M2Q8W0RZ7C4T6YB9HN","name":"Acme","metadata":{},"created_at":"2026-11-26T12:00:00.123Z","updated_at":"2026-11-26T12:00:00.123Z"}`
	const notFound = `{"error":{"code":"not_found","message":"no"}}`
	cases := []struct {
		name, method, path string
		request            string // the request body, JSON
		status             int
		header             map[string]string
		body               string
		want               string // in the failure; "" for none
	}{
		{"documented answer", "GET", "/v1/apps/acme", "", 200, nil, app, ""},
		{"documented error", "GET", "/v1/apps/acme", "", 404, nil, notFound, ""},
		{"unknown path answered 404", "GET", "/v1/nothing", "", 404, nil, notFound, ""},
		{"unknown path answered 200", "GET", "/v1/nothing", "", 200, nil, app, "not in the document"},
		{"unknown method answered 405", "PUT", "/v1/apps", "", 405, map[string]string{"Allow": "GET, POST"}, `{"error":{"code":"method_not_allowed","message":"no"}}`, ""},
		{"405 without Allow", "PUT", "/v1/apps", "", 405, nil, `{"error":{"code":"method_not_allowed","message":"no"}}`, "Allow"},
		{"undocumented status", "GET", "/v1/apps/acme", "", 418, nil, notFound, "status is not supported"},
		{"undocumented property", "GET", "/v1/apps/acme", "", 200, nil, strings.Replace(app, `"name"`, `"nickname":"x","name"`, 1), "nickname"},
		{"missing required property", "GET", "/v1/apps/acme", "", 200, nil, strings.Replace(app, `"metadata":{},`, "", 1), "metadata"},
		{"wrong type", "GET", "/v1/apps/acme", "", 200, nil, strings.Replace(app, `"Acme"`, `42`, 1), "name"},
		{"bad time", "GET", "/v1/apps/acme", "", 200, nil, strings.Replace(app, `"2026-11-26T12:00:00.123Z"`, `"yesterday"`, 1), "created_at"},
		{"undocumented error code", "GET", "/v1/apps/acme", "", 404, nil, `{"error":{"code":"gone_fishing","message":"no"}}`, "code"},
		{"error without message", "GET", "/v1/apps/acme", "", 404, nil, `{"error":{"code":"not_found"}}`, "message"},
		{"body on 204", "DELETE", "/v1/apps/acme", "", 204, nil, notFound, "no body"},
		{"request the document refuses, taken", "POST", "/v1/apps", `{"name":""}`, 201, nil, app, "request"},
		{"request the document refuses, refused", "POST", "/v1/apps", `{"name":""}`, 400, nil, `{"error":{"code":"invalid_field","message":"no"}}`, ""},
		{"401 without WWW-Authenticate", "GET", "/v1/apps", "", 401, nil, `{"error":{"code":"unauthorized","message":"no"}}`, "WWW-Authenticate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				if tc.body != "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			var got failures
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.request))
			if tc.request != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			v.Handler(&got, h).ServeHTTP(rec, r)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("reported a failure for a documented answer: %v", got)
			case tc.want != "" && len(got) == 0:
				t.Errorf("reported nothing, want a failure about %q", tc.want)
			case tc.want != "" && !strings.Contains(got[0], tc.want):
				t.Errorf("reported %q, want it to mention %q", got[0], tc.want)
			}
		})
	}
}

// TestWireTypesMatchDocument checks the Go types the API encodes its answers from
// and decodes request bodies into against their schemas in openapi.yaml, both ways:
// a field the document lacks, a property without a field, a required property that
// may be left out of an answer, or a type that cannot hold the property's fails.
func TestWireTypesMatchDocument(t *testing.T) {
	v, err := openapitest.New(context.Background(), openapiYAML)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		schema string
		typ    reflect.Type
		use    openapitest.Use
		except []string
	}{
		{"Error", reflect.TypeFor[errorBody](), openapitest.Answer, nil},
		{"App", reflect.TypeFor[appJSON](), openapitest.Answer, nil},
		{"AppList", reflect.TypeFor[list[appJSON]](), openapitest.Answer, nil},
		{"APIKey", reflect.TypeFor[keyJSON](), openapitest.Answer, nil},
		{"APIKeyList", reflect.TypeFor[list[keyJSON]](), openapitest.Answer, nil},
		{"Endpoint", reflect.TypeFor[endpointJSON](), openapitest.Answer, nil},
		{"EndpointList", reflect.TypeFor[list[endpointJSON]](), openapitest.Answer, nil},
		{"EndpointSecrets", reflect.TypeFor[secretsJSON](), openapitest.Answer, nil},
		{"ReplayResult", reflect.TypeFor[replayJSON](), openapitest.Answer, nil},
		{"Message", reflect.TypeFor[messageJSON](), openapitest.Answer, nil},
		{"MessageList", reflect.TypeFor[list[messageJSON]](), openapitest.Answer, nil},
		{"BatchResult", reflect.TypeFor[batchResultJSON](), openapitest.Answer, nil},
		{"Delivery", reflect.TypeFor[deliveryJSON](), openapitest.Answer, nil},
		{"DeliveryList", reflect.TypeFor[list[deliveryJSON]](), openapitest.Answer, nil},
		{"Attempt", reflect.TypeFor[attemptJSON](), openapitest.Answer, nil},
		{"AttemptList", reflect.TypeFor[list[attemptJSON]](), openapitest.Answer, nil},
		{"Source", reflect.TypeFor[sourceJSON](), openapitest.Answer, nil},
		{"SourceList", reflect.TypeFor[list[sourceJSON]](), openapitest.Answer, nil},
		{"Rejection", reflect.TypeFor[rejectionJSON](), openapitest.Answer, nil},
		{"RejectionList", reflect.TypeFor[list[rejectionJSON]](), openapitest.Answer, nil},
		{"Status", reflect.TypeFor[statusJSON](), openapitest.Answer, nil},

		{"AppCreate", reflect.TypeFor[appInput](), openapitest.Decoded, nil},
		{"AppUpdate", reflect.TypeFor[appInput](), openapitest.Decoded, nil},
		{"APIKeyCreate", reflect.TypeFor[keyInput](), openapitest.Decoded, nil},
		{"EndpointCreate", reflect.TypeFor[endpointInput](), openapitest.Decoded, nil},
		// secret is decoded to refuse it with a pointer to .../secret/rotate.
		{"EndpointUpdate", reflect.TypeFor[endpointInput](), openapitest.Decoded, []string{"secret"}},
		{"RotateSecret", reflect.TypeFor[rotateInput](), openapitest.Decoded, nil},
		{"Replay", reflect.TypeFor[replayInput](), openapitest.Decoded, nil},
		{"MessageCreate", reflect.TypeFor[messageInput](), openapitest.Decoded, nil},
		{"BatchCreate", reflect.TypeFor[batchInput](), openapitest.Decoded, nil},
		{"SourceCreate", reflect.TypeFor[sourceInput](), openapitest.Decoded, nil},
		{"SourceUpdate", reflect.TypeFor[sourceInput](), openapitest.Decoded, nil},
		{"FilterTest", reflect.TypeFor[filterTestInput](), openapitest.Decoded, nil},
		{"FilterTestResult", reflect.TypeFor[filterTestJSON](), openapitest.Answer, nil},
		{"TransformationTest", reflect.TypeFor[transformTestInput](), openapitest.Decoded, nil},
		{"TransformationTestResult", reflect.TypeFor[transformTestJSON](), openapitest.Answer, nil},
		{"AppReplay", reflect.TypeFor[appReplayInput](), openapitest.Decoded, nil},
		{"ReplayJob", reflect.TypeFor[replayJobJSON](), openapitest.Answer, nil},
		{"ReplayJobList", reflect.TypeFor[list[replayJobJSON]](), openapitest.Answer, nil},
		{"Listener", reflect.TypeFor[listenerJSON](), openapitest.Answer, nil},
		{"ListenerList", reflect.TypeFor[list[listenerJSON]](), openapitest.Answer, nil},
		{"Node", reflect.TypeFor[nodeJSON](), openapitest.Answer, nil},
		{"NodeList", reflect.TypeFor[nodesJSON](), openapitest.Answer, nil},
		{"TransformationTemplateList", reflect.TypeFor[list[templateJSON]](), openapitest.Answer, nil},
	}
	for _, tc := range cases {
		for _, err := range v.CheckType(tc.schema, tc.typ, tc.use, tc.except...) {
			t.Errorf("%v: %v", tc.typ, err)
		}
	}
}
