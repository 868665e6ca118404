package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/wire"
)

// AttackNames are the attacks RunAttack knows (issue 17, docs/security.md
// section 9), in the order "all" runs them: the ones that leave the most
// behind in the server (series) last, and the series lookup after the
// flood that gives it something to look through.
var AttackNames = []string{
	"hijack", "promql", "open-batch", "slow-http", "huge-hello",
	"legacy", "version-churn", "forge", "series-flood", "series-lookup",
}

// SpinAttack is a control that "all" does not run: threads that only keep
// the machine's cores busy, sending nothing to any server. Run with the
// attacker at idle priority (-attacker-idle), it measures what busy cores
// alone, at the lowest priority, do to the good agent's ACKs
// (docs/security.md section 9, "Both cores busy").
const SpinAttack = "spin"

// MaxSpinThreads bounds AttackSizes.SpinThreads (hawk-bench attack
// -spin-threads).
const MaxSpinThreads = 1024

// AttackSizes bounds each attack. Every attack also ends with its phase.
type AttackSizes struct {
	Workers          int // concurrent loops of the HELLO and HTTP attacks (default 8)
	Hijacks          int // HELLOs carrying the good agent's id (default 200000)
	QueryBytes       int // length of the 1+1+… query (default 8000, under -query.max-length)
	QueryDepth       int // levels it nests at most (default 100, -query.max-depth)
	Queries          int // PromQL and lookup requests at most (default 100000)
	OpenBatchConns   int // connections holding unfinished batches (default 200)
	OpenBatchSamples int // samples of the batch whose final part never comes (default 400000)
	OpenBatchRounds  int // reconnects per open-batch connection at most (default 100)
	OpenBatchPart    int // payload bytes of each part (default and at most wire.MaxPayload)
	SlowConns        int // HTTP connections that get an answer and fall silent (default 2000)
	FloodAgents      int // new agent ids defining series (default 100)
	FloodSeries      int // series each of them defines (default 50000)
	FloodBatch       int // new series per batch (default 2000)
	HelloIDs         int // agent ids sending a huge HELLO (default 2000)
	HelloBytes       int // bytes of label values in the huge HELLO (default 64000)
	LegacyAddrs      int // legacy peers, each from its own source address (default 12000)
	ChurnAgents      int // agents reconnecting with a new version string (default 50)
	ChurnRounds      int // reconnects of each (default 1000)
	ForgeAgents      int // agents writing series in the good agent's name (default 20)
	ForgeSeries      int // forged series per batch (default 300)
	ForgeInterval    time.Duration
	SpinThreads      int // threads the spin control keeps busy (default: the machine's CPUs)
}

func (s *AttackSizes) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&s.Workers, 8)
	def(&s.Hijacks, 200000)
	def(&s.QueryBytes, 8000)
	def(&s.QueryDepth, 100)
	def(&s.Queries, 100000)
	def(&s.OpenBatchConns, 200)
	def(&s.OpenBatchSamples, 400000)
	def(&s.OpenBatchRounds, 100)
	def(&s.SlowConns, 2000)
	def(&s.FloodAgents, 100)
	def(&s.FloodSeries, 50000)
	def(&s.FloodBatch, 2000)
	def(&s.HelloIDs, 2000)
	def(&s.HelloBytes, 64000)
	def(&s.LegacyAddrs, 12000)
	def(&s.ChurnAgents, 50)
	def(&s.ChurnRounds, 1000)
	def(&s.ForgeAgents, 20)
	def(&s.ForgeSeries, 300)
	def(&s.SpinThreads, runtime.NumCPU())
	if s.ForgeInterval <= 0 {
		s.ForgeInterval = 100 * time.Millisecond
	}
}

// AttackConfig configures RunAttack. Zero fields take the defaults noted.
type AttackConfig struct {
	Addr string // agent port the attacks go to, host:port (loopback)
	// GoodAddr is the agent port of the good agent's server; empty is Addr.
	// Another server's port makes the run a control: the attacks load the
	// machine's cores (their own process and the server they hit) but not
	// the good agent's server, so what is left of the ACK latency's rise
	// is the machine's, not that server's.
	GoodAddr  string
	HTTP      string        // query API base URL, http://host:port (loopback)
	HTTPToken string        // bearer token for the API; the slow-HTTP attack sends none
	Attacks   []string      // names from AttackNames
	Quiet     time.Duration // the good agent alone (default 10s)
	Under     time.Duration // the good agent under attack (default 10s)
	Settle    time.Duration // pause after an attack before the next quiet phase (default 2s)
	Rounds    int           // quiet and attack phases alternate this many times, latencies pooled (default 1, at most 100)
	Interval  time.Duration // the good agent's batch interval (default 50ms)
	Series    int           // the good agent's series (default 300)
	MinQuiet  int           // ACKs each quiet phase has at least: it goes on past Quiet, up to 10 times as long, until it has them
	Prefix    string        // prefix of every agent id (default "atk-<unix time>-")
	Sizes     AttackSizes
	PID       int // server process to read RSS of; 0 for none
	Proc      ProcReader
	Progress  io.Writer // a line per phase, when not nil
	// Worker, when set, is the command (program and arguments) that runs
	// each attack in a process of its own: hawk-bench attack with the same
	// flags. Nil runs the attacks in this process (attackworker.go).
	Worker []string
}

// AttackResult is what one attack did to the good agent and the server,
// over all its rounds: the phases' ACK latencies pooled, the attack's
// outcomes summed.
type AttackResult struct {
	Name            string
	Control         bool              // the attacks went to another server than the good agent's (AttackConfig.GoodAddr), or to none (SpinAttack)
	Quiet, Under    *Hist             // the good agent's ACK latencies in each phase, all rounds pooled
	QuietSent       uint64            // batches sent in each phase, all rounds
	UnderSent       uint64            //
	UnderTime       time.Duration     // how long the attack ran, all rounds
	Rounds          []*AttackRound    // each round's own figures, in order
	Good            map[string]uint64 // the good agent's troubles: window_full, reconnects, lost batches
	Outcomes        map[string]uint64 // what the attack's connections and requests met, all rounds
	RSSBefore       int64             // server VmRSS at the start of the first round's attack
	RSSPeak         int64             // highest VmRSS sampled (every 100 ms) during any round's attack
	HWM             int64             // server VmHWM after the last round
	ServerErr       error             // why RSS is missing, if it is
	AttackErr       error             // the attack could not run as configured
	QuietP99        time.Duration     // of the pooled latencies
	UnderP99        time.Duration     //
	QuietP50        time.Duration     //
	UnderP50        time.Duration     //
	Ratio           float64           // UnderP99 / QuietP99, pooled: what the verdict judges
	MedianRatio     float64           // the median of the rounds' own ratios: their spread is in Rounds
	GoodUnackedLost uint64            // batches of the good agent never acknowledged
	CPU             PhaseCPU          // all rounds summed
}

