package api

import (
	"testing"
	"time"
)

func TestStorageStatus(t *testing.T) {
	// No storage status source: a storage that accepts and found nothing.
	expect(t, newTestServer(t), "/api/v1/status/storage", nil, 200,
		`{"status":"success","data":{"accepting":true,"wal":{"segments_checked":0,"torn_tails":0,"damaged_segments":[],
		"kept_records":0,"lost_records":0,"damaged_pages":0}}}`)

	since := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	srv := newTestServerWith(t, func(o *Options) {
		o.Storage = func() StorageStatus {
			return StorageStatus{Accepting: false, Fault: "write /data/wal/00000003: no space left on device", FaultSince: &since,
				WAL: WALStatus{SegmentsChecked: 6, DamagedSegments: []string{"/data/wal/00000001"}, KeptRecords: 15, LostRecords: 2,
					DamagedPages: 1, DamagedDir: "/data/wal-damaged"}}
		}
	})
	expect(t, srv, "/api/v1/status/storage", nil, 200,
		`{"status":"success","data":{"accepting":false,"fault":"write /data/wal/00000003: no space left on device",
		"fault_since":"2026-12-06T10:00:00Z","wal":{"segments_checked":6,"torn_tails":0,"damaged_segments":["/data/wal/00000001"],
		"kept_records":15,"lost_records":2,"damaged_pages":1,"damaged_dir":"/data/wal-damaged"}}}`)
}
