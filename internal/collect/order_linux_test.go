package collect

import (
	"slices"
	"testing"
)

// Collectors whose system calls may block run after all the others, each
// group by name; Enabled and Stats still list them by name.
func TestRunOrder(t *testing.T) {
	s, err := New(fixtureConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	seenBlocking := false
	for _, en := range s.entries {
		order = append(order, en.name)
		if mayBlock[en.name] {
			seenBlocking = true
		} else if seenBlocking {
			t.Fatalf("%s runs after a collector that may block: %v", en.name, order)
		}
	}
	if !seenBlocking {
		t.Fatal("no collector that may block is enabled: the test proves nothing")
	}
	if names := s.Enabled(); !slices.IsSorted(names) || len(names) != len(order) {
		t.Fatalf("Enabled() = %v", names)
	}
	st := s.Stats()
	if !slices.IsSortedFunc(st, func(a, b Stat) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	}) {
		t.Fatalf("Stats not sorted by name: %v", st)
	}
}
