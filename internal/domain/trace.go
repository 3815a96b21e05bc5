package domain

// TraceContext is the W3C Trace Context (https://www.w3.org/TR/trace-context/) a
// message was published in, as its traceparent and tracestate header values, so that
// its attempts, however much later and on whichever node, join the publisher's trace.
// It is empty for a message published outside any trace.
type TraceContext struct {
	Parent string // traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>
	State  string // tracestate, at most MaxTraceState bytes; "" for none
}

// MaxTraceState bounds the tracestate kept with a message: the 512 characters the W3C
// recommends propagating at least. Longer ones lose list members from the end.
const MaxTraceState = 512

// IsZero reports whether t carries no trace.
func (t TraceContext) IsZero() bool { return t.Parent == "" }
