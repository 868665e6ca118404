package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Outcomes of one remote write request.
type remoteOutcome int

const (
	outcomeSent     remoteOutcome = iota // 2xx: every sample accepted
	outcomeRetry                         // 5xx, 429, network error: send again
	outcomeRejected                      // 400, 409, 422: the samples were refused for good
	outcomeFailed                        // any other status: fail the Commits, agents resend later
)

// remoteResult is what became of a request after its retries.
type remoteResult struct {
	rejected *attempt // the 400, 409 or 422 that refused the samples for good
	err      error    // the samples were not delivered
}

// attempt is the result of one POST.
type attempt struct {
	outcome    remoteOutcome
	status     int           // HTTP status, 0 for a network error
	retryAfter time.Duration // from a Retry-After header, 0 if none
	err        error         // describes anything but outcomeSent
}

// deliver posts body until it is settled, the deadline leaves no time for
// another attempt after the backoff, or Close. n is the request's sample
// count, for the metrics; the caller counts rejected samples.
func (r *Remote) deliver(body []byte, n int, deadline time.Time) remoteResult {
	m := r.metrics
	backoff := r.opts.MinBackoff
	for tries := 1; ; tries++ {
		a := r.post(body)
		switch a.outcome {
		case outcomeSent:
			m.samplesSent.Add(float64(n))
			return remoteResult{}
		case outcomeRejected:
			return remoteResult{rejected: &a}
		case outcomeFailed:
			return remoteResult{err: a.err}
		}
		wait := max(backoff, a.retryAfter)
		if time.Now().Add(wait).After(deadline) {
			return remoteResult{err: fmt.Errorf("giving up after %d attempts: %w", tries, a.err)}
		}
		if r.ctx.Err() != nil {
			return remoteResult{err: ErrRemoteClosed}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return remoteResult{err: ErrRemoteClosed}
		}
		m.samplesRetried.Add(float64(n))
		backoff = min(2*backoff, r.opts.MaxBackoff)
	}
}

// post sends body once.
func (r *Remote) post(body []byte) attempt {
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.opts.URL, bytes.NewReader(body))
	if err != nil {
		return attempt{outcome: outcomeFailed, err: err}
	}
	r.setHeaders(req.Header)
	start := time.Now()
	resp, err := r.client.Do(req)
	r.metrics.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		r.metrics.requests.WithLabelValues("error").Inc()
		if r.ctx.Err() != nil {
			return attempt{outcome: outcomeFailed, err: ErrRemoteClosed}
		}
		return attempt{outcome: outcomeRetry, err: err}
	}
	defer resp.Body.Close()
	r.metrics.requests.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // only to reuse the connection
	return classify(resp, msg)
}

// setHeaders sets the protocol's headers; the client's round tripper adds
// the configured ones, auth and the user agent.
func (r *Remote) setHeaders(h http.Header) {
	h.Set("Content-Encoding", "snappy")
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
}

// classify maps a response to an outcome; msg is the start of its body.
func classify(resp *http.Response, msg []byte) attempt {
	code := resp.StatusCode
	a := attempt{status: code}
	if code/100 == 2 {
		return a
	}
	a.err = fmt.Errorf("remote write: %s: %q", resp.Status, bytes.TrimSpace(msg))
	switch {
	case code == http.StatusTooManyRequests || code/100 == 5:
		a.outcome = outcomeRetry
		a.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	case code == http.StatusBadRequest || code == http.StatusConflict || code == http.StatusUnprocessableEntity:
		a.outcome = outcomeRejected
	default:
		a.outcome = outcomeFailed
	}
	return a
}

// retryAfter parses a Retry-After value: seconds or an HTTP date. It returns
// 0 for an empty or malformed value.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
