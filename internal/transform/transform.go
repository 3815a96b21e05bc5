// Package transform runs endpoint transformations: a JavaScript function
//
//	function handler(webhook) { webhook.payload = {text: "..."}; return webhook }
//
// that receives {method, url, headers, payload, eventType, cancel} and returns what to
// send instead, as Svix's transformations do. Scripts run in goja, a JavaScript engine
// written in Go (ES5.1 and most of ES6), inside a sandbox:
//
//   - No I/O: a runtime has only the ECMAScript built-ins — no require, no fetch, no
//     timers, no console, no file or network access, nothing of herald's.
//   - Time: a run is interrupted after Config.Timeout (default 50 ms) through
//     goja's Runtime.Interrupt, which the interpreter checks between instructions.
//   - Memory: goja has no heap limit, so the sandbox bounds what a script can reach
//     instead. The input payload and the output are each at most MaxPayload bytes; the
//     call stack is MaxCallDepth frames deep; the built-ins that allocate or loop in one
//     step from a number the script chooses (String repeat, padStart, padEnd, the
//     Array constructor and every Array.prototype method on a longer array) refuse
//     lengths over MaxLength; typed arrays and ArrayBuffer are removed. What remains
//     is what interpreted JavaScript can build, an instruction at a time, within one
//     time limit (goja concatenates strings as ropes, so even a loop doubling a string
//     grew the heap by about 8 MB before it was stopped), times the number of runs at
//     once, which Config.Concurrency bounds.
//
// A Script is compiled once and keeps a pool of runtimes (a goja runtime is not safe
// for concurrent use); a runtime that was interrupted is thrown away, never reused.
// Runtimes of one script are reused across runs, so a script's global variables can
// outlive a run: scripts should not rely on them either way.
package transform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/heraldhq/herald/internal/domain"
)

// Bounds of the sandbox; see the package documentation.
const (
	DefaultTimeout = 50 * time.Millisecond
	MaxScript      = 64 << 10 // bytes of source
	MaxPayload     = 1 << 20  // bytes of the payload given to a script, and of the payload it returns
	MaxCallDepth   = 256
	MaxLength      = 1 << 20 // elements or characters a built-in may produce or walk in one call
)

// Kinds of Error.
const (
	KindCompile = "compile" // the script does not compile or defines no handler function
	KindRuntime = "runtime" // the script threw
	KindTimeout = "timeout" // the script ran past the time limit
	KindOutput  = "output"  // the script returned something that cannot be sent
	KindInput   = "input"   // the webhook given to the script is too large
)

// Error is a transformation that failed: Kind says how, Line (when known, from 1) where
// in the script, and Message what JavaScript said.
type Error struct {
	Kind    string
	Line    int
	Message string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("transformation %s error at line %d: %s", e.Kind, e.Line, e.Message)
	}
	return fmt.Sprintf("transformation %s error: %s", e.Kind, e.Message)
}

// Webhook is what a transformation receives and returns.
type Webhook struct {
	Method    string            // POST, PUT or PATCH
	URL       string            // the endpoint's URL, or where the script sends this one
	Headers   map[string]string // the endpoint's custom headers; herald's own (webhook-*, content-type...) cannot be set
	Payload   json.RawMessage   // the body; a script sees JSON as an object and anything else as a string
	EventType string            // read-only for the script
	Cancel    bool              // the script cancelled this delivery: nothing is sent
}

// Config bounds the scripts of one Sandbox.
type Config struct {
	// Timeout is how long one run may take; 0 means DefaultTimeout.
	Timeout time.Duration
	// Concurrency is how many runs, of all scripts, may go at once (and so how many
	// runtimes hold memory at once); 0 means 16. Runs beyond it wait for a turn.
	Concurrency int
	// CheckURL, when set, validates a URL a script returns (herald passes the SSRF
	// guard's CheckURL, for an early, clear error; every connection is checked again).
	CheckURL func(ctx context.Context, rawURL string) error
}

// Sandbox compiles scripts and limits how many run at once; it is safe for concurrent use.
type Sandbox struct {
	cfg   Config
	turns chan struct{}
}

// New returns a Sandbox with cfg's limits.
func New(cfg Config) *Sandbox {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	return &Sandbox{cfg: cfg, turns: make(chan struct{}, cfg.Concurrency)}
}

// Script is a compiled transformation; it is safe for concurrent use.
type Script struct {
	sb   *Sandbox
	prog *goja.Program
	src  string
	mu   sync.Mutex
	idle []*goja.Runtime
}

// maxIdle bounds the runtimes a script keeps between runs.
const maxIdle = 4

