package domain

import "fmt"

// MaxSourceUIDLen is the longest source uid, in bytes.
const MaxSourceUIDLen = 64

// CheckSourceUID validates a source uid, the name a source is reachable by at
// /in/{uid}; "" (none) is valid. A uid is a lowercase slug: 1 to MaxSourceUIDLen of
// a-z, 0-9 and '-', starting and ending with a letter or digit. Source ids (src_...)
// hold an underscore and capitals, so a uid never reads as an id.
func CheckSourceUID(uid string) error {
	if uid == "" || IsSourceUID(uid) {
		return nil
	}
	msg := fmt.Sprintf("must be a lowercase slug: 1 to %d of a-z, 0-9 and '-', starting and ending with a letter or digit, such as stripe-live; not %q", MaxSourceUIDLen, uid)
	if len(uid) > MaxSourceUIDLen {
		msg = fmt.Sprintf("is %d bytes long; the most is %d", len(uid), MaxSourceUIDLen)
	}
	return fieldErrorf("uid", "%s", msg)
}

// IsSourceUID reports whether s is a well-formed source uid (see CheckSourceUID).
func IsSourceUID(s string) bool {
	if s == "" || len(s) > MaxSourceUIDLen || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
