package bench

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"hawk/internal/api"
	"hawk/internal/server"
)

// TestAttackAgainstServer runs every attack, tiny, against an in-process
// server with enrolment and identity labels on (the HTTP attacks against a
// stand-in API that wants a token), and checks that each measured both
// phases and met the server's defences as expected.
func TestAttackAgainstServer(t *testing.T) {
	sink := newMemSink()
	enr, err := server.OpenEnrolments("", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, addr, stop := serve(t, server.Config{Sink: sink, Enrolment: enr, MaxOpenBatchBytes: 100 << 10, MaxLegacyAgents: 3}, "127.0.0.1:0")
	defer stop()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if len(r.FormValue("query")) > 1000 {
			http.Error(w, "too long", http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"status":"success"}`)) //nolint:errcheck // the client went away
	}))
	defer api.Close()

	res, err := RunAttack(context.Background(), AttackConfig{Addr: addr, HTTP: api.URL, HTTPToken: "tok",
		Attacks: AttackNames, Quiet: 100 * time.Millisecond, Under: 500 * time.Millisecond, Settle: 10 * time.Millisecond,
		Interval: 20 * time.Millisecond, Series: 20, MinQuiet: 3, Prefix: "t-", PID: selfPID(),
		Sizes: AttackSizes{Workers: 2, Hijacks: 20, QueryBytes: 100, Queries: 40, OpenBatchConns: 3, OpenBatchSamples: 70000, OpenBatchPart: 4096,
			OpenBatchRounds: 2, SlowConns: 5, FloodAgents: 2, FloodSeries: 30, FloodBatch: 10, HelloIDs: 3,
			LegacyAddrs: 5, ChurnAgents: 2, ChurnRounds: 3, ForgeAgents: 2, ForgeSeries: 5, ForgeInterval: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(AttackNames) {
		t.Fatalf("%d results for %d attacks", len(res), len(AttackNames))
	}
	var out strings.Builder
	PrintAttackTable(&out, res)
	t.Log("\n" + out.String())
	by := map[string]*AttackResult{}
	for _, r := range res {
		by[r.Name] = r
		if r.Quiet.Count() == 0 || r.Under.Count() == 0 || r.AttackErr != nil || r.RSSBefore <= 0 || r.RSSPeak < r.RSSBefore {
			t.Errorf("%s: %d quiet and %d attack ACKs, error %v, rss %d then %d", r.Name, r.Quiet.Count(), r.Under.Count(),
				r.AttackErr, r.RSSBefore, r.RSSPeak)
		}
		if r.GoodUnackedLost != 0 || r.Good["reconnects"] != 0 {
			t.Errorf("%s: good agent lost %d batches, troubles %v", r.Name, r.GoodUnackedLost, r.Good)
		}
	}
	want := func(attack, outcome string, ok func(uint64) bool) {
		t.Helper()
		if got := by[attack].Outcomes[outcome]; !ok(got) {
			t.Errorf("%s: %s = %d; all outcomes %v", attack, outcome, got, by[attack].Outcomes)
		}
	}
	some := func(n uint64) bool { return n > 0 }
	none := func(n uint64) bool { return n == 0 }
	want("hijack", "refused_error_3", some)
	want("hijack", "welcomed", none)
	want("promql", "http_200", some)
	want("promql", "http_400", some) // the long query
	want("open-batch", "closed_by_server", some)
	want("slow-http", "answered_401", some)
	want("huge-hello", "http_200", some)
	want("legacy", "answered", some)
	want("legacy", "refused_eof", some) // past MaxLegacyAgents
	want("version-churn", "welcomed", some)
	want("forge", "batches_acked", some)
	want("series-flood", "series_sent", some)
	want("series-lookup", "http_200", some)
	var huge, fits uint64
	for k, n := range by["huge-hello"].Outcomes {
		switch {
		case strings.HasSuffix(k, "_refused_error_4"):
			huge += n
		case strings.HasSuffix(k, "_welcomed"):
			fits += n
		}
	}
	if huge == 0 || fits == 0 {
		t.Errorf("huge-hello: %d refused, %d welcomed; want some of each: %v", huge, fits, by["huge-hello"].Outcomes)
	}
	// Counts that cannot be exceeded.
	if n := by["hijack"].Outcomes["refused_error_3"]; n > 20 {
		t.Errorf("hijack: %d HELLOs, limit 20", n)
	}
	if n := by["series-flood"].Outcomes["series_sent"]; n > 60 {
		t.Errorf("series-flood: %d series sent, limit 2 x 30", n)
	}
	// Identity labels: the forged series are stored as the forgers'.
	for _, ls := range sink.snapshotLabels() {
		if strings.HasPrefix(ls.Get("__name__"), "node_forged_") && ls.Get("agent_id") == "t-good" {
			t.Fatalf("a forged series was stored in the good agent's name: %v", ls)
		}
	}
}

// TestAttackSpin: the spin control keeps its threads busy for the phase,
// sends nothing, and its result is a control, with no verdict.
func TestAttackSpin(t *testing.T) {
	sink := newMemSink()
	_, addr, stop := serve(t, server.Config{Sink: sink}, "127.0.0.1:0")
	defer stop()
	res, err := RunAttack(context.Background(), AttackConfig{Addr: addr, Attacks: []string{SpinAttack},
		Quiet: 100 * time.Millisecond, Under: 300 * time.Millisecond, Settle: 10 * time.Millisecond,
		Interval: 20 * time.Millisecond, Series: 20, MinQuiet: 3, Prefix: "s-", Sizes: AttackSizes{SpinThreads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if !r.Control || r.Quiet.Count() == 0 || r.Under.Count() == 0 || r.Outcomes["spinning_threads"] != 2 || r.Outcomes["spin_slices"] == 0 {
		t.Fatalf("control %v, %d quiet and %d attack ACKs, outcomes %v", r.Control, r.Quiet.Count(), r.Under.Count(), r.Outcomes)
	}
	var out strings.Builder
	r.Print(&out)
	if !strings.Contains(out.String(), "not judged (a control: busy threads") {
		t.Errorf("spin's report judged the target:\n%s", out.String())
	}
	if all, err := ParseAttacks("all"); err != nil || slices.Contains(all, SpinAttack) {
		t.Errorf("all includes the control %s: %v, %v", SpinAttack, all, err)
	}
	if _, err := RunAttack(context.Background(), AttackConfig{Addr: addr, Attacks: []string{SpinAttack},
		Sizes: AttackSizes{SpinThreads: MaxSpinThreads + 1}}); err == nil {
		t.Errorf("%d spin threads taken", MaxSpinThreads+1)
	}
}

// TestAttackControl aims an attack at one server and the good agent at
// another (AttackConfig.GoodAddr): the forged series reach only the
// attacked server, the good agent's only its own, and the result is a
// control, with no verdict.
func TestAttackControl(t *testing.T) {
	goodSink, attackedSink := newMemSink(), newMemSink()
	_, goodAddr, stopGood := serve(t, server.Config{Sink: goodSink}, "127.0.0.1:0")
	defer stopGood()
	_, attackedAddr, stopAttacked := serve(t, server.Config{Sink: attackedSink}, "127.0.0.1:0")
	defer stopAttacked()

	res, err := RunAttack(context.Background(), AttackConfig{Addr: attackedAddr, GoodAddr: goodAddr,
		Attacks: []string{"forge"}, Quiet: 100 * time.Millisecond, Under: 300 * time.Millisecond, Settle: 10 * time.Millisecond,
		Interval: 20 * time.Millisecond, Series: 20, MinQuiet: 3, Prefix: "c-",
		Sizes: AttackSizes{ForgeAgents: 2, ForgeSeries: 5, ForgeInterval: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if !r.Control || r.Quiet.Count() == 0 || r.Under.Count() == 0 || r.Outcomes["batches_acked"] == 0 {
		t.Fatalf("control %v, %d quiet and %d attack ACKs, outcomes %v", r.Control, r.Quiet.Count(), r.Under.Count(), r.Outcomes)
	}
	var out strings.Builder
	PrintAttackTable(&out, res)
	if !strings.Contains(out.String(), "| control |") || strings.Contains(out.String(), "met") {
		t.Errorf("a control's row judged the target:\n%s", out.String())
	}
	count := func(m *memSink) (good, forged int) {
		for _, ls := range m.snapshotLabels() {
			switch {
			case strings.HasPrefix(ls.Get("__name__"), "node_forged_"):
				forged++
			case ls.Get("agent_id") == "c-good":
				good++
			}
		}
		return good, forged
	}
	if good, forged := count(goodSink); good == 0 || forged != 0 {
		t.Errorf("good agent's server: %d of its series, %d forged; want some and none", good, forged)
	}
	if good, forged := count(attackedSink); good != 0 || forged == 0 {
		t.Errorf("attacked server: %d of the good agent's series, %d forged; want none and some", good, forged)
	}
}

func TestParseAttacks(t *testing.T) {
	if got, err := ParseAttacks("all"); err != nil || len(got) != len(AttackNames) {
		t.Fatalf("all: %v %v", got, err)
	}
	if got, err := ParseAttacks("open-batch, hijack"); err != nil || len(got) != 2 || got[1] != "hijack" {
		t.Fatalf("list: %v %v", got, err)
	}
	if _, err := ParseAttacks("open-batch,nope"); err == nil {
		t.Fatal("unknown attack accepted")
	}
	for _, u := range []string{"http://10.0.0.1:9877", "https://127.0.0.1:9877", "http://127.0.0.1"} {
		if CheckLoopbackURL(u) == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if err := CheckLoopbackURL("http://127.0.0.1:9877"); err != nil {
		t.Error(err)
	}
}

// TestAttackSetupFails: an attack that cannot be prepared (an open batch
// of one part has nothing to hold back) is reported, and the good agent
// started for it is stopped.
func TestAttackSetupFails(t *testing.T) {
	_, addr := startServer(t, newMemSink())
	done := make(chan struct{})
	var res []*AttackResult
	var err error
	go func() {
		defer close(done)
		res, err = RunAttack(context.Background(), AttackConfig{Addr: addr, Attacks: []string{"open-batch"},
			Quiet: 50 * time.Millisecond, Under: 50 * time.Millisecond, Prefix: "setup-", Sizes: AttackSizes{OpenBatchSamples: 10}})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("RunAttack did not return")
	}
	if err != nil || len(res) != 1 || res[0].AttackErr == nil || res[0].Met() {
		t.Fatalf("err %v, results %+v", err, res)
	}
}

// TestAttackInOwnProcess: with AttackConfig.Worker each attack runs in a
// process of its own (here this test binary), which reports its outcomes
// back; the good agent, measured here, shares nothing with it but the
// server. Two rounds: a worker for each attack phase, each phase's
// latencies pooled over the rounds, each round's ratio in the report.
func TestAttackInOwnProcess(t *testing.T) {
	sink := newMemSink()
	enr, err := server.OpenEnrolments("", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, addr, stop := serve(t, server.Config{Sink: sink, Enrolment: enr}, "127.0.0.1:0")
	defer stop()
	under := 500 * time.Millisecond
	sizes := AttackSizes{Workers: 2, Hijacks: 20, ForgeAgents: 2, ForgeSeries: 5, ForgeInterval: 50 * time.Millisecond}
	res, err := RunAttack(context.Background(), AttackConfig{Addr: addr, Attacks: []string{"hijack", "forge"},
		Quiet: 100 * time.Millisecond, Under: under, Settle: 10 * time.Millisecond, Interval: 20 * time.Millisecond,
		Series: 20, MinQuiet: 3, Prefix: "w-", Sizes: sizes, Rounds: 2,
		Worker: workerCommand(t, testWorkerConfig{Addr: addr, Under: under, Sizes: sizes})})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d results for 2 attacks", len(res))
	}
	for _, r := range res {
		if r.AttackErr != nil || r.Under.Count() == 0 || r.GoodUnackedLost != 0 {
			t.Errorf("%s: error %v, %d ACKs under attack, %d lost", r.Name, r.AttackErr, r.Under.Count(), r.GoodUnackedLost)
		}
		checkRounds(t, r, 2)
	}
	if res[0].Outcomes["refused_error_3"] == 0 || res[0].Outcomes["welcomed"] != 0 {
		t.Fatalf("hijack's outcomes from its worker: %v", res[0].Outcomes)
	}
	for i, rd := range res[0].Rounds {
		if rd.Outcomes["refused_error_3"] == 0 {
			t.Errorf("hijack round %d: outcomes %v", i+1, rd.Outcomes)
		}
	}
	for i, rd := range res[1].Rounds {
		if rd.Outcomes["batches_acked"] == 0 {
			t.Errorf("forge round %d: outcomes %v", i+1, rd.Outcomes)
		}
	}
}

// checkRounds checks that r has n rounds, each with ACKs in both phases,
// that its pooled figures are the rounds' together, and that its report
// and table row give each round's ratio and their median.
func checkRounds(t *testing.T, r *AttackResult, n int) {
	t.Helper()
	if len(r.Rounds) != n {
		t.Fatalf("%s: %d rounds, want %d", r.Name, len(r.Rounds), n)
	}
	var quiet, under, quietSent, underSent uint64
	var quietMax, underMax time.Duration
	outcomes := map[string]uint64{}
	ratios := make([]string, n)
	var cpu PhaseCPU
	for i, rd := range r.Rounds {
		if rd.CPU.QuietTime <= 0 || rd.CPU.UnderTime < rd.UnderTime {
			t.Errorf("%s round %d: phases of %v and %v, the attack ran %v", r.Name, i+1, rd.CPU.QuietTime, rd.CPU.UnderTime, rd.UnderTime)
		}
		cpu.add(rd.CPU)
		if rd.Quiet.Count() == 0 || rd.Under.Count() == 0 || rd.Ratio <= 0 {
			t.Errorf("%s round %d: %d quiet and %d attack ACKs, ratio %.2f", r.Name, i+1, rd.Quiet.Count(), rd.Under.Count(), rd.Ratio)
		}
		quiet, under = quiet+rd.Quiet.Count(), under+rd.Under.Count()
		quietSent, underSent = quietSent+rd.QuietSent, underSent+rd.UnderSent
		quietMax, underMax = max(quietMax, rd.Quiet.Max()), max(underMax, rd.Under.Max())
		for k, v := range rd.Outcomes {
			outcomes[k] += v
		}
		ratios[i] = fmt.Sprintf("%.2f", rd.Ratio)
	}
	if r.Quiet.Count() != quiet || r.Under.Count() != under || r.QuietSent != quietSent || r.UnderSent != underSent {
		t.Errorf("%s: pooled %d/%d ACKs of %d/%d sent; the rounds' sum %d/%d of %d/%d", r.Name,
			r.Quiet.Count(), r.Under.Count(), r.QuietSent, r.UnderSent, quiet, under, quietSent, underSent)
	}
	if r.Quiet.Max() != quietMax || r.Under.Max() != underMax {
		t.Errorf("%s: pooled max %v/%v; the rounds' %v/%v", r.Name, r.Quiet.Max(), r.Under.Max(), quietMax, underMax)
	}
	if want := p99Ratio(r.Under.Quantile(0.99), r.Quiet.Quantile(0.99)); r.Ratio != want {
		t.Errorf("%s: ratio %.3f, pooled p99s give %.3f", r.Name, r.Ratio, want)
	}
	if cpu != r.CPU {
		t.Errorf("%s: CPU %+v; the rounds' sum %+v", r.Name, r.CPU, cpu)
	}
	if !maps.Equal(outcomes, r.Outcomes) {
		t.Errorf("%s: outcomes %v; the rounds' sum %v", r.Name, r.Outcomes, outcomes)
	}
	var report, table strings.Builder
	r.Print(&report)
	PrintAttackTable(&table, []*AttackResult{r})
	list := strings.Join(ratios, ", ")
	if want := fmt.Sprintf("rounds: p99 ratios %s; median %.2f", list, r.MedianRatio); !strings.Contains(report.String(), want) {
		t.Errorf("%s: report lacks %q:\n%s", r.Name, want, report.String())
	}
	if want := fmt.Sprintf("| %s (%.2f) |", list, r.MedianRatio); !strings.Contains(table.String(), want) {
		t.Errorf("%s: table lacks %q:\n%s", r.Name, want, table.String())
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{4, 1}, 2.5}, {[]float64{4.8, 1.4, 2}, 2}, {[]float64{9, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestPromQLQueryShape: the promql attack's query fits the length and
// depth it is given (the depth as the server counts it), and uses most of
// the length when the depth allows.
func TestPromQLQueryShape(t *testing.T) {
	for _, c := range []struct{ bytes, depth, atLeast int }{
		{8000, 100, 7000}, {8000, 200, 7000}, {8000, 1 << 20, 7000}, {100, 100, 90}, {8000, 10, 1},
	} {
		q := PromQLQuery(c.bytes, c.depth)
		e, err := parser.NewParser(parser.Options{}).ParseExpr(q)
		if err != nil {
			t.Fatalf("%d bytes, depth %d: %v", c.bytes, c.depth, err)
		}
		if d := api.ExprDepth(e); len(q) > c.bytes || len(q) < c.atLeast || d > c.depth {
			t.Errorf("%d bytes, depth %d: got %d bytes (want %d to %d), depth %d", c.bytes, c.depth, len(q), c.atLeast, c.bytes, d)
		}
	}
}
