package domain

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Operational event types: herald's own events, sent to the operator's operational
// endpoints (docs/operational-webhooks.md). Where Svix has the event, the name is Svix's.
const (
	OpEndpointCreated   = "endpoint.created"
	OpEndpointUpdated   = "endpoint.updated"
	OpEndpointDeleted   = "endpoint.deleted"
	OpEndpointDisabled  = "endpoint.disabled"
	OpEndpointEnabled   = "endpoint.enabled"
	OpAttemptFailing    = "message.attempt.failing"
	OpAttemptExhausted  = "message.attempt.exhausted"
	OpAttemptRecovered  = "message.attempt.recovered"
	OpRejectionsSpiking = "source.rejections.spiking"
)

// OperationalEventTypes returns every operational event type, in the order the
// documentation lists them.
func OperationalEventTypes() []string {
	return []string{
		OpEndpointCreated, OpEndpointUpdated, OpEndpointDeleted, OpEndpointDisabled, OpEndpointEnabled,
		OpAttemptFailing, OpAttemptExhausted, OpAttemptRecovered, OpRejectionsSpiking,
	}
}

// ReservedOperational marks the one app that holds the operational endpoints. The store
// hides it from app lists and lookups; the service refuses to publish into it, change or
// delete it for anyone but herald itself.
const ReservedOperational = "operational"

// CheckOperationalEventFilter validates an operational endpoint's event_types: the rules
// of CheckEventFilter, and every entry must match an operational event type, so that a
// typo does not subscribe to nothing without a word.
func CheckOperationalEventFilter(types []string) error {
	if err := CheckEventFilter(types); err != nil {
		return err
	}
	all := OperationalEventTypes()
	for i, t := range types {
		if !slices.ContainsFunc(all, func(op string) bool { return MatchEventType([]string{t}, op) }) {
			return fieldErrorf(fmt.Sprintf("event_types[%d]", i), "matches no operational event type (%s), not %q", strings.Join(all, ", "), t)
		}
	}
	return nil
}

// Triggers of endpoint.disabled, as Svix names them: herald disabled the endpoint
// (automatic) or a user did (manual).
const (
	TriggerAutomatic = "automatic"
	TriggerManual    = "manual"
)

// Why an endpoint was disabled: the reason field of endpoint.disabled.
const (
	DisabledFailing  = "failing"  // it failed continuously for the server's --disable-after
	DisabledGone     = "gone"     // its receiver answered 410 Gone
	DisabledReceiver = "receiver" // its receiver answered webhook-delivery: disable
	DisabledManual   = "manual"   // a user disabled it
)

// The disabled_reason texts of the automatic disables that an attempt causes.
const (
	GoneReason            = "the endpoint answered 410 Gone"
	ReceiverDisableReason = "the receiver answered webhook-delivery: disable"
)

// DisabledCause returns the reason code of an endpoint disabled by an attempt with the
// disabled_reason text reason: DisabledGone or DisabledReceiver, else DisabledFailing.
func DisabledCause(reason string) string {
	switch reason {
	case GoneReason:
		return DisabledGone
	case ReceiverDisableReason:
		return DisabledReceiver
	}
	return DisabledFailing
}

// EndpointChanges returns the names (as the API spells them) of the settings that differ
// between two versions of an endpoint, in a fixed order; its state is not a setting
// (endpoint.disabled and endpoint.enabled report it), nor are its timestamps.
func EndpointChanges(prev, next *Endpoint) []string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("url", prev.URL != next.URL)
	add("description", prev.Description != next.Description)
	add("event_types", !slices.Equal(prev.EventTypes, next.EventTypes))
	add("headers", !maps.Equal(prev.Headers, next.Headers))
	add("max_concurrency", prev.MaxConcurrency != next.MaxConcurrency)
	add("rate_limit", prev.RateLimit != next.RateLimit)
	add("timeout_ms", prev.TimeoutMS != next.TimeoutMS)
	add("fifo", prev.FIFO != next.FIFO)
	add("source_id", prev.SourceID != next.SourceID)
	add("filter", filterText(prev) != filterText(next))
	add("retry_schedule", !slices.Equal(prev.RetrySchedule, next.RetrySchedule))
	add("metadata", !maps.Equal(prev.Metadata, next.Metadata))
	return out
}

func filterText(e *Endpoint) string {
	if e.Filter.IsEmpty() {
		return ""
	}
	return e.Filter.String()
}
