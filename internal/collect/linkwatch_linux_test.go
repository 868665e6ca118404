package collect

import (
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// A linkWatch reports a change to an interface once, then nothing until
// the next change. The test runs in a network namespace of its own, on a
// thread that is never given back (the namespace dies with it), and skips
// where it may not make one.
func TestLinkWatch(t *testing.T) {
	// Never unlocked: when the test's goroutine ends, so does the thread.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Skipf("no network namespace: %v", err)
	}
	w := newLinkWatch()
	if w == nil {
		t.Fatal("no netlink socket")
	}
	if w.changed() {
		t.Fatal("a change reported before any was made")
	}
	setLoopbackUp(t, true)
	if !w.changed() {
		t.Fatal("bringing lo up was not reported")
	}
	if w.changed() {
		t.Fatal("one change reported twice")
	}
	setLoopbackUp(t, false)
	if !w.changed() {
		t.Fatal("bringing lo down was not reported")
	}
}

// setLoopbackUp sets or clears IFF_UP on lo, in the calling thread's
// network namespace. The kernel has sent its notification when the ioctl
// returns.
func setLoopbackUp(t *testing.T, up bool) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	req, err := unix.NewIfreq("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, req); err != nil {
		t.Fatal(err)
	}
	flags := req.Uint16()
	if up {
		flags |= unix.IFF_UP
	} else {
		flags &^= unix.IFF_UP
	}
	req.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, req); err != nil {
		t.Fatal(err)
	}
}

// With a watch, netclass reuses every attribute until the kernel announces
// a change, then reads them all.
func TestNetclassWatch(t *testing.T) {
	runtime.LockOSThread() // as in TestLinkWatch
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Skipf("no network namespace: %v", err)
	}
	cfg := fixtureConfig(t)
	cfg.SysPath = t.TempDir()
	dir := filepath.Join(cfg.SysPath, "class", "net", "eth9")
	for f, v := range map[string]string{"operstate": "up\n", "mtu": "1500\n", "carrier_changes": "2\n"} {
		writeFile(t, filepath.Join(dir, f), v)
	}
	s := only(t, cfg, "netclass")
	nc := s.entries[0].c.(*netclassCollector)
	if nc.watch != nil {
		t.Fatal("a watch on a fixture root")
	}
	if nc.watch = newLinkWatch(); nc.watch == nil {
		t.Fatal("no netlink socket")
	}
	samples(s)
	writeFile(t, filepath.Join(dir, "mtu"), "9000\n")
	writeFile(t, filepath.Join(dir, "carrier_changes"), "3\n")
	writeFile(t, filepath.Join(dir, "operstate"), "down\n")
	got := samples(s)
	check(t, got, "node_network_mtu_bytes", `device="eth9"`, Gauge, 1500)
	check(t, got, "node_network_carrier_changes_total", `device="eth9"`, Counter, 2)
	check(t, got, "node_network_up", `device="eth9"`, Gauge, 1)
	setLoopbackUp(t, true)
	got = samples(s)
	check(t, got, "node_network_mtu_bytes", `device="eth9"`, Gauge, 9000)
	check(t, got, "node_network_carrier_changes_total", `device="eth9"`, Counter, 3)
	check(t, got, "node_network_up", `device="eth9"`, Gauge, 0)
}
