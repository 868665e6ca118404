package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// InfluxConfig configures RunInflux: the series and samples of RunLoad
// (same agents, same seeds, same timestamps rule) as Influx line protocol
// over TCP, with no acknowledgement; ingestion is confirmed by polling a
// counter of the server's /metrics.
type InfluxConfig struct {
	Addr     string        // the server's Influx TCP address
	Agents   int           // connections, one per simulated agent (default 1)
	Series   int           // series per agent (default 300)
	Duration time.Duration // how long to send at most (default 10s)
	Batches  int           // scrapes per agent at most; 0 means no limit but Duration
	Sources  int           // source addresses 127.0.0.2... to spread over; 0 binds none
	Prefix   string        // agent id prefix, as RunLoad's (default "bench-")
	Job      string        // job label (default "node")
	Seed     uint64        // as RunLoad's
	Metrics  string        // the server's /metrics URL; empty skips waiting for ingestion
	Counter  string        // series on Metrics counting ingested samples, e.g. vm_rows_inserted_total{type="influx"}
	Drain    time.Duration // how long to wait for the counter to catch up (default 60s)
	PID      int           // server process to measure; 0 for none
	Proc     ProcReader
}

func (c *InfluxConfig) setDefaults() {
	c.Agents = max(c.Agents, 1)
	if c.Series <= 0 {
		c.Series = 300
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Prefix == "" {
		c.Prefix = "bench-"
	}
	if c.Job == "" {
		c.Job = "node"
	}
	if c.Drain <= 0 {
		c.Drain = time.Minute
	}
}

// InfluxResult is what RunInflux measured.
type InfluxResult struct {
	Agents, Connected int
	Send              time.Duration // sending phase
	Wall              time.Duration // from the start to the counter catching up (or the drain ending)
	SentSamples       uint64
	Ingested          uint64 // counter increase; 0 when not watched
	Bytes             uint64
	Errors            map[string]uint64
	Server            [2]ProcStat // at the start and when ingestion caught up
	ServerErr         error
	Client            [2]ProcStat
}

// RunInflux sends until cfg.Duration or cfg.Batches, then waits for the
// server's counter to reach what was sent.
func RunInflux(ctx context.Context, cfg InfluxConfig) (*InfluxResult, error) {
	cfg.setDefaults()
	res := &InfluxResult{Agents: cfg.Agents}
	conns := make([]net.Conn, 0, cfg.Agents)
	var errs errCounts
	for i := range cfg.Agents {
		d := net.Dialer{Timeout: 10 * time.Second}
		if src := Source(i, cfg.Sources); src != nil {
			d.LocalAddr = src
		}
		c, err := d.DialContext(ctx, "tcp", cfg.Addr)
		if err != nil {
			errs.add("dial", 1)
			continue
		}
		conns = append(conns, c)
	}
	res.Connected = len(conns)
	var before float64
	if cfg.Metrics != "" {
		var err error
		if before, err = ScrapeCounter(ctx, cfg.Metrics, cfg.Counter); err != nil {
			return nil, err
		}
	}
	res.Client[0], _ = cfg.Proc.Read(os.Getpid())
	if cfg.PID > 0 {
		res.Server[0], res.ServerErr = cfg.Proc.Read(cfg.PID)
	}
	t0 := time.Now()
	sendCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var sent, bytesOut atomic.Uint64
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			stop := context.AfterFunc(sendCtx, func() { c.SetWriteDeadline(time.Now()) }) //nolint:errcheck // wakes a blocked write
			defer stop()
			n, b, err := influxAgent(sendCtx, c, &cfg, i)
			sent.Add(n)
			bytesOut.Add(b)
			if err != nil && sendCtx.Err() == nil {
				errs.add("write_"+reason(err), 1)
			}
		}()
	}
	wg.Wait()
	res.Send = time.Since(t0)
	res.SentSamples, res.Bytes = sent.Load(), bytesOut.Load()
	if cfg.Metrics != "" {
		res.Ingested = waitCounter(ctx, &cfg, before, res.SentSamples)
	}
	res.Wall = time.Since(t0)
	if cfg.PID > 0 && res.ServerErr == nil {
		res.Server[1], res.ServerErr = cfg.Proc.Read(cfg.PID)
	}
	res.Client[1], _ = cfg.Proc.Read(os.Getpid())
	res.Errors = errs.snapshot()
	return res, nil
}

