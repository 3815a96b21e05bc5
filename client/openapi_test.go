package client_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/api/openapitest"
	"github.com/heraldhq/herald/internal/domain"
)

// TestTypesMatchDocument checks every request and answer type of the client against
// its schema in openapi.yaml, both ways (field names, required properties never
// omitempty in answers, optional ones omitempty in requests, field types), and the
// client's constants against the document's enums, so that the client cannot drift
// from the API it calls.
func TestTypesMatchDocument(t *testing.T) {
	v, err := openapitest.New(context.Background(), api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]reflect.Type{
		"Error":           reflect.TypeFor[client.ErrorBody](),
		"App":             reflect.TypeFor[client.App](),
		"AppList":         reflect.TypeFor[client.List[client.App]](),
		"APIKey":          reflect.TypeFor[client.APIKey](),
		"APIKeyList":      reflect.TypeFor[client.List[client.APIKey]](),
		"Endpoint":        reflect.TypeFor[client.Endpoint](),
		"EndpointList":    reflect.TypeFor[client.List[client.Endpoint]](),
		"EndpointSecret":  reflect.TypeFor[client.EndpointSecret](),
		"EndpointSecrets": reflect.TypeFor[client.Secrets](),
		"ReplayResult":    reflect.TypeFor[client.ReplayResult](),
		"Message":         reflect.TypeFor[client.Message](),
		"MessageList":     reflect.TypeFor[client.List[client.Message]](),
		"BatchResult":     reflect.TypeFor[client.BatchResult](),
		"BatchResultList": reflect.TypeFor[client.BatchResults](),
		"Delivery":        reflect.TypeFor[client.Delivery](),
		"DeliveryList":    reflect.TypeFor[client.List[client.Delivery]](),
		"Attempt":         reflect.TypeFor[client.Attempt](),
		"AttemptList":     reflect.TypeFor[client.List[client.Attempt]](),
		"Source":          reflect.TypeFor[client.Source](),
		"SourceList":      reflect.TypeFor[client.List[client.Source]](),
		"SecretsList":     reflect.TypeFor[client.SourceSecrets](),
		"Rejection":       reflect.TypeFor[client.Rejection](),
		"RejectionList":   reflect.TypeFor[client.List[client.Rejection]](),
		"Status":          reflect.TypeFor[client.Status](),
		"ReplayJob":       reflect.TypeFor[client.ReplayJob](),
		"ReplayJobList":   reflect.TypeFor[client.List[client.ReplayJob]](),
	}
	requests := map[string]reflect.Type{
		"AppCreate":      reflect.TypeFor[client.AppInput](),
		"AppUpdate":      reflect.TypeFor[client.AppUpdate](),
		"APIKeyCreate":   reflect.TypeFor[client.APIKeyInput](),
		"EndpointCreate": reflect.TypeFor[client.EndpointInput](),
		"EndpointUpdate": reflect.TypeFor[client.EndpointUpdate](),
		"RotateSecret":   reflect.TypeFor[client.RotateSecretInput](),
		"Replay":         reflect.TypeFor[client.ReplayInput](),
		"MessageCreate":  reflect.TypeFor[client.MessageInput](),
		"SourceCreate":   reflect.TypeFor[client.SourceInput](),
		"SourceUpdate":   reflect.TypeFor[client.SourceInput](),
		"HMACConfig":     reflect.TypeFor[client.HMACConfig](),
		"TestEvent":      reflect.TypeFor[client.TestEventInput](),
		"AppReplay":      reflect.TypeFor[client.AppReplayInput](),
	}
	for schema, typ := range answers {
		for _, err := range v.CheckType(schema, typ, openapitest.Answer) {
			t.Errorf("%v: %v", typ, err)
		}
	}
	for schema, typ := range requests {
		for _, err := range v.CheckType(schema, typ, openapitest.Request) {
			t.Errorf("%v: %v", typ, err)
		}
	}

	// Every enum of those schemas has the client's constants, no more and no fewer;
	// the table is by property path, or by schema and path where the path alone is ambiguous.
	codes := []string{client.CodeMalformedJSON, client.CodeUnknownField, client.CodeWrongType, client.CodeInvalidField,
		client.CodeInvalidQuery, client.CodeURLNotAllowed, client.CodeUnauthorized, client.CodeForbidden,
		client.CodeNotFound, client.CodeMethodNotAllowed, client.CodeConflict, client.CodePayloadTooLarge,
		client.CodeUnsupportedMediaType, client.CodeInternal, client.CodeUnavailable, client.CodeNotImplemented,
		client.CodeUpgradeRequired, client.CodeCSRFFailed, client.CodeInvalidToken, client.CodeRateLimited}
	encodings := []string{"", client.HMACHex, client.HMACBase64}
	algorithms := []string{"", client.HMACSHA256, client.HMACSHA1, client.HMACSHA512}
	enums := map[string][]string{
		"error.code":       codes,
		"state":            {client.EndpointEnabled, client.EndpointPaused, client.EndpointDisabled},
		"payload_encoding": {client.PayloadText, client.PayloadBase64},
		"Delivery status":  {client.DeliveryPending, client.DeliverySucceeded, client.DeliveryFailed, client.DeliveryCancelled},
		"Replay status":    {client.DeliverySucceeded, client.DeliveryFailed, client.DeliveryCancelled},
		"AppReplay status": {client.DeliverySucceeded, client.DeliveryFailed, client.DeliveryCancelled},
		"ReplayJob state":  {client.ReplayRunning, client.ReplayDone, client.ReplayCancelled, client.ReplayFailed},
		"outcome":          {client.OutcomeSucceeded, client.OutcomeRetrying, client.OutcomeFailed, client.OutcomeCancelled},
		"auth.type":        {client.AuthBasic, client.AuthBearer, client.AuthOAuth2, client.AuthMTLS},
		"auth.client_auth": {client.ClientAuthHeader, client.ClientAuthBody},
		"provider":         {client.ProviderOpenAI, client.ProviderStandard, client.ProviderSvix, client.ProviderStripe, client.ProviderGitHub, client.ProviderShopify, client.ProviderSlack, client.ProviderHMAC},
		"encoding":         encodings,
		"hmac.encoding":    encodings,
		"algorithm":        algorithms,
		"hmac.algorithm":   algorithms,
	}
	for schema := range answers {
		checkEnums(t, v, schema, enums)
	}
	for schema := range requests {
		checkEnums(t, v, schema, enums)
	}
}

