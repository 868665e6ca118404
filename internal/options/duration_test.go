package options

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// TestDurationLikePrometheus: the duration syntax is Prometheus' own
// (prometheus/common/model, the reference here, test-only).
func TestDurationLikePrometheus(t *testing.T) {
	for _, s := range []string{"0", "0s", "1ms", "15s", "5m", "1h30m", "15d", "2w", "1y", "1y2w3d4h5m6s7ms", "90d",
		"", "1", "s", "1.5h", "1h1h", "1m1h", "-1s", "1x", "1d 1h", "106751991167300y", "9223372036854775807ms", "1hm"} {
		want, werr := model.ParseDuration(s)
		got, err := parseDuration(s)
		if (err != nil) != (werr != nil) || (err == nil && got != time.Duration(want)) {
			t.Errorf("%q: got %v, %v; Prometheus %v, %v", s, got, err, time.Duration(want), werr)
		}
	}
	for _, d := range []time.Duration{0, time.Millisecond, 90 * time.Second, 36 * time.Hour, 15 * 24 * time.Hour,
		14 * 24 * time.Hour, 90 * 24 * time.Hour, 365 * 24 * time.Hour, 400*24*time.Hour + 1500*time.Millisecond} {
		if got, want := formatDuration(d), model.Duration(d).String(); got != want {
			t.Errorf("%v: written %q, Prometheus writes %q", d, got, want)
		}
	}
}
