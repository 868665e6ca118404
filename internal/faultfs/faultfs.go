// Package faultfs is the fault-injection seam of hawk's storage code (the
// WAL check of internal/store and the agent's spool), in the manner of
// pebble's errorfs: the code under test asks an *Injector before each
// file operation, and the Injector's rules make chosen operations fail with
// ENOSPC, EIO or any other error, or cut a write short, at chosen points.
//
// Production code holds a nil *Injector, whose Check lets everything
// through at the cost of one nil test. The package does no I/O itself
// beyond Write, which applies a Check to an os.File write.
package faultfs

import (
	"os"
	"strings"
	"sync"
	"syscall"

	"hawk/internal/rawio"
)

// Op is the kind of file operation a rule matches.
type Op uint8

// Operations the storage code reports to Check.
const (
	OpCreate   Op = iota + 1 // creating or opening a file for writing
	OpWrite                  // a write; n is its length
	OpSync                   // fsync of a file or directory
	OpRename                 // rename; path is the destination
	OpTruncate               // truncation of a file
)

// Errors rules commonly inject.
var (
	ENOSPC error = syscall.ENOSPC
	EIO    error = syscall.EIO
)

// Rule makes matching operations fail. An operation matches when its Op
// equals Op and its path contains PathContains ("" matches every path).
type Rule struct {
	Op           Op
	PathContains string
	// Skip lets the first Skip matching operations through.
	Skip int
	// Budget, for OpWrite, is how many bytes matching writes may still
	// write before they fail: a write that crosses it is cut short at the
	// budget (a short write) and fails. 0 fails every matching write
	// whole. Budget ignores Skip.
	Budget int64
	// Err is the error injected; nil means ENOSPC.
	Err error
}

// Injector applies rules. Its methods are safe for concurrent use; a nil
// *Injector injects nothing.
type Injector struct {
	mu       sync.Mutex
	rules    []*ruleState // guarded by mu
	injected int          // guarded by mu; faults injected so far
}

type ruleState struct {
	Rule
	seen int
}

// New returns an Injector with the given rules.
func New(rules ...Rule) *Injector {
	in := &Injector{}
	in.Set(rules...)
	return in
}

// Set replaces the rules; Set() with none heals the file system.
func (in *Injector) Set(rules ...Rule) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = in.rules[:0]
	for _, r := range rules {
		if r.Err == nil {
			r.Err = ENOSPC
		}
		in.rules = append(in.rules, &ruleState{Rule: r})
	}
}

// Injected returns how many faults the Injector has injected.
func (in *Injector) Injected() int {
	if in == nil {
		return 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.injected
}

// Check reports an operation of n bytes (0 unless OpWrite) on path about to
// happen. It returns how many of the n bytes may be written and the error
// to fail with after writing them, or (n, nil) to let it through.
func (in *Injector) Check(op Op, path string, n int) (int, error) {
	if in == nil {
		return n, nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, r := range in.rules {
		if r.Op != op || !strings.Contains(path, r.PathContains) {
			continue
		}
		if op == OpWrite && r.Budget > 0 {
			if int64(n) <= r.Budget {
				r.Budget -= int64(n)
				continue
			}
			allowed := int(r.Budget)
			r.Budget = -1 // spent: later writes fail whole
			in.injected++
			return allowed, &os.PathError{Op: "write", Path: path, Err: r.Err}
		}
		if r.seen < r.Skip {
			r.seen++
			continue
		}
		in.injected++
		return 0, &os.PathError{Op: opName(op), Path: path, Err: r.Err}
	}
	return n, nil
}

// Fail is Check for an operation that moves no bytes.
func (in *Injector) Fail(op Op, path string) error {
	_, err := in.Check(op, path, 0)
	return err
}

// Write writes b to f as rawio.WriteAll does, after asking in: an injected
// short write writes the allowed prefix and then fails.
func (in *Injector) Write(f *os.File, b []byte) error {
	n, ferr := in.Check(OpWrite, f.Name(), len(b))
	if n > 0 {
		if err := rawio.WriteAll(f, b[:n]); err != nil {
			return err
		}
	}
	return ferr
}

func opName(op Op) string {
	switch op {
	case OpCreate:
		return "open"
	case OpWrite:
		return "write"
	case OpSync:
		return "sync"
	case OpRename:
		return "rename"
	case OpTruncate:
		return "truncate"
	}
	return "op"
}
