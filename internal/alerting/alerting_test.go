package alerting

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"go.uber.org/goleak"

	"hawk/internal/metrictest"
	"hawk/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// amAlert is an alert as Alertmanager's v2 API receives it.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

// fakeAM is an Alertmanager v2 receiver on loopback; every alert posted
// arrives on the channel.
func fakeAM(t *testing.T) (string, <-chan amAlert) {
	t.Helper()
	ch := make(chan amAlert, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var as []amAlert
		if err := json.NewDecoder(r.Body).Decode(&as); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, a := range as {
			select {
			case ch <- a:
			default:
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

type env struct {
	db     *store.TSDB
	engine *promql.Engine
}

func newEnv(t *testing.T, dir string) *env {
	t.Helper()
	db, err := store.OpenTSDB(store.TSDBOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	t.Cleanup(func() { e.Close(); db.Close() })
	return &env{db: db, engine: e}
}

func (e *env) append(t *testing.T, ts time.Time, v float64, lbls ...string) {
	t.Helper()
	app := e.db.Appender()
	s := store.Series{Labels: labels.FromStrings(lbls...)}
	if err := app.Append(&s, ts.UnixMilli(), v); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type fakeExplainer map[string]Outage

func (f fakeExplainer) LastOutage(id string) (Outage, bool) { o, ok := f[id]; return o, ok }

func (e *env) options(files []string, am string) Options {
	return Options{Files: files, Storage: e.db.DB(), Engine: e.engine, Alertmanagers: []string{am},
		Notifier: NotifierOptions{Client: promconfig.DefaultHTTPClientConfig, Timeout: 2 * time.Second}}
}

const hostDownRules = `groups:
- name: host
  interval: 100ms
  rules:
  - alert: HostDown
    expr: hawk_agent_up == 0
    labels:
      severity: critical
    annotations:
      summary: "{{ $labels.hostname }} is down"
`

// waitAlert returns the first alert from ch that match accepts.
func waitAlert(t *testing.T, ch <-chan amAlert, what string, match func(amAlert) bool) amAlert {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case a := <-ch:
			if match(a) {
				return a
			}
		case <-deadline:
			t.Fatalf("no %s alert at the Alertmanager within 15s", what)
		}
	}
}

func TestFiringAndResolvedExplained(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, filepath.Join(dir, "data"))
	amURL, got := fakeAM(t)
	ser := []string{"__name__", "hawk_agent_up", "agent_id", "a1", "hostname", "web1", "instance", "web1:9100", "job", "hawk"}
	start := time.Now()
	e.append(t, start, 0, ser...)

	opts := e.options([]string{writeFile(t, dir, "r.yml", hostDownRules)}, amURL)
	var outageEnd time.Time
	ex := fakeExplainer{}
	opts.Explainer = ex
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	m.Run()
	defer m.Stop()

	firing := waitAlert(t, got, "firing", func(a amAlert) bool { return a.EndsAt.After(time.Now()) })
	for k, v := range map[string]string{"alertname": "HostDown", "agent_id": "a1", "hostname": "web1", "instance": "web1:9100", "job": "hawk", "severity": "critical"} {
		if firing.Labels[k] != v {
			t.Errorf("firing label %s = %q, want %q (labels %v)", k, firing.Labels[k], v, firing.Labels)
		}
	}
	if firing.Annotations["summary"] != "web1 is down" {
		t.Errorf("summary = %q", firing.Annotations["summary"])
	}
	if _, ok := firing.Annotations[AnnotationOutageCause]; ok {
		t.Errorf("a firing alert was annotated with an outage: %v", firing.Annotations)
	}

	outageEnd = time.Now()
	ex["a1"] = Outage{Start: start.Add(-6 * time.Second), End: outageEnd, Cause: "reboot"}
	e.append(t, outageEnd, 1, ser...)
	resolved := waitAlert(t, got, "resolved", func(a amAlert) bool { return !a.EndsAt.After(time.Now()) })
	if c := resolved.Annotations[AnnotationOutageCause]; c != "reboot" {
		t.Fatalf("resolved alert outage_cause = %q, want reboot (annotations %v)", c, resolved.Annotations)
	}
	if s := resolved.Annotations[AnnotationOutageEnd]; s != outageEnd.UTC().Format(time.RFC3339) {
		t.Errorf("outage_end = %q, want %s", s, outageEnd.UTC().Format(time.RFC3339))
	}
	if n := testutil.ToFloat64(m.metrics.reloads.WithLabelValues("success")); n != 1 {
		t.Errorf("successful loads = %v, want 1", n)
	}
}

func TestExplainOnlyWithinActivePeriod(t *testing.T) {
	active := time.Unix(1000, 0)
	resolved := time.Unix(2000, 0)
	for _, tc := range []struct {
		name string
		end  time.Time
		want bool
	}{
		{"inside", time.Unix(1500, 0), true},
		{"before", time.Unix(900, 0), false},
		{"after", time.Unix(2100, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := ruleAlert(active, resolved, "a1")
			ann := explain(fakeExplainer{"a1": {Start: active, End: tc.end, Cause: "network"}}, a)
			if got := ann.Get(AnnotationOutageCause) == "network"; got != tc.want {
				t.Fatalf("annotated = %v, want %v", got, tc.want)
			}
		})
	}
	if ann := explain(nil, ruleAlert(active, resolved, "a1")); ann.Has(AnnotationOutageCause) {
		t.Fatal("nil explainer annotated")
	}
	if ann := explain(fakeExplainer{"a1": {End: time.Unix(1500, 0), Cause: "x"}}, ruleAlert(active, time.Time{}, "a1")); ann.Has(AnnotationOutageCause) {
		t.Fatal("a firing alert was annotated")
	}
}

func TestBadRuleFile(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, filepath.Join(dir, "data"))
	bad := writeFile(t, dir, "bad.yml", "groups:\n- name: g\n  rules:\n  - alert: X\n    expr: rate(foo[5m]\n")
	_, err := New(e.options([]string{bad}, "http://127.0.0.1:1"))
	if err == nil || !strings.Contains(err.Error(), "bad.yml") || !strings.Contains(err.Error(), "5:") {
		t.Fatalf("New with a bad rule file: err = %v, want one naming bad.yml and line 5", err)
	}
	if _, err := New(e.options([]string{filepath.Join(dir, "missing.yml")}, "http://127.0.0.1:1")); err == nil {
		t.Fatal("New with a missing rule file: no error")
	}

	good := writeFile(t, dir, "rules.yml", hostDownRules)
	m, err := New(e.options([]string{good}, "http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	m.Run()
	defer m.Stop()
	writeFile(t, dir, "rules.yml", "groups:\n- name: g\n  rules:\n  - record: x\n    expr: sum(\n")
	if err := m.Reload(); err == nil || !strings.Contains(err.Error(), "rules.yml") {
		t.Fatalf("Reload of a bad file: err = %v, want one naming rules.yml", err)
	}
	if rs := m.AlertingRules(); len(rs) != 1 || rs[0].Name() != "HostDown" {
		t.Fatalf("after a failed reload the rules are %v, want the old HostDown", rs)
	}
	if n := testutil.ToFloat64(m.metrics.lastOK); n != 0 {
		t.Errorf("hawk_rules_last_reload_successful = %v after a failed reload", n)
	}
	writeFile(t, dir, "rules.yml", "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum(hawk_agent_up)\n")
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if gs := m.RuleGroups(); len(gs) != 1 || len(gs[0].Rules()) != 1 || gs[0].Rules()[0].Name() != "job:up:sum" {
		t.Fatalf("after a good reload the groups are %v", gs)
	}
}

// TestForStateRestored: a process that takes over (SIGHUP upgrade, or a
// restart) restores the `for` state of its alerts from ALERTS_FOR_STATE in
// the TSDB, so a firing alert keeps its start and does not wait out its
// `for:` again.
func TestForStateRestored(t *testing.T) {
	dir := t.TempDir()
	rules := writeFile(t, dir, "r.yml", `groups:
- name: g
  interval: 200ms
  rules:
  - alert: Long
    expr: vector(1)
    for: 1s
`)
	amURL, got := fakeAM(t)
	e := newEnv(t, filepath.Join(dir, "data"))
	m1, err := New(e.options([]string{rules}, amURL))
	if err != nil {
		t.Fatal(err)
	}
	m1.Run()
	waitAlert(t, got, "firing", func(a amAlert) bool { return a.Labels["alertname"] == "Long" })
	active := m1.AlertingRules()[0].ActiveAlerts()[0].ActiveAt
	m1.Stop()
	e.engine.Close()
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := newEnv(t, filepath.Join(dir, "data"))
	o := e2.options([]string{rules}, amURL)
	o.ForGracePeriod = time.Hour // a pending alert restored would wait an hour: only a firing one fires
	m2, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	m2.Run()
	defer m2.Stop()
	for len(got) > 0 {
		<-got
	}
	waitAlert(t, got, "restored firing", func(a amAlert) bool { return a.Labels["alertname"] == "Long" })
	restored := m2.AlertingRules()[0].ActiveAlerts()[0].ActiveAt
	if !restored.Equal(active.Truncate(time.Second)) {
		t.Fatalf("restored ActiveAt %v, want the first process's %v", restored, active.Truncate(time.Second))
	}
}

// TestUnreachableAlertmanager: sends to an Alertmanager that refuses
// connections fail, are counted as dropped, and evaluation goes on.
func TestUnreachableAlertmanager(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, filepath.Join(dir, "data"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	rules := writeFile(t, dir, "r.yml", "groups:\n- name: g\n  interval: 50ms\n  rules:\n  - alert: Always\n    expr: vector(1)\n")
	o := e.options([]string{rules}, dead)
	o.ResendDelay = 50 * time.Millisecond
	reg := prometheus.NewRegistry()
	o.Registerer = reg
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	m.Run()
	defer m.Stop()
	deadline := time.Now().Add(15 * time.Second)
	for {
		dropped := metrictest.Sum(t, reg, "prometheus_notifications_dropped_total")
		evals := metrictest.Sum(t, reg, "prometheus_rule_evaluations_total")
		if dropped >= 3 && evals >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dropped %v, evaluations %v after 15s; want ≥3 and ≥5", dropped, evals)
		}
		time.Sleep(20 * time.Millisecond) // polling the registry is the signal
	}
}
