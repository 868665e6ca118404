package inputs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestExecHungKilledWithGroup: a command that hangs, with a child of its
// own, is killed at its timeout together with the child.
func TestExecHungKilledWithGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	e := newTestExecer(t, "sleep 300 & echo $! > "+pidFile+"; wait", 300*time.Millisecond)
	start := time.Now()
	out := e.gather(context.Background(), start)
	if time.Since(start) > 5*time.Second {
		t.Fatalf("gather took %v", time.Since(start))
	}
	if up := one(t, out, "hawk_exec_up"); up.V != 0 {
		t.Fatalf("hung command up")
	}
	if code := one(t, out, "hawk_exec_exit_code"); code.V != -1 {
		t.Errorf("exit code %v, want -1", code.V)
	}
	if f := one(t, out, "hawk_input_failures_total"); !strings.Contains(labelText(f.Labels), "reason=timeout") {
		t.Errorf("failure %+v", f)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// The child was SIGKILLed with its group; wait (bounded) for it to be
	// reaped by init, then it is gone or a zombie.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL) //nolint:errcheck // cleaning up the child this test started
			t.Fatalf("child %d of the hung command survived its timeout", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
