package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/coder/websocket"
	"github.com/heraldhq/herald/client"
)

// signIn signs in to the console with an admin key.
func (b *browser) signIn(key string) {
	b.t.Helper()
	b.open("/console/")
	b.run("sign in", chromedp.WaitVisible(chromedp.CSS(`input[name=api_key]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=api_key]`), key+kb.Enter))
	b.waitText("#nav", "Endpoints")
}

// setField replaces the value of a form control and tells the page it changed.
func (b *browser) setField(sel, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value))
}

// submitForm submits the page's form and waits until it is no longer busy.
func (b *browser) submitForm() {
	b.t.Helper()
	b.click(`form.form button[type=submit]`)
	b.waitTrue(`!document.querySelector("form.form button[type=submit]") || !document.querySelector("form.form button[type=submit]").disabled`, "the form's answer")
}

// scrollTo scrolls the first element matching sel to the top of the window.
func (b *browser) scrollTo(sel string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(document.querySelector(%q).scrollIntoView({block: "start"}), true)`, sel))
}

// refused reports whether the form shows the API's refusal of an unknown field (a
// server without that endpoint feature yet).
func (b *browser) refused(field string) bool {
	return strings.Contains(b.text(`form.form .form-error`), `unknown field "`+field+`"`) ||
		strings.Contains(b.text(`form.form`), `"`+field+`" is not`)
}

// TestBrowserRoutingAndRecovery drives what the console gained for routing and
// recovery: the endpoint form's filter (tested with the API's filter test), retry
// schedule, transformation and authentication; attempts' request headers; app-wide
// replay by event type with its progress, by keyboard; the listeners' connected state
// and the nodes on the health page.
func TestBrowserRoutingAndRecovery(t *testing.T) {
	srv, cli, rc, app := herald(t)
	base, key := srv.URL, srv.APIKey
	apiJSON(t, base, key, "POST", "/v1/event-types", `{"name":"invoice.paid","description":"An invoice was paid","example":{"invoice":"in_1","amount":4200}}`, 201, nil)
	apiJSON(t, base, key, "POST", "/v1/event-types", `{"name":"customer.created","example":{"id":"cus_1"}}`, 201, nil)
	b := newBrowser(t, base)
	b.signIn(key)

	epID := routingForm(t, b, base, key, app.ID, rc.URL)
	b.clean()
	requestHeaders(t, b, cli, app.ID)
	b.clean()
	replayByEventType(t, b, cli, rc, key, app.ID, epID)
	b.clean()
	listenersAndNodes(t, b, base, key, app.ID)
	b.clean()
}

// routingForm creates an endpoint with a payload filter and a retry schedule through
// the form (bad values named next to their fields), tests the filter and a template
// transformation, and sets a transformation and credentials where the server takes them.
func routingForm(t *testing.T, b *browser, base, key, app, url string) string {
	b.route("#/a/" + app + "/endpoints/new")
	b.run("endpoint form", chromedp.WaitVisible(chromedp.CSS(`textarea[name=filter]`)))
	b.setField(`input[name=url]`, url+"/hook")
	b.click(`input[name=event_type][value="invoice.paid"]`)
	b.setField(`textarea[name=filter]`, `{"payload": {"amount": {"$gtt": 1000}}}`)
	b.submitForm()
	b.waitText(`[data-field=filter] > .field-error`, "$gtt")
	if got := b.js(`document.activeElement.name`); got != "filter" {
		t.Errorf("after the filter's error the focus is on %q, want the filter", got)
	}
	b.setField(`textarea[name=filter]`, `{"payload": {"amount": {"$gte": 1000}}}`)
	b.press("Test filter")
	b.waitText(".test-result", "The message matches")
	b.waitText(".test-result", "amount")
	b.setField(`textarea[name=test_message]`, `{"type": "invoice.paid", "payload": {"amount": 5}}`)
	b.press("Test filter")
	b.waitText(".test-result", "does not match")
	b.setField(`input[name=retry_schedule]`, "1s, 5x")
	b.submitForm()
	b.waitText(`[data-field=retry_schedule] > .field-error`, "retry_schedule[1]")
	b.setField(`input[name=retry_schedule]`, "1s, 2s")
	b.scrollTo(`fieldset.routing`)
	b.shot("endpoint-routing")
	b.submitForm()
	b.waitText("main h1", url+"/hook")
	hash := eval[string](b, `location.hash`)
	epID := hash[strings.LastIndex(hash, "/")+1:]
	var ep map[string]any
	apiJSON(t, base, key, "GET", "/v1/apps/"+app+"/endpoints/"+epID, "", 200, &ep)
	if f, _ := json.Marshal(ep["filter"]); string(f) != `{"payload":{"amount":{"$gte":1000}}}` || fmt.Sprint(ep["retry_schedule"]) != "[1s 2s]" {
		t.Errorf("the endpoint saved filter %s and retry schedule %v", f, ep["retry_schedule"])
	}
	b.waitText("main", "1s, 2s")

	// A transformation from the Slack template, tested, then saved if the server takes it.
	b.route("#/a/" + app + "/endpoints/" + epID + "/edit")
	b.run("edit form", chromedp.WaitVisible(chromedp.CSS(`select[name=transformation_template]`)))
	b.setField(`select[name=transformation_template]`, "slack")
	b.waitTrue(`document.querySelector("textarea[name=transformation]").value.includes("function handler(webhook)")`, "the Slack template in the field")
	b.press("Test transformation")
	b.waitText(".test-result", "It would send POST")
	b.waitText(".test-result", "invoice.paid")
	b.submitForm()
	if b.refused("transformation") {
		t.Log("the server does not take endpoint transformations yet: that part is skipped")
		b.setField(`textarea[name=transformation]`, "")
		b.submitForm()
	} else {
		b.waitText("main h1", url+"/hook")
		apiJSON(t, base, key, "GET", "/v1/apps/"+app+"/endpoints/"+epID, "", 200, &ep)
		if s, _ := ep["transformation"].(string); !strings.Contains(s, "function handler(webhook)") {
			t.Errorf("the endpoint saved transformation %q", s)
		}
	}
	b.waitText("main h1", url+"/hook")

	// Credentials: a bearer token, write-only; saving again without it keeps it.
	b.route("#/a/" + app + "/endpoints/" + epID + "/edit")
	b.run("edit form", chromedp.WaitVisible(chromedp.CSS(`select[name="auth.type"]`)))
	b.setField(`select[name="auth.type"]`, "bearer")
	b.waitTrue(`!document.querySelector('[data-auth=bearer]').hidden && document.querySelector('[data-auth=basic]').hidden`, "the bearer fields alone")
	b.setField(`input[name="auth.token"]`, "tok_secret")
	b.scrollTo(`[data-field=auth]`)
	b.shot("endpoint-auth")
	b.submitForm()
	if b.refused("auth") {
		t.Log("the server does not take endpoint credentials yet: that part is skipped")
		b.setField(`select[name="auth.type"]`, "")
		b.submitForm()
		b.waitText("main h1", url+"/hook")
		return epID
	}
	b.waitText("main h1", url+"/hook")
	b.waitText("main", "Bearer token")
	apiJSON(t, base, key, "GET", "/v1/apps/"+app+"/endpoints/"+epID, "", 200, &ep)
	if a, _ := ep["auth"].(map[string]any); a["type"] != "bearer" || a["secret_set"] != true || a["token"] != nil {
		t.Errorf("the endpoint's auth reads %v", ep["auth"])
	}
	b.route("#/a/" + app + "/endpoints/" + epID + "/edit")
	b.run("edit form", chromedp.WaitVisible(chromedp.CSS(`input[name="auth.token"]`)))
	if v, ph := b.js(`document.querySelector('input[name="auth.token"]').value`), b.js(`document.querySelector('input[name="auth.token"]').placeholder`); v != "" || !strings.Contains(ph, "leave blank") {
		t.Errorf("the stored token's field shows %q, placeholder %q", v, ph)
	}
	b.submitForm()
	b.waitText("main h1", url+"/hook")
	apiJSON(t, base, key, "GET", "/v1/apps/"+app+"/endpoints/"+epID, "", 200, &ep)
	if a, _ := ep["auth"].(map[string]any); a["secret_set"] != true {
		t.Errorf("saving without the token dropped it: %v", ep["auth"])
	}
	return epID
}

// requestHeaders shows an attempt's request headers as text, with the secrets the API
// redacts marked, or says they were not recorded. Then the attempts answer is given
// request_headers with markup in the page (whatever the server records): this checks
// how the UI shows them, not what the API sends.
func requestHeaders(t *testing.T, b *browser, cli *client.Client, app string) {
	msg, _, _, err := cli.Publish(context.Background(), app, client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(`{"amount":4200}`)})
	if err != nil {
		t.Fatal(err)
	}
	b.route("#/a/" + app + "/messages/" + msg.ID)
	b.waitText("main", "Attempt 1")
	b.click(`details.attempt summary`)
	// A server that records them shows the headers it sent (the signature among them);
	// one that does not says so.
	b.waitTrue(`/Not recorded by this server\.|Webhook-Signature/.test(document.querySelector("main .attempt").textContent)`,
		"the attempt's request headers, or that they were not recorded")
	eval[bool](b, `(() => {
		const real = window.fetch;
		window.fetch = async (url, opts) => {
			const r = await real(url, opts);
			if (!/\/attempts(\?|$)/.test(String(url)) || !r.ok) return r;
			const body = await r.json();
			for (const a of body.data || []) a.request_headers = {
				"Content-Type": "application/json", "Authorization": "[redacted]",
				"X-Note": "<img src=x onerror=alert(1)>", "X-Script": "<script>alert(1)</script>"};
			return new Response(JSON.stringify(body), {status: r.status, headers: r.headers});
		};
		return true;
	})()`)
	b.route("#/a/" + app + "/messages")
	b.route("#/a/" + app + "/messages/" + msg.ID)
	b.waitText("main", "Attempt 1")
	b.click(`details.attempt summary`)
	b.waitText("main .attempt table.headers", "<img src=x onerror=alert(1)>")
	b.waitText("main .attempt table.headers", "<script>alert(1)</script>")
	if got := b.text(`main .attempt table.headers .redacted`); got != "[redacted]" {
		t.Errorf("the redacted Authorization shows as %q, want it marked", got)
	}
	if n := eval[int](b, `document.querySelectorAll("main img, main script").length`); n != 0 {
		t.Errorf("request header markup became %d elements", n)
	}
	b.scrollTo(`details.attempt`)
	b.shot("message-request-headers")
}

// replayByEventType fails deliveries of two types, then replays the failed ones of one
// type from the Recovery page, by keyboard, and follows it to the end.
func replayByEventType(t *testing.T, b *browser, cli *client.Client, rc *receiver, key, app, epID string) {
	ctx := context.Background()
	rc.failing.Store(true)
	// The endpoint takes invoice.paid messages of at least 1000: 3 of them, and 2 test events
	// of customer.created, all failing.
	for i := range 3 {
		if _, _, _, err := cli.Publish(ctx, app, client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(fmt.Sprintf(`{"amount":%d}`, 2000+i))}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		apiJSON(t, b.base, key, "POST", "/v1/apps/"+app+"/endpoints/"+epID+"/test", `{"event_type":"customer.created"}`, 202, nil)
	}
	waitFailed(t, cli, app, epID, 5)
	rc.failing.Store(false)
	before := rc.got.Load()

	b.open("/console/#/a/" + app + "/recovery")
	b.waitText("main h1", "Recovery")
	b.run("keyboard: pick invoice.paid", chromedp.Focus(chromedp.CSS(`form.form input[name=event_type][value="invoice.paid"]`)), chromedp.KeyEvent(" "))
	b.waitTrue(`document.querySelector('form.form input[name=event_type][value="invoice.paid"]').checked`, "invoice.paid checked")
	b.run("keyboard: start", chromedp.Focus(chromedp.CSS(`form.form button[type=submit]`)), chromedp.KeyEvent(kb.Enter))
	b.waitText("#replay-progress", "done")
	b.waitText("#replay-progress .replay-done", "3")
	b.waitText("#replay-progress", "queued again")
	b.waitText("main table", "invoice.paid")
	waitFailed(t, cli, app, epID, 2) // the customer.created ones stay failed
	if rc.got.Load() < before+3 {
		t.Errorf("the receiver got %d requests after the replay, want 3 more", rc.got.Load()-before)
	}
	b.shot("recovery")

	// Bad input is named next to its field.
	b.setField(`input[name=event_types_other]`, "<b>")
	b.submitForm()
	b.waitText(`[data-field=event_types] > .field-error`, "event_types")
	b.setField(`input[name=event_types_other]`, "")
	b.setField(`input[name=since]`, "")
	b.submitForm()
	b.waitText(`[data-field=since] > .field-error`, "since is required")

	// The endpoint's chart over 30 days, by day (served by the per-hour counts).
	b.route("#/a/" + app + "/endpoints/" + epID)
	b.run("endpoint page", chromedp.WaitVisible(chromedp.CSS(`select[name=range]`)))
	b.setField(`select[name=range]`, "30d")
	b.waitTrue(`document.querySelector("main svg.chart").getAttribute("aria-label").includes("30 days")`, "the 30-day chart")
	if n := eval[int](b, `document.querySelectorAll("main svg.chart g").length`); n != 30 {
		t.Errorf("the 30-day chart has %d bars, want 30", n)
	}
	if n := eval[int](b, `document.querySelectorAll("main svg.chart rect.bad").length`); n != 1 {
		t.Errorf("the 30-day chart has %d bars with failures, want today's", n)
	}
	b.shot("endpoint-chart-30d")
}

// listenersAndNodes attaches a `herald listen` session and sees it connected, then
// gone; and the health page's node list.
func listenersAndNodes(t *testing.T, b *browser, base, key, app string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{"Authorization": {"Bearer " + key}}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/listen?app=acme&name=laptop", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.Read(ctx); err != nil { // the hello
		t.Fatal(err)
	}
	b.route("#/a/" + app + "/listeners")
	b.waitText("#listeners", "laptop")
	b.waitText("#listeners", "connected")
	if b.text("#listeners .b-connected") != "connected" {
		t.Errorf("the listener shows %q", b.shown("#listeners"))
	}
	b.shot("listeners")
	conn.Close(websocket.StatusNormalClosure, "bye")
	b.waitText("#listeners", "not connected") // refreshed every 5 s

	b.route("#/health")
	b.waitText("#nodes", "alive")
	b.waitText("#nodes", "this node")
}
