package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

const crashEnv = "HAWK_STORE_CRASH_DIR"

// crashBatches is what the child commits: in-order batches of several
// series, then out-of-order batches (inside the window) of the same series.
const (
	crashSeries  = 50
	crashBatches = 40
)

func crashChildDir() string { return os.Getenv(crashEnv) }

// crashSamples returns batch b's sample for series i. Batches below
// crashBatches are in order (t = 10 h + b s), the rest go back in time.
func crashSamples(b, i int) sample {
	t := 10*hour + int64(b)*1000
	if b >= crashBatches {
		t = 8*hour + int64(b)*1000 // 2 h behind the head: out of order
	}
	return sample{t, float64(b*1000 + i)}
}

func crashSeriesAt(i int) *Series { return newSeries("crash", "i", strconv.Itoa(i)) }

// runCrashChild opens the TSDB in dir, commits 2*crashBatches batches,
// reports on stdout after every Commit, then kills itself with SIGKILL
// before anything could close or flush the DB.
func runCrashChild(dir string) {
	db, err := OpenTSDB(TSDBOptions{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	series := make([]*Series, crashSeries)
	for i := range series {
		series[i] = crashSeriesAt(i)
	}
	out := bufio.NewWriter(os.Stdout)
	for b := range 2 * crashBatches {
		app := db.Appender()
		for i, s := range series {
			smp := crashSamples(b, i)
			if err := app.Append(s, smp.T, smp.V); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
		}
		if err := app.Commit(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Fprintf(out, "committed %d\n", b)
	}
	_ = out.Flush()
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // unreachable: SIGKILL cannot be caught
}

// TestTSDBSurvivesKill9 runs a child process that commits batches and then
// dies by SIGKILL with the DB open, and checks that re-opening the directory
// replays every committed sample, in order and out of order.
func TestTSDBSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: err = %v, want killed; stdout %q", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child exited with %v, want SIGKILL; stderr %q", err, ee.Stderr)
	}
	if want := fmt.Sprintf("committed %d\n", 2*crashBatches-1); len(out) < len(want) ||
		string(out[len(out)-len(want):]) != want {
		t.Fatalf("child did not commit every batch: stdout %q", out)
	}
	db := openTest(t, dir, TSDBOptions{})
	defer db.Close()
	for i := range crashSeries {
		want := make([]sample, 0, 2*crashBatches)
		for b := crashBatches; b < 2*crashBatches; b++ {
			want = append(want, crashSamples(b, i))
		}
		for b := range crashBatches {
			want = append(want, crashSamples(b, i))
		}
		if got := query(t, db, crashSeriesAt(i).Labels); !equalSamples(got, want) {
			t.Fatalf("series %d after kill -9: %d samples %v,\nwant %d %v", i, len(got), got, len(want), want)
		}
	}
}

// TestTSDBDedup appends the very same (series, t, v) again in every way a
// resent batch can and counts what a query returns.
func TestTSDBDedup(t *testing.T) {
	db := openTest(t, t.TempDir(), TSDBOptions{})
	defer db.Close()
	s := newSeries("dedup")
	base := []sample{{10 * hour, 1}, {10*hour + 1000, 2}, {10*hour + 2000, 3}}
	appendCommit(t, db, s, base...)
	want := base

	steps := []struct {
		name string
		add  []sample
	}{
		{"in order, latest sample again", base[2:]},
		{"same sample twice in one batch", []sample{{10*hour + 3000, 4}, {10*hour + 3000, 4}}},
		{"older in-order samples again (OOO path)", base[:2]},
		{"new out-of-order sample", []sample{{9 * hour, 0.5}}},
		{"out-of-order sample again", []sample{{9 * hour, 0.5}}},
		{"whole history again", []sample{{9 * hour, 0.5}, base[0], base[1], base[2], {10*hour + 3000, 4}}},
	}
	for _, st := range steps {
		appendCommit(t, db, s, st.add...)
		switch st.name {
		case "same sample twice in one batch":
			want = append(want, sample{10*hour + 3000, 4})
		case "new out-of-order sample":
			want = append([]sample{{9 * hour, 0.5}}, want...)
		}
		if got := query(t, db, s.Labels); !equalSamples(got, want) {
			t.Fatalf("after %s: query = %v, want %v", st.name, got, want)
		}
	}
	// The WAL holds every duplicate; replay must not resurrect them.
	dir := db.DB().Dir()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := openTest(t, dir, TSDBOptions{})
	defer db2.Close()
	if got := query(t, db2, s.Labels); !equalSamples(got, want) {
		t.Fatalf("after reopen: query = %v, want %v", got, want)
	}
}

// TestTSDBDedupBeyondHeadChunk resends out-of-order samples after they have
// left the OOO head chunk (m-mapped after OutOfOrderCapMax samples) and after
// the head was compacted into a block: the TSDB stores these duplicates
// again, and the query merge must still return each timestamp once.
func TestTSDBDedupBeyondHeadChunk(t *testing.T) {
	db := openTest(t, t.TempDir(), TSDBOptions{})
	defer db.Close()
	s := newSeries("dedup_ooo")
	var inOrder, ooo []sample
	for i := range 200 {
		inOrder = append(inOrder, sample{9*hour + int64(i)*60_000, float64(i)})
	}
	for i := range 100 {
		ooo = append(ooo, sample{7*hour + int64(i)*1000, float64(-i)})
	}
	appendCommit(t, db, s, inOrder...)
	appendCommit(t, db, s, ooo...)
	want := append(append([]sample{}, ooo...), inOrder...)
	check := func(step string) {
		t.Helper()
		if got := query(t, db, s.Labels); !equalSamples(got, want) {
			t.Fatalf("%s: %d samples, want %d", step, len(got), len(want))
		}
	}
	appendCommit(t, db, s, ooo...)
	check("OOO resent after m-map")
	appendCommit(t, db, s, inOrder[:150]...)
	check("in-order resent as OOO")
	// Move the head forward so that compaction cuts a block out of it.
	more := []sample{{13 * hour, 1}}
	appendCommit(t, db, s, more...)
	want = append(want, more...)
	if err := db.DB().Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(db.DB().Blocks()) == 0 {
		t.Fatal("compaction wrote no block")
	}
	appendCommit(t, db, s, ooo...)
	check("OOO resent after compaction")

	// Another value for a compacted timestamp is not detected at append;
	// the query still returns one sample per timestamp.
	appendCommit(t, db, s, sample{ooo[0].T, 12345})
	if got := query(t, db, s.Labels); len(got) != len(want) {
		t.Fatalf("conflicting value: %d samples, want %d", len(got), len(want))
	}
}