// AttackRound is one quiet phase and the attack phase after it.
type AttackRound struct {
	Quiet, Under       *Hist
	QuietSent          uint64
	UnderSent          uint64
	UnderTime          time.Duration
	QuietP99, UnderP99 time.Duration
	Ratio              float64           // UnderP99 / QuietP99 of this round alone
	Outcomes           map[string]uint64 // what this round's attack met
	CPU                PhaseCPU
}

// PhaseCPU is the CPU time the server took in the quiet and attack phases
// and the attack's worker process in its phase, with the phases' lengths:
// the server and the attackers share the machine's cores, so an attack
// that keeps the cores busy delays the good agent's ACKs whatever the
// server does. Zero where not measured (no server PID; the attack in this
// process).
type PhaseCPU struct {
	QuietTime, UnderTime     time.Duration // wall time of the phases
	ServerQuiet, ServerUnder time.Duration // the server's CPU time in each
	Attacker                 time.Duration // the worker's CPU time in the attack phase
}

// add sums o into c.
func (c *PhaseCPU) add(o PhaseCPU) {
	c.QuietTime += o.QuietTime
	c.UnderTime += o.UnderTime
	c.ServerQuiet += o.ServerQuiet
	c.ServerUnder += o.ServerUnder
	c.Attacker += o.Attacker
}

// cores is cpu over wall as a number of cores, 0 for no wall time.
func cores(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}

// MaxAttackRounds bounds AttackConfig.Rounds (and hawk-bench attack -rounds).
const MaxAttackRounds = 100

// Met reports whether the under-attack p99 is within twice the quiet one,
// and every batch the good agent sent was acknowledged.
func (r *AttackResult) Met() bool {
	return r.AttackErr == nil && r.Quiet.Count() > 0 && r.Under.Count() > 0 && r.Ratio <= 2 && r.GoodUnackedLost == 0
}

// attackFunc runs one attack until ctx ends or its sizes are spent,
// counting outcomes in out. Every goroutine it starts has ended when it
// returns.
type attackFunc func(a *attack, ctx context.Context) error

type attack struct {
	cfg    *AttackConfig
	sz     *AttackSizes
	good   *goodAgent
	out    errCounts
	prefix string // for this attack's agent ids
	client *http.Client
	parts  [][]byte // the open batch's frames
}

var attackFuncs = map[string]attackFunc{
	"hijack":        (*attack).hijack,
	"promql":        (*attack).promql,
	"open-batch":    (*attack).openBatch,
	"slow-http":     (*attack).slowHTTP,
	"huge-hello":    (*attack).hugeHello,
	"legacy":        (*attack).legacy,
	"version-churn": (*attack).versionChurn,
	"forge":         (*attack).forge,
	"series-flood":  (*attack).seriesFlood,
	"series-lookup": (*attack).seriesLookup,
	SpinAttack:      (*attack).spin,
}

// ParseAttacks turns "all" or a comma-separated list into names.
func ParseAttacks(s string) ([]string, error) {
	if s == "all" {
		return append([]string(nil), AttackNames...), nil
	}
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if _, ok := attackFuncs[n]; !ok {
			return nil, fmt.Errorf("bench: unknown attack %q (known: %s, all; and the control %s)", n, strings.Join(AttackNames, ", "), SpinAttack)
		}
		out = append(out, n)
	}
	return out, nil
}

// CheckLoopbackURL returns an error unless u is an http URL of a loopback
// host.
func CheckLoopbackURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" || p.Port() == "" {
		return fmt.Errorf("bench: URL %q: want http://127.x.y.z:port", u)
	}
	return CheckLoopback(p.Host)
}

// RunAttack runs, for each of cfg.Attacks in turn, a good agent sending
// cfg.Series series every cfg.Interval: alone for cfg.Quiet, then for
// cfg.Under while the attack runs, cfg.Rounds times, and reports the ACK
// latencies of both phases (each round's and all rounds' pooled) and the
// server's RSS. Every goroutine it starts has ended when it
// returns.
func RunAttack(ctx context.Context, cfg AttackConfig) ([]*AttackResult, error) {
	if cfg.Quiet <= 0 {
		cfg.Quiet = 10 * time.Second
	}
	if cfg.Under <= 0 {
		cfg.Under = 10 * time.Second
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 2 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 50 * time.Millisecond
	}
	if cfg.Series <= 0 {
		cfg.Series = 300
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 1
	}
	if cfg.Rounds > MaxAttackRounds {
		return nil, fmt.Errorf("bench: %d rounds: at most %d", cfg.Rounds, MaxAttackRounds)
	}
	if cfg.Sizes.SpinThreads > MaxSpinThreads {
		return nil, fmt.Errorf("bench: %d spin threads: at most %d", cfg.Sizes.SpinThreads, MaxSpinThreads)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = fmt.Sprintf("atk-%d-", time.Now().Unix())
	}
	cfg.Sizes.setDefaults()
	if cfg.GoodAddr == "" {
		cfg.GoodAddr = cfg.Addr
	}
	for _, addr := range []string{cfg.Addr, cfg.GoodAddr} {
		if err := CheckLoopback(addr); err != nil {
			return nil, err
		}
	}
	if cfg.HTTP != "" {
		if err := CheckLoopbackURL(cfg.HTTP); err != nil {
			return nil, err
		}
	}
	var out []*AttackResult
	for i, name := range cfg.Attacks {
		f, ok := attackFuncs[name]
		if !ok {
			return out, fmt.Errorf("bench: unknown attack %q", name)
		}
		if i > 0 && !sleepCtx(ctx, cfg.Settle) {
			break
		}
		r, err := runAttack(ctx, &cfg, name, f)
		if err != nil {
			return out, err
		}
		out = append(out, r)
		if cfg.Progress != nil {
			r.Print(cfg.Progress)
		}
	}
	return out, ctx.Err()
}

