package ingest

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/webhook/diagnose"
)

// diagnosisMaxWork bounds the bytes one diagnosis hashes or re-serialises: every
// candidate for a body of a few kilobytes, the likeliest ones for larger bodies. A
// refused request waits for its diagnosis, so it is a quarter of the library's default.
const diagnosisMaxWork = 1 << 20

// diagnosis explains why a request's signature did not verify, for its rejection record
// (see webhook/diagnose). It runs only on that failure path, after the source's own
// rejection rate let the record through, and within the handler's diagnosis rate over
// all sources; past that rate the record has none. Its work is bounded by
// diagnosisMaxWork, and its findings name secrets by position only: what the diagnosis
// sees of the source's secrets never reaches the record.
func (h *Handler) diagnosis(src *domain.Source, header http.Header, body []byte) []diagnose.Finding {
	if !h.diagnoses.Allow() {
		return nil
	}
	r := diagnose.Explain(diagnose.Input{
		Provider: src.Provider, HMAC: src.HMAC, Secrets: src.Secrets,
		Header: header, Body: body, Now: time.Now(), // the verifiers' clock
		MaxWork: diagnosisMaxWork,
	})
	if r.Verified {
		return nil // a timestamp at the very edge of the tolerance, a moment later
	}
	return domain.RejectionDiagnosis(r.Findings)
}
