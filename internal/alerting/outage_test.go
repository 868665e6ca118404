package alerting

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
)

func ruleAlert(active, resolved time.Time, agent string) *rules.Alert {
	return &rules.Alert{Labels: labels.FromStrings("alertname", "HostDown", "agent_id", agent),
		Annotations: labels.FromStrings("summary", "down"), ActiveAt: active, ResolvedAt: resolved}
}