func runAttack(ctx context.Context, cfg *AttackConfig, name string, f attackFunc) (*AttackResult, error) {
	res := &AttackResult{Name: name, Control: cfg.GoodAddr != cfg.Addr || name == SpinAttack, Quiet: &Hist{}, Under: &Hist{}}
	// One good agent id for the whole run, connected anew for each attack:
	// its series are the server's before any attack, as a fleet's are, so
	// that an attack filling -max-series (series-flood) does not get the
	// next attack's good agent refused.
	g := &goodAgent{addr: cfg.GoodAddr, id: cfg.Prefix + "good", series: cfg.Series, interval: cfg.Interval,
		connected: make(chan struct{})}
	var gwg sync.WaitGroup
	defer gwg.Wait() // after stopGood, deferred below
	gctx, stopGood := context.WithCancel(ctx)
	defer stopGood()
	gwg.Add(1)
	go func() { defer gwg.Done(); g.run(gctx) }()
	select {
	case <-g.connected:
	case <-time.After(10 * time.Second):
		stopGood()
		return nil, fmt.Errorf("bench: %s: the good agent could not connect: %s", name, formatCounts(g.errs.snapshot()))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	a := &attack{cfg: cfg, sz: &cfg.Sizes, good: g, prefix: cfg.Prefix + name + "-",
		client: &http.Client{Transport: tr, Timeout: cfg.Under + 5*time.Second}}
	if name == "open-batch" && len(cfg.Worker) == 0 { // encoded before the phases: the attacker's preparation is not the server's load
		if a.parts, res.AttackErr = openBatchParts(cfg.Sizes.OpenBatchSamples, cfg.Sizes.OpenBatchPart); res.AttackErr != nil {
			return res, nil
		}
	}
	for i := range cfg.Rounds {
		if i > 0 && !sleepCtx(ctx, cfg.Settle) {
			return nil, ctx.Err()
		}
		if i > 0 { // ids new to the server each round: the first round's are enrolled
			a.prefix = fmt.Sprintf("%s%s-r%d-", cfg.Prefix, name, i+1)
		}
		rd, err := a.round(ctx, res, f, i)
		if err != nil {
			return nil, err
		}
		res.Rounds = append(res.Rounds, rd)
		if cfg.Progress != nil && cfg.Rounds > 1 {
			fmt.Fprintf(cfg.Progress, "attack %s round %d/%d: quiet p99 %s (n=%d), under p99 %s (n=%d); p99 ratio %.2f\n", name, i+1, cfg.Rounds,
				ms(rd.QuietP99), rd.Quiet.Count(), ms(rd.UnderP99), rd.Under.Count(), rd.Ratio)
		}
		if res.AttackErr != nil { // it would fail again
			break
		}
	}
	// Every round drained its ACKs; stop the good agent before reading its counts.
	stopGood()
	gwg.Wait()
	res.GoodUnackedLost = res.QuietSent + res.UnderSent - res.Quiet.Count() - res.Under.Count()
	res.Good = g.errs.snapshot()
	res.Outcomes = a.out.snapshot()
	res.QuietP50, res.QuietP99 = res.Quiet.Quantile(0.5), res.Quiet.Quantile(0.99)
	res.UnderP50, res.UnderP99 = res.Under.Quantile(0.5), res.Under.Quantile(0.99)
	res.Ratio = p99Ratio(res.UnderP99, res.QuietP99)
	ratios := make([]float64, len(res.Rounds))
	for i, rd := range res.Rounds {
		ratios[i] = rd.Ratio
	}
	res.MedianRatio = median(ratios)
	return res, nil
}

// round runs round i of attack a: the good agent alone for cfg.Quiet,
// then for cfg.Under while the attack runs (started for the phase and
// ended with it). Its latencies go to the round's histograms and to res's
// pooled ones; the server's RSS to res.
func (a *attack) round(ctx context.Context, res *AttackResult, f attackFunc, i int) (*AttackRound, error) {
	cfg, g := a.cfg, a.good
	rd := &AttackRound{Quiet: &Hist{}, Under: &Hist{}}
	quiet, under := &phase{hist: rd.Quiet, pool: res.Quiet}, &phase{hist: rd.Under, pool: res.Under}
	cpuAt := func() (time.Duration, bool) { // the server's CPU time now
		if cfg.PID <= 0 {
			return 0, false
		}
		st, err := cfg.Proc.Read(cfg.PID)
		return st.CPU, err == nil
	}
	q0, q0ok := cpuAt()
	qt0 := time.Now()
	g.setPhase(quiet)
	if !sleepCtx(ctx, cfg.Quiet) {
		return nil, ctx.Err()
	}
	for until := time.Now().Add(9 * cfg.Quiet); rd.Quiet.Count() < uint64(cfg.MinQuiet) && time.Now().Before(until); {
		if !sleepCtx(ctx, cfg.Interval) {
			return nil, ctx.Err()
		}
	}
	g.setPhase(nil)
	rd.CPU.QuietTime = time.Since(qt0)
	if q1, ok := cpuAt(); ok && q0ok {
		rd.CPU.ServerQuiet = q1 - q0
	}
	g.drain(ctx, 5*time.Second) // the quiet phase's ACKs all come before the attack starts
	rd.QuietSent = quiet.sent.Load()
	res.QuietSent += rd.QuietSent
	rd.QuietP99 = rd.Quiet.Quantile(0.99)
	var w *attackWorker
	if len(cfg.Worker) > 0 { // started and prepared before the phase
		var err error
		if w, err = startWorker(ctx, cfg, res.Name, g.id, a.prefix); err != nil {
			res.AttackErr = err
			return rd, nil
		}
	}
	measure := cfg.PID > 0 && res.ServerErr == nil
	if measure && i == 0 {
		st, err := cfg.Proc.Read(cfg.PID)
		res.RSSBefore, res.RSSPeak, res.ServerErr = st.RSS, st.RSS, err
		measure = err == nil
	}
	actx, cancel := context.WithTimeout(ctx, cfg.Under)
	defer cancel()
	sampled := make(chan struct{})
	if measure {
		go func() {
			defer close(sampled)
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-actx.Done():
					return
				case <-t.C:
					if st, err := cfg.Proc.Read(cfg.PID); err == nil {
						res.RSSPeak = max(res.RSSPeak, st.RSS)
					}
				}
			}
		}()
	} else {
		close(sampled)
	}
	before := a.out.snapshot()
	u0, u0ok := cpuAt()
	g.setPhase(under)
	t0 := time.Now()
	if w != nil {
		rd.CPU.Attacker, res.AttackErr = w.run(ctx, cfg.Under, &a.out) // its outcome comes as the phase ends
	} else {
		res.AttackErr = f(a, actx)
	}
	rd.UnderTime = time.Since(t0)
	res.UnderTime += rd.UnderTime
	rd.Outcomes = a.out.snapshot()
	for k, n := range before {
		if rd.Outcomes[k] -= n; rd.Outcomes[k] == 0 {
			delete(rd.Outcomes, k)
		}
	}
	<-actx.Done() // an attack that spent its sizes early: the phase is measured to its end all the same
	g.setPhase(nil)
	rd.CPU.UnderTime = time.Since(t0)
	if u1, ok := cpuAt(); ok && u0ok {
		rd.CPU.ServerUnder = u1 - u0
	}
	res.CPU.add(rd.CPU)
	cancel()
	<-sampled
	a.client.CloseIdleConnections()
	if measure {
		if st, err := cfg.Proc.Read(cfg.PID); err == nil {
			res.RSSPeak, res.HWM = max(res.RSSPeak, st.RSS), st.HWM
		}
	}
	// The ACKs of the batches sent under attack, before the next round's quiet phase.
	g.drain(ctx, 5*time.Second)
	rd.UnderSent = under.sent.Load()
	res.UnderSent += rd.UnderSent
	rd.UnderP99 = rd.Under.Quantile(0.99)
	rd.Ratio = p99Ratio(rd.UnderP99, rd.QuietP99)
	return rd, nil
}