// checkEnums compares every enum of the schema with the constants of enums.
func checkEnums(t *testing.T, v *openapitest.Validator, schema string, enums map[string][]string) {
	t.Helper()
	for _, path := range v.Enums(schema) {
		want, ok := enums[schema+" "+path]
		if !ok {
			want, ok = enums[path]
		}
		got := v.Enum(schema, strings.Split(path, ".")...)
		if !ok {
			t.Errorf("%s.%s has an enum, %q, that the client has no constants for", schema, path, got)
			continue
		}
		slices.Sort(got)
		if want = slices.Sorted(slices.Values(want)); !slices.Equal(got, want) {
			t.Errorf("%s.%s: the document's enum is %q, the client's constants %q", schema, path, got, want)
		}
	}
}

// TestOperationalEventTypesMatchServer checks the client's operational event type
// constants against the server's list: the client is public and cannot import it.
func TestOperationalEventTypesMatchServer(t *testing.T) {
	got := []string{
		client.OpEndpointCreated, client.OpEndpointUpdated, client.OpEndpointDeleted, client.OpEndpointDisabled, client.OpEndpointEnabled,
		client.OpAttemptFailing, client.OpAttemptExhausted, client.OpAttemptRecovered, client.OpRejectionsSpiking,
	}
	if want := domain.OperationalEventTypes(); !slices.Equal(got, want) {
		t.Errorf("the client's operational event types are %q, the server's %q", got, want)
	}
}
