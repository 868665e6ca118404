package inputs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"hawk/internal/wire"
)

// acceptHeader asks for the classic text format first (cheapest to parse),
// then OpenMetrics 1.0.
const acceptHeader = "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1"

// scraper scrapes one target.
type scraper struct {
	t         Target
	url       string
	client    *http.Client
	target    []wire.Label // job, instance, the target's labels
	maxBody   int64
	maxSeries int
	log       *slog.Logger
	buf       []byte
	parser    *parser           // kept between scrapes
	lastN     int               // samples of the last scrape
	failures  map[string]uint64 // by reason
}

func newScraper(t Target, hostname string, lim Limits, log *slog.Logger) (*scraper, error) {
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("scrape %q: want an http(s) URL", t.URL)
	}
	client, err := t.HTTP.client(isLoopback(u.Hostname()))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", t.URL, err)
	}
	s := &scraper{t: t, url: t.URL, client: client, maxBody: int64(lim.MaxBodyBytes), maxSeries: lim.MaxSeriesPerInput,
		log: log.With("input", t.URL), failures: map[string]uint64{}, parser: newParser()}
	s.target = append(s.target, wire.Label{Name: "job", Value: t.Job}, wire.Label{Name: "instance", Value: instanceOf(u, hostname)})
	for _, k := range sortedKeys(t.Labels) {
		s.target = append(s.target, wire.Label{Name: k, Value: t.Labels[k]})
	}
	return s, nil
}

// instanceOf is the instance label of a target, host:port as Prometheus
// sets it, except that a loopback host is replaced by this host's name: an
// exporter every host runs on 127.0.0.1:9100 would otherwise be one series
// for the whole fleet.
func instanceOf(u *url.URL, hostname string) string {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	if isLoopback(host) {
		host = hostname
	}
	return net.JoinHostPort(host, port)
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return (ip != nil && ip.IsLoopback()) || host == "localhost"
}

func (s *scraper) id() string           { return s.url }
func (s *scraper) kind() string         { return "scrape" }
func (s *scraper) every() time.Duration { return s.t.Interval }
func (s *scraper) close()               { s.client.CloseIdleConnections() }

func (s *scraper) gather(ctx context.Context, now time.Time) []Sample {
	c := converter{base: s.target, now: now.UnixMilli(), maxSeries: s.maxSeries, out: make([]Sample, 0, s.lastN+8)}
	err := s.scrape(ctx, &c)
	dur := time.Since(now).Seconds()
	up := 1.0
	if err != nil {
		up, c.out = 0, c.out[:0]
		reason := "error"
		switch {
		case errors.Is(err, errTooManySeries):
			reason = "series-limit"
		case errors.Is(err, errTooLarge):
			reason = "body-size-limit"
		case errors.Is(err, context.DeadlineExceeded):
			reason = "timeout"
		}
		s.failures[reason]++
		if ctx.Err() == nil {
			s.log.Warn("scrape failed", "reason", reason, "err", err)
		}
	}
	n := float64(len(c.out))
	s.lastN = len(c.out)
	ms := now.UnixMilli()
	c.out = append(c.out,
		Sample{Name: "up", Help: "1 if the last scrape of the target succeeded.", Type: wire.TypeGauge, Labels: s.target, T: ms, V: up},
		Sample{Name: "scrape_duration_seconds", Help: "Duration of the scrape.", Type: wire.TypeGauge, Labels: s.target, T: ms, V: dur},
		Sample{Name: "scrape_samples_scraped", Help: "Samples the target exposed.", Type: wire.TypeGauge, Labels: s.target, T: ms, V: n})
	c.out = appendFailures(c.out, s.failures, s.kind(), s.url, ms)
	if cap(s.buf) > 1<<20 {
		s.buf = nil // a one-off large body is not kept
	}
	return c.out
}

func (s *scraper) scrape(ctx context.Context, c *converter) error {
	ctx, cancel := context.WithTimeout(ctx, s.t.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(s.t.Timeout.Seconds(), 'f', -1, 64))
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // draining for reuse only
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	s.buf, err = readCapped(resp.Body, s.buf, s.maxBody, s.maxSeries)
	if err != nil {
		return err
	}
	om, err := isOpenMetrics(resp.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	return c.parse(s.parser, s.buf, om)
}

// appendFailures adds hawk_input_failures_total{input,kind,reason} for each
// reason seen so far.
func appendFailures(out []Sample, f map[string]uint64, kind, id string, ms int64) []Sample {
	for _, r := range sortedKeys(f) {
		out = append(out, Sample{Name: "hawk_input_failures_total", Help: "Runs of an input that failed, by reason.", Type: wire.TypeCounter,
			Labels: []wire.Label{{Name: "input", Value: id}, {Name: "kind", Value: kind}, {Name: "reason", Value: r}}, Own: true, T: ms, V: float64(f[r])})
	}
	return out
}
