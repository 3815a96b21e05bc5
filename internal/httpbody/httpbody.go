// Package httpbody reads request bodies into as few allocations as their announced
// length allows, for the routes every message goes through (publish, ingest).
package httpbody

import "io"

// MaxPresize bounds the buffer Read allocates on a client's word (its Content-Length)
// before the bytes arrive.
const MaxPresize = 64 << 10

// Read is io.ReadAll sized by the announced length (-1 or 0 when unknown): the first
// buffer holds it (up to MaxPresize), and a full buffer grows to the announced length
// when that is at most four times what arrived, else doubles. A body is read into one
// allocation or a few instead of a growing series, and an announcement alone never
// costs more than MaxPresize. Bound r (http.MaxBytesReader) to bound the body.
func Read(r io.Reader, contentLength int64) ([]byte, error) {
	want := contentLength + 1 // +1: room to read the EOF without growing
	n := int64(512)
	if contentLength > 0 {
		n = min(want, MaxPresize)
	}
	b := make([]byte, 0, n)
	for {
		if len(b) == cap(b) {
			n = 2 * int64(cap(b))
			if want > int64(cap(b)) && want <= 4*int64(cap(b)) {
				n = want
			}
			b = append(make([]byte, 0, n), b...)
		}
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
