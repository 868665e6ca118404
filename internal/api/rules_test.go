package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
)

// fakeRules is one group of a firing alerting rule and a recording rule.
type fakeRules struct {
	groups    []*rules.Group
	alerting  []*rules.AlertingRule
	reloadErr error
	reloads   int
}

func (f *fakeRules) RuleGroups() []*rules.Group           { return f.groups }
func (f *fakeRules) AlertingRules() []*rules.AlertingRule { return f.alerting }
func (f *fakeRules) Reload() error                        { f.reloads++; return f.reloadErr }

func newFakeRules(t *testing.T) *fakeRules {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	expr, err := p.ParseExpr(`hawk_agent_up == 0`)
	if err != nil {
		t.Fatal(err)
	}
	ar := rules.NewAlertingRule("HostDown", expr, 0, 0, labels.FromStrings("severity", "critical"),
		labels.FromStrings("summary", "down"), labels.EmptyLabels(), "", true, nil)
	down := promql.Vector{{Metric: labels.FromStrings("__name__", "hawk_agent_up", "agent_id", "a1", "hostname", "web1", "instance", "web1:9100", "job", "node"), F: 0}}
	q := func(context.Context, string, time.Time) (promql.Vector, error) { return down, nil }
	if _, err := ar.Eval(context.Background(), 0, time.Unix(1000, 0), q, &url.URL{}, 0); err != nil {
		t.Fatal(err)
	}
	ar.SetEvaluationTimestamp(time.Unix(1000, 0)) // as the group does after Eval
	ar.SetHealth(rules.HealthGood)
	rexpr, _ := p.ParseExpr(`sum(hawk_agent_up)`)
	rr := rules.NewRecordingRule("job:up:sum", rexpr, labels.EmptyLabels())
	g := rules.NewGroup(rules.GroupOptions{Name: "host", File: "/etc/hawk/rules/host.yml", Interval: time.Second,
		Rules: []rules.Rule{ar, rr}, Opts: &rules.ManagerOptions{Queryable: storage.QueryableFunc(func(int64, int64) (storage.Querier, error) { return storage.NoopQuerier(), nil })}})
	return &fakeRules{groups: []*rules.Group{g}, alerting: []*rules.AlertingRule{ar}}
}

func getJSON(t *testing.T, h http.Handler, path string, v any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, rec.Body)
	}
	return rec.Code
}

func TestRulesAndAlerts(t *testing.T) {
	a := New(Options{Queryable: storage.QueryableFunc(func(int64, int64) (storage.Querier, error) { return storage.NoopQuerier(), nil })})
	defer a.Close()
	var empty struct{ Data struct{ Alerts []any } }
	if code := getJSON(t, a.Handler(), "/api/v1/alerts", &empty); code != 200 || empty.Data.Alerts == nil || len(empty.Data.Alerts) != 0 {
		t.Fatalf("alerts without rules: %d %v, want 200 and []", code, empty.Data.Alerts)
	}
	f := newFakeRules(t)
	a.SetRules(f)

	var al struct {
		Status string
		Data   struct {
			Alerts []struct {
				Labels   map[string]string
				State    string
				ActiveAt time.Time
				Value    string
			}
		}
	}
	getJSON(t, a.Handler(), "/api/v1/alerts", &al)
	if al.Status != "success" || len(al.Data.Alerts) != 1 {
		t.Fatalf("alerts: %+v", al)
	}
	got := al.Data.Alerts[0]
	if got.State != "firing" || got.Labels["alertname"] != "HostDown" || got.Labels["agent_id"] != "a1" ||
		!got.ActiveAt.Equal(time.Unix(1000, 0)) || got.Value != "0e+00" {
		t.Fatalf("alert: %+v", got)
	}

	var rl struct {
		Data struct {
			Groups []struct {
				Name, File string
				Interval   float64
				Rules      []map[string]any
			}
		}
	}
	getJSON(t, a.Handler(), "/api/v1/rules", &rl)
	if len(rl.Data.Groups) != 1 || rl.Data.Groups[0].File != "/etc/hawk/rules/host.yml" || rl.Data.Groups[0].Interval != 1 {
		t.Fatalf("rules: %+v", rl)
	}
	rs := rl.Data.Groups[0].Rules
	if len(rs) != 2 || rs[0]["type"] != "alerting" || rs[0]["state"] != "firing" || rs[0]["health"] != "ok" || rs[0]["query"] != "hawk_agent_up == 0" ||
		rs[1]["type"] != "recording" || rs[1]["name"] != "job:up:sum" {
		t.Fatalf("rules: %+v", rs)
	}
	getJSON(t, a.Handler(), "/api/v1/rules?type=record", &rl)
	if rs := rl.Data.Groups[0].Rules; len(rs) != 1 || rs[0]["type"] != "recording" {
		t.Fatalf("type=record: %+v", rs)
	}
	var bad struct{ Status, ErrorType string }
	if code := getJSON(t, a.Handler(), "/api/v1/rules?type=nope", &bad); code != 400 || bad.ErrorType != "bad_data" {
		t.Fatalf("type=nope: %d %+v", code, bad)
	}
}

func TestReloadHandler(t *testing.T) {
	a := New(Options{Queryable: storage.QueryableFunc(func(int64, int64) (storage.Querier, error) { return storage.NoopQuerier(), nil })})
	defer a.Close()
	h := a.ReloadHandler()
	do := func(method string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/-/reload", nil))
		return rec
	}
	if rec := do(http.MethodPost); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("reload without rules: %d", rec.Code)
	}
	f := newFakeRules(t)
	a.SetRules(f)
	if rec := do(http.MethodGet); rec.Code != http.StatusMethodNotAllowed || f.reloads != 0 {
		t.Fatalf("GET /-/reload: %d, reloads %d", rec.Code, f.reloads)
	}
	if rec := do(http.MethodPost); rec.Code != http.StatusOK || f.reloads != 1 {
		t.Fatalf("POST /-/reload: %d, reloads %d", rec.Code, f.reloads)
	}
	f.reloadErr = errors.New("rule file r.yml: 5:11: parse error")
	if rec := do(http.MethodPost); rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "r.yml: 5:11") {
		t.Fatalf("failed reload: %d %q", rec.Code, rec.Body)
	}
}
