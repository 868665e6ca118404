package bench

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestProcReader(t *testing.T) {
	at := time.Unix(1700000000, 0)
	r := ProcReader{Root: "testdata/proc", Now: func() time.Time { return at }}
	st, err := r.Read(4242)
	if err != nil {
		t.Fatal(err)
	}
	if want := 18010 * time.Millisecond; st.CPU != want || st.RSS != 120456<<10 || st.HWM != 130112<<10 || !st.At.Equal(at) {
		t.Fatalf("got %+v, want cpu %v rss %d hwm %d", st, want, 120456<<10, 130112<<10)
	}
	if _, err := r.Read(1); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("missing process: %v", err)
	}
}

func TestProcSelf(t *testing.T) {
	st, err := ProcReader{}.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 || st.HWM < st.RSS {
		t.Fatalf("rss %d, hwm %d", st.RSS, st.HWM)
	}
}

func TestProcMalformed(t *testing.T) {
	for _, in := range []string{"", "1 (x", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 zz 1"} {
		if _, err := parseStatCPU([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	for _, in := range []string{"VmRSS: 12", "VmRSS: x kB", "VmRSS: 1 MB"} {
		if _, err := parseStatusRSS([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if v, err := parseStatusRSS([]byte("Name: kthreadd\n")); v != 0 || err != nil {
		t.Errorf("kernel thread: %d %v", v, err)
	}
}
