package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

func testSources(t *testing.T, st store.Store) {
	s, ok := st.(store.SourceStore)
	if !ok {
		t.Skip("this backend does not implement store.SourceStore")
	}
	a, other := newApp(t, st), newApp(t, st)
	src := &domain.Source{ID: ids.New("src"), AppID: a.ID, Name: "openai", Provider: "openai",
		Secrets: []string{"whsec_new", "whsec_old"}, MaxBodyBytes: 1 << 20, DedupeWindow: 72 * time.Hour, CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateSource(ctx, src))
	gen := &domain.Source{ID: ids.New("src"), AppID: a.ID, Provider: "hmac", Secrets: []string{"s3cret"},
		HMAC: &webhook.HMACConfig{Header: "X-Signature", Prefix: "sha256=", Secret: "must-not-be-stored"}, CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateSource(ctx, gen))
	wantErr(t, s.CreateSource(ctx, &domain.Source{ID: ids.New("src"), AppID: "app_missing", Provider: "openai", Secrets: []string{"x"}, CreatedAt: base, UpdatedAt: base}), store.ErrNotFound)

	got, err := s.GetSource(ctx, "", src.ID)
	must(t, err)
	if got.AppID != a.ID || fmt.Sprint(got.Secrets) != "[whsec_new whsec_old]" || got.DedupeWindow != 72*time.Hour || got.MaxBodyBytes != 1<<20 {
		t.Fatalf("GetSource = %+v", got)
	}
	_, err = s.GetSource(ctx, other.ID, src.ID)
	wantErr(t, err, store.ErrNotFound)
	g, _ := s.GetSource(ctx, a.ID, gen.ID)
	if g.HMAC == nil || g.HMAC.Header != "X-Signature" || g.HMAC.Secret != "" {
		t.Fatalf("generic source config = %+v", g.HMAC)
	}
	list, _, err := s.ListSources(ctx, a.ID, store.Page{})
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("ListSources = %d", len(list))
	}
	src.Secrets, src.Name = []string{"whsec_rotated"}, "renamed"
	must(t, s.UpdateSource(ctx, src))
	got, _ = s.GetSource(ctx, a.ID, src.ID)
	if got.Name != "renamed" || fmt.Sprint(got.Secrets) != "[whsec_rotated]" {
		t.Fatalf("after update = %+v", got)
	}

	rej := &domain.Rejection{ID: ids.New("rej"), SourceID: src.ID, AppID: a.ID, ReceivedAt: base, Status: 401, Code: "invalid_signature",
		Message: "no matching signature", RemoteAddr: "127.0.0.1:5555", Headers: map[string]string{"Webhook-Id": "msg_1"}, Body: []byte(`{"x":1}`)}
	must(t, s.RecordRejection(ctx, rej))
	rs, _, err := s.ListRejections(ctx, a.ID, src.ID, store.Page{})
	must(t, err)
	if len(rs) != 1 || rs[0].Code != "invalid_signature" || string(rs[0].Body) != `{"x":1}` || rs[0].Headers["Webhook-Id"] != "msg_1" {
		t.Fatalf("ListRejections = %+v", rs)
	}
	if rs, _, _ := s.ListRejections(ctx, other.ID, src.ID, store.Page{}); len(rs) != 0 {
		t.Fatal("rejections leak across apps")
	}
	wantErr(t, s.DeleteSource(ctx, other.ID, src.ID), store.ErrNotFound)
	must(t, s.DeleteSource(ctx, a.ID, src.ID))
	_, err = s.GetSource(ctx, a.ID, src.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.RecordRejection(ctx, &domain.Rejection{ID: ids.New("rej"), SourceID: src.ID, AppID: a.ID, ReceivedAt: base}), store.ErrNotFound)
}
