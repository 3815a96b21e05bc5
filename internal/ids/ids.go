// Package ids generates herald's record ids: a short type prefix, an underscore and
// a 26-character ULID, such as "msg_01JD3XK5M2Q8W0RZ7C4T6YB9HN".
//
// The ULID part is the Crockford base32 encoding of a 48-bit Unix millisecond
// timestamp followed by 80 random bits, so ids of one type sort lexicographically
// by creation time. Within one millisecond a Generator increments the random part
// of the previous id instead of drawing new bits (ULID's monotonic mode), so the
// ids it returns are strictly increasing even when generated faster than the clock
// ticks or when the clock steps backwards.
package ids

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"
)

// ULIDLen is the length of the ULID part of an id.
const ULIDLen = 26

// alphabet is Crockford's base32 alphabet (no I, L, O or U), in value order.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// maxTime is the largest timestamp, in Unix milliseconds, that fits in 48 bits.
const maxTime = 1<<48 - 1

// Generator returns strictly increasing ids; it is safe for concurrent use and its
// zero value is ready to use.
type Generator struct {
	mu     sync.Mutex
	lastMS uint64   // timestamp of the previous id
	last   [10]byte // random part of the previous id, big-endian
	now    func() time.Time
}

// NewGenerator returns a Generator that uses the system clock and crypto/rand.
func NewGenerator() *Generator {
	return &Generator{}
}

// defaultGenerator backs New; it is assigned once and never replaced.
var defaultGenerator = NewGenerator()

// New returns a new id with the given prefix from a process-wide Generator, so ids
// from all callers in the process are strictly increasing.
func New(prefix string) string {
	return defaultGenerator.New(prefix)
}

// New returns prefix + "_" + a new ULID that sorts after every id g returned
// before; with an empty prefix it returns the bare ULID.
func (g *Generator) New(prefix string) string {
	var u [16]byte
	g.next(&u, nil)
	return format(prefix, &u)
}

// NewAt returns prefix + "_" + a new ULID whose time is t, for a record whose creation
// time is given rather than now (tests, imports), so that selecting records by id
// (see Floor) agrees with their time. Ids of one millisecond increase as New's do;
// a t earlier than the previous id's starts over at t.
func (g *Generator) NewAt(prefix string, t time.Time) string {
	var u [16]byte
	g.next(&u, &t)
	return format(prefix, &u)
}

// format returns prefix + "_" + the encoding of u, or u's alone for an empty prefix.
func format(prefix string, u *[16]byte) string {
	var buf [48]byte // on the stack: the id is allocated once, as the string
	b := buf[:0]
	if prefix != "" {
		b = append(append(b, prefix...), '_')
	}
	return string(appendEncoded(b, u))
}

// next fills u with the next ULID in binary form: for the clock's time, or for *at.
func (g *Generator) next(u *[16]byte, at *time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()

	now := time.Now
	if g.now != nil {
		now = g.now
	}
	var ms uint64
	if at != nil {
		ms = uint64(min(max(at.UnixMilli(), 0), maxTime))
	} else {
		ms = uint64(min(max(now().UnixMilli(), 0), maxTime))
	}
	switch {
	case ms > g.lastMS, at != nil && ms < g.lastMS:
		g.lastMS = ms
		rand.Read(g.last[:]) // never returns an error; it crashes the program instead
	case increment(&g.last):
		// Same millisecond (or the clock went backwards): keep the previous
		// timestamp and use the incremented random part.
	default:
		// The 80-bit random part overflowed, which takes 2^80 ids in one
		// millisecond in theory; move to the next millisecond instead of failing.
		g.lastMS++
		rand.Read(g.last[:])
	}

	t := g.lastMS
	for i := 5; i >= 0; i-- {
		u[i] = byte(t)
		t >>= 8
	}
	copy(u[6:], g.last[:])
}

// increment adds one to the big-endian number b, reporting false if it overflowed.
func increment(b *[10]byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return true
		}
	}
	return false
}

// encode returns the 26-character Crockford base32 encoding of u, most significant
// bits first (the first character encodes only the top 3 bits).
func encode(u *[16]byte) string {
	var b [ULIDLen]byte
	return string(appendEncoded(b[:0], u))
}

// appendEncoded appends encode(u) to dst.
func appendEncoded(dst []byte, u *[16]byte) []byte {
	hi := uint64(u[0])<<56 | uint64(u[1])<<48 | uint64(u[2])<<40 | uint64(u[3])<<32 |
		uint64(u[4])<<24 | uint64(u[5])<<16 | uint64(u[6])<<8 | uint64(u[7])
	lo := uint64(u[8])<<56 | uint64(u[9])<<48 | uint64(u[10])<<40 | uint64(u[11])<<32 |
		uint64(u[12])<<24 | uint64(u[13])<<16 | uint64(u[14])<<8 | uint64(u[15])
	var out [ULIDLen]byte
	for i := ULIDLen - 1; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return append(dst, out[:]...)
}

// decodeChar returns the value of a character of the canonical (upper-case)
// Crockford alphabet, or -1.
func decodeChar(c byte) int {
	return strings.IndexByte(alphabet, c)
}

// ulidPart returns the ULID part of id: the 26 characters after the last
// underscore, or the whole id if it has no underscore.
func ulidPart(id string) (string, bool) {
	u := id
	if i := strings.LastIndexByte(id, '_'); i >= 0 {
		u = id[i+1:]
	}
	if len(u) != ULIDLen || u[0] > '7' { // a first character above 7 overflows 128 bits
		return "", false
	}
	for i := 0; i < len(u); i++ {
		if decodeChar(u[i]) < 0 {
			return "", false
		}
	}
	return u, true
}

// Time returns the creation time, to the millisecond, encoded in id, and false if
// id does not end in a well-formed ULID.
func Time(id string) (time.Time, bool) {
	u, ok := ulidPart(id)
	if !ok {
		return time.Time{}, false
	}
	var ms int64
	for i := 0; i < 10; i++ { // 10 characters = 50 bits; the top 2 are always zero
		ms = ms<<5 | int64(decodeChar(u[i]))
	}
	return time.UnixMilli(ms), true
}

// Valid reports whether id is prefix + "_" + a well-formed ULID in canonical
// upper-case Crockford base32 (a bare ULID when prefix is empty).
func Valid(prefix, id string) bool {
	if prefix != "" {
		rest, ok := strings.CutPrefix(id, prefix+"_")
		if !ok {
			return false
		}
		id = rest
	}
	if len(id) != ULIDLen {
		return false
	}
	_, ok := ulidPart(id)
	return ok
}

// Floor returns the smallest id with the given prefix for time t: every id generated at
// or after t sorts at or above it, every id generated before t below it. Stores use it
// to select records by creation time through their primary key.
func Floor(prefix string, t time.Time) string {
	var u [16]byte
	ms := uint64(min(max(t.UnixMilli(), 0), maxTime))
	for i := 5; i >= 0; i-- {
		u[i] = byte(ms)
		ms >>= 8
	}
	if prefix == "" {
		return encode(&u)
	}
	return prefix + "_" + encode(&u)
}
