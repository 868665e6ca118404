// Package metrictest reads metric values back from a Prometheus registry,
// for tests that check what a component counted.
package metrictest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Sum returns the sum of the counter and gauge values of the series of
// family name in g whose labels include every name, value pair of kv; 0
// when there is none.
func Sum(tb testing.TB, g prometheus.Gatherer, name string, kv ...string) float64 {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(kv); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || lp.GetName() == kv[i] && lp.GetValue() == kv[i+1]
				}
				if !found {
					continue series
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}
