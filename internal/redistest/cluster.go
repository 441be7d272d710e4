package redistest

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of masters this test started (no replicas):
// every node a redis-server of its own with cluster-enabled, the slots
// spread by redis-cli --cluster create.
type Cluster struct {
	Nodes []*Server
}

// URL is redis+cluster://host:port,host:port,… (coord.ParseRedisURL).
func (c *Cluster) URL() string {
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.Addr())
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// StartCluster runs n cluster nodes (at least 3, as redis-cli requires)
// and waits until the cluster serves every slot; it skips t like Start.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		URL(t)
		t.Skip("redis-cli is not on PATH")
	}
	c := &Cluster{}
	var addrs []string
	for range max(n, 3) {
		// The cluster bus gets a free port of its own rather than
		// port+10000, which may be taken.
		s := Start(t, "cluster-enabled yes", "cluster-node-timeout 2000",
			"cluster-port "+strconv.Itoa(FreePort(t)))
		c.Nodes = append(c.Nodes, s)
		addrs = append(addrs, s.Addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, s := range c.Nodes {
		for {
			out, err := exec.CommandContext(ctx, "redis-cli", "-p", strconv.Itoa(s.Port), "cluster", "info").Output()
			if err == nil && strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("cluster node %s not ok after 30 s: %s %v", s.Addr(), out, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c
}
