package openai

import "slices"

// OpenAI webhook event types documented in OpenAI's webhook guide.
const (
	// EventResponseCompleted is sent when a background response has completed.
	EventResponseCompleted = "response.completed"
	// EventResponseCancelled is sent when a background response has been cancelled.
	EventResponseCancelled = "response.cancelled"
	// EventResponseFailed is sent when a background response has failed.
	EventResponseFailed = "response.failed"
	// EventResponseIncomplete is sent when a background response was interrupted.
	EventResponseIncomplete = "response.incomplete"

	// EventBatchCompleted is sent when a batch API request has completed.
	EventBatchCompleted = "batch.completed"
	// EventBatchCancelled is sent when a batch API request has been cancelled.
	EventBatchCancelled = "batch.cancelled"
	// EventBatchFailed is sent when a batch API request has failed.
	EventBatchFailed = "batch.failed"
	// EventBatchExpired is sent when a batch API request has expired.
	EventBatchExpired = "batch.expired"

	// EventFineTuningJobSucceeded is sent when a fine-tuning job has succeeded.
	EventFineTuningJobSucceeded = "fine_tuning.job.succeeded"
	// EventFineTuningJobFailed is sent when a fine-tuning job has failed.
	EventFineTuningJobFailed = "fine_tuning.job.failed"
	// EventFineTuningJobCancelled is sent when a fine-tuning job has been cancelled.
	EventFineTuningJobCancelled = "fine_tuning.job.cancelled"

	// EventEvalRunSucceeded is sent when an eval run has succeeded.
	EventEvalRunSucceeded = "eval.run.succeeded"
	// EventEvalRunFailed is sent when an eval run has failed.
	EventEvalRunFailed = "eval.run.failed"
	// EventEvalRunCanceled is sent when an eval run has been canceled (one "l", as OpenAI spells it).
	EventEvalRunCanceled = "eval.run.canceled"

	// EventRealtimeCallIncoming is sent when a SIP call arrives for the Realtime API.
	EventRealtimeCallIncoming = "realtime.call.incoming"
)

// Further OpenAI webhook event types known to the official Go SDK (openai-go v3.98.0).
const (
	// EventLiveCallIncoming is sent when a SIP session is available for Live acceptance.
	//
	// Deprecated: OpenAI keeps it only for existing subscriptions; use EventLiveTransportIncoming.
	EventLiveCallIncoming = "live.call.incoming"
	// EventLiveTransportIncoming is sent when a SIP session is available for Live acceptance.
	EventLiveTransportIncoming = "live.transport.incoming"

	// EventAgentEnvironmentReady is sent when a prewarmed OpenAI-hosted agent environment finishes setup.
	EventAgentEnvironmentReady = "agent.environment.ready"
	// EventAgentEnvironmentFailed is sent when setup of a prewarmed OpenAI-hosted agent environment fails.
	EventAgentEnvironmentFailed = "agent.environment.failed"
	// EventAgentEnvironmentSuspended is sent when an agent environment is suspended and can resume from a snapshot.
	EventAgentEnvironmentSuspended = "agent.environment.suspended"
	// EventAgentEnvironmentExpired is sent when an agent environment expires and can no longer resume.
	EventAgentEnvironmentExpired = "agent.environment.expired"

	// EventAgentSessionCreated is sent when an agent session is created.
	EventAgentSessionCreated = "agent.session.created"
	// EventAgentSessionInProgress is sent when an agent session enters the in-progress state.
	EventAgentSessionInProgress = "agent.session.in_progress"
	// EventAgentSessionIdle is sent when an agent session becomes idle.
	EventAgentSessionIdle = "agent.session.idle"
	// EventAgentSessionActionRequired is sent when an agent session requires an action.
	EventAgentSessionActionRequired = "agent.session.action_required"
	// EventAgentSessionFailed is sent when an agent session fails.
	EventAgentSessionFailed = "agent.session.failed"

	// EventSafetyAlertCreated is sent when an approved safety alert is available for an API project.
	EventSafetyAlertCreated = "safety.alert.created"
	// EventSafetyOrgAlertCreated is sent when an approved safety alert is available for an enterprise workspace.
	EventSafetyOrgAlertCreated = "safety.org_alert.created"
	// EventSafetyWarningIssued is sent when a warning is issued for a safety identifier in the organization.
	EventSafetyWarningIssued = "safety.warning_issued"
	// EventSafetyDeactivationIssued is sent when a deactivation is issued for a safety identifier in the organization.
	EventSafetyDeactivationIssued = "safety.deactivation_issued"
)

