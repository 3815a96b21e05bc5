// Package netguard protects outbound webhook delivery against server-side request
// forgery: it refuses connections to loopback, private, link-local, cloud metadata
// and other special-purpose addresses unless they are explicitly allowed.
//
// There are two checks. CheckURL validates an endpoint URL when it is created, to
// give the user an early, clear error. Control (or DialContext) checks the address
// actually being connected to, after DNS resolution, on every dial; that is the
// check that matters, because a name can resolve to a different address later (DNS
// rebinding). Use it with an http.Transport whose Proxy is nil: a proxy would be
// dialled instead of the destination, bypassing the check.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors, wrapped by the errors this package returns; test with errors.Is.
var (
	// ErrBlocked means a destination address is not allowed.
	ErrBlocked = errors.New("address blocked")
	// ErrInvalidURL means an endpoint URL is malformed or unsuitable for delivery.
	ErrInvalidURL = errors.New("invalid URL")
)

// allowHint ends the message of a BlockedError, telling the operator how to allow
// an address.
const allowHint = "allow it with --allow-network"

// BlockedError describes a blocked address; it wraps ErrBlocked.
type BlockedError struct {
	Addr     netip.Addr   // the address checked, IPv4-mapped IPv6 unmapped
	Embedded netip.Addr   // the IPv4 address embedded in Addr (NAT64, 6to4, Teredo) that is blocked, if that is why
	Range    netip.Prefix // the blocked range that Addr (or Embedded) is in
	Kind     string       // what the range is, such as "private" or "loopback"
}

// Error returns a message such as "address 10.1.2.3 is in a private range
// (10.0.0.0/8); allow it with --allow-network".
func (e *BlockedError) Error() string {
	if e.Embedded.IsValid() {
		return fmt.Sprintf("address %s embeds %s, which is in %s range (%s); %s",
			e.Addr, e.Embedded, article(e.Kind), e.Range, allowHint)
	}
	return fmt.Sprintf("address %s is in %s range (%s); %s", e.Addr, article(e.Kind), e.Range, allowHint)
}