// p99Ratio is under / quiet, 0 when quiet is 0.
func p99Ratio(under, quiet time.Duration) float64 {
	if quiet <= 0 {
		return 0
	}
	return float64(under) / float64(quiet)
}

// median of xs (the mean of the middle two when their number is even), 0
// when there are none; xs is sorted in place.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// Print writes one attack's figures.
func (r *AttackResult) Print(w io.Writer) {
	verdict := "met"
	switch {
	case r.Control && r.Name == SpinAttack:
		verdict = "not judged (a control: busy threads, nothing sent to a server)"
	case r.Control:
		verdict = "not judged (a control: the attack went to another server than the good agent's)"
	case !r.Met():
		verdict = "NOT MET"
	}
	fmt.Fprintf(w, "attack %s (ran %.1fs of the phases, %d round(s)): target %s\n", r.Name, r.UnderTime.Seconds(), len(r.Rounds), verdict)
	fmt.Fprintf(w, "  quiet: ack p50 %s p99 %s max %s (n=%d of %d sent)\n", ms(r.QuietP50), ms(r.QuietP99), ms(r.Quiet.Max()), r.Quiet.Count(), r.QuietSent)
	fmt.Fprintf(w, "  under: ack p50 %s p99 %s max %s (n=%d of %d sent); p99 ratio %.2f\n", ms(r.UnderP50), ms(r.UnderP99), ms(r.Under.Max()), r.Under.Count(), r.UnderSent, r.Ratio)
	if len(r.Rounds) > 0 {
		fmt.Fprintf(w, "  rounds: p99 ratios %s; median %.2f\n", roundRatios(r.Rounds), r.MedianRatio)
	}
	if r.ServerErr != nil {
		fmt.Fprintf(w, "  server rss: not measured: %v\n", r.ServerErr)
	} else if r.RSSBefore > 0 {
		fmt.Fprintf(w, "  server rss: %s before, %s peak; VmHWM %s\n", mib(r.RSSBefore), mib(r.RSSPeak), mib(r.HWM))
	}
	if c := r.CPU; c.ServerQuiet > 0 || c.ServerUnder > 0 || c.Attacker > 0 {
		fmt.Fprintf(w, "  cpu (cores): server %.2f quiet, %.2f under attack; attacker %.2f (%.1f s, %.1f s, %.1f s)\n",
			cores(c.ServerQuiet, c.QuietTime), cores(c.ServerUnder, c.UnderTime), cores(c.Attacker, c.UnderTime),
			c.ServerQuiet.Seconds(), c.ServerUnder.Seconds(), c.Attacker.Seconds())
	}
	fmt.Fprintf(w, "  good agent: %s\n", formatCounts(r.Good))
	fmt.Fprintf(w, "  attack: %s\n", formatCounts(r.Outcomes))
	if r.AttackErr != nil {
		fmt.Fprintf(w, "  attack error: %v\n", r.AttackErr)
	}
}

// roundRatios lists the rounds' p99 ratios in order: "1.20, 3.41, 0.98".
func roundRatios(rs []*AttackRound) string {
	s := make([]string, len(rs))
	for i, rd := range rs {
		s[i] = fmt.Sprintf("%.2f", rd.Ratio)
	}
	return strings.Join(s, ", ")
}

// PrintAttackTable writes the results as a Markdown table. The p99s and
// their ratio are of the rounds' latencies pooled; the rounds' own
// ratios follow, with their median.
func PrintAttackTable(w io.Writer, rs []*AttackResult) {
	fmt.Fprintln(w, "| attack | quiet p50 / p99 | under attack p50 / p99 | p99 ratio | rounds' p99 ratios (median) | RSS before / peak | server / attacker cores under attack | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		v := "met"
		switch {
		case r.Control:
			v = "control"
		case !r.Met():
			v = "**not met**"
		}
		fmt.Fprintf(w, "| %s | %.2f / %.2f ms | %.2f / %.2f ms | %.2f | %s (%.2f) | %s / %s | %.2f / %.2f | %s |\n", r.Name,
			msf(r.QuietP50), msf(r.QuietP99), msf(r.UnderP50), msf(r.UnderP99), r.Ratio, roundRatios(r.Rounds), r.MedianRatio,
			mib(r.RSSBefore), mib(r.RSSPeak), cores(r.CPU.ServerUnder, r.CPU.UnderTime), cores(r.CPU.Attacker, r.CPU.UnderTime), v)
	}
}

