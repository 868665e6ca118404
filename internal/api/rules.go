package api

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
)

// Rules is the rule evaluation /api/v1/rules and /api/v1/alerts report on;
// *alerting.Manager implements it.
type Rules interface {
	RuleGroups() []*rules.Group
	AlertingRules() []*rules.AlertingRule
	Reload() error
}

// Engine returns the PromQL engine rule evaluation uses: the API's
// options (timeout, sample limit, lookback) but not its query queue.
// Rules are the operator's own, a bounded set evaluated on a schedule;
// sharing -query.max-concurrency's slots with the API (as Prometheus does)
// would let anyone who can send queries delay or fail every evaluation,
// HostDown's included, for as long as the flood lasts.
func (a *API) Engine() *promql.Engine { return a.rulesEngine }

// SetRules attaches rule evaluation; until then the rule endpoints answer
// empty lists and /-/reload has nothing to reload.
func (a *API) SetRules(r Rules) {
	a.rulesMu.Lock()
	a.rules = r
	a.rulesMu.Unlock()
}

func (a *API) ruleSource() Rules {
	a.rulesMu.Lock()
	defer a.rulesMu.Unlock()
	return a.rules
}

func (a *API) ruleRoutes() {
	for path, f := range map[string]apiFunc{"/api/v1/rules": a.rulesList, "/api/v1/alerts": a.alertsList} {
		h := a.wrap(f)
		a.mux.Handle("GET "+path, h)
		a.mux.Handle("POST "+path, h)
	}
}

// ReloadHandler serves POST /-/reload: the rule files are read again; on
// an error the previous rules stay and the answer is 500 with the error.
func (a *API) ReloadHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "only POST or PUT requests allowed", http.StatusMethodNotAllowed)
			return
		}
		src := a.ruleSource()
		if src == nil {
			http.Error(w, "no rule files configured (-rule-file)", http.StatusServiceUnavailable)
			return
		}
		if err := src.Reload(); err != nil {
			http.Error(w, "failed to reload rules: "+err.Error(), http.StatusInternalServerError)
			return
		}
	})
}

// The JSON shapes below are Prometheus' own (web/api/v1), which Grafana
// and promtool read.

type alertJSON struct {
	Labels          labels.Labels `json:"labels"`
	Annotations     labels.Labels `json:"annotations"`
	State           string        `json:"state"`
	ActiveAt        *time.Time    `json:"activeAt,omitempty"`
	KeepFiringSince *time.Time    `json:"keepFiringSince,omitempty"`
	Value           string        `json:"value"`
}

type ruleGroupJSON struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	Rules          []any     `json:"rules"`
	Interval       float64   `json:"interval"`
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type alertingRuleJSON struct {
	State          string        `json:"state"`
	Name           string        `json:"name"`
	Query          string        `json:"query"`
	Duration       float64       `json:"duration"`
	KeepFiringFor  float64       `json:"keepFiringFor"`
	Labels         labels.Labels `json:"labels"`
	Annotations    labels.Labels `json:"annotations"`
	Alerts         []alertJSON   `json:"alerts"`
	Health         string        `json:"health"`
	LastError      string        `json:"lastError,omitempty"`
	EvaluationTime float64       `json:"evaluationTime"`
	LastEvaluation time.Time     `json:"lastEvaluation"`
	Type           string        `json:"type"`
}

type recordingRuleJSON struct {
	Name           string        `json:"name"`
	Query          string        `json:"query"`
	Labels         labels.Labels `json:"labels,omitempty"`
	Health         string        `json:"health"`
	LastError      string        `json:"lastError,omitempty"`
	EvaluationTime float64       `json:"evaluationTime"`
	LastEvaluation time.Time     `json:"lastEvaluation"`
	Type           string        `json:"type"`
}

func alertsJSON(as []*rules.Alert) []alertJSON {
	out := make([]alertJSON, 0, len(as))
	for _, a := range as {
		j := alertJSON{Labels: a.Labels, Annotations: a.Annotations, State: a.State.String(),
			Value: strconv.FormatFloat(a.Value, 'e', -1, 64)}
		at := a.ActiveAt
		j.ActiveAt = &at
		if !a.KeepFiringSince.IsZero() {
			k := a.KeepFiringSince
			j.KeepFiringSince = &k
		}
		out = append(out, j)
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (a *API) rulesList(r *http.Request) result {
	typ := r.FormValue("type")
	if typ != "" && typ != "alert" && typ != "record" {
		return invalidParam(errors.New("not supported value "+strconv.Quote(typ)), "type")
	}
	names := setOf(r.Form["rule_name[]"])
	groupsWanted := setOf(r.Form["rule_group[]"])
	filesWanted := setOf(r.Form["file[]"])
	groups := []ruleGroupJSON{}
	src := a.ruleSource()
	if src == nil {
		return result{data: map[string]any{"groups": groups}}
	}
	for _, g := range src.RuleGroups() {
		if !groupsWanted.has(g.Name()) || !filesWanted.has(g.File()) {
			continue
		}
		gj := ruleGroupJSON{Name: g.Name(), File: g.File(), Rules: []any{}, Interval: g.Interval().Seconds(),
			Limit: g.Limit(), EvaluationTime: g.GetEvaluationTime().Seconds(), LastEvaluation: g.GetLastEvaluation()}
		for _, rule := range g.Rules() {
			if !names.has(rule.Name()) {
				continue
			}
			switch rule := rule.(type) {
			case *rules.AlertingRule:
				if typ == "record" {
					continue
				}
				gj.Rules = append(gj.Rules, alertingRuleJSON{
					State: rule.State().String(), Name: rule.Name(), Query: rule.Query().String(),
					Duration: rule.HoldDuration().Seconds(), KeepFiringFor: rule.KeepFiringFor().Seconds(),
					Labels: rule.Labels(), Annotations: rule.Annotations(), Alerts: alertsJSON(rule.ActiveAlerts()),
					Health: string(rule.Health()), LastError: errString(rule.LastError()),
					EvaluationTime: rule.GetEvaluationDuration().Seconds(), LastEvaluation: rule.GetEvaluationTimestamp(),
					Type: "alerting",
				})
			case *rules.RecordingRule:
				if typ == "alert" {
					continue
				}
				gj.Rules = append(gj.Rules, recordingRuleJSON{
					Name: rule.Name(), Query: rule.Query().String(), Labels: rule.Labels(),
					Health: string(rule.Health()), LastError: errString(rule.LastError()),
					EvaluationTime: rule.GetEvaluationDuration().Seconds(), LastEvaluation: rule.GetEvaluationTimestamp(),
					Type: "recording",
				})
			}
		}
		if len(gj.Rules) > 0 || (typ == "" && len(names) == 0) {
			groups = append(groups, gj)
		}
	}
	return result{data: map[string]any{"groups": groups}}
}

func (a *API) alertsList(*http.Request) result {
	out := []alertJSON{}
	if src := a.ruleSource(); src != nil {
		for _, rule := range src.AlertingRules() {
			out = append(out, alertsJSON(rule.ActiveAlerts())...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return labels.Compare(out[i].Labels, out[j].Labels) < 0 })
	return result{data: map[string]any{"alerts": out}}
}

// stringSet is a filter: empty matches everything.
type stringSet map[string]bool

func setOf(vs []string) stringSet {
	s := stringSet{}
	for _, v := range vs {
		s[v] = true
	}
	return s
}

func (s stringSet) has(v string) bool { return len(s) == 0 || s[v] }