// Unwrap returns ErrBlocked.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// article prefixes kind with "a" or "an".
func article(kind string) string {
	if kind != "" && strings.ContainsRune("aeiouAEIOU", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

// blockedRange is one range of addresses that is blocked by default.
type blockedRange struct {
	prefix netip.Prefix
	kind   string
	// embedded, if set, returns the IPv4 addresses embedded in an address of the
	// range; the address is then blocked only if one of those is.
	embedded func(netip.Addr) []netip.Addr
}

// blockedRanges lists the ranges blocked by default. An address is judged by the
// longest prefix containing it, so that, say, 255.255.255.255/32 is reported as
// broadcast rather than as part of 240.0.0.0/4. Every IPv6 address outside global
// unicast (2000::/3) is blocked, by the specific ranges below or else by one of the
// three "reserved" ranges that cover the rest.
var blockedRanges = []blockedRange{
	// IPv4 (RFC 6890 and the IANA special-purpose registry).
	{prefix: mustPrefix("0.0.0.0/8"), kind: "unspecified"},
	{prefix: mustPrefix("10.0.0.0/8"), kind: "private"},
	{prefix: mustPrefix("100.64.0.0/10"), kind: "carrier-grade NAT"}, // includes Alibaba Cloud's metadata 100.100.100.200
	{prefix: mustPrefix("127.0.0.0/8"), kind: "loopback"},
	{prefix: mustPrefix("169.254.0.0/16"), kind: "link-local"}, // includes the cloud metadata address 169.254.169.254
	{prefix: mustPrefix("172.16.0.0/12"), kind: "private"},
	{prefix: mustPrefix("192.0.0.0/24"), kind: "IETF protocol assignment"},
	{prefix: mustPrefix("192.0.2.0/24"), kind: "documentation"},
	{prefix: mustPrefix("192.168.0.0/16"), kind: "private"},
	{prefix: mustPrefix("198.18.0.0/15"), kind: "benchmarking"},
	{prefix: mustPrefix("198.51.100.0/24"), kind: "documentation"},
	{prefix: mustPrefix("203.0.113.0/24"), kind: "documentation"},
	{prefix: mustPrefix("224.0.0.0/4"), kind: "multicast"},
	{prefix: mustPrefix("240.0.0.0/4"), kind: "reserved"},
	{prefix: mustPrefix("255.255.255.255/32"), kind: "broadcast"},

	// IPv6. IPv4-mapped addresses (::ffff:0:0/96) are unmapped before checking.
	{prefix: mustPrefix("::/128"), kind: "unspecified"},
	{prefix: mustPrefix("::1/128"), kind: "loopback"},
	{prefix: mustPrefix("::/3"), kind: "reserved"}, // includes the deprecated IPv4-compatible ::/96
	{prefix: mustPrefix("64:ff9b::/96"), kind: "NAT64", embedded: nat64},
	{prefix: mustPrefix("64:ff9b:1::/48"), kind: "local-use NAT64"},
	{prefix: mustPrefix("100::/64"), kind: "discard-only"},
	{prefix: mustPrefix("2001::/32"), kind: "Teredo", embedded: teredo},
	{prefix: mustPrefix("2001:2::/48"), kind: "benchmarking"},
	{prefix: mustPrefix("2001:10::/28"), kind: "ORCHID"},
	{prefix: mustPrefix("2001:20::/28"), kind: "ORCHID"},
	{prefix: mustPrefix("2001:db8::/32"), kind: "documentation"},
	{prefix: mustPrefix("2002::/16"), kind: "6to4", embedded: sixToFour},
	{prefix: mustPrefix("3fff::/20"), kind: "documentation"},
	{prefix: mustPrefix("4000::/2"), kind: "reserved"},
	{prefix: mustPrefix("8000::/1"), kind: "reserved"},
	{prefix: mustPrefix("fc00::/7"), kind: "private"}, // unique local; includes AWS's metadata fd00:ec2::254
	{prefix: mustPrefix("fe80::/10"), kind: "link-local"},
	{prefix: mustPrefix("fec0::/10"), kind: "site-local"},
	{prefix: mustPrefix("ff00::/8"), kind: "multicast"},
}

// mustPrefix parses a constant prefix.
func mustPrefix(s string) netip.Prefix {
	return netip.MustParsePrefix(s)
}

// nat64 returns the IPv4 address in the low 32 bits of a 64:ff9b::/96 address.
func nat64(a netip.Addr) []netip.Addr {
	b := a.As16()
	return []netip.Addr{netip.AddrFrom4([4]byte(b[12:16]))}
}

// sixToFour returns the IPv4 address in bits 16-47 of a 2002::/16 address.
func sixToFour(a netip.Addr) []netip.Addr {
	b := a.As16()
	return []netip.Addr{netip.AddrFrom4([4]byte(b[2:6]))}
}

// teredo returns the Teredo server's IPv4 address (bits 32-63) and the client's
// (the low 32 bits, inverted) of a 2001::/32 address.
func teredo(a netip.Addr) []netip.Addr {
	b := a.As16()
	client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
	return []netip.Addr{netip.AddrFrom4([4]byte(b[4:8])), netip.AddrFrom4(client)}
}

// Guard decides which addresses outbound connections may reach; it is safe for
// concurrent use, and its zero value blocks every default range with no exceptions.
type Guard struct {
	allow []netip.Prefix
}

// New returns a Guard that blocks the default ranges except for addresses in allow.
func New(allow []netip.Prefix) *Guard {
	g := &Guard{}
	for _, p := range allow {
		if p.IsValid() {
			g.allow = append(g.allow, normalize(p))
		}
	}
	return g
}

// normalize masks p and turns an IPv4-mapped IPv6 prefix into an IPv4 prefix, as
// addresses are unmapped before they are checked.
func normalize(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// Allowed returns nil if connections to ip are allowed, and otherwise an error
// wrapping ErrBlocked (a *BlockedError) that names the address and its range.
func (g *Guard) Allowed(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrBlocked)
	}
	// A zone does not change where a packet goes, but netip.Prefix.Contains never
	// matches a zoned address, so it must go before matching.
	ip = ip.Unmap().WithZone("")
	if g.allowed(ip) {
		return nil
	}
	r, ok := lookup(ip)
	if !ok {
		return nil
	}
	if r.embedded == nil {
		return &BlockedError{Addr: ip, Range: r.prefix, Kind: r.kind}
	}
	for _, v4 := range r.embedded(ip) {
		if g.allowed(v4) {
			continue
		}
		if e, ok := lookup(v4); ok {
			return &BlockedError{Addr: ip, Embedded: v4, Range: e.prefix, Kind: e.kind}
		}
	}
	return nil
}

// allowed reports whether ip is in the allow list.
func (g *Guard) allowed(ip netip.Addr) bool {
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// lookup returns the most specific blocked range containing ip.
func lookup(ip netip.Addr) (blockedRange, bool) {
	var best blockedRange
	found := false
	for _, r := range blockedRanges {
		if r.prefix.Contains(ip) && (!found || r.prefix.Bits() > best.prefix.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

// Control checks the resolved address a net.Dialer is about to connect to; use it
// as net.Dialer.Control. The dialer reports its error wrapped in a *net.OpError.
func (g *Guard) Control(network, address string, c syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot check %s address %q: %v", ErrBlocked, network, address, err)
	}
	return g.Allowed(ap.Addr())
}

// DialContext connects to addr like net.Dialer.DialContext (with a 10 s connect
// timeout and 30 s keep-alive), refusing blocked addresses after name resolution;
// use it as http.Transport.DialContext.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{
		Control:   g.Control,
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
	}
	return d.DialContext(ctx, network, addr)
}

// CheckURL validates a webhook endpoint URL: the scheme must be http or https, the
// host present, no user:password@ included, the port (if any) 1 to 65535, and the
// host must not be or resolve to a blocked address. The name is resolved with
// resolver (net.DefaultResolver if nil) within ctx; a failed resolution is not an
// error, since the name may be created later and every dial is checked anyway.
// Errors wrap ErrInvalidURL or ErrBlocked.
func (g *Guard) CheckURL(ctx context.Context, raw string, resolver *net.Resolver) error {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL itself would only be repeated
		}
		return fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return fmt.Errorf("%w: missing scheme, want http:// or https://", ErrInvalidURL)
		}
		return fmt.Errorf("%w: scheme %q is not supported, want http or https", ErrInvalidURL, u.Scheme)
	}
	if u.Opaque != "" {
		return fmt.Errorf("%w: want %s://host/path", ErrInvalidURL, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the URL must not contain a user name or password (user:password@host); send credentials in a header instead", ErrInvalidURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: missing host", ErrInvalidURL)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: port %s is out of range 1-65535", ErrInvalidURL, port)
		}
	}

	if ip, err := netip.ParseAddr(host); err == nil {
		return g.Allowed(ip)
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "" || numericLabel(name[strings.LastIndexByte(name, '.')+1:]) {
		// "127.1", "2130706433" and "0x7f.0.0.1" are not IP literals in Go, but some
		// resolvers and all browsers read them as IPv4 addresses.
		return fmt.Errorf("%w: host %q is neither an IP address nor a domain name", ErrInvalidURL, host)
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		if err := g.Allowed(netip.AddrFrom4([4]byte{127, 0, 0, 1})); err != nil {
			return fmt.Errorf("%s is a loopback name: %w", host, err)
		}
		return nil
	}

	if resolver == nil {
		resolver = net.DefaultResolver
	}
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil // see the doc comment: the dial-time check still applies
	}
	for _, a := range addrs {
		if err := g.Allowed(a); err != nil {
			return fmt.Errorf("%s resolves to a blocked address: %w", host, err)
		}
	}
	return nil
}

// numericLabel reports whether a domain label is a decimal or 0x-hexadecimal
// number, which no top-level domain is.
func numericLabel(label string) bool {
	if h, ok := strings.CutPrefix(label, "0x"); ok {
		if h == "" {
			return true
		}
		_, err := strconv.ParseUint(h, 16, 64)
		return err == nil || errors.Is(err, strconv.ErrRange)
	}
	_, err := strconv.ParseUint(label, 10, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

// ParsePrefixes parses CIDR prefixes ("10.0.0.0/8", "fd00::/8") and single
// addresses ("192.168.1.5"), as given to --allow-network.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	prefixes := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, fmt.Errorf("network %q: want a CIDR prefix such as 10.0.0.0/8 or an IP address: %w", s, err)
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("network %q: want a CIDR prefix such as 10.0.0.0/8 or an IP address: %w", s, err)
			}
			if a.Zone() != "" {
				return nil, fmt.Errorf("network %q: an address with a zone cannot be allowed; drop the %%%s", s, a.Zone())
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		prefixes = append(prefixes, normalize(p))
	}
	return prefixes, nil
}
