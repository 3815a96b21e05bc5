package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/domain"
)

// fastDecoder is a request body that can decode the common form of itself in one pass,
// without reflection (the publish routes': every published message goes through them).
// decodeJSON tries it first; when it declines, the body is decoded strictly with
// encoding/json (decodeStrict), which answers any error exactly as before.
type fastDecoder interface {
	// decodeFast decodes body and reports whether it did. It decodes only what
	// decodeStrict accepts, into the same values; when it declines, it leaves the
	// receiver unchanged.
	decodeFast(body []byte) bool
}

// decodeFast implements fastDecoder for the body of POST /v1/apps/{app}/messages: an
// object of type, idempotency_key (strings without escape sequences) and payload (an
// object), spelled exactly so.
func (in *messageInput) decodeFast(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	s := jsonScan{b: body}
	var out messageInput
	if !s.eat('{') || !out.members(&s) || !s.end() {
		return false
	}
	// The payload is kept as a part of the body when it is most of it, else copied, so
	// that a message never pins much more memory than its payload.
	if p := out.Payload; 2*len(p) < len(body) {
		out.Payload = bytes.Clone(p)
	} else {
		out.Payload = p[:len(p):len(p)]
	}
	*in = out
	return true
}

// members reads a message object's members, after its '{', and its '}'.
func (in *messageInput) members(s *jsonScan) bool {
	first := s.nkeys
	defer func() { s.nkeys = first }()
	if s.eat('}') {
		return true
	}
	for {
		k, ok := s.key(first)
		if !ok {
			return false
		}
		switch string(s.b[k.start:k.end]) {
		case "type":
			in.Type.v, in.Type.set = s.plainString()
			ok = in.Type.set
		case "idempotency_key":
			in.IdempotencyKey.v, in.IdempotencyKey.set = s.plainString()
			ok = in.IdempotencyKey.set
		case "payload":
			// Anything but an object is refused by newMessage, in the words of the
			// strict decoder's path.
			if s.peek() != '{' {
				return false
			}
			var p span
			p, ok = s.value()
			in.Payload = json.RawMessage(s.b[p.start:p.end])
		default:
			return false // an unknown field, or a known one spelled otherwise (encoding/json ignores case)
		}
		if !ok {
			return false
		}
		if !s.eat(',') {
			return s.eat('}')
		}
	}
}

// decodeFast implements fastDecoder for the body of POST /v1/apps/{app}/messages/batch:
// {"messages": [...]} with at least one message, each as messageInput.decodeFast takes it.
func (in *batchInput) decodeFast(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	s := jsonScan{b: body}
	if !s.eat('{') {
		return false
	}
	if k, ok := s.key(0); !ok || string(body[k.start:k.end]) != "messages" || !s.eat('[') {
		return false
	}
	var msgs []messageInput
	for {
		if !s.eat('{') {
			return false
		}
		var m messageInput
		if !m.members(&s) {
			return false
		}
		m.Payload = bytes.Clone(m.Payload) // not the whole body's worth of memory per message
		msgs = append(msgs, m)
		if !s.eat(',') {
			break
		}
	}
	if !s.eat(']') || !s.eat('}') || !s.end() {
		return false
	}
	in.Messages = msgs
	return true
}

// batchMessage validates message i of a batch publish and builds it, as newMessage does
// with its idempotency key checked too. Its errors name the message's fields
// ("messages[3].type"); the name is made only for an error, not for every message.
func (s *server) batchMessage(mi *messageInput, i int, appID string) (*domain.Message, error) {
	key := ""
	if mi.IdempotencyKey.set {
		key = mi.IdempotencyKey.v
		if checkIdempotencyKey("idempotency_key", key) != nil {
			return nil, checkIdempotencyKey(batchPrefix(i)+"idempotency_key", key)
		}
	}
	m, err := s.newMessage(mi, "", appID, key)
	if err != nil {
		_, err = s.newMessage(mi, batchPrefix(i), appID, key)
	}
	return m, err
}

// batchPrefix names message i of a batch in errors.
func batchPrefix(i int) string { return "messages[" + strconv.Itoa(i) + "]." }
