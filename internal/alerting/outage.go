package alerting

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
)

// OutageExplainer tells why an agent was silent; the fleet implements it.
type OutageExplainer interface {
	LastOutage(agentID string) (o Outage, ok bool)
}

// Outage is one silent period of an agent and its cause: network, reboot,
// agent-stopped or unknown.
type Outage struct {
	Start, End time.Time
	Cause      string
}

// Annotation names a resolved alert gains from its agent's last outage.
const (
	AnnotationOutageCause = "outage_cause"
	AnnotationOutageStart = "outage_start"
	AnnotationOutageEnd   = "outage_end"
)

// explain returns the annotations of a resolved alert, with the cause of
// its agent's last outage added when that outage ended within the alert's
// active period. Any other alert's annotations are returned as they are.
func explain(e OutageExplainer, a *rules.Alert) labels.Labels {
	if e == nil || a.ResolvedAt.IsZero() {
		return a.Annotations
	}
	id := a.Labels.Get("agent_id")
	if id == "" {
		return a.Annotations
	}
	o, ok := e.LastOutage(id)
	if !ok || o.End.Before(a.ActiveAt) || o.End.After(a.ResolvedAt) {
		return a.Annotations
	}
	b := labels.NewBuilder(a.Annotations)
	b.Set(AnnotationOutageCause, o.Cause)
	b.Set(AnnotationOutageStart, o.Start.UTC().Format(time.RFC3339))
	b.Set(AnnotationOutageEnd, o.End.UTC().Format(time.RFC3339))
	return b.Labels()
}