func msf(d time.Duration) float64 { return float64(d) / 1e6 }
func mib(b int64) string          { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// phase counts the good agent's batches sent while it is current; their
// ACK latencies go to hist and to pool (all rounds' phases of its kind),
// whenever they come.
type phase struct {
	hist, pool *Hist
	sent       atomic.Uint64
}

// goodAgent is the well-behaved agent: a host's series every interval,
// each batch timed from its write to its ACK. It reconnects (with its
// enrolment secret) if its connection ends, counting why.
type goodAgent struct {
	addr, id  string
	series    int
	interval  time.Duration
	mu        sync.Mutex
	ph        *phase // current phase; nil between phases (no batches sent)
	errs      errCounts
	connected chan struct{} // closed at the first WELCOME
	once      sync.Once
	inflight  atomic.Int64 // batches written and not acknowledged
}

type goodFlight struct {
	seq uint64
	at  time.Time
	ph  *phase
}

func (g *goodAgent) hostname() string { return g.id }

func (g *goodAgent) run(ctx context.Context) {
	hosts := NewHostSet(g.series, "node", g.id, 1)
	var seq uint64
	for attempt := 0; ctx.Err() == nil && attempt < 1000; attempt++ {
		if attempt > 0 {
			g.errs.add("reconnects", 1)
			if !sleepCtx(ctx, 100*time.Millisecond) {
				return
			}
		}
		c, fr, w, err := dialV2(ctx, g.addr, nil, helloFor(g.id, "node"), 10*time.Second, 4096)
		if err != nil {
			if ctx.Err() == nil {
				g.errs.add("dial_"+reason(err), 1)
			}
			continue
		}
		g.once.Do(func() { close(g.connected) })
		seq = max(seq, w.LastSeq)
		err = g.session(ctx, c, fr, w, hosts, &seq)
		if err != nil && ctx.Err() == nil {
			g.errs.add("conn_"+reason(err), 1)
		}
	}
}

// session sends batches on one connection until ctx ends or it fails.
// Batches unacknowledged when it ends are counted lost: a real agent
// would resend them, which is no ACK latency to measure.
func (g *goodAgent) session(ctx context.Context, c net.Conn, fr *frameReader, w wire.Welcome, hosts *HostSet, seq *uint64) error {
	stopClose := context.AfterFunc(ctx, func() { c.Close() })
	defer stopClose()
	defer c.Close()
	window := max(int(w.Window), 1)
	acks := make(chan ackEvent, 64)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	var echo Hist
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() { defer rwg.Done(); readErr <- readLoop(fr, acks, stop, &echo) }()
	var flight []goodFlight
	defer func() {
		close(stop)
		c.Close()
		rwg.Wait()
		g.inflight.Add(-int64(len(flight)))
	}()
	enc := wire.NewEncoder()
	var b wire.Batch
	var buf []byte
	var lastT int64
	tick := time.NewTicker(g.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			return err
		case ev := <-acks:
			n := 0
			for _, f := range flight {
				if f.seq > ev.seq {
					break
				}
				n++
				if f.ph != nil {
					d := ev.at.Sub(f.at)
					f.ph.hist.Record(d)
					f.ph.pool.Record(d)
				}
			}
			flight = append(flight[:0], flight[n:]...)
			g.inflight.Add(-int64(n))
		case <-tick.C:
			if len(flight) >= window {
				if g.phase() != nil {
					g.errs.add("window_full", 1)
				}
				continue
			}
			// Counted in its phase and in flight at once, so that a
			// phase that has ended has all its batches in flight.
			g.mu.Lock()
			ph := g.ph
			if ph != nil {
				ph.sent.Add(1)
				g.inflight.Add(1)
			}
			g.mu.Unlock()
			if ph == nil {
				continue
			}
			hosts.Advance(10)
			ts := max(time.Now().UnixMilli(), lastT+1)
			lastT = ts
			b.Reset()
			b.Defs = hosts.Defs
			for i, v := range hosts.Values() {
				b.Samples = append(b.Samples, wire.Sample{ID: uint32(i), T: ts, V: v})
			}
			*seq++
			var err error
			buf, err = enc.AppendBatch(buf[:0], *seq, &b, 0)
			sent := time.Now()
			flight = append(flight, goodFlight{seq: *seq, at: sent, ph: ph})
			if err != nil {
				return err
			}
			c.SetWriteDeadline(sent.Add(10 * time.Second)) //nolint:errcheck // a closed conn fails the write
			if _, err := c.Write(buf); err != nil {
				return err
			}
		}
	}
}

func (g *goodAgent) setPhase(p *phase) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ph = p
}

func (g *goodAgent) phase() *phase {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ph
}

// drain waits until every batch sent has been acknowledged, or d passes.
func (g *goodAgent) drain(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for g.inflight.Load() > 0 && time.Now().Before(deadline) && sleepCtx(ctx, 20*time.Millisecond) {
	}
}

// ---- the attacks ----

