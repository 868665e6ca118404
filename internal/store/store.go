// See doc.go for the package documentation.

package store

import (
	"errors"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
)

// MaxSinks is how many sinks one Series can cache references for; a fan-out
// sink gives each child its own slot.
const MaxSinks = 4

// ErrRejected marks a sample that the sink refused (too old, out of order
// beyond the window, a second value for the same timestamp). A rejected
// sample is counted and dropped: it does not fail the batch. Test with
// errors.Is.
var ErrRejected = errors.New("store: sample rejected")

// Series is one series as a session knows it: its labels and the per-sink
// cache slots that let a sink skip label hashing in the steady state.
// A Series belongs to one session and is used by one goroutine at a time:
// the session's, or that of the session committing a group it is part of.
type Series struct {
	Labels labels.Labels     // the full label set, __name__ included
	Meta   metadata.Metadata // type, unit and help, when the agent sent them

	refs [MaxSinks]uint64 // sink slot i's cached reference; 0 = unresolved
}

// Ref returns the cache slot of the sink with the given slot number. Only
// that sink reads or writes it.
func (s *Series) Ref(slot int) *uint64 { return &s.refs[slot] }

// Sink stores samples. Its methods are safe for concurrent use by many
// sessions; each Appender it returns is used by one goroutine only.
type Sink interface {
	// Appender starts a transaction.
	Appender() Appender
	// Close flushes what is pending and releases the storage.
	Close() error
}

// Appender is one transaction. It must end with Commit or Rollback and is
// not reused afterwards.
type Appender interface {
	// Append adds one sample. An error wrapping ErrRejected drops that
	// sample only; any other error fails the transaction.
	Append(s *Series, t int64, v float64) error
	// Commit makes the samples durable and visible. On error nothing of
	// the transaction can be assumed stored.
	Commit() error
	// Rollback discards the transaction.
	Rollback() error
}
