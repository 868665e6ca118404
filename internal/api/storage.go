package api

import (
	"net/http"
	"time"
)

// StorageStatus is the state of the server's storage, served at
// /api/v1/status/storage and shown on the fleet page: whether samples are
// accepted, and what the write-ahead log checks found since the start.
type StorageStatus struct {
	// Accepting is false while the storage refuses samples: a WAL write
	// failed (a full or failing disk) and the WAL is not yet cut back to
	// its last acknowledged record. Agents keep their data and retry.
	Accepting bool `json:"accepting"`
	// Fault is the failed write's error, and FaultSince its time, while
	// not accepting.
	Fault      string     `json:"fault,omitempty"`
	FaultSince *time.Time `json:"fault_since,omitempty"`
	WAL        WALStatus  `json:"wal"`
}

// WALStatus is what the WAL checks found since the server started.
type WALStatus struct {
	SegmentsChecked int `json:"segments_checked"`
	// TornTails are unacknowledged records cut from segments' ends: normal
	// after a crash or a full disk, nothing acknowledged is lost.
	TornTails int `json:"torn_tails"`
	// DamagedSegments had damage inside; every intact record in them, also
	// after the damage, was kept, and the originals are in DamagedDir.
	DamagedSegments []string `json:"damaged_segments"`
	KeptRecords     int      `json:"kept_records"`
	LostRecords     int      `json:"lost_records"`
	DamagedPages    int      `json:"damaged_pages"`
	DamagedDir      string   `json:"damaged_dir,omitempty"`
}

func (a *API) storageStatus(*http.Request) result {
	st := StorageStatus{Accepting: true}
	if a.opts.Storage != nil {
		st = a.opts.Storage()
	}
	if st.WAL.DamagedSegments == nil {
		st.WAL.DamagedSegments = []string{}
	}
	return result{data: st}
}