// ResponseEventData is the data of the response.* events: the background response to fetch.
type ResponseEventData struct {
	ID string `json:"id"` // the response id, "resp_..."
}

// BatchEventData is the data of the batch.* events: the batch to fetch.
type BatchEventData struct {
	ID string `json:"id"` // the batch id, "batch_..."
}

// FineTuningJobEventData is the data of the fine_tuning.job.* events: the job to fetch.
type FineTuningJobEventData struct {
	ID string `json:"id"` // the fine-tuning job id, "ftjob-..."
}

// EvalRunEventData is the data of the eval.run.* events: the eval run to fetch.
type EvalRunEventData struct {
	ID string `json:"id"` // the eval run id, "evalrun_..."
}

// SIPHeader is one header of a SIP INVITE, as OpenAI forwards it. Treat values as untrusted.
type SIPHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// RealtimeCallIncomingData is the data of realtime.call.incoming: a pending SIP call
// to accept or reject through the Realtime API.
type RealtimeCallIncomingData struct {
	CallID     string      `json:"call_id"`     // the call id, "rtc_..."
	SIPHeaders []SIPHeader `json:"sip_headers"` // the INVITE's headers, in order, without authorization headers
	// SIPMediaSecurity is the negotiated media protection, "srtp" or "rtp"; empty when unknown.
	SIPMediaSecurity string `json:"sip_media_security,omitempty"`
}

// LiveCallIncomingData is the data of the deprecated live.call.incoming: a pending SIP
// session to accept or reject through the Live API.
type LiveCallIncomingData struct {
	SessionID  string      `json:"session_id"`  // the session id, "live_..."
	SIPHeaders []SIPHeader `json:"sip_headers"` // the INVITE's headers, in order, without authorization headers
	// SIPMediaSecurity is the negotiated media protection, "srtp" or "rtp"; empty when unknown.
	SIPMediaSecurity string `json:"sip_media_security,omitempty"`
}

// LiveTransportIncomingData is the data of live.transport.incoming: a pending SIP
// session to accept or reject through the Live API.
type LiveTransportIncomingData struct {
	SessionID  string      `json:"session_id"`  // the session id, "live_..."
	SIPHeaders []SIPHeader `json:"sip_headers"` // the INVITE's headers, in order, without authorization headers
	Type       string      `json:"type"`        // the transport, always "sip"
	// SIPMediaSecurity is the negotiated media protection, "srtp" or "rtp"; empty when unknown.
	SIPMediaSecurity string `json:"sip_media_security,omitempty"`
}

// AgentEnvironmentEventData is the data of the agent.environment.* events: the environment whose lifecycle changed.
type AgentEnvironmentEventData struct {
	ID string `json:"id"` // the environment id
}

// AgentSessionEventData is the data of agent.session.in_progress, agent.session.idle and agent.session.failed.
type AgentSessionEventData struct {
	ID              string `json:"id"`                       // the session id
	EnvironmentType string `json:"environment_type"`         // "none", "openai_hosted" or "self_hosted"
	EnvironmentID   string `json:"environment_id,omitempty"` // the environment id, when there is one
}

// AgentSessionCreatedData is the data of agent.session.created.
type AgentSessionCreatedData struct {
	ID              string               `json:"id"`                       // the session id
	EnvironmentType string               `json:"environment_type"`         // "none", "openai_hosted" or "self_hosted"
	Connect         *AgentSessionConnect `json:"connect,omitempty"`        // how to connect a self-hosted environment
	EnvironmentID   string               `json:"environment_id,omitempty"` // the environment id, when there is one
}

// AgentSessionConnect tells a self-hosted agent environment where to connect.
type AgentSessionConnect struct {
	RemoteURL string `json:"remote_url"`
}

// AgentSessionActionRequiredData is the data of agent.session.action_required; fetch the session for details.
type AgentSessionActionRequiredData struct {
	ID             string                     `json:"id"` // the session id
	RequiredAction AgentSessionRequiredAction `json:"required_action"`
}

// AgentSessionRequiredAction names the kind of action an agent session waits for.
type AgentSessionRequiredAction struct {
	// Type is "computer_use_approval_request", "function_call" or "environment_connection".
	Type string `json:"type"`
}

// SafetyAlertEventData is the data of safety.alert.created and safety.org_alert.created.
type SafetyAlertEventData struct {
	ID string `json:"id"` // the safety alert id, for GET /v1/safety/alerts/{id}
}

// SafetyCaseEventData is the data of safety.warning_issued and safety.deactivation_issued.
type SafetyCaseEventData struct {
	ID string `json:"id"` // the safety case id, for GET /v1/safety/cases/{id}
}

