package netguard

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func prefixes(t *testing.T, list ...string) []netip.Prefix {
	t.Helper()
	p, err := ParsePrefixes(list)
	if err != nil {
		t.Fatalf("ParsePrefixes(%q): %v", list, err)
	}
	return p
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		addr      string
		allow     []string
		wantRange string // "" means allowed
	}{
		// Public addresses.
		{"93.184.215.14", nil, ""},
		{"8.8.8.8", nil, ""},
		{"1.1.1.1", nil, ""},
		{"172.15.255.255", nil, ""},
		{"172.32.0.0", nil, ""},
		{"100.63.255.255", nil, ""},
		{"100.128.0.0", nil, ""},
		{"192.0.1.1", nil, ""},
		{"198.20.0.1", nil, ""},
		{"223.255.255.255", nil, ""},
		{"2606:4700:4700::1111", nil, ""},
		{"2001:4860:4860::8888", nil, ""},

		// IPv4 special-purpose ranges.
		{"0.0.0.0", nil, "0.0.0.0/8"},
		{"0.1.2.3", nil, "0.0.0.0/8"},
		{"127.0.0.1", nil, "127.0.0.0/8"},
		{"127.255.255.254", nil, "127.0.0.0/8"},
		{"10.1.2.3", nil, "10.0.0.0/8"},
		{"172.16.0.1", nil, "172.16.0.0/12"},
		{"172.31.255.255", nil, "172.16.0.0/12"},
		{"192.168.1.1", nil, "192.168.0.0/16"},
		{"169.254.169.254", nil, "169.254.0.0/16"},
		{"169.254.0.1", nil, "169.254.0.0/16"},
		{"100.64.0.1", nil, "100.64.0.0/10"},
		{"100.100.100.200", nil, "100.64.0.0/10"},
		{"224.0.0.1", nil, "224.0.0.0/4"},
		{"239.255.255.250", nil, "224.0.0.0/4"},
		{"255.255.255.255", nil, "255.255.255.255/32"},
		{"240.0.0.1", nil, "240.0.0.0/4"},
		{"255.255.255.254", nil, "240.0.0.0/4"},
		{"198.18.0.1", nil, "198.18.0.0/15"},
		{"198.19.255.255", nil, "198.18.0.0/15"},
		{"192.0.0.170", nil, "192.0.0.0/24"},
		{"192.0.2.1", nil, "192.0.2.0/24"},
		{"198.51.100.7", nil, "198.51.100.0/24"},
		{"203.0.113.9", nil, "203.0.113.0/24"},

		// IPv6 special-purpose ranges.
		{"::", nil, "::/128"},
		{"::1", nil, "::1/128"},
		{"::2", nil, "::/3"},
		{"::10.0.0.1", nil, "::/3"}, // IPv4-compatible, deprecated
		{"fc00::1", nil, "fc00::/7"},
		{"fd12:3456::1", nil, "fc00::/7"},
		{"fd00:ec2::254", nil, "fc00::/7"},
		{"fe80::1", nil, "fe80::/10"},
		{"fe80::1%eth0", nil, "fe80::/10"},
		{"fec0::1", nil, "fec0::/10"},
		{"ff02::1", nil, "ff00::/8"},
		{"ff05::1:3", nil, "ff00::/8"},
		{"2001:db8::1", nil, "2001:db8::/32"},
		{"3fff::1", nil, "3fff::/20"},
		{"2001:2::1", nil, "2001:2::/48"},
		{"100::1", nil, "100::/64"},
		{"64:ff9b:1::1", nil, "64:ff9b:1::/48"},
		{"4000::1", nil, "4000::/2"},
		{"8000::1", nil, "8000::/1"},

		// IPv4-mapped IPv6 is checked as IPv4.
		{"::ffff:127.0.0.1", nil, "127.0.0.0/8"},
		{"::ffff:10.1.2.3", nil, "10.0.0.0/8"},
		{"::ffff:169.254.169.254", nil, "169.254.0.0/16"},
		{"::ffff:93.184.215.14", nil, ""},

		// NAT64, 6to4 and Teredo are checked by the IPv4 address they embed.
		{"64:ff9b::93.184.215.14", nil, ""},
		{"64:ff9b::10.1.2.3", nil, "10.0.0.0/8"},
		{"64:ff9b::7f00:1", nil, "127.0.0.0/8"},
		{"2002:5db8:d70e::1", nil, ""},               // 93.184.215.14
		{"2002:a01:203::1", nil, "10.0.0.0/8"},       // 10.1.2.3
		{"2002:c0a8:101::", nil, "192.168.0.0/16"},   // 192.168.1.1
		{"2002:a9fe:a9fe::1", nil, "169.254.0.0/16"}, // 169.254.169.254
		// Teredo: server 65.54.227.120, client 93.184.215.14 (inverted: a247:28f1).
		{"2001:0:4136:e378:8000:63bf:a247:28f1", nil, ""},
		// Teredo: server 65.54.227.120, client 10.0.0.1 (inverted: f5ff:fffe).
		{"2001:0:4136:e378:8000:63bf:f5ff:fffe", nil, "10.0.0.0/8"},
		// Teredo: server 127.0.0.1, client 93.184.215.14.
		{"2001:0:7f00:1:8000:63bf:a247:28f1", nil, "127.0.0.0/8"},

		// The allow list overrides.
		{"127.0.0.1", []string{"127.0.0.0/8"}, ""},
		{"10.1.2.3", []string{"10.0.0.0/8"}, ""},
		{"10.1.2.3", []string{"10.1.2.3"}, ""},
		{"10.1.2.4", []string{"10.1.2.3"}, "10.0.0.0/8"},
		{"10.1.2.3", []string{"192.168.0.0/16"}, "10.0.0.0/8"},
		{"::ffff:10.1.2.3", []string{"10.0.0.0/8"}, ""},
		{"10.1.2.3", []string{"::ffff:10.0.0.0/104"}, ""},
		{"::1", []string{"::1"}, ""},
		{"::1", []string{"127.0.0.0/8"}, "::1/128"},
		{"fd00:ec2::254", []string{"fd00::/8"}, ""},
		{"fe80::1%eth0", []string{"fe80::/10"}, ""},
		{"2002:a01:203::1", []string{"10.0.0.0/8"}, ""}, // the embedded address is allowed
		{"2002:a01:203::1", []string{"2002::/16"}, ""},  // the address itself is allowed
		{"2002:a01:203::1", []string{"192.168.0.0/16"}, "10.0.0.0/8"},
		{"169.254.169.254", []string{"169.254.169.254/32"}, ""},
		{"169.254.169.253", []string{"169.254.169.254/32"}, "169.254.0.0/16"},
	}
	for _, tt := range tests {
		g := New(prefixes(t, tt.allow...))
		err := g.Allowed(netip.MustParseAddr(tt.addr))
		if tt.wantRange == "" {
			if err != nil {
				t.Errorf("Allowed(%s) with allow %q = %v, want nil", tt.addr, tt.allow, err)
			}
			continue
		}
		var be *BlockedError
		if !errors.As(err, &be) {
			t.Errorf("Allowed(%s) with allow %q = %v, want a *BlockedError", tt.addr, tt.allow, err)
			continue
		}
		if !errors.Is(err, ErrBlocked) {
			t.Errorf("Allowed(%s) = %v, which does not wrap ErrBlocked", tt.addr, err)
		}
		if be.Range.String() != tt.wantRange {
			t.Errorf("Allowed(%s) with allow %q: range %s, want %s (%v)", tt.addr, tt.allow, be.Range, tt.wantRange, err)
		}
		if !strings.HasSuffix(err.Error(), "; allow it with --allow-network") {
			t.Errorf("Allowed(%s) = %q, want the --allow-network hint", tt.addr, err)
		}
	}
}

