package daemon

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/wlog"

	"hawk/internal/api"
	"hawk/internal/store"
)

// TestStorageStatusReportsWALDamage: a start that salvages a damaged WAL
// segment says so at /api/v1/status/storage (which the fleet page shows),
// and goes on serving.
func TestStorageStatusReportsWALDamage(t *testing.T) {
	dir := t.TempDir()
	db, err := store.OpenTSDB(store.TSDBOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	series := make([]*store.Series, 2000)
	for i := range series {
		series[i] = &store.Series{Labels: labels.FromStrings("__name__", "damage_test", "i", strconv.Itoa(i))}
	}
	for b := range 20 {
		app := db.Appender()
		for i, s := range series {
			if err := app.Append(s, int64(b)*1000, float64(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "chunk_snapshot.*"))
	for _, s := range snaps {
		os.RemoveAll(s) //nolint:errcheck // the WAL alone must then be replayed
	}
	seg := wlog.SegmentName(filepath.Join(dir, "wal"), 0)
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	const page = 32 << 10
	off := len(b)/2/page*page + 1000
	for i := range 8 {
		b[off+i] ^= 0xa5
	}
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}

	d := startDaemon(t, "-data", dir)
	resp, err := http.Get("http://" + d.HTTPAddr().String() + "/api/v1/status/storage")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data api.StorageStatus `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	st := body.Data
	if !st.Accepting || len(st.WAL.DamagedSegments) != 1 || st.WAL.LostRecords == 0 || st.WAL.KeptRecords == 0 ||
		st.WAL.DamagedDir != filepath.Join(dir, store.DamagedDir) {
		t.Fatalf("storage status %+v: want accepting, one damaged segment, records kept and lost, kept in %s", st, filepath.Join(dir, store.DamagedDir))
	}
}
