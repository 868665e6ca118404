package store

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TSDB and remote both get every sample; each caches in its own slot.
func TestFanoutTSDBAndRemote(t *testing.T) {
	rc := newReceiver(t)
	db := openTest(t, t.TempDir(), TSDBOptions{Slot: 0})
	r, _ := openRemote(t, RemoteOptions{URL: rc.url(), Slot: 1})
	f, err := Fanout(db, r)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	series := testSeries("fan", 3)
	for c := range 3 {
		if err := commitSamples(f, series, int64(c*10), 10); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	_, got, _ := rc.stats()
	for j, s := range series {
		var want []sample
		for c := range 3 {
			want = append(want, wantSamples(int64(c*10), j, 10)...)
		}
		assertSamples(t, got[s.Labels.String()], want)
		assertSamples(t, query(t, db, s.Labels), want)
		if *s.Ref(0) == 0 || *s.Ref(1) != s.Labels.Hash() {
			t.Errorf("slots = %d, %d: want a TSDB ref in 0 and the hash in 1", *s.Ref(0), *s.Ref(1))
		}
	}
}

// The remote failing fails the fan-out's Commit although the TSDB stored
// the samples; the agent resends and the TSDB deduplicates the resend.
func TestFanoutCommitFailsIfOneFails(t *testing.T) {
	rc := newReceiver(t)
	fail := true
	rc.respond = func(int, http.Header) int {
		if fail {
			return http.StatusUnauthorized
		}
		return http.StatusNoContent
	}
	db := openTest(t, t.TempDir(), TSDBOptions{Slot: 0})
	r, _ := openRemote(t, RemoteOptions{URL: rc.url(), Slot: 2})
	f, err := Fanout(db, r)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	series := testSeries("fanfail", 2)
	if err := commitSamples(f, series, 0, 4); err == nil {
		t.Fatal("Commit succeeded though the remote refused with 401")
	}
	rc.mu.Lock()
	fail = false
	rc.mu.Unlock()
	if err := commitSamples(f, series, 0, 4); err != nil { // the agent's resend
		t.Fatalf("resend: %v", err)
	}
	_, got, _ := rc.stats()
	for j, s := range series {
		assertSamples(t, query(t, db, s.Labels), wantSamples(0, j, 4))
		assertSamples(t, got[s.Labels.String()], wantSamples(0, j, 4))
	}
}

func TestFanoutRejectsSharedSlot(t *testing.T) {
	db := openTest(t, t.TempDir(), TSDBOptions{Slot: 1})
	defer db.Close()
	r, _ := openRemote(t, RemoteOptions{URL: "http://127.0.0.1:1/w", Slot: 1})
	if _, err := Fanout(db, r); err == nil || !strings.Contains(err.Error(), "slot 1") {
		t.Fatalf("Fanout with a shared slot = %v, want an error naming slot 1", err)
	}
	r2, _ := openRemote(t, RemoteOptions{URL: "http://127.0.0.1:1/w", Slot: 2})
	inner, err := Fanout(db, r2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Fanout(inner, r); err == nil {
		t.Fatal("nested Fanout with a shared slot succeeded")
	}
	if _, err := Fanout(); err == nil {
		t.Fatal("Fanout() succeeded")
	}
	if s, err := Fanout(db); err != nil || s != Sink(db) {
		t.Fatalf("Fanout(db) = %v, %v; want db itself", s, err)
	}
}

// fakeSink records calls and returns the given errors.
type fakeSink struct {
	appendErr, commitErr error
	commits, rollbacks   int
	closed               bool
}

func (s *fakeSink) Appender() Appender { return &fakeApp{s} }
func (s *fakeSink) Close() error       { s.closed = true; return nil }

type fakeApp struct{ s *fakeSink }

func (a *fakeApp) Append(*Series, int64, float64) error { return a.s.appendErr }
func (a *fakeApp) Commit() error                        { a.s.commits++; return a.s.commitErr }
func (a *fakeApp) Rollback() error                      { a.s.rollbacks++; return nil }

func TestFanoutAppendErrors(t *testing.T) {
	rejected := errors.Join(ErrRejected, errors.New("too old"))
	broken := errors.New("disk gone")
	cases := []struct {
		name         string
		a, b         error
		wantRejected bool
		wantErr      error
	}{
		{"both ok", nil, nil, false, nil},
		{"one rejects", rejected, nil, false, nil},
		{"both reject", rejected, rejected, true, nil},
		{"one fails", nil, broken, false, broken},
		{"reject and fail", rejected, broken, false, broken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := &fakeSink{appendErr: c.a}, &fakeSink{appendErr: c.b}
			f, err := Fanout(a, b)
			if err != nil {
				t.Fatal(err)
			}
			err = f.Appender().Append(newSeries("x"), 1, 1)
			if got := errors.Is(err, ErrRejected); got != c.wantRejected {
				t.Errorf("Append = %v; rejected %v, want %v", err, got, c.wantRejected)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("Append = %v, want %v", err, c.wantErr)
			}
			if c.wantErr == nil && !c.wantRejected && err != nil {
				t.Errorf("Append = %v, want nil", err)
			}
		})
	}
}

func TestFanoutCommitRollbackClose(t *testing.T) {
	broken := errors.New("remote down")
	a, b, c := &fakeSink{}, &fakeSink{commitErr: broken}, &fakeSink{}
	f, err := Fanout(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Appender().Commit(); !errors.Is(err, broken) {
		t.Fatalf("Commit = %v, want %v", err, broken)
	}
	if a.commits != 1 || b.commits != 1 || c.commits != 1 {
		t.Fatalf("commits = %d %d %d, want 1 each", a.commits, b.commits, c.commits)
	}
	if err := f.Appender().Rollback(); err != nil {
		t.Fatal(err)
	}
	if a.rollbacks != 1 || b.rollbacks != 1 || c.rollbacks != 1 {
		t.Fatalf("rollbacks = %d %d %d, want 1 each", a.rollbacks, b.rollbacks, c.rollbacks)
	}
	if err := f.Close(); err != nil || !a.closed || !b.closed || !c.closed {
		t.Fatalf("Close = %v, closed %v %v %v", err, a.closed, b.closed, c.closed)
	}
}
