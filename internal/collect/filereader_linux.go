package collect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"hawk/internal/rawio"
)

// fileReader reads whole small files into one reused buffer with plain
// system calls, so that a steady-state read does not allocate (os.Open
// allocates a File and tries to register it with the poller).
//
// Files of procfs and sysfs are kept open between reads and read again from
// offset 0 with pread, which makes the kernel generate their content anew:
// opening walks the path (costly in sysfs, more so in a VM) and is most of
// what reading a one-line attribute costs. Regular files (os-release, test
// fixtures) are opened on every read, since they may be replaced by a rename.
// A kept file that fails to read (its device is gone) is closed and opened
// again by name; every keptFor all kept files are closed, so that a name
// reused by another device is not read through an old handle for long and
// handles of vanished devices do not pile up.
type fileReader struct {
	buf  []byte // grows to the largest file read and is kept
	path []byte // NUL-terminated path of the current call

	kept      map[string]keptFile // by path
	keptSince time.Time           // when kept was last emptied

	dents []byte   // getdents buffer of eachDirent
	names []string // result of listDir
	strs  strcache // names listDir returned

	// mayBlock is set for readers of driver-backed files (hwmon sensors,
	// batteries behind ACPI), whose read may sleep for milliseconds, and of
	// regular files, which may sit on a slow disk. Other readers make raw
	// system calls (open, read, getdents, close): procfs and sysfs make
	// their content in memory, in microseconds. A raw call spares the Go
	// scheduler's hand-off of the thread's P during the call, which with
	// the agent's single P woke a second thread for nearly every read, and
	// it does not wake the runtime's monitor thread, which, once awake,
	// polls every 20 µs until the collection ends (see Set.Collect).
	mayBlock bool
}

// keptFile is a file kept open.
type keptFile struct {
	fd int
	// Shown whole by one read into a buffer large enough, so a short read
	// is the end and the read that would return 0 is spared: sysfs
	// attributes (at most a page) and the values under /proc/sys, which
	// the kernel formats in full before copying any of it. A read of
	// other procfs files (seq_file) may stop short of the end at a record
	// boundary.
	whole bool
}

const (
	keptFor = 10 * time.Minute
	maxKept = 256 // per reader; past it files are opened on every read
)

// statfs magic numbers of the pseudo filesystems whose files are kept open.
const (
	procSuperMagic = 0x9fa0
	sysfsMagic     = 0x62656572
)

// open opens the concatenation of parts read-only.
func (r *fileReader) open(parts []string) (int, error) {
	r.setPath(parts)
	return r.openPath()
}

// setPath sets r.path to the concatenation of parts, NUL-terminated, and
// returns it without the NUL.
func (r *fileReader) setPath(parts []string) []byte {
	r.path = r.path[:0]
	for _, p := range parts {
		r.path = append(r.path, p...)
	}
	r.path = append(r.path, 0)
	return r.path[:len(r.path)-1]
}

// openPath opens r.path, which holds a NUL-terminated path.
func (r *fileReader) openPath() (int, error) {
	open := rawio.Open
	if r.mayBlock {
		open = openBlocking
	}
	fd, err := open(r.path)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: string(r.path[:len(r.path)-1]), Err: err}
	}
	return fd, nil
}

