//go:build e2e

package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"hawk/internal/wire"
)

// binDir is where the binaries under test are.
func binDir(t testing.TB) string {
	if d := os.Getenv("HAWK_BIN"); d != "" {
		return d
	}
	d, err := filepath.Abs("../../bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "hawk-server")); err != nil {
		t.Fatalf("no hawk-server in %s: run make build first", d)
	}
	return d
}

// proc is a hawk-server process started by a test.
type proc struct {
	t     testing.TB
	cmd   *exec.Cmd
	agent string // agent address
	http  string // HTTP address
	log   *os.File
	done  chan struct{}
}

var startedRE = regexp.MustCompile(`hawk-server started.* agents=(\S+) http=(\S+)`)

// startServer runs hawk-server with data in dataDir and extra flags; it
// listens on the given agent address (use 127.0.0.1:0 for any). Its output
// goes straight to a file (a pipe would be inherited by the process that
// replaces it on upgrade, and Wait would wait for that one too).
func startServer(t testing.TB, dataDir, agentAddr string, flags ...string) *proc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "server-*.log")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-data", dataDir, "-listen", agentAddr, "-http", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(filepath.Join(binDir(t), "hawk-server"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(syscall.SIGKILL); logf.Close() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(logf.Name())
		if m := startedRE.FindSubmatch(b); m != nil {
			p.agent, p.http = string(m[1]), string(m[2])
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("hawk-server exited:\n%s", b)
		case <-time.After(50 * time.Millisecond): // the log line is the only sign of readiness
		}
		if time.Now().After(deadline) {
			t.Fatal("hawk-server did not start in 60 s")
		}
	}
}

// httpClient opens a connection per request: across an upgrade, a kept-alive
// connection may belong to the process that is draining.
var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// kill sends sig and waits for the process to exit.
func (p *proc) kill(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("hawk-server ignored %v for 60 s", sig)
	}
}

// queryResult is one series of an instant query's result: Value for a
// vector, Values for a matrix (a range selector).
type queryResult struct {
	Metric map[string]string
	Value  [2]any
	Values [][2]any
}

// instant runs an instant PromQL query (at time at, unless zero) and fails
// the test on any error.
func (p *proc) instant(t testing.TB, q string, at time.Time) []queryResult {
	t.Helper()
	form := url.Values{"query": {q}}
	if !at.IsZero() {
		form.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	resp, err := httpClient.PostForm("http://"+p.http+"/api/v1/query", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct{ Result []queryResult }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("query %q: %v %s", q, err, body.Error)
	}
	return body.Data.Result
}

// queryRaw runs an instant query for a range selector and returns the raw
// sample timestamps (ms) of all series in it.
func (p *proc) queryRaw(t testing.TB, q string) []int64 {
	t.Helper()
	var ts []int64
	for _, r := range p.instant(t, q, time.Time{}) {
		for _, v := range r.Values {
			ts = append(ts, int64(v[0].(float64)*1000+0.5))
		}
	}
	return ts
}

// query runs an instant PromQL query at time at and returns its vector as
// label string → value.
func (p *proc) query(t testing.TB, q string, at time.Time) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range p.instant(t, q, at) {
		v, _ := strconv.ParseFloat(r.Value[1].(string), 64)
		out[fmt.Sprint(r.Metric)] = v
	}
	return out
}

// agentConn is a v2 agent for tests: it keeps what is unacknowledged and
// resends it on a new connection, as hawk-agent does with its spool.
type agentConn struct {
	t       testing.TB
	id      string
	c       net.Conn
	dec     wire.Decoder
	enc     *wire.Encoder
	pending map[uint64]*wire.Batch // sent, not acknowledged
	acked   uint64
	secret  string // issued at enrolment, sent in every later HELLO
}

func newAgentConn(t testing.TB, id string) *agentConn {
	return &agentConn{t: t, id: id, pending: map[uint64]*wire.Batch{}}
}

// connect opens a session and resends what WELCOME does not report stored.
func (a *agentConn) connect(addr string) error {
	if a.c != nil {
		a.c.Close()
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	a.c, a.dec, a.enc = c, wire.Decoder{}, wire.NewEncoder()
	f, _ := wire.AppendFrame(nil, wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: a.id, Hostname: a.id,
		Labels: []wire.Label{{Name: "job", Value: "itest"}, {Name: "instance", Value: a.id}}, Secret: a.secret}))
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(f); err != nil {
		return err
	}
	p, err := a.recv()
	if err != nil {
		return err
	}
	w, err := wire.DecodeWelcome(p)
	if err != nil {
		return fmt.Errorf("welcome: %w", err)
	}
	c.SetDeadline(time.Time{})
	if w.Secret != "" {
		a.secret = w.Secret
	}
	a.ackUpTo(w.LastSeq)
	for seq := uint64(1); seq <= maxKey(a.pending); seq++ {
		if b := a.pending[seq]; b != nil {
			if err := a.write(seq, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func maxKey(m map[uint64]*wire.Batch) uint64 {
	var k uint64
	for s := range m {
		k = max(k, s)
	}
	return k
}

func (a *agentConn) ackUpTo(seq uint64) {
	for s := range a.pending {
		if s <= seq {
			delete(a.pending, s)
		}
	}
	a.acked = max(a.acked, seq)
}

func (a *agentConn) write(seq uint64, b *wire.Batch) error {
	out, err := a.enc.AppendBatch(nil, seq, b, 0)
	if err != nil {
		return err
	}
	_, err = a.c.Write(out)
	return err
}

// send sends a new batch and keeps it until acknowledged.
func (a *agentConn) send(seq uint64, b *wire.Batch) error {
	a.pending[seq] = b
	return a.write(seq, b)
}

func (a *agentConn) recv() ([]byte, error) {
	for {
		if p, ok := a.dec.Next(); ok {
			return append([]byte(nil), p...), nil
		}
		n, err := a.c.Read(a.dec.Space())
		a.dec.Commit(n)
		if err != nil && n == 0 {
			return nil, err
		}
	}
}

// awaitAck reads until seq is acknowledged.
func (a *agentConn) awaitAck(ctx context.Context, seq uint64) error {
	for a.acked < seq {
		if dl, ok := ctx.Deadline(); ok {
			a.c.SetReadDeadline(dl)
		}
		p, err := a.recv()
		if err != nil {
			return err
		}
		if k, _ := wire.PeekKind(p); k != wire.KindAck {
			return fmt.Errorf("got %v, want ACK", k)
		}
		m, _ := wire.DecodeAck(p)
		a.ackUpTo(m.Seq)
	}
	return nil
}

// seriesBatch is one sample for each of n series at time ms; the value is
// a deterministic function of series and time, so a reader can check it.
func seriesBatch(n int, ms int64) *wire.Batch {
	b := &wire.Batch{}
	for i := range n {
		b.Defs = append(b.Defs, wire.SeriesDef{Type: wire.TypeGauge, Name: "itest_value",
			Labels: []wire.Label{{Name: "series", Value: strconv.Itoa(i)}}})
		b.Samples = append(b.Samples, wire.Sample{ID: uint32(i), T: ms, V: valueAt(i, ms)})
	}
	return b
}

func valueAt(series int, ms int64) float64 { return float64(series)*1000 + float64(ms/1000%100000)/4 }
