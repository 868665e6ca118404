package procs

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestForCollector: GOMAXPROCS for which a quarter rounds badly (1, 2, 3,
// 6: the runtime's fractional workers) are raised to the next that
// rounds well; the others are kept.
func TestForCollector(t *testing.T) {
	for n, want := range map[int]int{0: 4, 1: 4, 2: 4, 3: 4, 4: 4, 5: 5, 6: 7, 7: 7, 8: 8, 10: 10, 64: 64} {
		if got := ForCollector(n); got != want {
			t.Errorf("ForCollector(%d) = %d, want %d", n, got, want)
		}
	}
}