// openBlocking is rawio.Open as an ordinary system call, for files that
// may sit on a slow device.
func openBlocking(path []byte) (int, error) {
	for {
		fd, err := unix.Open(string(path[:len(path)-1]), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// exists reports whether the file or directory named by the concatenation
// of parts can be opened.
func (r *fileReader) exists(parts ...string) bool {
	fd, err := r.open(parts)
	if err != nil {
		return false
	}
	r.close(fd)
	return true
}

// read returns the content of the file whose path is the concatenation of
// parts. The slice is valid until the next call.
func (r *fileReader) read(parts ...string) ([]byte, error) {
	name := r.setPath(parts)
	r.expire()
	if k, ok := r.kept[string(name)]; ok {
		b, err := r.readFD(k.fd, !r.mayBlock, k.whole)
		if !isGone(err) {
			return b, err // an attribute may refuse to show (EINVAL) and still be there
		}
		// The file went away under the handle (its device was removed):
		// forget it and try the name afresh.
		delete(r.kept, string(name))
		r.close(k.fd)
	}
	fd, err := r.openPath()
	if err != nil {
		return nil, err
	}
	b, err := r.readFD(fd, !r.mayBlock, false)
	if isGone(err) || !r.keep(string(name), fd) {
		r.close(fd)
	}
	return b, err
}

// close closes fd, with a raw system call unless r.mayBlock.
func (r *fileReader) close(fd int) {
	if r.mayBlock {
		unix.Close(fd)
		return
	}
	rawio.Close(fd)
}

// getdents is unix.Getdents, with a raw system call unless r.mayBlock.
func (r *fileReader) getdents(fd int, buf []byte) (int, error) {
	if r.mayBlock {
		return unix.Getdents(fd, buf)
	}
	return rawio.Getdents(fd, buf)
}

// readChanged reads a file whose poll(2) tells of changes, as the mount
// tables in /proc do (POLLPRI once the table changed since the last poll).
// If the file is kept open and poll reports no change, it returns changed
// false and no content: what was read last still holds. A file just
// opened (the first read, or after keptFor) is read. For files without
// that poll behaviour, use read: their poll never reports a change.
func (r *fileReader) readChanged(parts ...string) (b []byte, changed bool, err error) {
	name := r.setPath(parts)
	r.expire()
	if k, ok := r.kept[string(name)]; ok && !r.mayBlock && !rawio.PollPri(k.fd) {
		return nil, false, nil
	}
	b, err = r.read(parts...)
	return b, true, err
}

// pread is unix.Pread, or rawio.Pread if raw is set.
func pread(fd int, p []byte, off int64, raw bool) (int, error) {
	if !raw {
		return unix.Pread(fd, p, off)
	}
	return rawio.Pread(fd, p, off)
}

// isGone reports whether a read failed because the file no longer exists.
func isGone(err error) bool {
	return errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESTALE) || errors.Is(err, unix.EBADF)
}

// keep adds fd to the kept files if it is on procfs or sysfs and there is
// room, and reports whether it did.
func (r *fileReader) keep(name string, fd int) bool {
	if len(r.kept) >= maxKept {
		return false
	}
	var st unix.Statfs_t
	if r.mayBlock || rawio.Fstatfs(fd, &st) != nil || (st.Type != procSuperMagic && st.Type != sysfsMagic) {
		return false
	}
	if r.kept == nil {
		r.kept = make(map[string]keptFile)
		r.keptSince = time.Now()
	}
	r.kept[name] = keptFile{fd: fd, whole: st.Type == sysfsMagic || st.Type == procSuperMagic && strings.Contains(name, "/sys/")}
	return true
}

// expire closes every kept file once they have been kept for keptFor.
func (r *fileReader) expire() {
	if len(r.kept) > 0 && time.Since(r.keptSince) > keptFor {
		r.closeKept()
	}
}

// seekStart moves fd to its start, with a raw system call unless
// r.mayBlock.
func (r *fileReader) seekStart(fd int) error {
	if r.mayBlock {
		_, err := unix.Seek(fd, 0, 0)
		return err
	}
	return rawio.SeekStart(fd)
}

// closeKept closes every kept file.
func (r *fileReader) closeKept() {
	for _, k := range r.kept {
		r.close(k.fd)
	}
	clear(r.kept)
	r.keptSince = time.Now()
}

// readFD reads fd from offset 0 to its end into r.buf, with raw system
// calls if raw is set. If whole is set, a read that does not fill the
// buffer is taken for the end of the file.
func (r *fileReader) readFD(fd int, raw, whole bool) ([]byte, error) {
	if cap(r.buf) == 0 {
		r.buf = make([]byte, 0, 4096)
	}
	b := r.buf[:0]
	for {
		if len(b) == cap(b) {
			if len(b) >= maxFileSize {
				return nil, fmt.Errorf("read %s: larger than %d bytes", r.path[:len(r.path)-1], maxFileSize)
			}
			b = slices.Grow(b, len(b))
		}
		n, err := pread(fd, b[len(b):cap(b)], int64(len(b)), raw)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			r.buf = b[:0]
			return nil, &fs.PathError{Op: "read", Path: string(r.path[:len(r.path)-1]), Err: err}
		}
		if n <= 0 {
			break
		}
		short := len(b)+n < cap(b)
		b = b[:len(b)+n]
		if whole && short {
			break
		}
	}
	r.buf = b[:0]
	return b, nil
}

// readTrim reads path and trims surrounding white space.
func (r *fileReader) readTrim(parts ...string) ([]byte, error) {
	b, err := r.read(parts...)
	return bytes.TrimSpace(b), err
}

// readUint reads a file holding one unsigned decimal number.
func (r *fileReader) readUint(parts ...string) (uint64, error) {
	b, err := r.readTrim(parts...)
	if err != nil {
		return 0, err
	}
	v, ok := parseUint(b)
	if !ok {
		return 0, fmt.Errorf("parse %s: bad number %q", r.path[:len(r.path)-1], snippet(b))
	}
	return v, nil
}

// readInt reads a file holding one signed decimal number.
func (r *fileReader) readInt(parts ...string) (int64, error) {
	b, err := r.readTrim(parts...)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", r.path[:len(r.path)-1], err)
	}
	return v, nil
}