func TestZeroGuardBlocks(t *testing.T) {
	var g Guard
	if err := g.Allowed(netip.MustParseAddr("10.0.0.1")); !errors.Is(err, ErrBlocked) {
		t.Errorf("zero Guard allowed 10.0.0.1: %v", err)
	}
	if err := g.Allowed(netip.Addr{}); !errors.Is(err, ErrBlocked) {
		t.Errorf("Allowed(invalid) = %v, want ErrBlocked", err)
	}
}

func TestBlockedErrorMessage(t *testing.T) {
	g := New(nil)
	tests := []struct {
		addr, want string
	}{
		{"10.1.2.3", "address 10.1.2.3 is in a private range (10.0.0.0/8); allow it with --allow-network"},
		{"::ffff:10.1.2.3", "address 10.1.2.3 is in a private range (10.0.0.0/8); allow it with --allow-network"},
		{"169.254.169.254", "address 169.254.169.254 is in a link-local range (169.254.0.0/16); allow it with --allow-network"},
		{"fe80::1%eth0", "address fe80::1 is in a link-local range (fe80::/10); allow it with --allow-network"},
		{"2002:a01:203::", "address 2002:a01:203:: embeds 10.1.2.3, which is in a private range (10.0.0.0/8); allow it with --allow-network"},
		{"100.100.100.200", "address 100.100.100.200 is in a carrier-grade NAT range (100.64.0.0/10); allow it with --allow-network"},
		{"192.0.0.1", "address 192.0.0.1 is in an IETF protocol assignment range (192.0.0.0/24); allow it with --allow-network"},
	}
	for _, tt := range tests {
		err := g.Allowed(netip.MustParseAddr(tt.addr))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Allowed(%s) = %v, want %q", tt.addr, err, tt.want)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{nil, []string{}, false},
		{[]string{"10.0.0.0/8"}, []string{"10.0.0.0/8"}, false},
		{[]string{"10.1.2.3/8"}, []string{"10.0.0.0/8"}, false}, // masked
		{[]string{"192.168.1.5"}, []string{"192.168.1.5/32"}, false},
		{[]string{" 172.16.0.0/12 ", "fd00::/8", "::1"}, []string{"172.16.0.0/12", "fd00::/8", "::1/128"}, false},
		{[]string{"::ffff:10.0.0.1"}, []string{"10.0.0.1/32"}, false},
		{[]string{"::ffff:10.0.0.0/104"}, []string{"10.0.0.0/8"}, false},
		{[]string{"10.0.0.0/33"}, nil, true},
		{[]string{"10.0.0/8"}, nil, true},
		{[]string{"example.com"}, nil, true},
		{[]string{""}, nil, true},
		{[]string{"10.0.0.0/8", "nope"}, nil, true},
		{[]string{"fe80::1%eth0"}, nil, true},
		{[]string{"fe80::1%eth0/64"}, nil, true},
	}
	for _, tt := range tests {
		got, err := ParsePrefixes(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParsePrefixes(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePrefixes(%q): %v", tt.in, err)
			continue
		}
		gotS := make([]string, len(got))
		for i, p := range got {
			gotS[i] = p.String()
		}
		if strings.Join(gotS, ",") != strings.Join(tt.want, ",") {
			t.Errorf("ParsePrefixes(%q) = %v, want %v", tt.in, gotS, tt.want)
		}
	}
}

func TestControl(t *testing.T) {
	tests := []struct {
		network, address string
		allowed          bool
	}{
		{"tcp4", "93.184.215.14:443", true},
		{"tcp6", "[2606:4700:4700::1111]:443", true},
		{"tcp4", "10.0.0.1:80", false},
		{"tcp4", "127.0.0.1:8080", false},
		{"tcp6", "[::1]:443", false},
		{"tcp6", "[::ffff:127.0.0.1]:443", false},
		{"tcp6", "[fe80::1%eth0]:80", false},
		{"tcp", "example.com:80", false}, // never a name at dial time; refuse what cannot be checked
		{"unix", "/tmp/socket", false},
	}
	g := New(nil)
	for _, tt := range tests {
		err := g.Control(tt.network, tt.address, nil)
		if tt.allowed && err != nil {
			t.Errorf("Control(%s, %s) = %v, want nil", tt.network, tt.address, err)
		}
		if !tt.allowed && !errors.Is(err, ErrBlocked) {
			t.Errorf("Control(%s, %s) = %v, want ErrBlocked", tt.network, tt.address, err)
		}
	}
}

func TestDialLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "reached")
	}))
	defer srv.Close()

	get := func(g *Guard, url string) (string, error) {
		client := &http.Client{
			Transport: &http.Transport{DialContext: g.DialContext, Proxy: nil},
			Timeout:   5 * time.Second,
		}
		defer client.CloseIdleConnections()
		resp, err := client.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}

	t.Run("blocked", func(t *testing.T) {
		_, err := get(New(nil), srv.URL)
		if !errors.Is(err, ErrBlocked) {
			t.Fatalf("GET %s = %v, want an error wrapping ErrBlocked", srv.URL, err)
		}
		var opErr *net.OpError
		if !errors.As(err, &opErr) {
			t.Errorf("error %v is not a *net.OpError", err)
		}
		var be *BlockedError
		if !errors.As(err, &be) || be.Range.String() != "127.0.0.0/8" {
			t.Errorf("error %v: want a *BlockedError for 127.0.0.0/8", err)
		}
	})

	t.Run("allowed", func(t *testing.T) {
		body, err := get(New(prefixes(t, "127.0.0.0/8")), srv.URL)
		if err != nil || body != "reached" {
			t.Fatalf("GET %s = %q, %v; want %q", srv.URL, body, err, "reached")
		}
	})

	t.Run("name resolving to loopback", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		conn, err := New(nil).DialContext(context.Background(), "tcp", net.JoinHostPort("localhost", port))
		if err == nil {
			conn.Close()
			t.Fatal("dialing localhost succeeded")
		}
		if !errors.Is(err, ErrBlocked) {
			t.Skipf("localhost did not resolve here (%v)", err)
		}
	})
}

