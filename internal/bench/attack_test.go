package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
		if strings.HasPrefix(ls.Get("__name__"), "node_forged_") && ls.Get("agent_id") == "t-good-forge" {
			t.Fatalf("a forged series was stored in the good agent's name: %v", ls)
		}
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
// server.
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
		Series: 20, MinQuiet: 3, Prefix: "w-", Sizes: sizes,
		Worker: workerCommand(t, testWorkerConfig{Addr: addr, Under: under, Sizes: sizes})})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.AttackErr != nil || r.Under.Count() == 0 || r.GoodUnackedLost != 0 {
			t.Errorf("%s: error %v, %d ACKs under attack, %d lost", r.Name, r.AttackErr, r.Under.Count(), r.GoodUnackedLost)
		}
	}
	if len(res) != 2 || res[0].Outcomes["refused_error_3"] == 0 || res[0].Outcomes["welcomed"] != 0 {
		t.Fatalf("hijack's outcomes from its worker: %v", res[0].Outcomes)
	}
	if n := res[1].Outcomes["batches_acked"]; n == 0 {
		t.Errorf("forge's outcomes from its worker: %v", res[1].Outcomes)
	}
}
