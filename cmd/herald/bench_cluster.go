package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/bench/latencyproxy"
)

// benchCluster is bench's servers when it starts several nodes on one database.
type benchCluster struct {
	nodes []*benchServer
	key   string
}

// startBenchCluster starts n herald serve processes on the database, sharing an admin
// key and an encryption key ($HERALD_ENCRYPTION_KEY if set, else a new one: a database
// keeps the key it was first used with, so give a new key a new database).
func startBenchCluster(ctx context.Context, n int, database string, extra []string, keep bool, logw io.Writer) (*benchCluster, error) {
	key, _, _ := api.NewAPIKey()
	enc := os.Getenv("HERALD_ENCRYPTION_KEY")
	if enc == "" {
		var b [32]byte
		rand.Read(b[:])
		enc = base64.StdEncoding.EncodeToString(b[:])
	}
	c := &benchCluster{key: key}
	for i := 0; i < n; i++ {
		args := append([]string{"--database", database, "--node-id", fmt.Sprintf("bench-node-%d", i+1)}, extra...)
		srv, err := startBenchServerWith(ctx, args, keep, logw, key, []string{"HERALD_ENCRYPTION_KEY=" + enc})
		if err != nil {
			c.stop()
			return nil, err
		}
		c.nodes = append(c.nodes, srv)
	}
	return c, nil
}

func (c *benchCluster) urls() []string {
	var out []string
	for _, s := range c.nodes {
		out = append(out, s.url)
	}
	return out
}

func (c *benchCluster) stop() {
	for _, s := range c.nodes {
		s.stop()
	}
}

// stats sums the nodes' CPU time and peak RSS.
func (c *benchCluster) stats() (time.Duration, int64, error) {
	var cpu time.Duration
	var rss int64
	for _, s := range c.nodes {
		c, r, err := s.stats()
		if err != nil {
			return 0, 0, err
		}
		cpu, rss = cpu+c, rss+r
	}
	return cpu, rss, nil
}

// databaseURL returns the database URL the nodes are given: --database itself, or with
// --database-latency the URL of a latency proxy to its server, which the returned
// function closes (reporting how many connections it forwarded).
func (fl *benchFlags) databaseURL(logw io.Writer) (database string, stop func(), err error) {
	if fl.dbLatency == 0 {
		return fl.database, func() {}, nil
	}
	u, err := url.Parse(fl.database)
	if err != nil {
		return "", nil, fmt.Errorf("bench: --database: %w", err)
	}
	q := u.Query()
	switch {
	case u.Hostname() == "":
		return "", nil, fmt.Errorf("bench: --database-latency: the database URL names no host (a Unix socket cannot be proxied)")
	case strings.Contains(u.Host, ","):
		return "", nil, fmt.Errorf("bench: --database-latency: the database URL names several hosts; give one")
	case q.Has("host") || q.Has("hostaddr") || q.Has("port"):
		return "", nil, fmt.Errorf("bench: --database-latency: give the database's host and port in the URL's authority, not as host, hostaddr or port parameters")
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	target := net.JoinHostPort(u.Hostname(), port)
	p, err := latencyproxy.Start("127.0.0.1:0", target, fl.dbLatency)
	if err != nil {
		return "", nil, fmt.Errorf("bench: database latency proxy: %w", err)
	}
	u.Host = p.Addr()
	fmt.Fprintf(logw, "database latency proxy at %s: %v each way to %s\n", p.Addr(), fl.dbLatency, target)
	return u.String(), func() {
		p.Close()
		fmt.Fprintf(logw, "database latency proxy: %d connections forwarded\n", p.Forwarded())
	}, nil
}