// loop runs f in n goroutines until ctx ends, or f returns false, or
// limit calls in all have been made (no limit when 0).
func loop(ctx context.Context, n int, limit int, f func(i int) bool) {
	var calls atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(calls.Add(1)) - 1
				if limit > 0 && i >= limit {
					return
				}
				if !f(i) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// each runs f(i) for i in [0, n) with at most par at once, until ctx ends.
func each(ctx context.Context, n, par int, f func(i int)) {
	sem := make(chan struct{}, max(par, 1))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// helloOutcome names what a HELLO met.
func helloOutcome(err error) string {
	if err == nil {
		return "welcomed"
	}
	return "refused_" + reason(err)
}

// hijack: HELLOs carrying the good agent's id, without its secret or with
// a wrong one, from Workers connections at once, as fast as the server
// answers. Enrolment refuses them (ERROR 3) and keeps the good agent's
// session; a WELCOME would be the defence failing.
func (a *attack) hijack(ctx context.Context) error {
	loop(ctx, a.sz.Workers, a.sz.Hijacks, func(i int) bool {
		h := helloFor(a.good.id, "node")
		if i%2 == 1 {
			h.Secret = strings.Repeat("0", 64)
		}
		c, _, _, err := dialHello(ctx, a.cfg.Addr, nil, h, 5*time.Second, 256)
		if c != nil {
			c.Close()
		}
		if ctx.Err() == nil {
			a.out.add(helloOutcome(err), 1)
		}
		return true
	})
	return nil
}

// spinSink keeps the spinners' arithmetic from being optimised away.
var spinSink atomic.Uint64

// spin keeps SpinThreads goroutines, each locked to a thread of its own,
// busy on the CPU until the phase ends, and sends nothing. With the
// worker at SCHED_IDLE (-attacker-idle) every one of those threads runs
// only when nothing else wants the core. Outcomes: spinning_threads, and
// spin_slices, the slices of 65,536 multiply-adds done.
func (a *attack) spin(ctx context.Context) error {
	var wg sync.WaitGroup
	for range a.sz.SpinThreads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			a.out.add("spinning_threads", 1)
			x, n := uint64(1), uint64(0)
			for ctx.Err() == nil {
				for range 1 << 16 {
					x = x*6364136223846793005 + 1442695040888963407
				}
				n++
			}
			spinSink.Add(x)
			a.out.add("spin_slices", n)
		}()
	}
	wg.Wait()
	return nil
}

// httpGet fetches path (with query q, POSTed as a form when post) and
// counts the status; the body is read and discarded.
func (a *attack) httpDo(ctx context.Context, method, path string, q url.Values, token bool) {
	var req *http.Request
	var err error
	u := strings.TrimSuffix(a.cfg.HTTP, "/") + path
	if method == http.MethodPost {
		req, err = http.NewRequestWithContext(ctx, method, u, strings.NewReader(q.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		req, err = http.NewRequestWithContext(ctx, method, u, nil)
	}
	if err != nil {
		a.out.add("request_error", 1)
		return
	}
	if token && a.cfg.HTTPToken != "" {
		req.Header.Set("Authorization", "Bearer "+a.cfg.HTTPToken)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			a.out.add("http_"+reason(err), 1)
		}
		return
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	a.out.add(fmt.Sprintf("http_%d", resp.StatusCode), 1)
	a.out.add("bytes_received", uint64(n))
}

func (a *attack) needHTTP() error {
	if a.cfg.HTTP == "" {
		return errors.New("needs the query API (-http)")
	}
	return nil
}

// promql: Workers clients sending sums of 1+1+… just under the length and
// depth limits (PromQLQuery), every fourth one 12 times over the length
// (refused before parsing).
func (a *attack) promql(ctx context.Context) error {
	if err := a.needHTTP(); err != nil {
		return err
	}
	short := PromQLQuery(a.sz.QueryBytes, a.sz.QueryDepth)
	long := strings.Repeat("("+short+")+", 12) + "1"
	loop(ctx, a.sz.Workers, a.sz.Queries, func(i int) bool {
		q := short
		if i%4 == 3 {
			q = long
		}
		a.httpDo(ctx, http.MethodPost, "/api/v1/query", url.Values{"query": {q}}, true)
		return true
	})
	return nil
}

// PromQLQuery returns a sum of 1+1+… of at most n bytes whose syntax tree
// nests at most depth levels: chains of m terms in parentheses, added in a
// balanced tree of k of them (2 levels per level of the tree, a
// parenthesis and a sum), with m and k chosen for the most terms. The
// engine's work per term grows with the term's depth, so this is the
// costliest shape of this size that -query.max-depth lets through; a
// single chain nests as deep as it has terms.
func PromQLQuery(n, depth int) string {
	bestM, bestK := 1, 1
	for levels := 0; levels < 32; levels++ {
		// The chains nest under the tree's levels and their parentheses;
		// k of them in the tree take k(2m+4)-3 bytes.
		m := min(depth-1-2*levels, (n-1)/2-1)
		if m < 1 {
			break
		}
		k := min((n+3)/(2*m+4), 1<<levels)
		if k >= 1 && k*m > bestK*bestM {
			bestM, bestK = m, k
		}
	}
	chain := "(" + strings.Repeat("1+", bestM-1) + "1)"
	var join func(k int) string
	join = func(k int) string {
		if k == 1 {
			return chain
		}
		return "(" + join(k/2) + "+" + join(k-k/2) + ")"
	}
	return join(bestK)
}

// openBatchParts returns the frames of one batch of n samples of a single
// series, all with the same timestamp and value (about a byte each on the
// wire, 24 bytes each decoded), without its final part. The encoder packs
// the tail of such a batch densely: 400,000 samples make two parts, the
// first of 65,471 samples.
func openBatchParts(n, partBytes int) ([][]byte, error) {
	b := &wire.Batch{Defs: []wire.SeriesDef{{Name: "attack_open_batch"}}}
	ts := time.Now().UnixMilli()
	b.Samples = make([]wire.Sample, n)
	for i := range b.Samples {
		b.Samples[i] = wire.Sample{ID: 0, T: ts, V: 1}
	}
	out, err := wire.NewEncoder().AppendBatch(nil, 1, b, partBytes)
	if err != nil {
		return nil, err
	}
	var dec wire.Decoder
	defer dec.Release()
	dec.Write(out)
	var parts [][]byte
	for p, ok := dec.Next(); ok; p, ok = dec.Next() {
		f, err := wire.AppendFrame(nil, p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, f)
	}
	if len(parts) < 2 {
		return nil, fmt.Errorf("open batch of %d samples is %d part(s): nothing to hold back", n, len(parts))
	}
	return parts[:len(parts)-1], nil
}

// openBatch: OpenBatchConns agents, each sending the parts of a batch of
// OpenBatchSamples repeated samples but its final one, then waiting; when
// the server closes the connection (ERROR 4 or 8), it reconnects and
// starts again, up to OpenBatchRounds times.
func (a *attack) openBatch(ctx context.Context) error {
	parts := a.parts
	each(ctx, a.sz.OpenBatchConns, a.sz.OpenBatchConns, func(i int) {
		id := fmt.Sprintf("%sob-%05d", a.prefix, i)
		for round := 0; round < a.sz.OpenBatchRounds && ctx.Err() == nil; round++ {
			c, fr, _, err := dialV2(ctx, a.cfg.Addr, nil, helloFor(id, "attack"), 10*time.Second, 256)
			if err != nil {
				if ctx.Err() == nil {
					a.out.add(helloOutcome(err), 1)
					sleepCtx(ctx, 50*time.Millisecond)
				}
				continue
			}
			a.out.add("connections", 1)
			stop := context.AfterFunc(ctx, func() { c.Close() })
			sent := 0
			for _, p := range parts {
				c.SetWriteDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // a closed conn fails the write
				if _, err := c.Write(p); err != nil {
					break
				}
				sent++
			}
			a.out.add("parts_sent", uint64(sent))
			// Hold the batch open until the server gives up on it.
			_, err = fr.next()
			fr.dec.Release()
			stop()
			c.Close()
			if ctx.Err() == nil {
				var pe *wire.Error
				if errors.As(err, &pe) || err == nil {
					a.out.add("closed_by_server", 1)
				} else {
					a.out.add("closed_"+reason(err), 1)
				}
			}
		}
	})
	return nil
}

// slowHTTP: SlowConns connections that each make one request without
// credentials (401 when the API needs them), read the answer and fall
// silent until the server closes them or the attack ends.
func (a *attack) slowHTTP(ctx context.Context) error {
	if err := a.needHTTP(); err != nil {
		return err
	}
	host := strings.TrimPrefix(strings.TrimSuffix(a.cfg.HTTP, "/"), "http://")
	req := "GET /api/v1/query?query=up HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
	dials := make(chan struct{}, 64) // connections being opened at once
	each(ctx, a.sz.SlowConns, a.sz.SlowConns, func(i int) {
		var d net.Dialer
		select {
		case dials <- struct{}{}:
		case <-ctx.Done():
			return
		}
		c, err := d.DialContext(ctx, "tcp", host)
		<-dials
		if err != nil {
			if ctx.Err() == nil {
				a.out.add("dial_"+reason(err), 1)
			}
			return
		}
		a.out.add("connections", 1)
		stop := context.AfterFunc(ctx, func() { c.Close() })
		defer stop()
		defer c.Close()
		if _, err := io.WriteString(c, req); err != nil {
			return
		}
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			if ctx.Err() == nil {
				a.out.add("no_answer_"+reason(err), 1)
			} else {
				a.out.add("waiting_at_end", 1) // past the server's connection cap
			}
			return
		}
		status := "other"
		if f := strings.Fields(string(buf[:n])); len(f) > 1 {
			status = f[1]
		}
		a.out.add("answered_"+status, 1)
		// Silent from here: read until the server closes or the attack ends.
		for {
			if _, err := c.Read(buf); err != nil {
				if ctx.Err() == nil {
					a.out.add("closed_by_server", 1)
				}
				return
			}
		}
	})
	<-ctx.Done() // the connections are held for the whole phase
	return nil
}

// hugeHello: HelloIDs new ids, each sending a HELLO of about HelloBytes
// (refused past -max-agent-entry-bytes) and then one of 3.5 KB (within
// the default 4 KiB, kept in the fleet), while Workers clients page
// through /api/v1/agents.
func (a *attack) hugeHello(ctx context.Context) error {
	if err := a.needHTTP(); err != nil {
		return err
	}
	pctx, stopPolling := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		loop(pctx, max(a.sz.Workers/2, 1), a.sz.Queries, func(i int) bool {
			q := url.Values{}
			if i%2 == 1 {
				q.Set("limit", "100000")
			}
			a.httpDo(pctx, http.MethodGet, "/api/v1/agents", q, true)
			return true
		})
	}()
	labels := func(total int) []wire.Label {
		var ls []wire.Label
		for j := 0; total > 0; j++ {
			n := min(total, 4000)
			ls = append(ls, wire.Label{Name: fmt.Sprintf("l%02d", j), Value: strings.Repeat("x", n)})
			total -= n
		}
		return ls
	}
	huge, fits := labels(a.sz.HelloBytes), labels(3500)
	each(ctx, a.sz.HelloIDs, 32, func(i int) {
		id := fmt.Sprintf("%shh-%05d", a.prefix, i)
		for _, ls := range [][]wire.Label{huge, fits} {
			h := helloFor(id, "attack")
			h.Labels = append(h.Labels, ls...)
			c, _, _, err := dialV2(ctx, a.cfg.Addr, nil, h, 10*time.Second, 256)
			if c != nil {
				c.Close()
			}
			if ctx.Err() == nil {
				a.out.add(fmt.Sprintf("hello_%dB_%s", len(wire.AppendHello(nil, h)), helloOutcome(err)), 1)
			}
		}
	})
	<-ctx.Done() // the polling goes on for the whole phase
	stopPolling()
	pwg.Wait()
	return nil
}

