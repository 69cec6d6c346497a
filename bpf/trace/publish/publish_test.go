package publish

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// No password or token of a server list reaches a log line or an error,
// whatever form the list takes, and nothing else is changed.
func TestRedact(t *testing.T) {
	for _, tc := range []struct{ list, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://alice:s3cret@host:4222", "nats://alice:***@host:4222"},
		{"alice:s3cret@host:4222", "alice:***@host:4222"}, // nats.go adds nats:// itself
		{"nats://tok3n@host", "nats://***@host"},
		{"tls://a:pw1@h1:4222,nats://b:pw2@h2:4222", "tls://a:***@h1:4222,nats://b:***@h2:4222"},
		{"nats://:pw@h", "nats://:***@h"},
		{"nats://a@b@host", "nats://***@host"},
	} {
		if got := Redact(tc.list); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.list, got, tc.want)
		}
	}
	list := "nats://a:s3cret@h1,b:0ther@h2"
	err := errors.New(`dial nats://a:s3cret@h1: refused; then b:0ther@h2; "s3cret" seen`)
	got := redactErr(err, list)
	if strings.Contains(got, "s3cret") || strings.Contains(got, "0ther") || !strings.Contains(got, "nats://***@h1") || !strings.Contains(got, "dial nats://") {
		t.Errorf("redactErr = %q", got)
	}
}

// startServer runs Debian's nats-server on port, until the test ends or
// the returned stop.
func startServer(t *testing.T, port int) (stop func()) {
	t.Helper()
	cmd := exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	for i := 0; i < 500; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return stop
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("nats-server did not listen on %d", port)
	return stop
}

// The credentials file is read once: a publisher that can no longer read
// it (gone on as another user, say) still reconnects after the server
// restarts.
func TestCredsReadOnce(t *testing.T) {
	if _, err := exec.LookPath("nats-server"); err != nil {
		elftest.Unavailable(t, "nats-server is not installed (Debian: apt-get install nats-server; make deps)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	stop := startServer(t, port)
	creds := filepath.Join(t.TempDir(), "user.creds")
	// A user JWT and its key's seed, made for this test (the server
	// checks neither: it has no accounts).
	const file = "-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln\n------END NATS USER JWT------\n\n" +
		"-----BEGIN USER NKEY SEED-----\nSUALU56SH3Y7HGN5AZT4W6VB5JWKIMKCUP2VDOB7S3YAZD6UPGSMSE7SJA\n------END USER NKEY SEED------\n"
	if err := os.WriteFile(creds, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	var log bytes.Buffer
	var mu sync.Mutex
	p, err := Connect(Options{URL: url, Creds: creds, Prefix: "usdtkit.test", Log: func(f string, v ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&log, f+"\n", v...)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(time.Second)
	if err := os.Remove(creds); err != nil {
		t.Fatal(err)
	}
	stop()
	startServer(t, port)
	sub, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	got := make(chan *nats.Msg, 16)
	if _, err := sub.ChanSubscribe("usdtkit.test.>", got); err != nil {
		t.Fatal(err)
	}
	sub.Flush()
	deadline := time.After(30 * time.Second)
	for {
		p.enqueue("usdtkit.test.ping", []byte("{}"))
		select {
		case <-got:
			return
		case <-deadline:
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("nothing arrived after the restart; the publisher said:\n%s", log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// A message is published once the server has it: those kept while it is
// away count as published when it comes, as dropped when it never does.
func TestCountsWhileAway(t *testing.T) {
	if _, err := exec.LookPath("nats-server"); err != nil {
		elftest.Unavailable(t, "nats-server is not installed (Debian: apt-get install nats-server; make deps)")
	}
	for _, comes := range []bool{true, false} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		p, err := Connect(Options{URL: fmt.Sprintf("nats://127.0.0.1:%d", port), Prefix: "usdtkit.test"})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			p.enqueue("usdtkit.test.ping", []byte("{}"))
		}
		timeout := 300 * time.Millisecond
		if comes {
			// Wait until the ten are in the reconnect buffer.
			for deadline := time.Now().Add(10 * time.Second); p.away.Load() < 10 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			startServer(t, port)
			timeout = 10 * time.Second
		}
		p.Close(timeout)
		if want := uint64(10); comes && (p.Published() != want || p.Dropped() != 0) || !comes && (p.Published() != 0 || p.Dropped() != want) {
			t.Errorf("server comes %v: %d published, %d dropped", comes, p.Published(), p.Dropped())
		}
	}
}