// deadResolver fails every lookup at once, without touching the network.
func deadResolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			return nil, errors.New("no DNS in tests")
		},
	}
}

// fakeResolver answers every A query with v4 and every AAAA query with v6,
// through an in-memory connection.
func fakeResolver(v4, v6 []string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			client, server := net.Pipe()
			go serveDNS(server, v4, v6)
			return client, nil
		},
	}
}

// serveDNS answers queries on a stream connection (two-byte length prefixes).
func serveDNS(conn net.Conn, v4, v6 []string) {
	defer conn.Close()
	for {
		var n uint16
		if err := binary.Read(conn, binary.BigEndian, &n); err != nil {
			return
		}
		q := make([]byte, n)
		if _, err := io.ReadFull(conn, q); err != nil {
			return
		}
		// The question starts after the 12-byte header: labels, then type and class.
		end := 12
		for end < len(q) && q[end] != 0 {
			end += int(q[end]) + 1
		}
		end += 5
		if end > len(q) {
			return // malformed; the lookup fails and the test with it
		}
		qtype := binary.BigEndian.Uint16(q[end-4:])
		var answers []string
		switch qtype {
		case 1:
			answers = v4
		case 28:
			answers = v6
		}
		resp := binary.BigEndian.AppendUint16(nil, binary.BigEndian.Uint16(q)) // id
		resp = append(resp, 0x85, 0x80)                                        // response, authoritative, recursion desired and available
		resp = binary.BigEndian.AppendUint16(resp, 1)
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(answers)))
		resp = append(resp, 0, 0, 0, 0)
		resp = append(resp, q[12:end]...)
		for _, a := range answers {
			ip := netip.MustParseAddr(a)
			resp = append(resp, 0xc0, 12) // the name: a pointer to the question's
			resp = binary.BigEndian.AppendUint16(resp, qtype)
			resp = binary.BigEndian.AppendUint16(resp, 1)  // class IN
			resp = binary.BigEndian.AppendUint32(resp, 60) // TTL
			resp = binary.BigEndian.AppendUint16(resp, uint16(ip.BitLen()/8))
			resp = append(resp, ip.AsSlice()...)
		}
		msg := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := conn.Write(append(msg, resp...)); err != nil {
			return
		}
	}
}