// scriptName is the file name errors and stacks give the script.
const scriptName = "transformation.js"

// Compile compiles src, which must define a function handler(webhook). It runs the
// script's top level once in a fresh runtime, under the time limit, to check that.
func (sb *Sandbox) Compile(ctx context.Context, src string) (*Script, error) {
	if len(src) > MaxScript {
		return nil, &Error{Kind: KindCompile, Message: fmt.Sprintf("the script is %d bytes long; the most is %d", len(src), MaxScript)}
	}
	if !utf8.ValidString(src) {
		return nil, &Error{Kind: KindCompile, Message: "the script is not valid UTF-8"}
	}
	ast, err := parser.ParseFile(nil, scriptName, src, 0)
	if err != nil {
		return nil, compileError(err)
	}
	prog, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, compileError(err)
	}
	s := &Script{sb: sb, prog: prog, src: src}
	vm, err := s.newRuntime(ctx)
	if err != nil {
		return nil, err
	}
	s.put(vm)
	return s, nil
}

// Source returns the script's source.
func (s *Script) Source() string { return s.src }

// prelude hardens a fresh runtime: it removes the built-ins that allocate a buffer of
// any size in one step and caps the lengths that others produce or walk in one step.
const prelude = `(function (max) {
	"use strict";
	["ArrayBuffer", "SharedArrayBuffer", "DataView", "Int8Array", "Uint8Array", "Uint8ClampedArray",
	 "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array",
	 "BigInt64Array", "BigUint64Array"].forEach(function (name) { delete globalThis[name]; });
	function bound(name) {
		return new RangeError(name + ": the result would exceed the transformation's length limit of " + max);
	}
	function guard(obj, name, tooLong) {
		var orig = obj[name];
		if (typeof orig !== "function") return;
		Object.defineProperty(obj, name, {
			value: function () {
				if (tooLong(this, arguments)) throw bound(name);
				return orig.apply(this, arguments);
			},
			writable: true, configurable: true, enumerable: false
		});
	}
	guard(String.prototype, "repeat", function (s, a) { return String(s).length * Number(a[0]) > max; });
	guard(String.prototype, "padStart", function (s, a) { return Number(a[0]) > max; });
	guard(String.prototype, "padEnd", function (s, a) { return Number(a[0]) > max; });
	Object.getOwnPropertyNames(Array.prototype).forEach(function (name) {
		if (name !== "constructor") guard(Array.prototype, name, function (arr) { return arr != null && arr.length > max; });
	});
	guard(Array, "from", function (t, a) { return a[0] != null && a[0].length > max; });
	var OrigArray = Array;
	var BoundedArray = function Array() {
		if (arguments.length === 1 && typeof arguments[0] === "number" && arguments[0] > max) throw bound("Array");
		return OrigArray.apply(this, arguments);
	};
	BoundedArray.prototype = OrigArray.prototype;
	Object.getOwnPropertyNames(OrigArray).forEach(function (k) {
		if (k !== "prototype" && k !== "length" && k !== "name") BoundedArray[k] = OrigArray[k];
	});
	globalThis.Array = BoundedArray;
})`

// newRuntime returns a fresh, hardened runtime with the script loaded.
func (s *Script) newRuntime(ctx context.Context) (*goja.Runtime, error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(MaxCallDepth)
	harden, err := vm.RunString(prelude)
	if err != nil {
		return nil, fmt.Errorf("prepare the sandbox: %w", err)
	}
	fn, _ := goja.AssertFunction(harden)
	if _, err := fn(goja.Undefined(), vm.ToValue(MaxLength)); err != nil {
		return nil, fmt.Errorf("prepare the sandbox: %w", err)
	}
	err = s.sb.limit(ctx, vm, func() error {
		_, err := vm.RunProgram(s.prog)
		return err
	})
	if err != nil {
		return nil, runError(err, KindCompile)
	}
	if _, ok := goja.AssertFunction(vm.Get("handler")); !ok {
		return nil, &Error{Kind: KindCompile, Message: "the script must define function handler(webhook)"}
	}
	return vm, nil
}

// get returns an idle runtime of the script, or a new one.
func (s *Script) get(ctx context.Context) (*goja.Runtime, error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		vm := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return vm, nil
	}
	s.mu.Unlock()
	return s.newRuntime(ctx)
}

// put keeps vm for the next run, unless enough are kept already.
func (s *Script) put(vm *goja.Runtime) {
	s.mu.Lock()
	if len(s.idle) < maxIdle {
		s.idle = append(s.idle, vm)
	}
	s.mu.Unlock()
}

