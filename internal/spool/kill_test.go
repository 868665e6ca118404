//go:build unix

package spool

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// killChildEnv names the spool dir when the test binary runs as the child
// of TestKill9.
const killChildEnv = "HAWK_SPOOL_KILL_CHILD_DIR"

const (
	killPayloadMax = 3000
	killSegSize    = 16 << 10 // small, so kills land on rotations and deletions too
)

// TestKill9Child is the child of TestKill9, not a test of its own. It
// appends with Sync on, printing "append SEQ" once each Append has
// returned and "ack SEQ" once each Ack has returned, until it is killed.
// It stops by itself after 100000 appends or 60 s, should the parent die.
func TestKill9Child(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("only run as TestKill9's child")
	}
	s, err := Open(dir, Options{Sync: true, SegmentSize: killSegSize})
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	defer s.Close()
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; i < 100_000 && time.Now().Before(deadline); i++ {
		want := s.Stats().NextSeq // this goroutine is the only writer
		seq, err := s.Append(payloadFor(want, killPayloadMax))
		if err != nil || seq != want {
			t.Fatalf("child: Append = %d, %v; want seq %d", seq, err, want)
		}
		if _, err := fmt.Fprintf(os.Stdout, "append %d\n", seq); err != nil {
			t.Fatalf("child: %v", err)
		}
		if seq%37 == 0 {
			if err := s.Ack(seq - 30); err != nil {
				t.Fatalf("child: Ack: %v", err)
			}
			if _, err := fmt.Fprintf(os.Stdout, "ack %d\n", seq-30); err != nil {
				t.Fatalf("child: %v", err)
			}
		}
	}
}

// TestKill9 runs TestKill9Child in a child process and SIGKILLs it at
// seeded random moments, then checks that every record the child saw
// Append return for (and did not see acknowledged) is present, intact and in
// order, and that no sequence number is ever handed out twice.
func TestKill9(t *testing.T) {
	const seed = 20261126
	rounds, budget := 100, 90*time.Second
	if testing.Short() {
		rounds, budget = 8, 20*time.Second
	}
	rng := rand.New(rand.NewPCG(seed, 9))
	dir := t.TempDir()
	var (
		reported []uint64 // every seq a child reported appended, all rounds
		acked    uint64   // highest ack a child reported
		nextMin  uint64   = 1
		start             = time.Now()
		done     int
		torn     int // rounds whose kill tore a record
	)
	for round := range rounds {
		if time.Since(start) > budget {
			break
		}
		killAfter := 1 + rng.IntN(120) // lines read before the kill
		if rng.IntN(10) == 0 {
			killAfter = 0 // kill during start-up and recovery
		}
		apps, acks, stderr := runAndKill(t, dir, killAfter)
		for i, seq := range apps {
			if seq < nextMin || i > 0 && seq <= apps[i-1] {
				t.Fatalf("round %d: child appended seq %d; sequence must be >= %d and increasing (stderr %q)",
					round, seq, nextMin, stderr)
			}
		}
		reported = append(reported, apps...)
		for _, a := range acks {
			acked = max(acked, a)
		}
		var st Stats
		nextMin, st = verifyAfterKill(t, round, dir, reported, acked)
		torn += int(st.Truncated)
		done++
	}
	if done < min(rounds, 10) {
		t.Fatalf("only %d rounds in %v", done, budget)
	}
	t.Logf("%d kill -9 rounds (%d tore a record), %d appends reported, last ack %d, %v",
		done, torn, len(reported), acked, time.Since(start))
}

// runAndKill starts the child, kills it after it reported killAfter lines,
// and returns the sequence numbers it reported appended and acknowledged.
func runAndKill(t *testing.T, dir string, killAfter int) (apps, acks []uint64, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Errorf("kill: %v", err)
			}
		}
	}
	if killAfter == 0 {
		kill()
	}
	var chatter bytes.Buffer
	sc := bufio.NewScanner(out)
	lines := 0
	for sc.Scan() { // ends at EOF: the child is dead
		kind, num, ok := strings.Cut(sc.Text(), " ")
		seq, perr := strconv.ParseUint(num, 10, 64)
		if !ok || perr != nil {
			fmt.Fprintln(&chatter, sc.Text()) // test framework output, failures included
			continue
		}
		switch kind {
		case "append":
			apps = append(apps, seq)
		case "ack":
			acks = append(acks, seq)
		}
		if lines++; lines >= killAfter {
			kill()
		}
	}
	kill() // the child exited early or the pipe failed: make sure it is gone
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("child was not killed: %v; output:\n%s\nstderr:\n%s", err, chatter.String(), errBuf.String())
	}
	return apps, acks, errBuf.String()
}

// verifyAfterKill opens the spool as the next agent would and checks it
// against what the children reported. It returns the lowest sequence number
// the next child may use, and the recovery's Stats.
func verifyAfterKill(t *testing.T, round int, dir string, reported []uint64, acked uint64) (uint64, Stats) {
	t.Helper()
	s, err := Open(dir, Options{Sync: true, SegmentSize: killSegSize})
	if err != nil {
		t.Fatalf("round %d: Open: %v", round, err)
	}
	defer s.Close()
	st := s.Stats()
	if st.Corrupt != 0 || st.LastAcked < acked {
		t.Fatalf("round %d: Stats %+v, reported ack %d", round, st, acked)
	}
	got := readAll(t, s, 0)
	present := make(map[uint64]bool, len(got))
	for i, r := range got {
		if i > 0 && r.seq <= got[i-1].seq {
			t.Fatalf("round %d: records out of order: %d after %d", round, r.seq, got[i-1].seq)
		}
		if !bytes.Equal(r.payload, payloadFor(r.seq, killPayloadMax)) {
			t.Fatalf("round %d: seq %d: payload differs", round, r.seq)
		}
		present[r.seq] = true
	}
	for _, seq := range reported {
		if seq > st.LastAcked && !present[seq] {
			t.Fatalf("round %d: seq %d was appended (Sync) but is missing; acked %d", round, seq, st.LastAcked)
		}
	}
	if n := len(reported); n > 0 && st.NextSeq <= reported[n-1] {
		t.Fatalf("round %d: NextSeq %d would reuse reported seq %d", round, st.NextSeq, reported[n-1])
	}
	return st.NextSeq, st
}
