package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/jsontime"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/service"
	"github.com/heraldhq/herald/internal/store"
)

// Listener is what the API needs to run `herald listen` sessions; *relay.Hub is one.
type Listener interface {
	Serve(w http.ResponseWriter, r *http.Request, hello relay.Hello) error
	// Count returns the number of listeners attached to this server.
	Count() int
	// Connected reports whether a listener of the endpoint is attached to this server.
	Connected(endpointID string) bool
}

// listen serves GET /v1/listen?app=&source=&name=&events=: it attaches a `herald listen`
// session as a live destination, creating (or updating) the app's listener endpoint
// "listen:<name>", whose secret stays the same across the listener's restarts.
func (s *server) listen(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.listener == nil {
		return errorf(http.StatusNotImplemented, "not_implemented", "this server does not run listeners")
	}
	q := newQuery(r.URL)
	appRef, sourceID, name := q.str("app"), q.str("source"), q.str("name")
	sourceRef := sourceID
	events := q.str("events")
	if name == "" {
		name = "default"
	}
	if err := domain.CheckListenerName(name); err != nil {
		q.fail(invalidQuery("name", "%s", err.(*domain.FieldError).Message))
	}
	if err := q.done(); err != nil {
		return err
	}
	var filter []string
	if events != "" {
		filter = strings.Split(events, ",")
		if err := domain.CheckEventFilter(filter); err != nil {
			return invalidQuery("events", "%v", err)
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
		appID, sourceID = src.AppID, src.ID // sourceID may have been its uid
	}
	if appRef != "" {
		app, err := s.store.GetApp(ctx, appRef)
		if err != nil {
			if c.onlyApp != "" && errors.Is(err, store.ErrNotFound) {
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
		return invalidQuery("app", "give app (an app id or uid) or source (a source id or uid)")
	}
	if c.onlyApp != "" && c.onlyApp != appID {
		if appRef == "" {
			// Not naming the source's app: a source's uid is easy to guess, its app's id is not.
			return errorf(http.StatusForbidden, codeForbidden, "this API key is not for the app of source %q", sourceRef)
		}
		return errorf(http.StatusForbidden, codeForbidden, "this API key is not for app %q", appRef)
	}
	if !isWebSocket(r) {
		// Refused before the listener endpoint is created: websocket.Accept would refuse
		// it only after, and in text.
		w.Header().Set("Upgrade", "websocket")
		return errorf(http.StatusUpgradeRequired, "upgrade_required", "GET /v1/listen is a WebSocket: connect with herald listen or another WebSocket client")
	}
	ep, sec, err := s.svc.AttachListener(ctx, service.Listener{AppID: appID, Name: name, SourceID: sourceID, EventTypes: filter}, s.timeNow())
	if err != nil {
		return storeError(err, "app", appID)
	}
	hello := relay.Hello{
		EndpointID: ep.ID, AppID: appID, SourceID: sourceID, Name: name,
		Secret: sec.Secret.Reveal(), Events: ep.EventTypes,
	}
	return s.serveListener(w, r, hello)
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

// serveListener runs a listener session on this node, recording in the store when it
// connected and when it left, so that the listeners list of every node can say whether
// it is connected now.
func (s *server) serveListener(w http.ResponseWriter, r *http.Request, hello relay.Hello) error {
	since := s.timeNow()
	if err := s.svc.MarkListener(r.Context(), hello.EndpointID, s.nodeID, since, true); err != nil {
		s.log.WarnContext(r.Context(), "api: record listener session", "endpoint", hello.EndpointID, "err", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		if err := s.svc.MarkListener(ctx, hello.EndpointID, s.nodeID, since, false); err != nil && !errors.Is(err, store.ErrClosed) {
			s.log.WarnContext(ctx, "api: record listener leaving", "endpoint", hello.EndpointID, "err", err)
		}
	}()
	return s.listener.Serve(w, r, hello)
}

// listenerJSON is a listener endpoint as GET /v1/apps/{app}/listeners answers it.
type listenerJSON struct {
	EndpointID     string     `json:"endpoint_id"`
	Name           string     `json:"name"`
	SourceID       string     `json:"source_id,omitempty"`
	EventTypes     []string   `json:"event_types"`
	State          string     `json:"state"`
	Connected      bool       `json:"connected"`
	ConnectedSince *timestamp `json:"connected_since,omitempty"`
	LastSeenAt     *timestamp `json:"last_seen_at,omitempty"`
	CreatedAt      timestamp  `json:"created_at"`
}

// listListeners serves GET /v1/apps/{app}/listeners: the app's listener endpoints,
// newest first, and whether a `herald listen` session is connected to one now (on any
// node) and since when.
func (s *server) listListeners(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := pageQuery(r.URL, "ep")
	if err != nil {
		return err
	}
	ls, next, err := s.store.ListListeners(r.Context(), c.appID, p)
	now := s.now()
	return writePage(w, "listeners", ls, next, err, func(l *store.Listener) listenerJSON {
		e, pr := l.Endpoint, l.Presence
		here := s.listener != nil && s.listener.Connected(e.ID)
		out := listenerJSON{
			EndpointID: e.ID, Name: strings.TrimPrefix(e.URL, domain.ListenerScheme), SourceID: e.SourceID, EventTypes: nonNilList(e.EventTypes),
			State: e.State, Connected: pr.Connected(now, s.nodeID, here), LastSeenAt: jsontime.Opt(pr.SeenAt), CreatedAt: timestamp(e.CreatedAt),
		}
		if out.Connected {
			out.ConnectedSince = jsontime.Opt(pr.ConnectedAt)
		}
		return out
	})
}
