// Package redistest runs Debian's redis-server (and redis-sentinel) for
// tests: a real Redis on a loopback port that a test may kill and restart.
// Tests that need Redis skip unless HOUSEKEEPER_TEST_REDIS names a server
// (.ci/run installs and starts one and sets it).
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Env names the Redis the tests may use, host:port or a redis:// URL.
const Env = "HOUSEKEEPER_TEST_REDIS"

// URL returns the shared test Redis as a URL, or skips t.
func URL(t testing.TB) string {
	t.Helper()
	v := os.Getenv(Env)
	if v == "" {
		t.Skipf("%s is not set: no Redis to test against (.ci/run starts one)", Env)
	}
	if !strings.Contains(v, "://") {
		v = "redis://" + v
	}
	return v
}

// Server is a redis-server this test started and may stop.
type Server struct {
	t    testing.TB
	Port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is redis://host:port.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Start runs a redis-server of the test's own (with AOF, fsync every
// second, as docs/deploy.md asks of production) on a free loopback port;
// it skips t unless HOUSEKEEPER_TEST_REDIS is set and redis-server is on
// PATH. extra are more config directives ("replicaof 127.0.0.1 6379").
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	URL(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not on PATH")
	}
	s := &Server{t: t, Port: FreePort(t), dir: t.TempDir()}
	s.args = append([]string{
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
		"--daemonize", "no", "--protected-mode", "no",
	}, splitDirectives(extra)...)
	s.start()
	t.Cleanup(func() { s.Kill() })
	return s
}

func splitDirectives(extra []string) []string {
	var out []string
	for _, d := range extra {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		out = append(out, "--"+f[0])
		out = append(out, f[1:]...)
	}
	return out
}

func (s *Server) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", s.args...)
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	WaitPort(s.t, s.Addr())
}

// Kill stops the server at once (SIGKILL), as a crash.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart kills the server and starts it again on the same port and data
// directory, so it comes back from its append-only file.
func (s *Server) Restart() {
	s.t.Helper()
	// Let the every-second fsync write what the test put in.
	time.Sleep(1100 * time.Millisecond)
	s.Kill()
	s.start()
}

// Sentinel is a redis-sentinel this test started.
type Sentinel struct {
	Server
}

// StartSentinel runs a redis-sentinel watching master (at addr) under
// name, with quorum 1 and quick failure detection.
func StartSentinel(t testing.TB, name, masterAddr string) *Sentinel {
	t.Helper()
	URL(t)
	if _, err := exec.LookPath("redis-sentinel"); err != nil {
		t.Skip("redis-sentinel is not on PATH")
	}
	s := &Sentinel{Server{t: t, Port: FreePort(t), dir: t.TempDir()}}
	host, port, _ := net.SplitHostPort(masterAddr)
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"+
		"sentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 500\n"+
		"sentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 1\n",
		s.Port, s.dir, name, host, port, name, name, name)
	path := filepath.Join(s.dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command("redis-sentinel", path)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis-sentinel: %v", err)
	}
	WaitPort(t, s.Addr())
	t.Cleanup(func() { s.Kill() })
	return s
}

// FreePort returns a loopback port nobody listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// WaitPort waits up to 10 s for addr to accept connections.
func WaitPort(t testing.TB, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s after 10 s", addr)
}
