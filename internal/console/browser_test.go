package console_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/server/servertest"
	_ "modernc.org/sqlite" // to expire portal links in the test server's database
)

// chromiumPath is Debian's chromium, which scripts/test installs.
const chromiumPath = "/usr/bin/chromium"

// xssPayloads must render as text wherever data is shown.
var xssPayloads = []string{`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`}

// receiver is a loopback webhook endpoint that succeeds or fails on demand and answers
// with markup in its body and headers (which the UI must show as text).
type receiver struct {
	*httptest.Server
	failing atomic.Bool
	got     atomic.Int64
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		rc.got.Add(1)
		w.Header().Set("X-Evil", xssPayloads[0])
		if rc.failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "down for maintenance")
			return
		}
		io.WriteString(w, xssPayloads[1])
	}))
	t.Cleanup(rc.Close)
	return rc
}

// herald is what every browser test starts from (and skips in -short mode): a whole
// herald server on a loopback port, an admin client, a receiver, and an app, Acme Corp
// (uid acme).
func herald(t *testing.T) (srv *servertest.Server, cli *client.Client, rc *receiver, acme *client.App) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test")
	}
	srv = servertest.Start(t, func(cfg *server.Config) {
		cfg.RetrySchedule = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond}
	})
	cli = srv.Client(t)
	return srv, cli, newReceiver(t), servertest.NewApp(t, cli, client.AppInput{Name: "Acme Corp", UID: "acme"})
}

// browser drives one headless Chromium tab and records what must not happen: a
// JavaScript dialog (an XSS payload that ran), an uncaught exception, a CSP violation.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string
	mu     sync.Mutex
	alerts []string
	errs   []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("HERALD_REQUIRE_BROWSER") == "1" {
			t.Fatalf("HERALD_REQUIRE_BROWSER=1 but %s is missing: apt-get install chromium", chromiumPath)
		}
		t.Skipf("%s is missing (apt-get install chromium); set HERALD_REQUIRE_BROWSER=1 to fail instead", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("mute-audio", true), chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{t: t, ctx: ctx, base: base}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.alerts = append(b.alerts, e.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.errs = append(b.errs, fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, msg))
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError && e.Entry.Source != log.EntrySourceNetwork {
				b.errs = append(b.errs, string(e.Entry.Source)+": "+e.Entry.Text)
			}
		}
	})
	if err != nil {
		t.Fatalf("listen to chromium: %v", err)
	}
	for _, enable := range []func() error{
		func() error { _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(ctx, page.Enable, page.EnableParams{}); return err },
	} {
		if err := enable(); err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	}
	return b
}

// run runs steps with a time limit.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\npage:\n%s", what, err, b.shown("main"))
	}
}

// eval evaluates JavaScript, awaiting a promise.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// text returns the text content of the first element matching sel, "" when there is none.
func (b *browser) text(sel string) string {
	return b.js(fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel))
}

// shown returns the text of sel as rendered (for failure messages).
func (b *browser) shown(sel string) string {
	return b.js(fmt.Sprintf(`(document.querySelector(%q)||{}).innerText||""`, sel))
}

// js evaluates an expression to a string, "" on failure.
func (b *browser) js(expr string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	return s
}

// waitText waits until the element sel contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if strings.Contains(b.text(sel), want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %q in %s; it shows:\n%s", want, sel, b.shown(sel))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitTrue waits until the JavaScript expression is true.
func (b *browser) waitTrue(expr, what string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for b.js(`String(!!(`+expr+`))`) != "true" {
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s (%s); the page shows:\n%s", what, expr, b.shown("main"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// open loads a scope (/console/ or /portal/) at a hash route.
func (b *browser) open(path string) {
	b.t.Helper()
	// Through about:blank, so that a URL that differs only in its fragment loads anew.
	b.run("open "+path, chromedp.Navigate("about:blank"), chromedp.Navigate(b.base+path))
}

// route changes the hash route of the loaded app.
func (b *browser) route(hash string) {
	b.t.Helper()
	eval[string](b, fmt.Sprintf(`location.hash = %q`, hash))
}

// click clicks the first element matching a CSS selector.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.run("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// press clicks the button with exactly this text.
func (b *browser) press(label string) {
	b.t.Helper()
	b.run("press "+label, chromedp.Click(chromedp.Search(fmt.Sprintf(`//button[normalize-space()=%q]`, label))))
}

// clean fails the test if a dialog fired or the page logged errors.
func (b *browser) clean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.alerts) > 0 {
		b.t.Errorf("a JavaScript dialog fired (a payload ran as code): %q", b.alerts)
	}
	if len(b.errs) > 0 {
		b.t.Errorf("the page logged errors: %q", b.errs)
	}
	b.errs = nil
}

