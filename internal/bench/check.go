package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"hawk/internal/wire"
)

// Expect describes the samples one audit agent generated: for every series
// in Defs and every k in 1..Batches, value k at Start + (k-1)·Interval.
type Expect struct {
	Instance string           // the agent's instance label
	Defs     []wire.SeriesDef // its series, each carrying the instance label
	Batches  int
	Start    time.Time
	Interval time.Duration
}

// CheckResult counts what the query API returned against what was sent.
type CheckResult struct {
	Expected    uint64 // samples generated
	Stored      uint64 // expected samples found exactly once
	Missing     uint64 // expected samples not found
	Duplicated  uint64 // extra samples at a timestamp already found
	Unexpected  uint64 // samples at a timestamp or with a value never sent
	QueryErrors uint64 // agents whose samples could not be read
	FirstError  string
}

// OK reports whether every sample was stored exactly once.
func (c *CheckResult) OK() bool {
	return c.Missing == 0 && c.Duplicated == 0 && c.Unexpected == 0 && c.QueryErrors == 0 && c.Stored == c.Expected
}

// Checker reads audit samples back through a Prometheus-compatible query
// API: for each agent one instant query of a raw range selector,
// {instance="…",bench="audit"}[range] evaluated at the last sample's
// timestamp, which returns every stored sample of the agent's series with
// its exact timestamp, with no lookback or step alignment in between.
type Checker struct {
	API      string       // base URL, e.g. http://127.0.0.1:9877
	Client   *http.Client // http.DefaultClient when nil
	Parallel int          // queries at once (default 4)
}

// Check compares what the API holds for each expectation. Safe to call
// once at a time.
func (ch *Checker) Check(ctx context.Context, exps []Expect) CheckResult {
	par := max(ch.Parallel, 1)
	if ch.Parallel == 0 {
		par = 4
	}
	var mu sync.Mutex
	var res CheckResult
	work := make(chan *Expect)
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				r := ch.checkOne(ctx, e)
				mu.Lock()
				res.add(&r)
				mu.Unlock()
			}
		}()
	}
	for i := range exps {
		work <- &exps[i]
	}
	close(work)
	wg.Wait()
	return res
}

func (c *CheckResult) add(r *CheckResult) {
	c.Expected += r.Expected
	c.Stored += r.Stored
	c.Missing += r.Missing
	c.Duplicated += r.Duplicated
	c.Unexpected += r.Unexpected
	c.QueryErrors += r.QueryErrors
	if c.FirstError == "" {
		c.FirstError = r.FirstError
	}
}

// queryResponse is the part of a /api/v1/query answer the checker reads.
type queryResponse struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func (ch *Checker) checkOne(ctx context.Context, e *Expect) CheckResult {
	n := uint64(len(e.Defs) * e.Batches)
	res := CheckResult{Expected: n}
	if e.Batches == 0 {
		return res
	}
	qr, err := ch.query(ctx, e)
	if err != nil {
		res.Missing, res.QueryErrors, res.FirstError = n, 1, fmt.Sprintf("%s: %v", e.Instance, err)
		return res
	}
	want := make(map[string]bool, len(e.Defs)) // series key → seen in the answer
	for i := range e.Defs {
		want[defKey(&e.Defs[i])] = false
	}
	start, step := e.Start.UnixMilli(), e.Interval.Milliseconds()
	for _, s := range qr.Data.Result {
		// The server labels every series with the sending agent's id
		// (the audit's agents are named as their instance); another id
		// leaves the key unknown, so its samples count as unexpected.
		if s.Metric["agent_id"] == e.Instance {
			delete(s.Metric, "agent_id")
		}
		key := metricKey(s.Metric)
		seen, ok := want[key]
		if !ok || seen {
			res.Unexpected += uint64(len(s.Values))
			continue
		}
		want[key] = true
		found := make([]bool, e.Batches)
		for _, pt := range s.Values {
			t, v, err := parsePoint(pt)
			k := (t-start)/step + 1
			switch {
			case err != nil || (t-start)%step != 0 || k < 1 || k > int64(e.Batches) || v != float64(k):
				res.Unexpected++
			case found[k-1]:
				res.Duplicated++
			default:
				found[k-1] = true
				res.Stored++
			}
		}
	}
	res.Missing = n - res.Stored
	return res
}

func (ch *Checker) query(ctx context.Context, e *Expect) (*queryResponse, error) {
	step := e.Interval.Milliseconds()
	last := e.Start.UnixMilli() + int64(e.Batches-1)*step
	// (last - range, last] holds exactly the timestamps of batches 1..Batches.
	sel := fmt.Sprintf(`{instance=%q,bench="audit"}[%dms]`, e.Instance, int64(e.Batches-1)*step+1)
	q := url.Values{"query": {sel}, "time": {strconv.FormatFloat(float64(last)/1000, 'f', 3, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(ch.API, "/")+"/api/v1/query?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	client := ch.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return nil, err
	}
	var qr queryResponse
	if err := json.Unmarshal(body, &qr); err != nil {
		return nil, fmt.Errorf("http %d: %w", resp.StatusCode, err)
	}
	if qr.Status != "success" || qr.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("http %d: status %q, result %q: %s", resp.StatusCode, qr.Status, qr.Data.ResultType, qr.Error)
	}
	return &qr, nil
}

// parsePoint reads [seconds, "value"] into Unix milliseconds and a value.
func parsePoint(pt [2]any) (int64, float64, error) {
	ts, ok1 := pt[0].(float64)
	vs, ok2 := pt[1].(string)
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("point %v", pt)
	}
	v, err := strconv.ParseFloat(vs, 64)
	return int64(math.Round(ts * 1000)), v, err
}

// defKey and metricKey give a series' identity: its name and its labels
// sorted by name, the empty ones left out as the server leaves them out.
func defKey(d *wire.SeriesDef) string {
	m := map[string]string{"__name__": d.Name}
	for _, l := range d.Labels {
		m[l.Name] = l.Value
	}
	return metricKey(m)
}

func metricKey(m map[string]string) string {
	names := make([]string, 0, len(m))
	for k, v := range m {
		if v != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s=%q,", k, m[k])
	}
	return b.String()
}
