//go:build linux

package rawio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// bothWays runs f with raw calls on and then off.
func bothWays(t *testing.T, f func(t *testing.T)) {
	for _, on := range []bool{true, false} {
		name := "ordinary"
		if on {
			name = "raw"
		}
		t.Run(name, func(t *testing.T) {
			was := SetRaw(on)
			defer SetRaw(was)
			if Raw() != (on && rawSupported) {
				t.Fatalf("Raw() = %v after SetRaw(%v)", Raw(), on)
			}
			f(t)
		})
	}
}

// statfs and statx agree with the ordinary calls of package unix, and
// report a missing path as such.
func TestStatCalls(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		var got, want unix.Statfs_t
		if err := Statfs("/", &got); err != nil {
			t.Fatal(err)
		}
		if err := unix.Statfs("/", &want); err != nil {
			t.Fatal(err)
		}
		if got.Type != want.Type || got.Blocks != want.Blocks || got.Bsize != want.Bsize {
			t.Errorf("statfs of / %+v, unix.Statfs %+v", got, want)
		}
		if err := Statfs(filepath.Join(t.TempDir(), "absent"), &got); err != unix.ENOENT {
			t.Errorf("statfs of an absent path: %v", err)
		}
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, []byte("12345"), 0o644); err != nil {
			t.Fatal(err)
		}
		var stx unix.Statx_t
		if err := Statx(path, &stx); err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		if stx.Size != 5 || stx.Ino != st.Ino || stx.Mtime.Sec != int64(st.Mtim.Sec) || int64(stx.Mtime.Nsec) != int64(st.Mtim.Nsec) {
			t.Errorf("statx %+v, stat %+v", stx, st)
		}
	})
}

// Open, Pread, Fstat, Fstatfs, SeekStart, Getdents and Close on files
// and a directory of procfs and a regular file.
func TestFileCalls(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		dir := t.TempDir()
		for _, name := range []string{"a", "b"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("hawk "+name), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		fd, err := Open(append([]byte(filepath.Join(dir, "a")), 0))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		if n, err := Pread(fd, buf, 2); err != nil || string(buf[:n]) != "wk a" {
			t.Errorf("pread at 2: %q, %v", buf[:n], err)
		}
		var st unix.Stat_t
		if err := Fstat(fd, &st); err != nil || st.Size != 6 {
			t.Errorf("fstat: size %d, %v", st.Size, err)
		}
		Close(fd)
		if _, err := Open([]byte("/nonexistent/hawk\x00")); err != unix.ENOENT {
			t.Errorf("open of a missing file: %v", err)
		}

		fd, err = Open([]byte("/proc/self/task\x00"))
		if err != nil {
			t.Fatal(err)
		}
		defer Close(fd)
		var sfs unix.Statfs_t
		if err := Fstatfs(fd, &sfs); err != nil || sfs.Type != unix.PROC_SUPER_MAGIC {
			t.Errorf("fstatfs of /proc/self/task: type %#x, %v", sfs.Type, err)
		}
		count := func() int {
			n, err := Getdents(fd, make([]byte, 1<<16))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if first := count(); first == 0 {
			t.Fatal("getdents of /proc/self/task read nothing")
		} else if again := count(); again != 0 {
			t.Fatalf("getdents at the end read %d bytes", again)
		} else if err := SeekStart(fd); err != nil {
			t.Fatal(err)
		} else if after := count(); after == 0 {
			t.Fatal("getdents after SeekStart read nothing")
		}
	})
}

// Writes and reads on a non-blocking socket, setsockopt, and a recv that
// would block.
func TestSocketCalls(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[0])
		defer unix.Close(fds[1])
		buf := make([]byte, 16)
		if _, errno := RecvNB(fds[1], buf); errno != unix.EAGAIN {
			t.Errorf("recv on an empty socket: %v", errno)
		}
		if n, errno := WriteNB(uintptr(fds[0]), []byte("ping")); n != 4 || errno != 0 {
			t.Fatalf("write: %d, %v", n, errno)
		}
		if n, errno := ReadNB(uintptr(fds[1]), buf); n != 4 || errno != 0 || !bytes.Equal(buf[:4], []byte("ping")) {
			t.Fatalf("read: %q, %v", buf[:n], errno)
		}
		if errno := SetsockoptInt32(uintptr(fds[1]), unix.SOL_SOCKET, unix.SO_RCVLOWAT, 100); errno != 0 {
			t.Fatal(errno)
		}
		if v, err := unix.GetsockoptInt(fds[1], unix.SOL_SOCKET, unix.SO_RCVLOWAT); err != nil || v != 100 {
			t.Errorf("SO_RCVLOWAT after setsockopt: %d, %v", v, err)
		}
		if PollPri(fds[1]) {
			t.Error("PollPri on a socket without urgent data reported a change")
		}
		var tx unix.Timex
		if _, err := Adjtimex(&tx); err != nil {
			t.Errorf("adjtimex: %v", err)
		}
	})
}
