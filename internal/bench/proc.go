package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// ProcStat is what the kernel says of a process at one moment.
type ProcStat struct {
	At  time.Time
	CPU time.Duration // user plus system time
	RSS int64         // resident set, bytes
	HWM int64         // peak resident set over the process's life (VmHWM), bytes; 0 when not given
}

// ProcReader reads ProcStat from a proc file system rooted at Root ("/proc"
// when empty), so that tests can use testdata.
type ProcReader struct {
	Root string
	Now  func() time.Time // time.Now when nil
}

// ErrNoProcess is returned by Read for a process that does not exist.
var ErrNoProcess = errors.New("bench: no such process")

// Read returns the CPU time and RSS of process pid.
func (r ProcReader) Read(pid int) (ProcStat, error) {
	root, now := r.Root, r.Now
	if root == "" {
		root = "/proc"
	}
	if now == nil {
		now = time.Now
	}
	dir := filepath.Join(root, strconv.Itoa(pid))
	st := ProcStat{At: now()}
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("%w: %d", ErrNoProcess, pid)
	}
	if err != nil {
		return st, fmt.Errorf("bench: %w", err)
	}
	if st.CPU, err = parseStatCPU(stat); err != nil {
		return st, fmt.Errorf("bench: %s: %w", filepath.Join(dir, "stat"), err)
	}
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return st, fmt.Errorf("bench: %w", err)
	}
	if st.RSS, err = parseStatusRSS(status); err != nil {
		return st, fmt.Errorf("bench: %s: %w", filepath.Join(dir, "status"), err)
	}
	if st.HWM, err = parseStatusKB(status, "VmHWM:"); err != nil {
		return st, fmt.Errorf("bench: %s: %w", filepath.Join(dir, "status"), err)
	}
	return st, nil
}

// parseStatCPU returns utime+stime (fields 14 and 15) of a stat line. The
// command (field 2) is in parentheses and may hold spaces and parentheses,
// so fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command field in %q", snippet(b))
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat line %q", snippet(b))
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time %q: %w", s, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// parseStatusRSS returns VmRSS of a status file, in bytes; a kernel thread
// or zombie without one has 0.
func parseStatusRSS(b []byte) (int64, error) { return parseStatusKB(b, "VmRSS:") }

// parseStatusKB returns the line key (e.g. "VmHWM:") of a status file, a
// size in kB, in bytes; 0 when there is no such line.
func parseStatusKB(b []byte, key string) (int64, error) {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte(key))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("%s line %q", key, snippet(line))
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", key, f[0], err)
		}
		return kb << 10, nil
	}
	return 0, nil
}

func snippet(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}