// errTimeout is what an interrupted runtime reports.
var errTimeout = errors.New("the script ran longer than the time limit")

// limit runs fn, which uses vm, within the sandbox's time limit and ctx, interrupting
// vm when either runs out.
func (sb *Sandbox) limit(ctx context.Context, vm *goja.Runtime, fn func() error) error {
	ctx, cancel := context.WithTimeout(ctx, sb.cfg.Timeout)
	defer cancel()
	var mu sync.Mutex
	finished := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			vm.Interrupt(errTimeout)
		}
	})
	err := fn()
	stop()
	mu.Lock()
	finished = true
	mu.Unlock()
	vm.ClearInterrupt()
	return err
}

// Run transforms in with the script. A cancelled delivery comes back with Cancel set
// and no error; every failure is an *Error.
func (s *Script) Run(ctx context.Context, in Webhook) (Webhook, error) {
	if len(in.Payload) > MaxPayload {
		return Webhook{}, &Error{Kind: KindInput, Message: fmt.Sprintf("the payload is %d bytes long; transformations take at most %d", len(in.Payload), MaxPayload)}
	}
	select {
	case s.sb.turns <- struct{}{}:
	case <-ctx.Done():
		return Webhook{}, fmt.Errorf("wait for a transformation turn: %w", ctx.Err())
	}
	defer func() { <-s.sb.turns }()

	vm, err := s.get(ctx)
	if err != nil {
		return Webhook{}, err
	}
	var out Webhook
	err = s.sb.limit(ctx, vm, func() error {
		var err error
		out, err = call(vm, in)
		return err
	})
	if err != nil {
		var interrupted *goja.InterruptedError
		var overflow *goja.StackOverflowError
		if !errors.As(err, &interrupted) && !errors.As(err, &overflow) {
			s.put(vm) // a thrown error leaves the runtime usable
		}
		return Webhook{}, runError(err, KindRuntime)
	}
	s.put(vm)
	if out.Cancel {
		return Webhook{Cancel: true, EventType: in.EventType}, nil
	}
	if err := s.sb.check(ctx, &out); err != nil {
		return Webhook{}, err
	}
	out.EventType = in.EventType
	return out, nil
}

// call builds the webhook object in vm, calls handler with it and reads the result.
func call(vm *goja.Runtime, in Webhook) (Webhook, error) {
	handler, _ := goja.AssertFunction(vm.Get("handler"))
	obj := vm.NewObject()
	method := in.Method
	if method == "" {
		method = http.MethodPost
	}
	headers := vm.NewObject()
	for k, v := range in.Headers {
		if err := headers.Set(k, v); err != nil {
			return Webhook{}, err
		}
	}
	payload, err := toJS(vm, in.Payload)
	if err != nil {
		return Webhook{}, err
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"method", method}, {"url", in.URL}, {"headers", headers}, {"payload", payload}, {"cancel", false}} {
		if err := obj.Set(f.name, f.v); err != nil {
			return Webhook{}, err
		}
	}
	if err := obj.DefineDataProperty("eventType", vm.ToValue(in.EventType), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
		return Webhook{}, err
	}
	res, err := handler(goja.Undefined(), obj)
	if err != nil {
		return Webhook{}, err
	}
	return fromJS(vm, res)
}

// toJS turns a payload into a JavaScript value: JSON through JSON.parse, anything else
// as a string.
func toJS(vm *goja.Runtime, payload json.RawMessage) (goja.Value, error) {
	if len(payload) == 0 {
		return goja.Null(), nil
	}
	if !json.Valid(payload) {
		return vm.ToValue(string(payload)), nil
	}
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	return parse(goja.Undefined(), vm.ToValue(string(payload)))
}

