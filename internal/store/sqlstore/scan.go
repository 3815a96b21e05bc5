package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/filter"
	"github.com/heraldhq/herald/internal/store"
)

// Column lists of the records, in the order their scanners read them.
const (
	AppColumns    = `id, name, COALESCE(uid, ''), metadata, created_at, updated_at`
	APIKeyColumns = `id, COALESCE(app_id, ''), name, prefix, hash, created_at`
	// EndpointColumns are the endpoints' columns, in the order scanEndpointRow reads them.
	EndpointColumns = `id, app_id, url, description, event_types, headers, state, disabled_reason,
	max_concurrency, rate_limit, timeout_ms, fifo, metadata, failing_since, created_at, updated_at, source_id, kind,
	filter, retry_schedule, transformation, auth`
	SecretColumns    = `id, endpoint_id, secret, created_at, expires_at`
	SourceColumns    = `id, app_id, COALESCE(uid, ''), name, provider, secrets, hmac_config, max_body_bytes, dedupe_seconds, created_at, updated_at`
	RejectionColumns = `id, source_id, app_id, received_at, status, code, message, remote_addr, headers, body, header_count, header_bytes, body_bytes, diagnosis`
	MessageColumns   = `id, app_id, type, payload, COALESCE(idempotency_key, ''), COALESCE(source_id, ''), headers, created_at,
	COALESCE(trace_parent, ''), COALESCE(trace_state, '')`
	DeliveryColumns = `id, app_id, message_id, endpoint_id, seq, status, attempts, retry_step, next_attempt_at,
	last_status_code, last_error, created_at, updated_at`
	AttemptColumns = `id, delivery_id, app_id, endpoint_id, message_id, number, started_at, latency_us, status_code,
	response_headers, response_body, error, outcome, request_headers`
)

// ParseFilter compiles a filter as stored (” for none), for fan-out and endpoint reads.
func ParseFilter(text string) (*filter.Filter, error) {
	if text == "" {
		return nil, nil
	}
	return domain.ParseFilter([]byte(text))
}

// FilterText is how a filter is stored: its JSON as given, or ” for none.
func FilterText(f *filter.Filter) string {
	if f.IsEmpty() {
		return ""
	}
	return f.String()
}

// bind gives a scanner its dialect, for Collect, get and list.
func bind[T any](d Dialect, scan func(Dialect, Row) (T, error)) func(Row) (T, error) {
	return func(row Row) (T, error) { return scan(d, row) }
}

// scanApp scans AppColumns.
func scanApp(d Dialect, row Row) (*domain.App, error) {
	var a domain.App
	if err := row.Scan(&a.ID, &a.Name, &a.UID, d.ScanMap(&a.Metadata), d.ScanTime(&a.CreatedAt), d.ScanTime(&a.UpdatedAt)); err != nil {
		return nil, err
	}
	a.Metadata = NonNilMap(a.Metadata)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return &a, nil
}

