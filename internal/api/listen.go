package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

// Listener is what the API needs to run `herald listen` sessions; *relay.Hub is one.
type Listener interface {
	Serve(w http.ResponseWriter, r *http.Request, hello relay.Hello) error
}

var listenerName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// listenerConcurrency is how many deliveries a listener gets at once by default.
const listenerConcurrency = 8

// listen serves GET /v1/listen?app=&source=&name=&events=: it attaches a `herald listen`
// session as a live destination, creating (or updating) the app's listener endpoint
// "listen:<name>", whose secret stays the same across the listener's restarts.
func (s *server) listen(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.listener == nil {
		return errorf(http.StatusNotImplemented, "not_implemented", "this server does not run listeners")
	}
	q := newQuery(r.URL)
	appRef, sourceID, name := q.str("app"), q.str("source"), q.str("name")
	events := q.str("events")
	if name == "" {
		name = "default"
	}
	if !listenerName.MatchString(name) {
		q.fail(invalidQuery("name", "must be 1 to 64 letters, digits, '_', '.' or '-'"))
	}
	if err := q.done(); err != nil {
		return err
	}
	var filter []string
	if events != "" {
		filter = strings.Split(events, ",")
		if err := checkEventFilter(filter); err != nil {
			return invalidQuery("events", "%v", strings.TrimPrefix(err.Error(), codeInvalidField+": "))
		}
	}
	ctx := r.Context()
	appID := ""
	if sourceID != "" {
		ss, err := s.sourceStore()
		if err != nil {
			return err
		}
		src, err := ss.GetSource(ctx, "", sourceID)
		if err != nil {
			return storeError(err, "source", sourceID)
		}
		appID = src.AppID
	}
	if appRef != "" {
		app, err := s.store.GetApp(ctx, appRef)
		if err != nil {
			if c.key.AppID != "" && errors.Is(err, store.ErrNotFound) {
				// As on /v1/apps/{app}: an app key learns nothing about other apps.
				return errorf(http.StatusForbidden, codeForbidden, "this API key is not for app %q", appRef)
			}
			return storeError(err, "app", appRef)
		}
		if appID != "" && app.ID != appID {
			return invalidQuery("source", "source %s belongs to another app", sourceID)
		}
		appID = app.ID
	}
	if appID == "" {
		return invalidQuery("app", "give app (an app id or uid) or source (a source id)")
	}
	if c.key.AppID != "" && c.key.AppID != appID {
		return errorf(http.StatusForbidden, codeForbidden, "this API key is not for app %q", appID)
	}
	if !isWebSocket(r) {
		// Refused before the listener endpoint is created: websocket.Accept would refuse
		// it only after, and in text.
		w.Header().Set("Upgrade", "websocket")
		return errorf(http.StatusUpgradeRequired, "upgrade_required", "GET /v1/listen is a WebSocket: connect with herald listen or another WebSocket client")
	}
	ep, err := s.listenerEndpoint(r, appID, name, sourceID, filter)
	if err != nil {
		return err
	}
	secrets, err := s.store.EndpointSecrets(ctx, ep.ID, s.timeNow())
	if err != nil || len(secrets) == 0 {
		return fmt.Errorf("listener %s secrets: %w", ep.ID, errors.Join(err, errors.New("none active")))
	}
	hello := relay.Hello{
		EndpointID: ep.ID, AppID: appID, SourceID: sourceID, Name: name,
		Secret: secrets[0].Secret.Reveal(), Events: ep.EventTypes,
	}
	return s.listener.Serve(w, r, hello)
}

// isWebSocket reports whether r is a WebSocket handshake that websocket.Accept takes.
func isWebSocket(r *http.Request) bool {
	hasToken := func(name, token string) bool {
		for _, v := range r.Header.Values(name) {
			for t := range strings.SplitSeq(v, ",") {
				if strings.EqualFold(strings.TrimSpace(t), token) {
					return true
				}
			}
		}
		return false
	}
	return hasToken("Connection", "upgrade") && hasToken("Upgrade", "websocket") &&
		r.Header.Get("Sec-WebSocket-Version") == "13" && r.Header.Get("Sec-WebSocket-Key") != ""
}

// listenerEndpoint finds the app's endpoint for the named listener, creating it, or
// updating its filters when the listener now asks for other events or another source.
func (s *server) listenerEndpoint(r *http.Request, appID, name, sourceID string, filter []string) (*store.Endpoint, error) {
	ctx := r.Context()
	url := delivery.ListenerScheme + name
	if filter == nil {
		filter = []string{}
	}
	var found *store.Endpoint
	for cursor := ""; found == nil; {
		eps, next, err := s.store.ListEndpoints(ctx, appID, store.Page{Limit: 1000, Cursor: cursor})
		if err != nil {
			return nil, fmt.Errorf("list endpoints: %w", err)
		}
		for _, e := range eps {
			if e.URL == url {
				found = e
				break
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	now := s.timeNow()
	if found == nil {
		e := &store.Endpoint{
			ID: ids.New("ep"), AppID: appID, URL: url, Description: "herald listen (" + name + ")",
			EventTypes: filter, Headers: map[string]string{}, Metadata: map[string]string{}, State: store.EndpointEnabled,
			MaxConcurrency: listenerConcurrency, SourceID: sourceID, CreatedAt: now, UpdatedAt: now,
		}
		sec := &store.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}
		if err := s.store.CreateEndpoint(ctx, e, sec); err != nil {
			return nil, storeError(err, "app", appID)
		}
		return e, nil
	}
	if !slices.Equal(found.EventTypes, filter) || found.SourceID != sourceID || found.State != store.EndpointEnabled {
		found.EventTypes, found.SourceID, found.State, found.DisabledReason, found.UpdatedAt = filter, sourceID, store.EndpointEnabled, "", now
		if err := s.store.UpdateEndpoint(ctx, found); err != nil {
			return nil, storeError(err, "endpoint", found.ID)
		}
		s.engine.EndpointChanged(found.ID)
	}
	return found, nil
}