// fromJS reads the object a handler returned.
func fromJS(vm *goja.Runtime, res goja.Value) (Webhook, error) {
	if res == nil || goja.IsUndefined(res) || goja.IsNull(res) {
		return Webhook{}, &Error{Kind: KindOutput, Message: "handler returned nothing; return the webhook object (or set webhook.cancel = true and return it)"}
	}
	obj, ok := res.(*goja.Object)
	if !ok {
		return Webhook{}, &Error{Kind: KindOutput, Message: "handler must return an object, not " + res.String()}
	}
	var out Webhook
	out.Cancel = obj.Get("cancel") != nil && obj.Get("cancel").ToBoolean()
	if out.Cancel {
		return out, nil
	}
	str := func(name string) (string, error) {
		v := obj.Get(name)
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return "", nil
		}
		s, ok := v.Export().(string)
		if !ok {
			return "", &Error{Kind: KindOutput, Message: fmt.Sprintf("webhook.%s must be a string", name)}
		}
		return s, nil
	}
	var err error
	if out.Method, err = str("method"); err != nil {
		return Webhook{}, err
	}
	if out.URL, err = str("url"); err != nil {
		return Webhook{}, err
	}
	if h := obj.Get("headers"); h != nil && !goja.IsUndefined(h) && !goja.IsNull(h) {
		ho, ok := h.(*goja.Object)
		if !ok {
			return Webhook{}, &Error{Kind: KindOutput, Message: "webhook.headers must be an object of strings"}
		}
		out.Headers = make(map[string]string)
		for _, k := range ho.Keys() {
			v, ok := ho.Get(k).Export().(string)
			if !ok {
				return Webhook{}, &Error{Kind: KindOutput, Message: fmt.Sprintf("webhook.headers[%q] must be a string", k)}
			}
			out.Headers[k] = v
		}
	}
	p := obj.Get("payload")
	switch {
	case p == nil || goja.IsUndefined(p):
		return Webhook{}, &Error{Kind: KindOutput, Message: "webhook.payload is undefined; return the webhook with its payload"}
	case isString(p):
		out.Payload = json.RawMessage(p.String())
	default:
		stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
		s, err := stringify(goja.Undefined(), p)
		if err != nil {
			return Webhook{}, err
		}
		out.Payload = json.RawMessage(s.String())
	}
	return out, nil
}

// isString reports whether v is a JavaScript string.
func isString(v goja.Value) bool {
	_, ok := v.Export().(string)
	return ok
}

// check validates what a script returned: a method herald sends with, an http(s) URL
// the SSRF guard allows, headers an endpoint may set, a payload within bounds.
func (sb *Sandbox) check(ctx context.Context, out *Webhook) error {
	switch out.Method = strings.ToUpper(out.Method); out.Method {
	case "":
		out.Method = http.MethodPost
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return &Error{Kind: KindOutput, Message: fmt.Sprintf("webhook.method must be POST, PUT or PATCH, not %q", out.Method)}
	}
	u, err := url.Parse(out.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return &Error{Kind: KindOutput, Message: fmt.Sprintf("webhook.url must be an http or https URL with a host and no user:password@, not %q", out.URL)}
	}
	if sb.cfg.CheckURL != nil {
		if err := sb.cfg.CheckURL(ctx, out.URL); err != nil {
			return &Error{Kind: KindOutput, Message: "webhook.url: " + err.Error()}
		}
	}
	if err := domain.CheckHeaders(out.Headers); err != nil {
		return &Error{Kind: KindOutput, Message: "webhook." + err.Error()}
	}
	if len(out.Payload) > MaxPayload {
		return &Error{Kind: KindOutput, Message: fmt.Sprintf("webhook.payload is %d bytes long; the most is %d", len(out.Payload), MaxPayload)}
	}
	return nil
}

// compileError describes a script that does not compile.
func compileError(err error) error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return &Error{Kind: KindCompile, Line: list[0].Position.Line, Message: "SyntaxError: " + list[0].Message}
	}
	var syn *goja.CompilerSyntaxError
	if errors.As(err, &syn) && syn.File != nil {
		pos := syn.File.Position(syn.Offset)
		return &Error{Kind: KindCompile, Line: pos.Line, Message: "SyntaxError: " + syn.Message}
	}
	return &Error{Kind: KindCompile, Message: err.Error()}
}

// runError turns what goja returned into an *Error with the JavaScript message and the
// line it was thrown at.
func runError(err error, kind string) error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	var interrupted *goja.InterruptedError
	if errors.As(err, &interrupted) {
		return &Error{Kind: KindTimeout, Line: line(interrupted.Stack()), Message: errTimeout.Error()}
	}
	var overflow *goja.StackOverflowError
	if errors.As(err, &overflow) {
		return &Error{Kind: kind, Line: line(overflow.Stack()), Message: fmt.Sprintf("RangeError: call stack deeper than %d", MaxCallDepth)}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		msg := ex.Value().String()
		if obj, ok := ex.Value().(*goja.Object); ok && obj.Get("stack") != nil {
			msg = obj.String() // "TypeError: message"
		}
		return &Error{Kind: kind, Line: line(ex.Stack()), Message: msg}
	}
	return &Error{Kind: kind, Message: err.Error()}
}

// line returns the line of the innermost frame of stack that is in the script.
func line(stack []goja.StackFrame) int {
	for i := range stack {
		if stack[i].SrcName() == scriptName {
			if p := stack[i].Position(); p.Line > 0 {
				return p.Line
			}
		}
	}
	return 0
}
