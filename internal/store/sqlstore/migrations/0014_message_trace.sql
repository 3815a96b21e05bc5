-- The W3C trace context a message was published in (its traceparent and tracestate
-- header values; NULL outside a trace), written by the publish's one INSERT and read
-- with the message by every claim, so that each attempt, however much later and on
-- whichever node, continues the publisher's trace. Both columns are nullable without
-- a default: adding them rewrites no row.

ALTER TABLE messages ADD COLUMN trace_parent TEXT;
ALTER TABLE messages ADD COLUMN trace_state TEXT;