// media emulates prefers-color-scheme.
func (b *browser) media(theme string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}},
	}); err != nil {
		b.t.Fatalf("emulate %s: %v", theme, err)
	}
}

// shot saves a screenshot of the page, light and dark, to docs/console/NAME-{light,dark}.png
// when HERALD_UPDATE_SCREENSHOTS=1.
func (b *browser) shot(name string) {
	b.t.Helper()
	if os.Getenv("HERALD_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	dir := filepath.Join("..", "..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	b.js(`document.querySelectorAll(".toast").forEach((t) => t.remove()), ""`)
	for _, theme := range []string{"light", "dark"} {
		b.media(theme)
		time.Sleep(150 * time.Millisecond)
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			b.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+theme+".png"), shrinkPNG(b.t, png), 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.media("light")
}

// status fetches a URL from the page with the page's session and answers the HTTP
// status; csrf adds the session's X-CSRF-Token.
func (b *browser) status(method, path string, csrf bool) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`(async () => {
		const h = {"Content-Type": "application/json"};
		if (%t) { const s = await (await fetch("/v1/session")).json(); h["X-CSRF-Token"] = s.csrf_token; }
		const r = await fetch(%q, {method: %q, headers: h, credentials: "same-origin", body: %q === "GET" ? undefined : '{"name":"Initech"}'});
		return r.status;
	})()`, csrf, path, method, method))
}

