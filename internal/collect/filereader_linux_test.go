package collect

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A sysfs counter read through a kept handle shows the kernel's current
// value, not the one of the first read.
func TestFileReaderKeptHandleRereads(t *testing.T) {
	const path = "/sys/class/net/lo/statistics/tx_packets"
	var r fileReader
	defer r.closeKept()
	b, err := r.read(path)
	if err != nil {
		t.Skipf("no loopback statistics: %v", err)
	}
	before, ok := parseUint(bytes.TrimSpace(b))
	if !ok {
		t.Fatalf("bad counter %q", b)
	}
	if k, ok := r.kept[path]; !ok || !k.whole {
		t.Fatalf("%s kept as %+v (%v), want kept as a file read whole", path, k, ok)
	}
	// Send a few datagrams over loopback so that the counter moves.
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		if _, err := c.WriteTo([]byte("x"), c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	fd := r.kept[path].fd
	b, err = r.read(path)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := parseUint(bytes.TrimSpace(b))
	if after < before+3 {
		t.Fatalf("tx_packets %d then %d after sending 3 datagrams: the kept handle returned stale content", before, after)
	}
	if r.kept[path].fd != fd {
		t.Fatalf("handle changed from %d to %d: the file was opened again", fd, r.kept[path].fd)
	}
}

// A regular file is opened on every read: one replaced by a rename, as
// os-release is on upgrades, is read anew.
func TestFileReaderRegularFileNotKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "os-release")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var r fileReader
	if b, err := r.read(path); err != nil || string(b) != "old\n" {
		t.Fatalf("read %q, %v", b, err)
	}
	if len(r.kept) != 0 {
		t.Fatalf("regular file kept open: %v", r.kept)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if b, err := r.read(path); err != nil || string(b) != "new\n" {
		t.Fatalf("after rename read %q, %v; want new", b, err)
	}
}

// Kept handles are all closed once keptFor has passed, so a name reused by
// another device is opened afresh.
func TestFileReaderKeptHandlesExpire(t *testing.T) {
	var r fileReader
	defer r.closeKept()
	if _, err := r.read("/proc/loadavg"); err != nil {
		t.Skipf("no /proc/loadavg: %v", err)
	}
	if len(r.kept) != 1 {
		t.Fatalf("kept %d files, want 1", len(r.kept))
	}
	r.keptSince = time.Now().Add(-keptFor - time.Second)
	if _, err := r.read("/proc/stat"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.kept["/proc/loadavg"]; ok || len(r.kept) != 1 {
		t.Fatalf("after keptFor kept = %v; want only /proc/stat", r.kept)
	}
}

// A kept procfs directory, listed again from its start, shows entries
// added since; a directory elsewhere is not kept.
func TestFileReaderKeptDirectory(t *testing.T) {
	var r fileReader
	defer r.closeKept()
	const dir = "/proc/self/fd"
	before, err := r.listDir(dir)
	if err != nil {
		t.Skipf("no %s: %v", dir, err)
	}
	if _, ok := r.kept[dir]; !ok {
		t.Fatalf("%s not kept open", dir)
	}
	f, err := os.Open("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	fd := int(f.Fd())
	after, err := r.listDir(dir)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(after, strconv.Itoa(fd)) {
		t.Fatalf("after opening fd %d the kept directory lists %v (%v before)", fd, after, before)
	}

	tmp := t.TempDir()
	if names, err := r.listDir(tmp); err != nil || len(names) != 0 {
		t.Fatalf("empty dir: %v %v", names, err)
	}
	if _, ok := r.kept[tmp]; ok {
		t.Fatal("a directory outside procfs and sysfs was kept open")
	}
	if err := os.WriteFile(filepath.Join(tmp, "a"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if names, err := r.listDir(tmp); err != nil || len(names) != 1 || names[0] != "a" {
		t.Fatalf("dir with a: %v %v", names, err)
	}
}

// Values under /proc/sys are read whole, like sysfs attributes; other
// procfs files, which may end a read at a record boundary, are not.
func TestFileReaderWholeFiles(t *testing.T) {
	var r fileReader
	defer r.closeKept()
	for path, whole := range map[string]bool{"/proc/sys/kernel/ostype": true, "/proc/meminfo": false} {
		b, err := r.read(path)
		if err != nil {
			t.Skipf("%s: %v", path, err)
		}
		if len(b) == 0 {
			t.Errorf("%s read empty", path)
		}
		if k, ok := r.kept[path]; !ok || k.whole != whole {
			t.Errorf("%s kept as %+v (%v), want whole=%v", path, k, ok, whole)
		}
	}
}

// readChanged reads a mount table once, then again only after a mount. The
// test mounts a tmpfs in a mount namespace of its own, on a thread that is
// never given back, and skips where it may not make one.
func TestFileReaderReadChanged(t *testing.T) {
	runtime.LockOSThread() // never unlocked: the thread ends with the test
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		t.Skipf("no mount namespace: %v", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Skipf("cannot make the mounts private: %v", err)
	}
	const path = "/proc/thread-self/mounts" // self would be the main thread's namespace
	var r fileReader
	defer r.closeKept()
	read := func() (string, bool) {
		b, changed, err := r.readChanged(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), changed
	}
	if b, changed := read(); !changed || b == "" {
		t.Fatalf("first read: changed %v, %d bytes", changed, len(b))
	}
	if _, changed := read(); changed {
		t.Fatal("an unchanged table reported changed")
	}
	dir := t.TempDir()
	if err := unix.Mount("hawktest", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer unix.Unmount(dir, 0) //nolint:errcheck // the namespace goes with the thread
	b, changed := read()
	if !changed || !strings.Contains(b, "hawktest "+dir+" tmpfs") {
		t.Fatalf("after a mount: changed %v, table without it:\n%s", changed, b)
	}
	if _, changed := read(); changed {
		t.Fatal("one change reported twice")
	}
}
