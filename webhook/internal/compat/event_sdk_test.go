package compat_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/respjson"
	"github.com/openai/openai-go/v3/webhooks"

	"github.com/heraldhq/herald/webhook"
	whopenai "github.com/heraldhq/herald/webhook/openai"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

// sdkName turns an event type into the name the SDK gives it: "fine_tuning.job.failed" → "FineTuningJobFailed".
func sdkName(eventType string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(eventType, func(r rune) bool { return r == '.' || r == '_' }) {
		b.WriteString(strings.ToUpper(word[:1]) + word[1:])
	}
	return b.String()
}

// TestEventCatalogueMatchesSDK checks that the catalogue has exactly the event types the
// pinned SDK's UnwrapWebhookEventUnion knows: one As<Name> method per variant.
func TestEventCatalogueMatchesSDK(t *testing.T) {
	var sdk []string
	union := reflect.TypeFor[webhooks.UnwrapWebhookEventUnion]()
	for i := range union.NumMethod() {
		if name, ok := strings.CutPrefix(union.Method(i).Name, "As"); ok && name != "Any" {
			sdk = append(sdk, name)
		}
	}
	var ours []string
	for _, typ := range whopenai.EventTypes() {
		ours = append(ours, sdkName(typ))
	}
	slices.Sort(sdk)
	slices.Sort(ours)
	if !slices.Equal(ours, sdk) {
		t.Errorf("catalogue differs from the SDK's union:\nours %v\nSDK  %v", ours, sdk)
	}
}

// TestSampleEventSDKUnwrap signs every catalogue sample as OpenAI would and checks that the
// official SDK accepts it and decodes every member into the variant for its type.
func TestSampleEventSDKUnwrap(t *testing.T) {
	secrets := map[string]string{
		"whsec":      webhook.NewHMACSecret().Reveal(),
		"unprefixed": "synthetic-raw-openai-secret", // the SDK uses an unprefixed secret as raw bytes
	}
	for name, secret := range secrets {
		signer, err := webhook.NewOpenAI(secret)
		if err != nil {
			t.Fatal(err)
		}
		client := openai.NewClient(option.WithWebhookSecret(secret))
		for _, typ := range whopenai.EventTypes() {
			t.Run(name+"/"+typ, func(t *testing.T) {
				now := time.Now()
				body, err := webhooktest.SampleEvent(typ, now)
				if err != nil {
					t.Fatal(err)
				}
				header, err := signer.Sign(webhook.Delivery{ID: "wh_" + strings.Repeat("ab", 16), Timestamp: now}, body)
				if err != nil {
					t.Fatal(err)
				}
				u, err := client.Webhooks.Unwrap(body, header)
				if err != nil {
					t.Fatalf("SDK Unwrap: %v\nbody %s", err, body)
				}
				e, err := whopenai.ParseEvent(body)
				if err != nil {
					t.Fatal(err)
				}
				if u.Type != typ || u.ID != e.ID || u.Object != "event" || u.CreatedAt != now.Unix() {
					t.Errorf("SDK envelope = %q %q %q %d; want %q %q event %d", u.Type, u.ID, u.Object, u.CreatedAt, typ, e.ID, now.Unix())
				}
				if got := cmpOr(u.Data.ID, u.Data.CallID, u.Data.SessionID); got == "" || got != e.DataID() {
					t.Errorf("SDK data id = %q, want %q", got, e.DataID())
				}
				variant := u.AsAny()
				if variant == nil {
					t.Fatalf("SDK has no variant for %s", typ)
				}
				if got, want := reflect.TypeOf(variant).Name(), sdkName(typ)+"WebhookEvent"; got != want {
					t.Errorf("SDK variant = %s, want %s", got, want)
				}
				checkSDKFields(t, "event", reflect.ValueOf(variant))
			})
		}
	}
}

func cmpOr(ids ...string) string {
	for _, id := range ids {
		if id != "" {
			return id
		}
	}
	return ""
}

// checkSDKFields walks a decoded SDK value and fails if a member it knows was sent with the
// wrong type, a required member is missing, or a member it does not know was sent.
func checkSDKFields(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Slice:
		for i := range v.Len() {
			checkSDKFields(t, path+"[]", v.Index(i))
		}
		return
	case reflect.Struct:
	default:
		return
	}
	meta := v.FieldByName("JSON")
	if !meta.IsValid() {
		return
	}
	if extra := meta.FieldByName("ExtraFields"); extra.IsValid() && extra.Len() > 0 {
		t.Errorf("%s: members unknown to the SDK: %v", path, extra.MapKeys())
	}
	fieldType := reflect.TypeFor[respjson.Field]()
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		if !sf.IsExported() || sf.Name == "JSON" {
			continue
		}
		member := path + "." + strings.Split(sf.Tag.Get("json"), ",")[0]
		m := meta.FieldByName(sf.Name)
		if !m.IsValid() || m.Type() != fieldType {
			continue
		}
		f := m.Interface().(respjson.Field)
		if f.Raw() != respjson.Omitted && !f.Valid() {
			t.Errorf("%s = %s does not fit the SDK's %s", member, f.Raw(), sf.Type)
		}
		if sf.Tag.Get("api") == "required" && !f.Valid() {
			t.Errorf("%s is required by the SDK but missing", member)
		}
		if f.Valid() {
			checkSDKFields(t, member, v.Field(i))
		}
	}
}