func TestCheckURL(t *testing.T) {
	dead := deadResolver()
	tests := []struct {
		name     string
		url      string
		allow    []string
		resolver *net.Resolver
		want     error // nil, ErrInvalidURL or ErrBlocked
		wantText string
	}{
		{"https public IP", "https://93.184.215.14/webhooks", nil, dead, nil, ""},
		{"http public IP with port", "http://93.184.215.14:8080/x?y=1", nil, dead, nil, ""},
		{"public IPv6", "https://[2606:4700:4700::1111]/", nil, dead, nil, ""},
		{"upper-case scheme", "HTTPS://93.184.215.14/", nil, dead, nil, ""},
		{"unresolvable name", "https://hooks.example.invalid/webhooks", nil, dead, nil, ""},
		{"unresolvable name with port", "https://hooks.example.invalid:8443/", nil, dead, nil, ""},

		{"ftp", "ftp://93.184.215.14/", nil, dead, ErrInvalidURL, `scheme "ftp"`},
		{"javascript", "javascript:alert(1)", nil, dead, ErrInvalidURL, `scheme "javascript"`},
		{"no scheme", "93.184.215.14/webhooks", nil, dead, ErrInvalidURL, "missing scheme"},
		{"no scheme with port", "example.com:443", nil, dead, ErrInvalidURL, `scheme "example.com"`},
		{"opaque", "https:example.com", nil, dead, ErrInvalidURL, "want https://host/path"},
		{"empty", "", nil, dead, ErrInvalidURL, "missing scheme"},
		{"no host", "https:///webhooks", nil, dead, ErrInvalidURL, "missing host"},
		{"port only", "https://:443/", nil, dead, ErrInvalidURL, "missing host"},
		{"userinfo", "https://user:pass@93.184.215.14/", nil, dead, ErrInvalidURL, "user name or password"},
		{"user only", "https://user@93.184.215.14/", nil, dead, ErrInvalidURL, "user name or password"},
		{"empty userinfo", "https://@93.184.215.14/", nil, dead, ErrInvalidURL, "user name or password"},
		{"port 0", "https://93.184.215.14:0/", nil, dead, ErrInvalidURL, "port 0"},
		{"port too large", "https://93.184.215.14:65536/", nil, dead, ErrInvalidURL, "port 65536"},
		{"port huge", "https://93.184.215.14:99999999999999999999/", nil, dead, ErrInvalidURL, "out of range"},
		{"port not a number", "https://93.184.215.14:https/", nil, dead, ErrInvalidURL, "invalid port"},
		{"bad escape", "https://93.184.215.14/%zz", nil, dead, ErrInvalidURL, "invalid URL escape"},
		{"space in host", "https://exa mple.com/", nil, dead, ErrInvalidURL, "invalid character"},
		{"decimal IPv4", "http://2130706433/", nil, dead, ErrInvalidURL, "neither an IP address nor a domain name"},
		{"short IPv4", "http://127.1/", nil, dead, ErrInvalidURL, "neither"},
		{"hex IPv4", "http://0x7f.0.0.1/", nil, dead, ErrInvalidURL, "neither"},
		{"octal IPv4", "http://0177.0.0.1/", nil, dead, ErrInvalidURL, "neither"},

		{"private IP", "https://10.1.2.3/hook", nil, dead, ErrBlocked, "address 10.1.2.3 is in a private range (10.0.0.0/8)"},
		{"loopback IP", "http://127.0.0.1:8000/webhooks", nil, dead, ErrBlocked, "loopback"},
		{"metadata IP", "http://169.254.169.254/latest/meta-data/", nil, dead, ErrBlocked, "link-local"},
		{"loopback IPv6", "http://[::1]:8000/", nil, dead, ErrBlocked, "loopback"},
		{"mapped IPv6", "http://[::ffff:10.0.0.1]/", nil, dead, ErrBlocked, "address 10.0.0.1 is in a private range"},
		{"zoned IPv6", "http://[fe80::1%25eth0]/", nil, dead, ErrBlocked, "link-local"},
		{"unspecified", "http://0.0.0.0:8000/", nil, dead, ErrBlocked, "unspecified"},
		{"localhost", "http://localhost:8000/webhooks", nil, nil, ErrBlocked, "localhost is a loopback name"},
		{"LOCALHOST.", "http://LOCALHOST.:8000/", nil, nil, ErrBlocked, "loopback"},
		{"sub.localhost", "http://app.localhost/", nil, nil, ErrBlocked, "loopback"},

		{"allowed private IP", "https://10.1.2.3/hook", []string{"10.0.0.0/8"}, dead, nil, ""},
		{"allowed localhost", "http://localhost:8000/", []string{"127.0.0.0/8"}, nil, nil, ""},
		{"allowed loopback IP", "http://127.0.0.1:8000/", []string{"127.0.0.1"}, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := New(prefixes(t, tt.allow...)).CheckURL(ctx, tt.url, tt.resolver)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want nil", tt.url, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckURL(%q) = %v, want an error wrapping %v", tt.url, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("CheckURL(%q) = %q, want it to contain %q", tt.url, err, tt.wantText)
			}
		})
	}
}

