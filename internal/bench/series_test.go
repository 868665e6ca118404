package bench

import (
	"slices"
	"strings"
	"testing"
)

func TestHostSetShape(t *testing.T) {
	for _, n := range []int{1, 50, 300, 1000} {
		h := NewHostSet(n, "node", "host-1", 1)
		if h.Len() != n {
			t.Fatalf("n=%d: got %d series", n, h.Len())
		}
		seen := map[string]bool{}
		for _, d := range h.Defs {
			var b strings.Builder
			b.WriteString(d.Name)
			hasJob, hasInst := false, false
			for _, l := range d.Labels {
				b.WriteString("," + l.Name + "=" + l.Value)
				hasJob = hasJob || l == (struct{ Name, Value string }{"job", "node"})
				hasInst = hasInst || l.Name == "instance" && l.Value == "host-1"
			}
			if seen[b.String()] {
				t.Fatalf("n=%d: duplicate series %s", n, b.String())
			}
			seen[b.String()] = true
			if !hasJob || !hasInst {
				t.Fatalf("series %s lacks job or instance", b.String())
			}
		}
	}
	h := NewHostSet(300, "node", "h", 1)
	families := map[string]bool{}
	for _, d := range h.Defs {
		families[strings.SplitN(d.Name, "_", 3)[1]] = true
	}
	for _, f := range []string{"cpu", "memory", "filesystem", "disk", "network", "netstat", "vmstat", "load1"} {
		if !families[f] {
			t.Errorf("family %s missing", f)
		}
	}
}

func TestHostSetDeterministic(t *testing.T) {
	a, b := NewHostSet(300, "node", "h", 7), NewHostSet(300, "node", "h", 7)
	c := NewHostSet(300, "node", "h", 8)
	for range 10 {
		if !slices.Equal(a.Values(), b.Values()) {
			t.Fatal("same seed, different values")
		}
		a.Advance(10)
		b.Advance(10)
		c.Advance(10)
	}
	if slices.Equal(a.Values(), c.Values()) {
		t.Fatal("different seeds, same values")
	}
}

func TestHostSetCountersMonotonic(t *testing.T) {
	h := NewHostSet(300, "node", "h", 3)
	prev := slices.Clone(h.Values())
	for range 50 {
		h.Advance(10)
		for i, v := range h.Values() {
			if v < 0 {
				t.Fatalf("%s negative: %v", h.Defs[i].Name, v)
			}
			if strings.HasSuffix(h.Defs[i].Name, "_total") && v < prev[i] {
				t.Fatalf("counter %s went down: %v -> %v", h.Defs[i].Name, prev[i], v)
			}
		}
		copy(prev, h.Values())
	}
}