func (d *ResponseEventData) resourceID() string              { return d.ID }
func (d *BatchEventData) resourceID() string                 { return d.ID }
func (d *FineTuningJobEventData) resourceID() string         { return d.ID }
func (d *EvalRunEventData) resourceID() string               { return d.ID }
func (d *RealtimeCallIncomingData) resourceID() string       { return d.CallID }
func (d *LiveCallIncomingData) resourceID() string           { return d.SessionID }
func (d *LiveTransportIncomingData) resourceID() string      { return d.SessionID }
func (d *AgentEnvironmentEventData) resourceID() string      { return d.ID }
func (d *AgentSessionEventData) resourceID() string          { return d.ID }
func (d *AgentSessionCreatedData) resourceID() string        { return d.ID }
func (d *AgentSessionActionRequiredData) resourceID() string { return d.ID }
func (d *SafetyAlertEventData) resourceID() string           { return d.ID }
func (d *SafetyCaseEventData) resourceID() string            { return d.ID }

// openAIEvent describes one catalogue entry.
type openAIEvent struct {
	typ  string
	data func() any // a new, empty data struct
}

// openAIEvents is the catalogue, in the order EventTypes returns it:
// the documented types first, then the SDK's further types.
var openAIEvents = [...]openAIEvent{
	{EventResponseCompleted, newData[ResponseEventData]},
	{EventResponseCancelled, newData[ResponseEventData]},
	{EventResponseFailed, newData[ResponseEventData]},
	{EventResponseIncomplete, newData[ResponseEventData]},
	{EventBatchCompleted, newData[BatchEventData]},
	{EventBatchCancelled, newData[BatchEventData]},
	{EventBatchFailed, newData[BatchEventData]},
	{EventBatchExpired, newData[BatchEventData]},
	{EventFineTuningJobSucceeded, newData[FineTuningJobEventData]},
	{EventFineTuningJobFailed, newData[FineTuningJobEventData]},
	{EventFineTuningJobCancelled, newData[FineTuningJobEventData]},
	{EventEvalRunSucceeded, newData[EvalRunEventData]},
	{EventEvalRunFailed, newData[EvalRunEventData]},
	{EventEvalRunCanceled, newData[EvalRunEventData]},
	{EventRealtimeCallIncoming, newData[RealtimeCallIncomingData]},
	{EventLiveCallIncoming, newData[LiveCallIncomingData]},
	{EventLiveTransportIncoming, newData[LiveTransportIncomingData]},
	{EventAgentEnvironmentReady, newData[AgentEnvironmentEventData]},
	{EventAgentEnvironmentFailed, newData[AgentEnvironmentEventData]},
	{EventAgentEnvironmentSuspended, newData[AgentEnvironmentEventData]},
	{EventAgentEnvironmentExpired, newData[AgentEnvironmentEventData]},
	{EventAgentSessionCreated, newData[AgentSessionCreatedData]},
	{EventAgentSessionInProgress, newData[AgentSessionEventData]},
	{EventAgentSessionIdle, newData[AgentSessionEventData]},
	{EventAgentSessionActionRequired, newData[AgentSessionActionRequiredData]},
	{EventAgentSessionFailed, newData[AgentSessionEventData]},
	{EventSafetyAlertCreated, newData[SafetyAlertEventData]},
	{EventSafetyOrgAlertCreated, newData[SafetyAlertEventData]},
	{EventSafetyWarningIssued, newData[SafetyCaseEventData]},
	{EventSafetyDeactivationIssued, newData[SafetyCaseEventData]},
}

func newData[T any]() any { return new(T) }

// openAIEventTypes is the catalogue's types, in order.
var openAIEventTypes = func() []string {
	types := make([]string, len(openAIEvents))
	for i, ev := range openAIEvents {
		types[i] = ev.typ
	}
	return types
}()

// EventTypes returns every OpenAI webhook event type herald knows, in a stable order:
// the types of OpenAI's webhook guide, then the further types of the official Go SDK.
func EventTypes() []string { return slices.Clone(openAIEventTypes) }

// IsEventType reports whether eventType is in the OpenAI catalogue.
func IsEventType(eventType string) bool { return lookupOpenAIEvent(eventType) != nil }

func lookupOpenAIEvent(eventType string) *openAIEvent {
	for i := range openAIEvents {
		if openAIEvents[i].typ == eventType {
			return &openAIEvents[i]
		}
	}
	return nil
}

// eventData returns the constructor of eventType's data struct, or nil for types outside the catalogue.
func eventData(eventType string) func() any {
	if ev := lookupOpenAIEvent(eventType); ev != nil {
		return ev.data
	}
	return nil
}