// TestBrowser drives the console and the portal through their main flows in headless
// Chromium against a real herald.
func TestBrowser(t *testing.T) {
	srv, cli, rc, appA := herald(t)
	base, key := srv.URL, srv.APIKey
	ctx := context.Background()
	appB := servertest.NewApp(t, cli, client.AppInput{Name: "Globex", UID: "globex"})
	epB, err := cli.CreateEndpoint(ctx, appB.ID, client.EndpointInput{URL: rc.URL + "/b"})
	if err != nil {
		t.Fatal(err)
	}
	msgB, _, _, err := cli.Publish(ctx, appB.ID, client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(`{"secret":"of B"}`)})
	if err != nil {
		t.Fatal(err)
	}

	apiJSON(t, base, key, "PATCH", "/v1/apps/"+appA.ID, `{"metadata":{"brand.name":"Acme Webhooks","brand.accent":"#0f766e"}}`, 200, nil)
	apiJSON(t, base, key, "POST", "/v1/event-types", `{"name":"invoice.paid","description":"An invoice was paid","example":{"invoice":"in_1","amount":4200}}`, 201, nil)

	b := newBrowser(t, base)

	// Sign in with the keyboard: the key field has focus; Enter submits.
	b.open("/console/")
	b.run("sign-in form", chromedp.WaitVisible(chromedp.CSS(`input[name=api_key]`)))
	b.shot("signin")
	b.run("type a wrong key", chromedp.SendKeys(chromedp.CSS(`input[name=api_key]`), "hk_wrongwrongwrongwrongwrongwrong"+kb.Enter))
	b.waitText(`[data-field=api_key] .field-error`, "not a valid API key")
	b.run("type the key", chromedp.SendKeys(chromedp.CSS(`input[name=api_key]`), key+kb.Enter))
	b.waitText("#nav", "Endpoints")
	stored := eval[string](b, `JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie`)
	if strings.Contains(stored, key) {
		t.Fatalf("the API key is stored in the browser: %s", stored)
	}

	// Create an endpoint; a bad URL is named next to its field.
	b.route("#/a/" + appA.ID + "/endpoints/new")
	b.run("endpoint form", chromedp.WaitVisible(chromedp.CSS(`input[name=url]`)))
	b.run("bad url", chromedp.SendKeys(chromedp.CSS(`input[name=url]`), "ftp://nowhere"))
	b.click(`form.form button[type=submit]`)
	b.waitText(`[data-field=url] .field-error`, "url")
	b.run("good url",
		chromedp.SetValue(chromedp.CSS(`input[name=url]`), rc.URL+"/hook"),
		chromedp.SendKeys(chromedp.CSS(`input[name=description]`), "Billing service"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=headers]`), "X-Team: billing"))
	b.shot("endpoint-form")
	b.click(`form.form button[type=submit]`)
	b.waitText("main h1", rc.URL+"/hook")
	hash := eval[string](b, `location.hash`)
	epID := hash[strings.LastIndex(hash, "/")+1:]
	if !strings.HasPrefix(epID, "ep_") {
		t.Fatalf("after create the page is %s", hash)
	}

	// Publish (as a backend does), with markup in the payload; see the delivery and its
	// attempt, all as text.
	msg, _, _, err := cli.Publish(ctx, appA.ID, client.MessageInput{Type: "invoice.paid",
		Payload: json.RawMessage(`{"customer":"<script>alert(1)</script>","note":"<img src=x onerror=alert(1)>","amount":4200}`)})
	if err != nil {
		t.Fatal(err)
	}
	b.route("#/a/" + appA.ID + "/messages")
	b.waitText("main table", msg.ID)
	b.shot("messages")
	b.click(`a[href$="` + msg.ID + `"]`)
	b.waitText("main", "Attempt 1")
	b.waitText("main .delivery", "succeeded")
	b.click(`details.attempt summary`)
	for _, p := range xssPayloads {
		b.waitText("main", p) // the payload, the response body and header, as text
	}
	injected := eval[int](b, `document.querySelectorAll("main img, main script").length`)
	if injected != 0 {
		t.Fatalf("payload markup became %d elements", injected)
	}
	b.shot("message")
	b.clean()

	// The endpoints list shows health.
	b.route("#/a/" + appA.ID + "/endpoints")
	b.waitText("main table", "Billing service")
	b.shot("endpoints")

	// Make the endpoint fail, then recover the failed deliveries.
	rc.failing.Store(true)
	for i := range 3 {
		if _, _, _, err := cli.Publish(ctx, appA.ID, client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	waitFailed(t, cli, appA.ID, epID, 3)
	rc.failing.Store(false)
	b.route("#/a/" + appA.ID + "/endpoints/" + epID)
	b.waitText("main", "Recovery")
	b.press("Recover")
	b.waitText(".progress", "Queued 3 deliveries again. Done.")
	waitFailed(t, cli, appA.ID, epID, 0)

	// Reveal and rotate the signing secret.
	b.press("Reveal secret")
	b.waitText("main", "whsec_")
	b.press("Rotate secret")
	b.click(`dialog button[type=submit]`)
	b.waitTrue(`document.querySelectorAll("code.secret").length === 2`, "the new secret and the expiring one")

	// Escape closes a dialog and nothing happens.
	b.press("Delete")
	b.run("escape", chromedp.WaitVisible(chromedp.CSS(`dialog`)), chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS(`dialog`)))
	if _, err := cli.GetEndpoint(ctx, appA.ID, epID); err != nil {
		t.Fatalf("Escape on the delete dialog: %v", err)
	}
	b.shot("endpoint")

	// A state-changing request without the CSRF token is refused; with it, it passes.
	if got := b.status("POST", "/v1/apps", false); got != http.StatusForbidden {
		t.Fatalf("POST without X-CSRF-Token answered %d, want 403", got)
	}
	if got := b.status("POST", "/v1/apps", true); got != http.StatusCreated {
		t.Fatalf("POST with X-CSRF-Token answered %d, want 201", got)
	}

	// The event catalogue: an operator adds a type in the console.
	b.route("#/event-types/new")
	b.run("event type form", chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "customer.created"),
		chromedp.SendKeys(chromedp.CSS(`input[name=description]`), "A customer signed up"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=example]`), `{"id": "cus_1", "email": "ada@example.com"}`))
	b.click(`form.form button[type=submit]`)
	b.waitText("main", "ada@example.com")
	b.route("#/event-types")
	b.waitText("main table", "invoice.paid")
	b.shot("event-types")

	// A source and a request it refused: the refused body and headers show as text.
	src, err := cli.CreateSource(ctx, appA.ID, client.SourceInput{Name: "stripe-in", Provider: "stripe", Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+src.IngestPath, strings.NewReader(xssPayloads[0]))
	req.Header.Set("X-Note", xssPayloads[1])
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	b.route("#/a/" + appA.ID + "/sources/" + src.ID)
	b.waitText("main", "stripe")
	b.click(`details.attempt summary`)
	for _, p := range xssPayloads {
		b.waitText("main", p)
	}
	b.waitText("details.attempt ul.findings", "missing_header: The request has no stripe-signature header") // the diagnosis
	for hash, want := range map[string]string{
		"#/keys": "Admin API keys", "#/a/" + appA.ID + "/keys": "API keys of this app",
		"#/a/" + appA.ID + "/listeners": "Listeners", "#/a/" + appA.ID + "/sources": "stripe-in",
	} {
		b.route(hash)
		b.waitText("main", want)
	}
	b.clean()

	b.route("#/apps")
	b.waitText("main table", "Globex")
	b.shot("apps")
	// An operator mints a portal link from the console.
	b.run("portal link dialog", chromedp.Click(chromedp.Search(`//tr[contains(., "Acme Corp")]//button[normalize-space()="Portal link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog`)))
	b.click(`dialog button[type=submit]`)
	b.waitTrue(`(document.querySelector("dialog input[name=url]") || {}).value?.includes("/portal/#token=")`, "a portal link in the dialog")
	b.run("close the dialog", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS(`dialog`)))
	b.route("#/health")
	b.waitText("main", "Queue depth")
	b.shot("health")
	b.clean()

	// Sign out ends the session on the server.
	b.press("Sign out")
	b.run("signed out", chromedp.WaitVisible(chromedp.CSS(`input[name=api_key]`)))
	if got := b.status("GET", "/v1/session", false); got != http.StatusUnauthorized {
		t.Fatalf("after signing out, GET /v1/session answered %d, want 401", got)
	}

	// The portal: the operator's backend mints a link for app A; the customer opens it.
	var link struct {
		URL string `json:"url"`
	}
	apiJSON(t, base, key, "POST", "/v1/apps/"+appA.ID+"/portal-sessions", `{"expires_in":3600,"capabilities":["read","manage"]}`, 201, &link)
	b.open(strings.TrimPrefix(link.URL, base))
	b.waitText("#nav", "Endpoints")
	b.waitText("main table", rc.URL+"/hook")
	if href := eval[string](b, `location.href`); strings.Contains(href, "token") {
		t.Fatalf("the token stays in the address bar: %s", href)
	}
	b.waitText(".top", "Acme Webhooks") // the app's branding
	b.shot("portal-endpoints")

	// App B is unreachable from A's portal session, by id, uid or guessed record ids.
	for _, path := range []string{
		"/v1/apps/" + appB.ID, "/v1/apps/" + appB.ID + "/endpoints", "/v1/apps/globex/endpoints",
		"/v1/apps/" + appB.ID + "/endpoints/" + epB.ID, "/v1/apps/" + appA.ID + "/endpoints/" + epB.ID,
		"/v1/apps/" + appB.ID + "/messages/" + msgB.ID, "/v1/apps/" + appA.ID + "/messages/" + msgB.ID,
	} {
		if got := b.status("GET", path, false); got != http.StatusNotFound {
			t.Errorf("the portal session of app A got %d for GET %s, want 404", got, path)
		}
	}
	if got := b.status("POST", "/v1/apps/"+appB.ID+"/endpoints", true); got != http.StatusNotFound {
		t.Errorf("the portal session of app A got %d for POST app B's endpoints, want 404", got)
	}
	b.route("#/a/" + appB.ID + "/endpoints")
	b.waitText("main h1", "Not found")

	// Send a test event from the portal, by keyboard, and see its attempt appear: the
	// dialog takes the focus.
	b.route("#/a/" + appA.ID + "/endpoints/" + epID)
	b.run("keyboard: open the test dialog", chromedp.Focus(chromedp.Search(`//button[normalize-space()="Send test event"]`)),
		chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`dialog`)))
	b.waitTrue(`document.querySelector("dialog").contains(document.activeElement)`, "the focus inside the dialog")
	b.waitTrue(`document.querySelector("dialog textarea").value.includes("ada@example.com")`, "customer.created's example (the first type) as the payload")
	b.click(`dialog button[type=submit]`)
	b.waitText(".toasts", "Test event sent")
	testMsg := regexp.MustCompile(`msg_[0-9A-Z]+`).FindString(b.text(".toasts"))
	b.waitText("#attempts", testMsg)
	b.shot("portal-endpoint")
	b.clean()

	// A read-only link: no buttons that change things, and the server refuses them anyway.
	usedURL := link.URL
	apiJSON(t, base, key, "POST", "/v1/apps/"+appA.ID+"/portal-sessions", `{"capabilities":["read"]}`, 201, &link)
	b.open(strings.TrimPrefix(link.URL, base))
	b.waitText("#nav", "Endpoints")
	b.route("#/a/" + appA.ID + "/endpoints/" + epID)
	b.waitText("#attempts", "succeeded")
	if n := eval[int](b, `[...document.querySelectorAll("main button")].filter((e) => /test event|Delete|Rotate|Recover/.test(e.textContent)).length`); n != 0 {
		t.Errorf("a read-only portal shows %d buttons that change things", n)
	}
	if got := b.status("POST", "/v1/apps/"+appA.ID+"/endpoints/"+epID+"/test", true); got != http.StatusForbidden {
		t.Errorf("a read-only portal session sent a test event: %d, want 403", got)
	}

	// A used link is refused, and so is an expired one.
	b.open(strings.TrimPrefix(usedURL, base))
	b.waitText("main h1", "This link has expired")
	apiJSON(t, base, key, "POST", "/v1/apps/"+appA.ID+"/portal-sessions", `{"expires_in":60}`, 201, &link)
	expireLinks(t, srv.DataDir)
	b.open(strings.TrimPrefix(link.URL, base))
	b.waitText("main h1", "This link has expired")
	b.shot("portal-expired")
	b.clean()
}

// expireLinks moves the deadline of every unused portal link in the server's SQLite
// database into the past (links live at least 60 s, longer than a test should wait).
func expireLinks(t *testing.T, dataDir string) {
	t.Helper()
	path := filepath.Join(dataDir, "herald.db")
	db, err := sql.Open("sqlite", "file:"+path+"?"+url.Values{"_pragma": {"busy_timeout(10000)"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE sessions SET expires_at = ? WHERE kind = 'link'`, time.Now().Add(-time.Minute).UnixMilli())
	if err != nil {
		t.Fatalf("expire links: %v", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("expire links: no unused link in the database")
	}
}

// apiJSON calls the API with the admin key and decodes the answer into out.
func apiJSON(t *testing.T, base, key, method, path, body string, want int, out any) {
	t.Helper()
	status, b := servertest.Call(t, base, key, method, path, nil, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// waitFailed waits until the endpoint has n failed deliveries.
func waitFailed(t *testing.T, cli *client.Client, app, ep string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ds, _, err := cli.ListDeliveries(context.Background(), app, client.ListDeliveriesParams{EndpointID: ep, Status: "failed"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the endpoint has %d failed deliveries, want %d", len(ds), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
