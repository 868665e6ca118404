package api

import (
	"os/exec"
	"strings"
	"testing"
)

// newLocalServer returns the URL of newTestServer, which httptest binds to
// 127.0.0.1:0; the check keeps external clients off other interfaces.
func newLocalServer(t *testing.T) string {
	t.Helper()
	srv := newTestServer(t)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s, want 127.0.0.1", srv.URL)
	}
	return srv.URL
}

// promtool runs promtool with args and returns its standard output.
func promtool(t *testing.T, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian: apt-get install prometheus); skipping the promtool compatibility test")
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPromtoolQueryInstant(t *testing.T) {
	url := newLocalServer(t)
	got := promtool(t, "query", "instant", "--time=1060", url, "up")
	want := "up{instance=\"a\", job=\"node\"} => 1 @[1060]\nup{instance=\"b\", job=\"node\"} => 0 @[1060]\n"
	if got != want {
		t.Fatalf("promtool query instant:\n%s\nwant:\n%s", got, want)
	}
	got = promtool(t, "query", "instant", "--time=1060", url, "sum(up) + 41")
	if want := "{} => 42 @[1060]\n"; got != want {
		t.Fatalf("promtool query instant sum:\n%q\nwant %q", got, want)
	}
}

func TestPromtoolQueryRange(t *testing.T) {
	url := newLocalServer(t)
	got := promtool(t, "query", "range", "--start=1000", "--end=1060", "--step=30s", url, `up{instance="b"} + 5`)
	want := "{instance=\"b\", job=\"node\"} =>\n5 @[1000]\n5 @[1030]\n5 @[1060]\n"
	if got != want {
		t.Fatalf("promtool query range:\n%s\nwant:\n%s", got, want)
	}
}
