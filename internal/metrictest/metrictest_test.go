package metrictest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestSum(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total", Help: "c"}, []string{"code", "kind"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"})
	reg.MustRegister(c, g)
	c.WithLabelValues("200", "a").Add(1)
	c.WithLabelValues("200", "b").Add(2)
	c.WithLabelValues("500", "a").Add(4)
	g.Set(7)
	for _, tc := range []struct {
		name string
		kv   []string
		want float64
	}{
		{"c_total", nil, 7},
		{"c_total", []string{"code", "200"}, 3},
		{"c_total", []string{"code", "200", "kind", "b"}, 2},
		{"c_total", []string{"code", "404"}, 0},
		{"g", nil, 7},
		{"missing", nil, 0},
	} {
		if got := Sum(t, reg, tc.name, tc.kv...); got != tc.want {
			t.Errorf("Sum(%s, %v) = %v, want %v", tc.name, tc.kv, got, tc.want)
		}
	}
}
