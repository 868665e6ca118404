package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/wlog"

	"hawk/internal/faultfs"
)

const fullEnv = "HAWK_STORE_FULL_DIR"

// fullSeries series per batch make each batch's samples record span
// several 32 KiB WAL pages, so a failed write can tear it in the middle.
const fullSeries = 4000

func fullSeriesAt(i int) *Series { return newSeries("full", "i", strconv.Itoa(i)) }

func fullSample(b, i int) sample {
	return sample{10*hour + int64(b)*1000, float64(b)*1e6 + float64(i)*1.37}
}

// lastSegmentSize returns the size of the newest WAL segment in dir.
func lastSegmentSize(dir string) int64 {
	_, last, err := wlog.Segments(filepath.Join(dir, "wal"))
	if err != nil || last < 0 {
		return 0
	}
	st, err := os.Stat(wlog.SegmentName(filepath.Join(dir, "wal"), last))
	if err != nil {
		return 0
	}
	return st.Size()
}

// runFullDiskChild commits batches to a TSDB in dir while RLIMIT_FSIZE
// makes a WAL write fail part way through a multi-page record, as a full
// disk does; it keeps trying for a while, then lifts the limit (space is
// freed) and commits until 5 more batches are acknowledged, reporting
// "ack b" or "fail b" for every attempt, and kills itself with SIGKILL.
func runFullDiskChild(dir string) {
	signal.Ignore(syscall.SIGXFSZ) // a write past the limit then fails with EFBIG
	die := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	db, err := OpenTSDB(TSDBOptions{Dir: dir})
	if err != nil {
		die(err)
	}
	series := make([]*Series, fullSeries)
	for i := range series {
		series[i] = fullSeriesAt(i)
	}
	out := bufio.NewWriter(os.Stdout)
	commit := func(b int) error {
		app := db.Appender()
		for i, s := range series {
			smp := fullSample(b, i)
			if err := app.Append(s, smp.T, smp.V); err != nil {
				app.Rollback() //nolint:errcheck // the append error is reported
				return err
			}
		}
		return app.Commit()
	}
	b, acked, failed := 0, 0, 0
	try := func() {
		if err := commit(b); err != nil {
			fmt.Fprintf(out, "fail %d %v\n", b, err)
			failed++
		} else {
			fmt.Fprintf(out, "ack %d\n", b)
			acked++
		}
		b++
	}
	for range 3 {
		try()
	}
	// The disk fills 100 bytes into the next page the WAL writes.
	if err := limitFileSize(lastSegmentSize(dir) + 100); err != nil {
		die(err)
	}
	for range 4 {
		try()
	}
	if failed == 0 {
		die(errors.New("no commit failed under the file size limit"))
	}
	if err := limitFileSize(math.MaxInt64); err != nil { // no limit
		die(err)
	}
	// Space is back: retry as agents do, bounded, until 5 more acks.
	deadline := time.Now().Add(30 * time.Second)
	for target := acked + 5; acked < target && time.Now().Before(deadline); {
		try()
		if acked < target {
			time.Sleep(20 * time.Millisecond) // an agent's resend delay, not a wait for a signal
		}
	}
	_ = out.Flush()
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // unreachable
}

// TestTSDBFullDiskNeverAcksAfterTear reproduces issue 16's first defect: a
// WAL write that fails part way through a record leaves a torn record; a
// commit acknowledged after it was lost when a kill -9 made the TSDB's
// repair truncate the WAL at the tear. Every acknowledged batch must be
// there after the restart.
func TestTSDBFullDiskNeverAcksAfterTear(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fullEnv+"="+dir)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: err = %v, want killed; stdout %q", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child exited with %v, want SIGKILL; stderr %q", err, ee.Stderr)
	}
	var acked []int
	fails := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		b, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "ack":
			acked = append(acked, b)
		case "fail":
			fails++
		}
	}
	if fails == 0 || len(acked) < 8 {
		t.Fatalf("child acked %v and failed %d commits, want some failures and 8 acks:\n%s", acked, fails, out)
	}
	db := openTest(t, dir, TSDBOptions{})
	defer db.Close()
	got := countByTime(t, db, "full")
	var missing []string
	for _, b := range acked {
		if n := got[fullSample(b, 0).T]; n != fullSeries {
			missing = append(missing, fmt.Sprintf("batch %d: %d of %d samples", b, n, fullSeries))
		}
	}
	if len(missing) > 0 {
		t.Fatalf("acknowledged batches lost after the failed write and kill -9: %v\nchild:\n%s", missing, out)
	}
}