// influxAgent writes agent i's scrapes to c as fast as it takes them. A
// scrape counts as sent only when its whole write completed; one cut short
// by the end of ctx is not counted, though the server may parse part of it.
func influxAgent(ctx context.Context, c net.Conn, cfg *InfluxConfig, i int) (samples, nbytes uint64, err error) {
	id := fmt.Sprintf("%s%06d", cfg.Prefix, i)
	h := NewHostSet(cfg.Series, cfg.Job, id, cfg.Seed+uint64(i))
	prefixes := make([][]byte, h.Len())
	for j := range h.Defs {
		prefixes[j] = AppendInfluxPrefix(nil, &h.Defs[j], "value")
	}
	var buf []byte
	var lastT int64
	for k := 0; cfg.Batches == 0 || k < cfg.Batches; k++ {
		if ctx.Err() != nil {
			return samples, nbytes, nil
		}
		if k > 0 {
			h.Advance(10)
		}
		ts := max(time.Now().UnixMilli(), lastT+1)
		lastT = ts
		buf = buf[:0]
		for j, v := range h.Values() {
			buf = AppendInfluxLine(buf, prefixes[j], v, ts)
		}
		n, err := c.Write(buf)
		nbytes += uint64(n)
		if err != nil {
			return samples, nbytes, err
		}
		samples += uint64(h.Len())
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite() //nolint:errcheck // the server sees EOF after the last line either way
	}
	return samples, nbytes, nil
}

// waitCounter polls the ingestion counter until it has grown by want, the
// drain ends or ctx does, and returns how much it grew.
func waitCounter(ctx context.Context, cfg *InfluxConfig, before float64, want uint64) uint64 {
	deadline := time.Now().Add(cfg.Drain)
	var got float64
	for {
		if v, err := ScrapeCounter(ctx, cfg.Metrics, cfg.Counter); err == nil {
			got = v - before
		}
		if got >= float64(want) || time.Now().After(deadline) || ctx.Err() != nil {
			return uint64(got)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// ScrapeCounter fetches a Prometheus text exposition from url and returns
// the sum of the lines whose series (name and labels, as written) equals
// series, or starts with series and "{" when series has no labels.
func ScrapeCounter(ctx context.Context, url, series string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: scrape: %w", err)
	}
	defer resp.Body.Close()
	return sumSeries(resp.Body, series)
}

func sumSeries(r io.Reader, series string) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var sum float64
	found := false
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		i := bytes.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		name, val := line[:i], line[i+1:]
		if j := bytes.LastIndexByte(name, ' '); j >= 0 && bytes.IndexByte(name[j:], '}') < 0 {
			name, val = line[:j], name[j+1:] // "series value timestamp"
		}
		if string(name) != series && !(bytes.HasPrefix(name, []byte(series+"{")) && bytes.IndexByte([]byte(series), '{') < 0) {
			continue
		}
		v, err := strconv.ParseFloat(string(val), 64)
		if err != nil {
			return 0, fmt.Errorf("bench: %s: value %q: %w", series, val, err)
		}
		sum += v
		found = true
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("bench: scrape: %w", err)
	}
	if !found {
		return 0, fmt.Errorf("bench: no series %s in the scrape", series)
	}
	return sum, nil
}

// Print writes the result in the form docs/performance.md quotes.
func (r *InfluxResult) Print(w io.Writer) {
	fmt.Fprintf(w, "connections: %d of %d\n", r.Connected, r.Agents)
	fmt.Fprintf(w, "sent: %d samples (%d bytes, %.1f B/sample) over %.2fs: %.0f samples/s\n",
		r.SentSamples, r.Bytes, ratio(r.Bytes, r.SentSamples), r.Send.Seconds(), perSec(r.SentSamples, r.Send))
	if r.Ingested > 0 {
		fmt.Fprintf(w, "ingested: %d samples by %.2fs: %.0f samples/s\n", r.Ingested, r.Wall.Seconds(), perSec(r.Ingested, r.Wall))
	}
	fmt.Fprintf(w, "errors: %s\n", formatCounts(r.Errors))
	n := r.Ingested
	if n == 0 {
		n = r.SentSamples
	}
	serverLines(w, "server", r.Server, r.ServerErr, n)
	serverLines(w, "client", r.Client, nil, n)
}
