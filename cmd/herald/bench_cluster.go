package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/heraldhq/herald/internal/api"
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
