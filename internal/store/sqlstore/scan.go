package sqlstore

import (
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// Column lists of the records, in the order their scanners read them.
const (
	AppColumns    = `id, name, COALESCE(uid, ''), metadata, created_at, updated_at`
	APIKeyColumns = `id, COALESCE(app_id, ''), name, prefix, hash, created_at`
	// EndpointColumns are the endpoints' columns; insertEndpointSQL writes them in order.
	EndpointColumns = `id, app_id, url, description, event_types, headers, state, disabled_reason,
	max_concurrency, rate_limit, timeout_ms, fifo, metadata, failing_since, created_at, updated_at, source_id, kind`
	SecretColumns    = `id, endpoint_id, secret, created_at, expires_at`
	SourceColumns    = `id, app_id, name, provider, secrets, hmac_config, max_body_bytes, dedupe_seconds, created_at, updated_at`
	RejectionColumns = `id, source_id, app_id, received_at, status, code, message, remote_addr, headers, body`
	MessageColumns   = `id, app_id, type, payload, COALESCE(idempotency_key, ''), COALESCE(source_id, ''), headers, created_at`
	DeliveryColumns  = `id, app_id, message_id, endpoint_id, seq, status, attempts, retry_step, next_attempt_at,
	last_status_code, last_error, created_at, updated_at`
	AttemptColumns = `id, delivery_id, app_id, endpoint_id, message_id, number, started_at, latency_us, status_code,
	response_headers, response_body, error, outcome`
)

// ScanApp scans AppColumns.
func (c *Core) ScanApp(row Row) (*domain.App, error) {
	var a domain.App
	if err := row.Scan(&a.ID, &a.Name, &a.UID, c.d.ScanMap(&a.Metadata), c.d.ScanTime(&a.CreatedAt), c.d.ScanTime(&a.UpdatedAt)); err != nil {
		return nil, err
	}
	a.Metadata = NonNilMap(a.Metadata)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return &a, nil
}

// ScanAPIKey scans APIKeyColumns.
func (c *Core) ScanAPIKey(row Row) (*domain.APIKey, error) {
	var k domain.APIKey
	if err := row.Scan(&k.ID, &k.AppID, &k.Name, &k.Prefix, &k.Hash, c.d.ScanTime(&k.CreatedAt)); err != nil {
		return nil, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

// ScanEndpoint scans EndpointColumns.
func (c *Core) ScanEndpoint(row Row) (*domain.Endpoint, error) {
	var e domain.Endpoint
	if err := row.Scan(&e.ID, &e.AppID, &e.URL, &e.Description, c.d.ScanList(&e.EventTypes), c.d.ScanMap(&e.Headers), &e.State,
		&e.DisabledReason, &e.MaxConcurrency, &e.RateLimit, &e.TimeoutMS, &e.FIFO, c.d.ScanMap(&e.Metadata),
		c.d.ScanNullTime(&e.FailingSince), c.d.ScanTime(&e.CreatedAt), c.d.ScanTime(&e.UpdatedAt), &e.SourceID, &e.Kind); err != nil {
		return nil, err
	}
	e.EventTypes, e.Headers, e.Metadata = NonNil(e.EventTypes), NonNilMap(e.Headers), NonNilMap(e.Metadata)
	if e.Kind == "" {
		e.Kind = domain.KindHTTP
	}
	e.FailingSince = utcPtr(e.FailingSince)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return &e, nil
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
	if err := row.Scan(&src.ID, &src.AppID, &src.Name, &src.Provider, &enc, &hmacJSON, &src.MaxBodyBytes, &dedupe,
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
func (c *Core) scanRejection(row Row) (*domain.Rejection, error) {
	var r domain.Rejection
	if err := row.Scan(&r.ID, &r.SourceID, &r.AppID, c.d.ScanTime(&r.ReceivedAt), &r.Status, &r.Code, &r.Message, &r.RemoteAddr,
		c.d.ScanMap(&r.Headers), &r.Body); err != nil {
		return nil, err
	}
	r.ReceivedAt, r.Headers = r.ReceivedAt.UTC(), NonNilMap(r.Headers)
	return &r, nil
}

// ScanMessage scans MessageColumns. A message without headers has nil Headers.
func (c *Core) ScanMessage(row Row) (*domain.Message, error) {
	var m domain.Message
	var payload []byte
	if err := row.Scan(&m.ID, &m.AppID, &m.Type, &payload, &m.IdempotencyKey, &m.SourceID, c.d.ScanMap(&m.Headers), c.d.ScanTime(&m.CreatedAt)); err != nil {
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
func (c *Core) ScanDelivery(row Row) (*domain.Delivery, error) { return c.ScanDeliveryWith(row) }

// ScanDeliveryWith scans DeliveryColumns followed by extra destinations.
func (c *Core) ScanDeliveryWith(row Row, extra ...any) (*domain.Delivery, error) {
	var d domain.Delivery
	var next *time.Time
	dest := append([]any{&d.ID, &d.AppID, &d.MessageID, &d.EndpointID, &d.Seq, &d.Status, &d.Attempts, &d.RetryStep,
		c.d.ScanNullTime(&next), &d.LastStatusCode, &d.LastError, c.d.ScanTime(&d.CreatedAt), c.d.ScanTime(&d.UpdatedAt)}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if d.Status == domain.DeliveryPending {
		d.NextAttemptAt = utcPtr(next)
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

// scanAttempt scans AttemptColumns.
func (c *Core) scanAttempt(row Row) (*domain.Attempt, error) {
	var a domain.Attempt
	var latency int64
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.AppID, &a.EndpointID, &a.MessageID, &a.Number, c.d.ScanTime(&a.StartedAt), &latency,
		&a.StatusCode, c.d.ScanMap(&a.ResponseHeaders), &a.ResponseBody, &a.Error, &a.Outcome); err != nil {
		return nil, err
	}
	a.StartedAt = a.StartedAt.UTC()
	a.Latency = time.Duration(latency) * time.Microsecond
	a.ResponseHeaders = NonNilMap(a.ResponseHeaders)
	return &a, nil
}