// countByTime returns how many series of metric name have a sample at
// each timestamp.
func countByTime(t *testing.T, db *TSDB, name string) map[int64]int {
	t.Helper()
	q, err := db.Storage().Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatalf("Querier: %v", err)
	}
	defer q.Close()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", name))
	n := map[int64]int{}
	for set.Next() {
		it := set.At().Iterator(nil)
		for it.Next() != 0 {
			ts, _ := it.At()
			n[ts]++
		}
	}
	if err := set.Err(); err != nil {
		t.Fatalf("Select: %v", err)
	}
	return n
}

// writeBatches commits nb batches of fullSeries series to a TSDB in dir
// and closes it.
func writeBatches(t *testing.T, dir string, nb int) {
	t.Helper()
	db := openTest(t, dir, TSDBOptions{})
	series := make([]*Series, fullSeries)
	for i := range series {
		series[i] = fullSeriesAt(i)
	}
	for b := range nb {
		app := db.Appender()
		for i, s := range series {
			smp := fullSample(b, i)
			if err := app.Append(s, smp.T, smp.V); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// Kill-like: leave the WAL as the commits wrote it, no snapshot.
	db.mu.Lock()
	walDir := filepath.Join(dir, "wal")
	db.mu.Unlock()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "chunk_snapshot.0000.0000000000")) //nolint:errcheck // see below
	snaps, _ := filepath.Glob(filepath.Join(dir, "chunk_snapshot.*"))
	for _, s := range snaps {
		if err := os.RemoveAll(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(walDir); err != nil {
		t.Fatal(err)
	}
}

// TestTSDBFlippedBytesKeepsLaterRecords flips 8 bytes in the middle of a
// WAL segment. The TSDB's own repair dropped everything after them; now
// only the records on the damaged page may be lost, the damage is
// reported, and the original segment is kept in wal-damaged/.
func TestTSDBFlippedBytesKeepsLaterRecords(t *testing.T) {
	dir := t.TempDir()
	const nb = 30
	writeBatches(t, dir, nb)
	seg := wlog.SegmentName(filepath.Join(dir, "wal"), 0)
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 8*walPageSize {
		t.Fatalf("segment has %d bytes, want several pages", len(b))
	}
	off := len(b)/2/walPageSize*walPageSize + 1000
	for i := range 8 {
		b[off+i] ^= 0xa5
	}
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openTest(t, dir, TSDBOptions{})
	defer db.Close()
	chk := db.WALCheck()
	if len(chk.Damaged) != 1 || chk.DamagedPages != 1 || chk.LostRecords == 0 {
		t.Fatalf("WALCheck = %+v, want 1 damaged segment, 1 page, some records lost", chk)
	}
	if st := db.Status(); !st.Accepting || st.Fault != "" || len(st.WAL.Damaged) != 1 || st.DamagedDir != filepath.Join(dir, DamagedDir) {
		t.Fatalf("Status = %+v, want accepting, the damage, and %s", st, filepath.Join(dir, DamagedDir))
	}
	kept, _ := filepath.Glob(filepath.Join(dir, DamagedDir, "wal-00000000-*"))
	if len(kept) != 1 {
		t.Fatalf("damaged original not kept: %v", kept)
	}
	got := countByTime(t, db, "full")
	var lost []int
	for bt := range nb {
		if got[fullSample(bt, 0).T] != fullSeries {
			lost = append(lost, bt)
		}
	}
	// The bound: the records with a fragment on the damaged page. A batch
	// is one samples record of ~3 pages, so at most 2 batches.
	if len(lost) > 2 {
		t.Fatalf("lost batches %v after 8 flipped bytes at %d, want at most the 2 on the damaged page", lost, off)
	}
	if last := fullSample(nb-1, 0).T; got[last] != fullSeries {
		t.Fatalf("last batch lost: %d of %d samples", got[last], fullSeries)
	}
	t.Logf("8 bytes flipped at offset %d of %d: %d batches of %d lost (%v), WALCheck %+v", off, len(b), len(lost), nb, lost, chk)
}

// TestCheckWALNoSpaceChangesNothing: a salvage that cannot write its copy
// (ENOSPC, or a short write then ENOSPC) leaves the segment as it was and
// fails, so the TSDB is not opened (its repair would delete data); once
// space is back the open succeeds and keeps the later records.
func TestCheckWALNoSpaceChangesNothing(t *testing.T) {
	for _, rule := range []faultfs.Rule{
		{Op: faultfs.OpWrite, PathContains: ".salvage", Err: faultfs.ENOSPC},
		{Op: faultfs.OpWrite, PathContains: ".salvage", Budget: 3*walPageSize + 17, Err: faultfs.ENOSPC},
		{Op: faultfs.OpSync, PathContains: ".salvage", Err: faultfs.EIO},
		{Op: faultfs.OpRename, PathContains: "wal", Err: faultfs.EIO},
	} {
		t.Run(fmt.Sprintf("op%d-budget%d", rule.Op, rule.Budget), func(t *testing.T) {
			dir := t.TempDir()
			writeBatches(t, dir, 12)
			seg := wlog.SegmentName(filepath.Join(dir, "wal"), 0)
			b, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			off := walPageSize*2 + 500
			for i := range 8 {
				b[off+i] ^= 0xff
			}
			if err := os.WriteFile(seg, b, 0o644); err != nil {
				t.Fatal(err)
			}
			fault := faultfs.New(rule)
			if db, err := OpenTSDB(TSDBOptions{Dir: dir, Fault: fault}); err == nil {
				db.Close()
				t.Fatal("OpenTSDB succeeded although the salvage could not be written")
			}
			if fault.Injected() == 0 {
				t.Fatal("no fault injected")
			}
			after, err := os.ReadFile(seg)
			if err != nil || string(after) != string(b) {
				t.Fatalf("segment changed by a failed salvage (err %v)", err)
			}
			if left, _ := filepath.Glob(seg + ".salvage"); len(left) != 0 {
				t.Fatalf("partial copy left: %v", left)
			}
			fault.Set()
			db := openTest(t, dir, TSDBOptions{Dir: dir, Fault: fault})
			defer db.Close()
			got := countByTime(t, db, "full")
			if last := fullSample(11, 0).T; got[last] != fullSeries {
				t.Fatalf("last batch: %d of %d samples after the salvage", got[last], fullSeries)
			}
		})
	}
}

// TestScanSegmentTornTail: a segment cut anywhere (a write stopped by a
// full disk) is either clean to the TSDB's own reader or found torn by
// scanSegment, never damaged, and cutting at cleanEnd makes it clean. A
// first version missed a new record's fragment cut by the end of the file:
// the TSDB's repair then deleted later segments (caught by diskfull.sh).
func TestScanSegmentTornTail(t *testing.T) {
	dir := t.TempDir()
	writeBatches(t, dir, 4)
	b, err := os.ReadFile(wlog.SegmentName(filepath.Join(dir, "wal"), 0))
	if err != nil {
		t.Fatal(err)
	}
	full, err := scanSegment(strings.NewReader(string(b)), nil)
	if err != nil || full.damageAt >= 0 {
		t.Fatalf("clean segment: %+v, %v", full, err)
	}
	cutDir := t.TempDir()
	seg := wlog.SegmentName(cutDir, 0)
	torn := 0
	for cut := len(b) - 1; cut > 0; cut -= 997 {
		sc, err := scanSegment(strings.NewReader(string(b[:cut])), nil)
		if err != nil {
			t.Fatal(err)
		}
		if sc.afterDamage != 0 || sc.badPages != 0 || sc.records > full.records {
			t.Fatalf("cut at %d: %+v", cut, sc)
		}
		end := int64(cut)
		if sc.damageAt >= 0 {
			torn++
			end = sc.cleanEnd
		}
		if err := os.WriteFile(seg, b[:end], 0o644); err != nil {
			t.Fatal(err)
		}
		if err := wlogReads(cutDir); err != nil {
			t.Fatalf("cut at %d, scan %+v: the TSDB's reader fails at %d: %v", cut, sc, end, err)
		}
	}
	if torn == 0 {
		t.Fatal("no cut was detected as a torn tail")
	}
}

// wlogReads reads segment 0 of dir with the TSDB's WAL reader.
func wlogReads(dir string) error {
	sr, err := wlog.NewSegmentsRangeReader(wlog.SegmentRange{Dir: dir, First: 0, Last: 0})
	if err != nil {
		return err
	}
	defer sr.Close()
	r := wlog.NewReader(sr)
	for r.Next() {
	}
	return r.Err()
}