// legacy: LegacyAddrs legacy peers, each from its own source address
// 127.0.0.2…, sending a heartbeat and reading the answer; the addresses
// are gone through at most 20 times.
func (a *attack) legacy(ctx context.Context) error {
	payload, err := wire.AppendLegacy(nil, wire.LegacyHeartbeat, wire.LegacyHeartbeatContent{Version: "attack", Timestamp: time.Now().Unix()})
	if err != nil {
		return err
	}
	frame, err := wire.AppendFrame(nil, payload)
	if err != nil {
		return err
	}
	loop(ctx, 32, 20*a.sz.LegacyAddrs, func(i int) bool {
		d := net.Dialer{LocalAddr: Source(i%a.sz.LegacyAddrs, a.sz.LegacyAddrs), Timeout: 5 * time.Second}
		c, err := d.DialContext(ctx, "tcp", a.cfg.Addr)
		if err != nil {
			if ctx.Err() == nil {
				a.out.add("dial_"+reason(err), 1)
			}
			return true
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // a closed conn fails the write
		if _, err := c.Write(frame); err != nil {
			a.out.add("write_"+reason(err), 1)
			return true
		}
		buf := make([]byte, 64)
		n, err := io.ReadAtLeast(c, buf, len(wire.LegacyHeartbeatReply))
		switch {
		case err == nil && string(buf[:n]) == wire.LegacyHeartbeatReply:
			a.out.add("answered", 1)
		case ctx.Err() != nil:
		default:
			a.out.add("refused_"+reason(err), 1)
		}
		return true
	})
	return nil
}

// versionChurn: ChurnAgents agents, each reconnecting ChurnRounds times
// with a new version string (a new hawk_agent_info series each time,
// until the liveness series limit).
func (a *attack) versionChurn(ctx context.Context) error {
	each(ctx, a.sz.ChurnAgents, a.sz.ChurnAgents, func(i int) {
		id := fmt.Sprintf("%svc-%04d", a.prefix, i)
		for r := 0; r < a.sz.ChurnRounds && ctx.Err() == nil; r++ {
			h := helloFor(id, "attack")
			h.AgentVersion = fmt.Sprintf("churn-%d", r)
			c, _, _, err := dialV2(ctx, a.cfg.Addr, nil, h, 10*time.Second, 256)
			if c != nil {
				c.Close()
			}
			if ctx.Err() == nil {
				a.out.add(helloOutcome(err), 1)
			}
		}
	})
	return nil
}

// syncSender is an attacking agent that sends a batch and waits for its
// ACK before the next.
type syncSender struct {
	c   net.Conn
	fr  *frameReader
	enc *wire.Encoder
	seq uint64
	buf []byte
}

func (s *syncSender) send(b *wire.Batch) error {
	s.seq++
	var err error
	if s.buf, err = s.enc.AppendBatch(s.buf[:0], s.seq, b, 0); err != nil {
		return err
	}
	s.c.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck // a closed conn fails the write
	if _, err := s.c.Write(s.buf); err != nil {
		return err
	}
	for {
		p, err := s.fr.next()
		if err != nil {
			return err
		}
		switch k, _ := wire.PeekKind(p); k {
		case wire.KindAck:
			m, err := wire.DecodeAck(p)
			if err != nil {
				return err
			}
			if m.Seq >= s.seq {
				return nil
			}
		case wire.KindError:
			e, _ := wire.DecodeError(p)
			return &e
		case wire.KindGoAway:
			m, _ := wire.DecodeGoAway(p)
			return &goAwayError{m}
		}
	}
}

// attacker runs f with a connected syncSender for agent id.
func (a *attack) attacker(ctx context.Context, id string, f func(s *syncSender) error) {
	c, fr, w, err := dialV2(ctx, a.cfg.Addr, nil, helloFor(id, "attack"), 10*time.Second, 4096)
	if err != nil {
		if ctx.Err() == nil {
			a.out.add(helloOutcome(err), 1)
		}
		return
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	defer fr.dec.Release()
	err = f(&syncSender{c: c, fr: fr, enc: wire.NewEncoder(), seq: w.LastSeq})
	if err != nil && ctx.Err() == nil {
		a.out.add("ended_"+reason(err), 1)
	}
}

// forge: ForgeAgents authenticated agents, each sending every
// ForgeInterval ForgeSeries series labelled as the good agent's
// (agent_id, instance, job) and its hawk_agent_up.
func (a *attack) forge(ctx context.Context) error {
	each(ctx, a.sz.ForgeAgents, a.sz.ForgeAgents, func(i int) {
		a.attacker(ctx, fmt.Sprintf("%sfg-%04d", a.prefix, i), func(s *syncSender) error {
			b := &wire.Batch{}
			for j := range a.sz.ForgeSeries {
				b.Defs = append(b.Defs, wire.SeriesDef{Name: fmt.Sprintf("node_forged_%d", j), Labels: []wire.Label{
					{Name: "agent_id", Value: a.good.id}, {Name: "instance", Value: a.good.hostname()}, {Name: "job", Value: "node"}}})
			}
			b.Defs = append(b.Defs, wire.SeriesDef{Name: "hawk_agent_up", Labels: []wire.Label{{Name: "agent_id", Value: a.good.id}}})
			t := time.NewTicker(a.sz.ForgeInterval)
			defer t.Stop()
			for k := 0; ; k++ {
				ts := time.Now().UnixMilli()
				b.Samples = b.Samples[:0]
				for j := range b.Defs {
					b.Samples = append(b.Samples, wire.Sample{ID: uint32(j), T: ts, V: float64(k)})
				}
				if err := s.send(b); err != nil {
					return err
				}
				a.out.add("batches_acked", 1)
				select {
				case <-ctx.Done():
					return nil
				case <-t.C:
				}
			}
		})
	})
	return nil
}

// seriesFlood: FloodAgents new agent ids, each defining FloodSeries new
// series, FloodBatch a batch, one sample each, as fast as the server
// acknowledges.
func (a *attack) seriesFlood(ctx context.Context) error {
	each(ctx, a.sz.FloodAgents, a.sz.FloodAgents, func(i int) {
		a.attacker(ctx, fmt.Sprintf("%ssf-%04d", a.prefix, i), func(s *syncSender) error {
			b := &wire.Batch{}
			for k := 0; k*a.sz.FloodBatch < a.sz.FloodSeries && ctx.Err() == nil; k++ {
				b.Reset()
				ts := time.Now().UnixMilli()
				n := min(a.sz.FloodBatch, a.sz.FloodSeries-k*a.sz.FloodBatch)
				for j := range n {
					b.Defs = append(b.Defs, wire.SeriesDef{Name: "attack_flood", Labels: []wire.Label{
						{Name: "s", Value: fmt.Sprintf("%d-%d", i, k*a.sz.FloodBatch+j)}}})
					b.Samples = append(b.Samples, wire.Sample{ID: uint32(j), T: ts, V: 1})
				}
				if err := s.send(b); err != nil {
					return err
				}
				a.out.add("series_sent", uint64(n))
			}
			return nil
		})
	})
	return nil
}

// seriesLookup: Workers clients asking /api/v1/series for every series,
// and /labels and /label/__name__/values, without a limit.
func (a *attack) seriesLookup(ctx context.Context) error {
	if err := a.needHTTP(); err != nil {
		return err
	}
	loop(ctx, a.sz.Workers, a.sz.Queries, func(i int) bool {
		switch i % 4 {
		case 0, 1:
			a.httpDo(ctx, http.MethodGet, "/api/v1/series", url.Values{"match[]": {`{__name__=~".+"}`}}, true)
		case 2:
			a.httpDo(ctx, http.MethodGet, "/api/v1/labels", nil, true)
		default:
			a.httpDo(ctx, http.MethodGet, "/api/v1/label/__name__/values", nil, true)
		}
		return true
	})
	return nil
}
