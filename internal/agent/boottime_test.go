package agent

import (
	"os"
	"path/filepath"
	"testing"
)

func TestProcBootTime(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stat")
	if err := os.WriteFile(p, []byte("cpu  1 2 3\nintr 5\nbtime 1733000000\nprocesses 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := procBootTime(p); got != 1733000000 {
		t.Fatalf("btime = %d", got)
	}
	if got := procBootTime(filepath.Join(t.TempDir(), "missing")); got != 0 {
		t.Fatalf("missing file: %d", got)
	}
	if got := procBootTime("/proc/stat"); got <= 0 {
		t.Fatalf("this host's btime = %d", got)
	}
}
