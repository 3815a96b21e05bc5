package openai

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/client"
	whopenai "github.com/heraldhq/herald/webhook/openai"
)

// Limits of the webhook endpoint management API, as OpenAI documents them, and the
// emulator's own.
const (
	maxEndpointName            = 256      // characters of name
	maxEndpointURL             = 2048     // bytes of url
	maxEndpointBody            = 64 << 10 // a create, update, rotate or test body
	defaultEndpointPage        = 20
	maxEndpointPage            = 100
	defaultMaxWebhookEndpoints = 1000
	endpointIDPrefix           = "whe_" // OpenAI's; herald's "ep_X" is "whe_X" here
	heraldIDPrefix             = "ep_"
)

// openAIID returns the id the API shows for the herald endpoint with id heraldID.
func openAIID(heraldID string) string {
	return endpointIDPrefix + strings.TrimPrefix(heraldID, heraldIDPrefix)
}

// heraldID returns the herald id of the endpoint the API calls id, or "" if id is
// not the id of one.
func heraldID(id string) string {
	rest, ok := strings.CutPrefix(id, endpointIDPrefix)
	if !ok || rest == "" || strings.ContainsAny(rest, "/?#%") {
		return ""
	}
	return heraldIDPrefix + rest
}

// endpointParams are the members of a create or update request; nil is absent.
type endpointParams struct {
	name, url  *string
	eventTypes []string
}

// endpointParam reports whether name is a member of a create or update request.
func endpointParam(name string) bool {
	return name == "name" || name == "url" || name == "event_types"
}

// readEndpointParams reads and checks the body of a create request (every member
// required) or of an update request (every member optional).
func readEndpointParams(r *http.Request, create bool) (*endpointParams, *apiError) {
	m, err := readObjectMax(r, maxEndpointBody)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(m, endpointParam); err != nil {
		return nil, err
	}
	var p endpointParams
	for _, f := range []struct {
		name string
		dst  **string
	}{{"name", &p.name}, {"url", &p.url}} {
		var s string
		ok, err := member(m, f.name, "a string", &s)
		if err != nil {
			return nil, err
		}
		if ok {
			*f.dst = &s
		} else if create {
			return nil, missing(f.name)
		}
	}
	var types []string
	ok, err := member(m, "event_types", "an array of strings", &types)
	if err != nil {
		return nil, err
	}
	if ok {
		if p.eventTypes, err = checkEventTypes(types); err != nil {
			return nil, err
		}
	} else if create {
		return nil, missing("event_types")
	}
	if p.name != nil {
		if err := checkEndpointName(*p.name); err != nil {
			return nil, err
		}
	}
	if p.url != nil {
		if err := checkEndpointURL(*p.url); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// readOnly reads a body whose one member is name: it decodes it into dst and
// reports whether it was there; any other member is refused.
func readOnly[T any](r *http.Request, name, want string, dst *T) (bool, *apiError) {
	m, err := readObjectMax(r, maxEndpointBody)
	if err != nil {
		return false, err
	}
	if err := checkKeys(m, func(k string) bool { return k == name }); err != nil {
		return false, err
	}
	return member(m, name, want, dst)
}

func missing(param string) *apiError {
	return invalid(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
}

func checkEndpointName(name string) *apiError {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return invalid("name", "string_below_min_length", "Invalid 'name': empty string. Expected a string with minimum length 1, but got an empty string instead.")
	case n > maxEndpointName:
		return invalid("name", "string_above_max_length",
			"Invalid 'name': string too long. Expected a string with maximum length %d, but got a string with length %d instead.", maxEndpointName, n)
	}
	return nil
}

// checkEndpointURL checks the form of a webhook URL; herald then checks where it points.
func checkEndpointURL(raw string) *apiError {
	if len(raw) > maxEndpointURL {
		return invalid("url", "string_above_max_length",
			"Invalid 'url': string too long. Expected a string with maximum length %d, but got a string with length %d instead.", maxEndpointURL, len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid("url", "invalid_url",
			"Invalid 'url': '%s' is not an https:// URL (the emulator also accepts http:// for a receiver on your machine).", raw)
	}
	return nil
}

// checkEventTypes checks an event_types list: at least one type, each in herald's
// OpenAI catalogue. It returns the list without repeats, in order.
func checkEventTypes(types []string) ([]string, *apiError) {
	if len(types) == 0 {
		return nil, invalid("event_types", "empty_array",
			"Invalid 'event_types': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	var out []string
	for i, t := range types {
		if !whopenai.IsEventType(t) {
			return nil, unknownEventType(fmt.Sprintf("event_types[%d]", i), t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// unknownEventType refuses a type outside herald's OpenAI catalogue.
func unknownEventType(param, t string) *apiError {
	return invalid(param, "invalid_value", "Invalid value: '%s'. Supported values are: '%s'.",
		truncate(t, 100), strings.Join(whopenai.EventTypes(), "', '"))
}

// truncate cuts s to at most n bytes, on a rune boundary, for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// listParams are the query parameters of GET /v1/webhook_endpoints.
type listParams struct {
	limit int
	after string
}

// parseListParams checks the query of a list request.
func parseListParams(q url.Values) (*listParams, *apiError) {
	p := &listParams{limit: defaultEndpointPage}
	for name, vs := range q {
		switch name {
		case "limit", "after":
			if len(vs) != 1 {
				return nil, invalid(name, "invalid_value", "Invalid '%s': give it once.", name)
			}
		default:
			return nil, invalid(name, "unknown_parameter", "Unknown parameter: '%s'.", truncate(name, 100))
		}
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		switch {
		case err != nil:
			return nil, invalid("limit", "invalid_type", "Invalid type for 'limit': expected an integer, but got '%s' instead.", truncate(v[0], 100))
		case n < 1:
			return nil, invalid("limit", "integer_below_min_value", "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got %d instead.", n)
		case n > maxEndpointPage:
			return nil, invalid("limit", "integer_above_max_value", "Invalid 'limit': integer above maximum value. Expected a value <= %d, but got %d instead.", maxEndpointPage, n)
		}
		p.limit = n
	}
	if v, ok := q["after"]; ok {
		if heraldID(v[0]) == "" {
			return nil, invalid("after", "invalid_value", "Invalid 'after': '%s' is not a webhook endpoint id.", truncate(v[0], 100))
		}
		p.after = v[0]
	}
	return p, nil
}

// heraldError turns an error of the herald API about the endpoint the API calls id
// into OpenAI's shape.
func heraldError(err error, id string) *apiError {
	var he *client.Error
	if !errors.As(err, &he) {
		return &apiError{status: http.StatusInternalServerError, typ: "server_error",
			message: fmt.Sprintf("The herald server behind the emulator failed: %v", err)}
	}
	switch {
	case he.Status == http.StatusNotFound:
		return notFound("Webhook endpoint", id)
	case he.Code == client.CodeURLNotAllowed || strings.HasPrefix(he.Message, "url "):
		return invalid("url", "invalid_url", "Invalid 'url': herald refused it: %s", he.Message)
	case he.Status == http.StatusRequestEntityTooLarge:
		return &apiError{status: he.Status, typ: "invalid_request_error", code: he.Code, message: he.Message}
	case he.Status >= 400 && he.Status < 500:
		// 400, not herald's own status: the SDKs retry a 409 or 429, and these do not pass by themselves.
		return invalid("", he.Code, "Herald refused the request: %s", he.Message)
	}
	return &apiError{status: http.StatusInternalServerError, typ: "server_error",
		message: fmt.Sprintf("The herald server behind the emulator failed: %s", he.Message)}
}