func TestCheckURLResolves(t *testing.T) {
	tests := []struct {
		name     string
		v4, v6   []string
		allow    []string
		want     error
		wantText string
	}{
		{"public", []string{"93.184.215.14"}, []string{"2606:4700:4700::1111"}, nil, nil, ""},
		{"private", []string{"10.0.0.5"}, nil, nil, ErrBlocked, "hooks.internal.test resolves to a blocked address: address 10.0.0.5 is in a private range"},
		{"one of several private", []string{"93.184.215.14", "192.168.0.10"}, nil, nil, ErrBlocked, "192.168.0.10"},
		{"private IPv6 only", []string{"93.184.215.14"}, []string{"fd00::1"}, nil, ErrBlocked, "fd00::1"},
		{"metadata", []string{"169.254.169.254"}, nil, nil, ErrBlocked, "link-local"},
		{"allowed private", []string{"10.0.0.5"}, nil, []string{"10.0.0.0/8"}, nil, ""},
		{"no addresses", nil, nil, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			const url = "https://hooks.internal.test/webhooks"
			err := New(prefixes(t, tt.allow...)).CheckURL(ctx, url, fakeResolver(tt.v4, tt.v6))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want nil", url, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("CheckURL(%q) = %v, want an error wrapping %v containing %q", url, err, tt.want, tt.wantText)
			}
		})
	}
}

func TestCheckURLCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A lookup that cannot finish is a resolution failure like any other. Its server
	// answers only after CheckURL returned: a server that answers at once may win the
	// race with the canceled context (Go's resolver runs the lookup detached from it).
	unblock := make(chan struct{})
	defer close(unblock)
	never := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		<-unblock
		return nil, errors.New("no DNS server in this test")
	}}
	if err := New(nil).CheckURL(ctx, "https://hooks.internal.test/", never); err != nil {
		t.Errorf("CheckURL with a canceled context = %v, want nil", err)
	}
}
