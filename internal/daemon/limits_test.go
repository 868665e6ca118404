package daemon

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"hawk/internal/server"
)

// TestHTTPIdleConnectionClosed: a connection that made one request (here
// refused 401) and then stays silent is closed at -http.idle-timeout
// (issue 17 defect 4: it was held for ever).
func TestHTTPIdleConnectionClosed(t *testing.T) {
	d := startDaemon(t, "-http-auth-token-file", writeFile(t, "token", "tok\n"), "-http.idle-timeout", "200ms")
	c, err := net.Dial("tcp", d.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /api/v1/query?query=1 HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // the read fails if it did
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("response: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // drained to reach the end of the stream
	resp.Body.Close()
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v, want EOF (closed by the server)", err)
	}
}

// TestHTTPConnectionCap: with -http.max-connections open, another
// connection is accepted only when one closes; the wait is counted.
func TestHTTPConnectionCap(t *testing.T) {
	d := startDaemon(t, "-http.max-connections", "2")
	addr := d.HTTPAddr().String()
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	third := make(chan int, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Get("http://" + addr + "/api/v1/query?query=1")
		if err != nil {
			third <- -1
			return
		}
		resp.Body.Close()
		third <- resp.StatusCode
	}()
	select {
	case code := <-third:
		t.Fatalf("third connection served (%d) while two were held", code)
	case <-time.After(300 * time.Millisecond): // a negative: nothing may happen in this time
	}
	held[0].Close()
	if code := <-third; code != 200 {
		t.Fatalf("third connection: %d", code)
	}
	held[1].Close()
	_, body := get(t, http.DefaultClient, "http://"+addr, "/metrics", "")
	m := regexp.MustCompile(`(?m)^hawk_server_http_connections_limited_total (\d+)$`).FindStringSubmatch(body)
	if m == nil || m[1] == "0" {
		t.Fatalf("waits at the connection limit not counted: %v", m)
	}
}

// TestQueryConcurrencyFlag: -query.max-concurrency sizes the engine's
// queue (0: half of GOMAXPROCS, at least 1), which keeps the running
// queries in <data>/queries.active.
func TestQueryConcurrencyFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"-query.max-concurrency", "3"}, 3},
		{nil, max(1, runtime.GOMAXPROCS(0)/2)},
	} {
		d := startDaemon(t, c.args...)
		if _, err := os.Stat(filepath.Join(d.cfg.Data, "queries.active")); err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		base := "http://" + d.HTTPAddr().String()
		if code, body := get(t, http.DefaultClient, base, "/api/v1/query?query=1", ""); code != 200 {
			t.Fatalf("%q: query: %d %s", c.args, code, body)
		}
		_, body := get(t, http.DefaultClient, base, "/metrics", "")
		want := fmt.Sprintf("\nprometheus_engine_queries_concurrent_max %d\n", c.want)
		if !strings.Contains(body, want) || !strings.Contains(body, `hawk_api_queries_in_flight{state="running"} 0`) {
			t.Fatalf("%q: /metrics lacks %q or the in-flight gauge", c.args, strings.TrimSpace(want))
		}
	}
}

// TestRefusedSeriesRateFlag: -max-refused-series-rate reaches the server's
// configuration.
func TestRefusedSeriesRateFlag(t *testing.T) {
	cfg, err := parse(t, "", "-max-refused-series-rate", "1234")
	if err != nil {
		t.Fatal(err)
	}
	var sc server.Config
	cfg.Limits.apply(&sc)
	if sc.MaxRefusedSeriesRate != 1234 {
		t.Fatalf("MaxRefusedSeriesRate %d, want 1234", sc.MaxRefusedSeriesRate)
	}
}
