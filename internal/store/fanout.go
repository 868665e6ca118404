package store

import (
	"errors"
	"fmt"
	"sync"
)

// slotted is implemented by the sinks of this package: the Series.Ref slots
// a sink uses, so that Fanout can check that no two children share one.
type slotted interface{ refSlots() []int }

func (t *TSDB) refSlots() []int { return []int{t.slot} }

// fanout is a Sink that writes to several sinks.
type fanout struct {
	sinks []Sink
}

// Fanout returns a Sink that appends every sample to each of sinks and
// whose Commit succeeds only when every child's Commit did; the children
// commit in parallel. Each child must cache refs in its own Series.Ref slot
// (TSDBOptions.Slot, RemoteOptions.Slot): Fanout returns an error when two
// of this package's sinks share a slot (other Sink implementations are not
// checked). A single sink is returned as is. Closing the fan-out closes the
// children. It is safe for concurrent use like its children.
func Fanout(sinks ...Sink) (Sink, error) {
	if len(sinks) == 0 {
		return nil, errors.New("store: fanout of no sinks")
	}
	used := map[int]bool{}
	for i, s := range sinks {
		sl, ok := s.(slotted)
		if !ok {
			continue
		}
		for _, slot := range sl.refSlots() {
			if used[slot] {
				return nil, fmt.Errorf("store: fanout: sink %d uses Series.Ref slot %d like an earlier one", i, slot)
			}
			used[slot] = true
		}
	}
	if len(sinks) == 1 {
		return sinks[0], nil
	}
	return &fanout{sinks: sinks}, nil
}

func (f *fanout) refSlots() []int {
	var slots []int
	for _, s := range f.sinks {
		if sl, ok := s.(slotted); ok {
			slots = append(slots, sl.refSlots()...)
		}
	}
	return slots
}

// Appender implements Sink.
func (f *fanout) Appender() Appender {
	apps := make([]Appender, len(f.sinks))
	for i, s := range f.sinks {
		apps[i] = s.Appender()
	}
	return &fanoutAppender{apps: apps}
}

// Close closes every child and returns their errors joined.
func (f *fanout) Close() error {
	errs := make([]error, len(f.sinks))
	for i, s := range f.sinks {
		errs[i] = s.Close()
	}
	return errors.Join(errs...)
}

// fanoutAppender is one transaction on every child.
type fanoutAppender struct {
	apps []Appender // one per child, in the order of Fanout's arguments
}

// Append implements Appender. A child's error that does not wrap
// ErrRejected is returned (the transaction fails; the caller rolls back).
// A sample rejected by some children but stored by another counts as
// stored; only when every child rejected it is an error wrapping
// ErrRejected returned. Each child counts its own rejections.
func (a *fanoutAppender) Append(s *Series, t int64, v float64) error {
	var rejected []error
	for _, app := range a.apps {
		err := app.Append(s, t, v)
		switch {
		case err == nil:
		case errors.Is(err, ErrRejected):
			rejected = append(rejected, err)
		default:
			return err
		}
	}
	if len(rejected) == len(a.apps) {
		return errors.Join(rejected...)
	}
	return nil
}

// Commit implements Appender: it commits every child in parallel and
// returns their errors joined. On error some children may have committed;
// the agent's resend is then deduplicated by those (see doc.go).
func (a *fanoutAppender) Commit() error {
	errs := make([]error, len(a.apps))
	var wg sync.WaitGroup
	for i, app := range a.apps[1:] {
		wg.Go(func() { errs[i+1] = app.Commit() })
	}
	errs[0] = a.apps[0].Commit()
	wg.Wait()
	return errors.Join(errs...)
}

// Rollback implements Appender.
func (a *fanoutAppender) Rollback() error {
	errs := make([]error, len(a.apps))
	for i, app := range a.apps {
		errs[i] = app.Rollback()
	}
	return errors.Join(errs...)
}