// listDir returns the sorted names in dir. The slice is valid until the
// next listDir with r; the names are interned, so listing the same
// directory again does not allocate.
//
// Directories of procfs and sysfs are kept open like their files, and
// read again from the start.
func (r *fileReader) listDir(dir string) ([]string, error) {
	r.expire()
	if k, ok := r.kept[dir]; ok {
		names, err := r.readDir(k.fd, dir, true)
		if !isGone(err) {
			return names, err
		}
		delete(r.kept, dir)
		r.close(k.fd)
	}
	fd, err := r.open([]string{dir})
	if err != nil {
		return nil, err
	}
	names, err := r.readDir(fd, dir, false)
	if isGone(err) || !r.keep(dir, fd) {
		r.close(fd)
	}
	return names, err
}

// readDir lists the open directory fd, from its start if rewind is set.
func (r *fileReader) readDir(fd int, dir string, rewind bool) ([]string, error) {
	if rewind {
		if err := r.seekStart(fd); err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
	}
	r.names = r.names[:0]
	err := r.eachDirent(fd, func(name []byte) { r.names = append(r.names, r.strs.get(name)) })
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	slices.Sort(r.names)
	return r.names, nil
}

// eachDirent reads the open directory fd to its end with getdents(2) into
// a reused buffer and calls fn with each name but "." and "..". The name
// is valid during the call only.
func (r *fileReader) eachDirent(fd int, fn func(name []byte)) error {
	if r.dents == nil {
		r.dents = make([]byte, 8192)
	}
	const nameOff = int(unsafe.Offsetof(unix.Dirent{}.Name))
	for {
		n, err := r.getdents(fd, r.dents)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		// linux_dirent64 records, each reclen bytes long.
		for b := r.dents[:n]; len(b) >= nameOff; {
			reclen := int(binary.NativeEndian.Uint16(b[unsafe.Offsetof(unix.Dirent{}.Reclen):]))
			if reclen < nameOff || reclen > len(b) {
				break
			}
			name := b[nameOff:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if string(name) != "." && string(name) != ".." {
				fn(name)
			}
			b = b[reclen:]
		}
	}
}