// scanAPIKey scans APIKeyColumns.
func scanAPIKey(d Dialect, row Row) (*domain.APIKey, error) {
	var k domain.APIKey
	if err := row.Scan(&k.ID, &k.AppID, &k.Name, &k.Prefix, &k.Hash, d.ScanTime(&k.CreatedAt)); err != nil {
		return nil, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

// scanEndpoint scans EndpointColumns and decrypts the endpoint's header values and
// receiver credentials.
func (c *Core) scanEndpoint(row Row) (*domain.Endpoint, error) {
	e, sealedAuth, err := scanEndpointRow(c.d, row)
	if err != nil {
		return nil, err
	}
	if err := store.OpenHeaders(c.cipher, e.ID, e.Headers); err != nil {
		return nil, err
	}
	if e.Auth, err = store.OpenAuth(c.cipher, e.ID, sealedAuth); err != nil {
		return nil, err
	}
	return e, nil
}

// scanEndpointRow scans EndpointColumns, header values as stored, and returns the
// sealed credentials apart.
func scanEndpointRow(d Dialect, row Row) (*domain.Endpoint, []byte, error) {
	var e domain.Endpoint
	var filterText string
	var schedule []string
	var sealedAuth []byte
	if err := row.Scan(&e.ID, &e.AppID, &e.URL, &e.Description, d.ScanList(&e.EventTypes), d.ScanMap(&e.Headers), &e.State,
		&e.DisabledReason, &e.MaxConcurrency, &e.RateLimit, &e.TimeoutMS, &e.FIFO, d.ScanMap(&e.Metadata),
		d.ScanNullTime(&e.FailingSince), d.ScanTime(&e.CreatedAt), d.ScanTime(&e.UpdatedAt), &e.SourceID, &e.Kind,
		&filterText, d.ScanList(&schedule), &e.Transformation, &sealedAuth); err != nil {
		return nil, nil, err
	}
	if err := finishEndpoint(&e, filterText, schedule); err != nil {
		return nil, nil, err
	}
	return &e, sealedAuth, nil
}

// finishEndpoint parses the stored filter and schedule of a scanned endpoint and
// normalises its empty fields.
func finishEndpoint(e *domain.Endpoint, filterText string, schedule []string) error {
	var err error
	if e.Filter, err = ParseFilter(filterText); err != nil {
		return fmt.Errorf("endpoint %s: stored filter: %w", e.ID, err)
	}
	if e.RetrySchedule, err = domain.ParseRetrySchedule(schedule); err != nil {
		return fmt.Errorf("endpoint %s: stored retry schedule: %w", e.ID, err)
	}
	if len(e.RetrySchedule) == 0 {
		e.RetrySchedule = nil
	}
	e.EventTypes, e.Headers, e.Metadata = NonNil(e.EventTypes), NonNilMap(e.Headers), NonNilMap(e.Metadata)
	e.Kind = e.EffectiveKind()
	e.FailingSince = utcPtr(e.FailingSince)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return nil
}

// scanSecret scans SecretColumns and decrypts the secret.
func (c *Core) scanSecret(row Row) (*domain.EndpointSecret, error) {
	var sec domain.EndpointSecret
	var enc []byte
	if err := row.Scan(&sec.ID, &sec.EndpointID, &enc, c.d.ScanTime(&sec.CreatedAt), c.d.ScanNullTime(&sec.ExpiresAt)); err != nil {
		return nil, err
	}
	var err error
	if sec.Secret, err = store.OpenSecret(c.cipher, sec.ID, enc); err != nil {
		return nil, err
	}
	sec.CreatedAt, sec.ExpiresAt = sec.CreatedAt.UTC(), utcPtr(sec.ExpiresAt)
	return &sec, nil
}

// scanSource scans SourceColumns and decrypts the secrets.
func (c *Core) scanSource(row Row) (*domain.Source, error) {
	var src domain.Source
	var enc []byte
	var hmacJSON string
	var dedupe int64
	if err := row.Scan(&src.ID, &src.AppID, &src.UID, &src.Name, &src.Provider, &enc, &hmacJSON, &src.MaxBodyBytes, &dedupe,
		c.d.ScanTime(&src.CreatedAt), c.d.ScanTime(&src.UpdatedAt)); err != nil {
		return nil, err
	}
	var err error
	if src.Secrets, err = store.OpenSecrets(c.cipher, src.ID, enc); err != nil {
		return nil, err
	}
	if src.HMAC, err = store.DecodeHMACConfig(src.ID, hmacJSON); err != nil {
		return nil, err
	}
	src.DedupeWindow = time.Duration(dedupe) * time.Second
	src.CreatedAt, src.UpdatedAt = src.CreatedAt.UTC(), src.UpdatedAt.UTC()
	return &src, nil
}

// scanRejection scans RejectionColumns.
func scanRejection(d Dialect, row Row) (*domain.Rejection, error) {
	var r domain.Rejection
	var diagnosis string
	if err := row.Scan(&r.ID, &r.SourceID, &r.AppID, d.ScanTime(&r.ReceivedAt), &r.Status, &r.Code, &r.Message, &r.RemoteAddr,
		d.ScanMap(&r.Headers), &r.Body, &r.HeaderCount, &r.HeaderBytes, &r.BodyBytes, &diagnosis); err != nil {
		return nil, err
	}
	r.ReceivedAt, r.Headers = r.ReceivedAt.UTC(), NonNilMap(r.Headers)
	_ = json.Unmarshal([]byte(diagnosis), &r.Diagnosis) // what does not parse reads as none, as other JSON columns do
	r.Diagnosis = domain.RejectionDiagnosis(r.Diagnosis)
	return &r, nil
}

// ScanMessage scans MessageColumns. A message without headers has nil Headers.
func ScanMessage(d Dialect, row Row) (*domain.Message, error) {
	var m domain.Message
	var payload []byte
	if err := row.Scan(&m.ID, &m.AppID, &m.Type, &payload, &m.IdempotencyKey, &m.SourceID, d.ScanMap(&m.Headers), d.ScanTime(&m.CreatedAt),
		&m.Trace.Parent, &m.Trace.State); err != nil {
		return nil, err
	}
	if len(m.Headers) == 0 {
		m.Headers = nil
	}
	if payload != nil {
		m.Payload = payload
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return &m, nil
}

// ScanDelivery scans DeliveryColumns.
func ScanDelivery(d Dialect, row Row) (*domain.Delivery, error) { return ScanDeliveryWith(d, row) }

// ScanDeliveryWith scans DeliveryColumns followed by extra destinations.
func ScanDeliveryWith(d Dialect, row Row, extra ...any) (*domain.Delivery, error) {
	var del domain.Delivery
	var next *time.Time
	dest := append([]any{&del.ID, &del.AppID, &del.MessageID, &del.EndpointID, &del.Seq, &del.Status, &del.Attempts, &del.RetryStep,
		d.ScanNullTime(&next), &del.LastStatusCode, &del.LastError, d.ScanTime(&del.CreatedAt), d.ScanTime(&del.UpdatedAt)}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if del.Status == domain.DeliveryPending {
		del.NextAttemptAt = utcPtr(next)
	}
	del.CreatedAt, del.UpdatedAt = del.CreatedAt.UTC(), del.UpdatedAt.UTC()
	return &del, nil
}

// scanAttempt scans AttemptColumns.
func scanAttempt(d Dialect, row Row) (*domain.Attempt, error) {
	var a domain.Attempt
	var latency int64
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.AppID, &a.EndpointID, &a.MessageID, &a.Number, d.ScanTime(&a.StartedAt), &latency,
		&a.StatusCode, d.ScanMap(&a.ResponseHeaders), &a.ResponseBody, &a.Error, &a.Outcome, d.ScanMap(&a.RequestHeaders)); err != nil {
		return nil, err
	}
	a.StartedAt = a.StartedAt.UTC()
	a.Latency = time.Duration(latency) * time.Microsecond
	a.ResponseHeaders, a.RequestHeaders = NonNilMap(a.ResponseHeaders), NonNilMap(a.RequestHeaders)
	return &a, nil
}
