package api

import "net/http"

// The operational endpoints (docs/operational-webhooks.md) are the endpoints of the
// reserved operational app: their routes are the endpoint routes with that app as the
// request's app, for admin keys and console sessions only. The reserved app itself is
// unreachable through /v1/apps (authorize answers 404).

// operationalRoutes lists the routes of the operational endpoints.
func (s *server) operationalRoutes() []route {
	op := s.operational
	return []route{
		{pattern: "POST /v1/operational-endpoints", access: adminOnly, handle: op(s.createOperationalEndpoint)},
		{pattern: "GET /v1/operational-endpoints", access: adminOnly, query: true, handle: op(s.listEndpoints)},
		{pattern: "GET /v1/operational-endpoints/{ep}", access: adminOnly, handle: op(s.getEndpoint)},
		{pattern: "PATCH /v1/operational-endpoints/{ep}", access: adminOnly, handle: op(s.updateOperationalEndpoint)},
		{pattern: "DELETE /v1/operational-endpoints/{ep}", access: adminOnly, handle: op(s.deleteOperationalEndpoint)},
		{pattern: "GET /v1/operational-endpoints/{ep}/secret", access: adminOnly, handle: op(s.getEndpointSecrets)},
		{pattern: "POST /v1/operational-endpoints/{ep}/secret/rotate", access: adminOnly, handle: op(s.rotateEndpointSecret)},
		{pattern: "GET /v1/operational-endpoints/{ep}/messages", access: adminOnly, query: true, handle: op(s.scoped(s.listMessages))},
		{pattern: "GET /v1/operational-endpoints/{ep}/attempts", access: adminOnly, query: true, handle: op(s.scoped(s.listAttempts))},
		{pattern: "GET /v1/status", access: adminOnly, handle: s.status},
	}
}

// operational runs h with the operational app as the request's app.
func (s *server) operational(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		id := s.svc.OperationalAppID()
		if id == "" {
			return errorf(http.StatusNotImplemented, "not_implemented", "this server has no operational webhooks")
		}
		c.appID = id
		return h(w, r, c)
	}
}

// scoped runs h limited to the {ep} of the request's app, which must exist.
func (s *server) scoped(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		e, err := s.loadEndpoint(r, c)
		if err != nil {
			return err
		}
		c.endpoints = []string{e.ID}
		return h(w, r, c)
	}
}

// createOperationalEndpoint serves POST /v1/operational-endpoints: operational endpoints
// are FIFO unless asked otherwise, so that events arrive in the order they happened.
func (s *server) createOperationalEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.createEndpointWith(w, r, c, true, s.svc.CreateOperationalEndpoint)
}

// updateOperationalEndpoint serves PATCH /v1/operational-endpoints/{ep}.
func (s *server) updateOperationalEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.updateEndpointWith(w, r, c, s.svc.UpdateOperationalEndpoint)
}

// deleteOperationalEndpoint serves DELETE /v1/operational-endpoints/{ep}.
func (s *server) deleteOperationalEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("ep")
	if err := s.svc.DeleteOperationalEndpoint(r.Context(), id); err != nil {
		return storeError(err, "endpoint", id)
	}
	return noContent(w)
}
