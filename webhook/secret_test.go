package webhook

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrintsKey(t *testing.T) {
	for _, s := range []Secret{NewHMACSecret(), NewEd25519Key(), NewEd25519Key().Public()} {
		full := s.Reveal()
		body := strings.TrimRight(full[strings.IndexByte(full, '_')+1:], "=")
		wantRedacted := full[:strings.IndexByte(full, '_')+1] + "…" + body[len(body)-4:]
		if got := s.String(); got != wantRedacted {
			t.Errorf("String() = %q, want %q", got, wantRedacted)
		}
		var logged bytes.Buffer
		slog.New(slog.NewTextHandler(&logged, nil)).Info("msg", "secret", s, "struct", struct{ S Secret }{s})
		outputs := map[string]string{"slog": logged.String()}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			outputs[verb] = fmt.Sprintf(verb, s)
			outputs[verb+" in struct"] = fmt.Sprintf(verb, struct{ S Secret }{s})
			outputs[verb+" pointer"] = fmt.Sprintf(verb, &s)
		}
		// A base64 key shares 8-character runs with its redacted tail only by accident.
		for name, out := range outputs {
			if strings.Contains(out, body[:8]) || strings.Contains(out, full) {
				t.Errorf("%s of a %s shows the key: %s", name, s.Kind(), out)
			}
		}
		if !strings.Contains(outputs["%v"], wantRedacted) || !strings.Contains(outputs["slog"], wantRedacted) {
			t.Errorf("%%v = %q, slog = %q; want the redacted form %q", outputs["%v"], outputs["slog"], wantRedacted)
		}
		back, err := ParseSecret(full)
		if err != nil || !back.Equal(s) {
			t.Errorf("ParseSecret(Reveal()) = %v, %v; want the same key", back, err)
		}
	}
	if got := (Secret{}).String(); got != "" {
		t.Errorf("zero Secret String() = %q, want empty", got)
	}
}
