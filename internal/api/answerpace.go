package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// DefaultSeriesLookupRate is how many series all /api/v1/series answers
// hold per second by default: one full answer of -query.max-lookup-results.
// Encoded by hand, an answer costs its slot of -query.max-concurrency
// little CPU, so a client that keeps the slot busy gets answers fast, and
// their garbage (some 160 bytes a series, the label sets the TSDB builds,
// since answers reuse their buffers) is collected on the cores ingest
// runs on; a collection that overlaps an agent's ACK delays it. Under a
// flood of lookups of 20,000 series after 200,000 were defined, the
// good agent's ACK p99 was 2.4 to 4.0 ms at 200,000 a second and 1.0 to
// 2.2 ms at this rate (issue 17, docs/security.md section 9).
const DefaultSeriesLookupRate = 100000

// DefaultAgentsBytesRate is how many bytes all /api/v1/agents answers
// hold per second by default. The fleet's rows are kept encoded, so a
// page costs little but its copy to the socket: four clients polling
// pages of 500 rows of 4 KB had the server send 1.6 GB/s, a core's
// worth of write(2) (issue 17, huge-hello). The fleet page of the UI asks
// for one page every few seconds; 32 MiB/s is a fleet of 100,000
// agents of 1.6 KB each read whole every 5 s.
const DefaultAgentsBytesRate = 32 << 20

// answerPace bounds what an endpoint's answers hold per second, all
// clients together, as a debt: a request runs as soon as the debt of the
// ones before is paid, then adds its own answer's cost to it. An
// answer's cost is known only once it has run, so it cannot wait for it
// beforehand; and it waits before it takes a slot, so that waiting holds
// no slot from the queries. A nil answerPace bounds nothing.
type answerPace struct {
	lim     *rate.Limiter
	timeout time.Duration          // -query-timeout
	refused *prometheus.CounterVec // the API's, by reason
	reason  string                 // its label in refused
	flag    string                 // the flag that sets the rate, for errors
	cost    func(result) int       // what an answer adds to the debt
	waited  prometheus.Counter
}

// paceOpts names an answerPace: the flag that sets its rate, the reason
// a refusal is counted under, and its wait counter's name and help.
type paceOpts struct {
	flag, reason string
	wait         prometheus.CounterOpts
	cost         func(result) int
}

// newAnswerPace paces at perSecond; the debt may build up to burst (at
// least perSecond), and a request waits at most timeout. perSecond < 0
// means no bound: nil.
func newAnswerPace(perSecond, burst int, timeout time.Duration, refused *prometheus.CounterVec, reg prometheus.Registerer, o paceOpts) *answerPace {
	if perSecond < 0 {
		return nil
	}
	p := &answerPace{
		lim:     rate.NewLimiter(rate.Limit(perSecond), max(burst, perSecond)),
		timeout: timeout,
		refused: refused,
		reason:  o.reason,
		flag:    o.flag,
		cost:    o.cost,
		waited:  prometheus.NewCounter(o.wait),
	}
	if reg != nil {
		reg.MustRegister(p.waited)
	}
	return p
}

// seriesCost is a series lookup's cost: the series it holds.
func seriesCost(r result) int { return r.entries }

// bytesCost is an answer's cost in bytes, for answers encoded by hand.
func bytesCost(r result) int { return len(r.raw) }

// paced waits, within -query-timeout (the same deadline the request then
// has), until the debt is paid, runs f, and adds the cost of f's answer
// to the debt.
func (p *answerPace) paced(f apiFunc) apiFunc {
	if p == nil {
		return f
	}
	return func(r *http.Request) result {
		ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
		defer cancel()
		start := time.Now()
		err := p.lim.Wait(ctx)
		p.waited.Add(time.Since(start).Seconds())
		if err != nil {
			p.refused.WithLabelValues(p.reason).Inc()
			if errors.Is(ctx.Err(), context.Canceled) {
				return result{err: &apiError{errorCanceled, ctx.Err()}}
			}
			return result{err: &apiError{errorTimeout, fmt.Errorf("waiting for the answers before to be paid for (-%s): %w", p.flag, err)}}
		}
		res := f(r.WithContext(ctx))
		if n := p.cost(res); n > 1 {
			p.lim.ReserveN(time.Now(), min(n-1, p.lim.Burst())) // a debt: its delay is the next request's wait
		}
		return res
	}
}
