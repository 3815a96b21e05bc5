package outbound

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"time"

	"github.com/heraldhq/herald/internal/netguard"
)

// Dialer connects to receivers for an http.Transport (use DialContext as its
// DialContext, and leave its Proxy nil). Without a proxy it dials the destination and
// the guard checks the address it connects to. With a proxy it resolves the
// destination itself, checks the addresses with the guard, and asks the proxy for a
// tunnel (HTTP CONNECT) to the address it checked — never to the name, which the proxy
// could resolve elsewhere — so the guard applies to the final destination either way.
// TLS runs inside the tunnel, end to end, with the receiver's name.
type Dialer struct {
	Guard    *netguard.Guard // nil allows every address
	Proxy    *url.URL        // http://[user:password@]host:port; nil dials directly
	Resolver *net.Resolver   // nil: net.DefaultResolver
}

// dialTimeout bounds connecting, to the destination or to the proxy and its answer.
const dialTimeout = 10 * time.Second

// ProxyFromEnv returns the egress proxy named by HTTPS_PROXY (or https_proxy), or nil.
// NO_PROXY is not consulted: every receiver is outside.
func ProxyFromEnv() (*url.URL, error) {
	v := os.Getenv("HTTPS_PROXY")
	if v == "" {
		v = os.Getenv("https_proxy")
	}
	if v == "" {
		return nil, nil
	}
	return ParseProxy(v)
}

// ParseProxy parses an egress proxy URL: http://host:port, optionally with user:password@.
func ParseProxy(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("egress proxy %q: %w", raw, err)
	}
	if u.Scheme != "http" || u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("egress proxy %q: want http://host:port", raw)
	}
	return u, nil
}

// DialContext connects to addr (host:port) as described on Dialer.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	if d.Proxy == nil {
		if d.Guard != nil {
			nd.Control = d.Guard.Control
		}
		return nd.DialContext(ctx, network, addr)
	}
	target, err := d.destination(ctx, addr)
	if err != nil {
		return nil, err
	}
	conn, err := nd.DialContext(ctx, "tcp", d.Proxy.Host)
	if err != nil {
		return nil, fmt.Errorf("egress proxy %s: %w", d.Proxy.Host, err)
	}
	if err := d.connect(ctx, conn, target); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// destination resolves addr and returns the first of its addresses the guard allows,
// as ip:port; if it allows none, the guard's reason for the first.
func (d *Dialer) destination(ctx context.Context, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("destination %q: %w", addr, err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		r := d.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		if ips, err = r.LookupNetIP(ctx, "ip", host); err != nil {
			return "", fmt.Errorf("resolve %s: %w", host, err)
		}
	}
	var first error
	for _, ip := range ips {
		if d.Guard != nil {
			if err := d.Guard.Allowed(ip); err != nil {
				if first == nil {
					first = err
				}
				continue
			}
		}
		return net.JoinHostPort(ip.Unmap().String(), port), nil
	}
	if first == nil {
		first = fmt.Errorf("%s has no address", host)
	}
	return "", fmt.Errorf("dial %s: %w", addr, first)
}

// connect asks the proxy on conn for a tunnel to target (ip:port).
func (d *Dialer) connect(ctx context.Context, conn net.Conn, target string) error {
	deadline := time.Now().Add(dialTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	defer conn.SetDeadline(time.Time{})
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: target},
		Host:   target,
		Header: make(http.Header),
	}
	if u := d.Proxy.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	if err := req.Write(conn); err != nil {
		return fmt.Errorf("egress proxy %s: CONNECT %s: %w", d.Proxy.Host, target, err)
	}
	// Reading through a buffer is safe: nothing comes through the tunnel until we
	// speak (a TLS ClientHello or a request), so nothing is buffered past the answer.
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return fmt.Errorf("egress proxy %s: CONNECT %s: %w", d.Proxy.Host, target, err)
	}
	// The body of a 2xx answer to CONNECT is the tunnel itself: it is not read or closed.
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("egress proxy %s: CONNECT %s: %s", d.Proxy.Host, target, resp.Status)
	}
	return nil
}
