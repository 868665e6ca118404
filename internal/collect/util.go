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

// maxFileSize bounds what readFile keeps in memory; procfs and sysfs files
// the collectors read are far smaller.
const maxFileSize = 16 << 20

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
	call := unix.Syscall6
	if !r.mayBlock {
		call = unix.RawSyscall6
	}
	for {
		fd, _, errno := call(unix.SYS_OPENAT, atFDCWD,
			uintptr(unsafe.Pointer(&r.path[0])), uintptr(unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return -1, &fs.PathError{Op: "open", Path: string(r.path[:len(r.path)-1]), Err: errno}
		}
		return int(fd), nil
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
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// getdents is unix.Getdents, with a raw system call unless r.mayBlock.
func (r *fileReader) getdents(fd int, buf []byte) (int, error) {
	if r.mayBlock {
		return unix.Getdents(fd, buf)
	}
	n, _, errno := unix.RawSyscall(unix.SYS_GETDENTS64, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

// rawFstatfs is unix.Fstatfs as a raw system call, for descriptors of
// procfs and sysfs files, which never block.
func rawFstatfs(fd int, st *unix.Statfs_t) error {
	if _, _, errno := unix.RawSyscall(unix.SYS_FSTATFS, uintptr(fd), uintptr(unsafe.Pointer(st)), 0); errno != 0 {
		return errno
	}
	return nil
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
	if k, ok := r.kept[string(name)]; ok && !r.mayBlock {
		fds := [1]unix.PollFd{{Fd: int32(k.fd), Events: unix.POLLPRI}}
		_, _, errno := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1,
			uintptr(unsafe.Pointer(&noWait)), 0, 0, 0)
		if errno == 0 && fds[0].Revents&(unix.POLLPRI|unix.POLLERR|unix.POLLNVAL) == 0 {
			return nil, false, nil
		}
	}
	b, err = r.read(parts...)
	return b, true, err
}

// noWait is a zero timeout for ppoll.
var noWait unix.Timespec

// rawFstat is unix.Fstat as a raw system call; see rawFstatfs.
func rawFstat(fd int, st *unix.Stat_t) error {
	if _, _, errno := unix.RawSyscall(unix.SYS_FSTAT, uintptr(fd), uintptr(unsafe.Pointer(st)), 0); errno != 0 {
		return errno
	}
	return nil
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
	if r.mayBlock || rawFstatfs(fd, &st) != nil || (st.Type != procSuperMagic && st.Type != sysfsMagic) {
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
	if _, _, errno := unix.RawSyscall(unix.SYS_LSEEK, uintptr(fd), 0, 0); errno != 0 {
		return errno
	}
	return nil
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

// isMissing reports whether err means that a file or directory is absent.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist)
}

// noData turns a missing source into ErrNoData and leaves other errors.
func noData(err error) error {
	if isMissing(err) {
		return fmt.Errorf("%w: %w", ErrNoData, err)
	}
	return err
}

// snippet cuts bad input to a few dozen bytes for error messages.
func snippet(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// nextLine splits data at the first newline.
func nextLine(data []byte) (line, rest []byte) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return data, nil
	}
	return data[:i], data[i+1:]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// splitFields appends the white-space separated fields of line to dst[:0].
func splitFields(dst [][]byte, line []byte) [][]byte {
	dst = dst[:0]
	i := 0
	for i < len(line) {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		if j > i {
			dst = append(dst, line[i:j])
		}
		i = j
	}
	return dst
}

// parseUint parses an unsigned decimal number without allocating.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseHex parses an unsigned hexadecimal number, with or without 0x.
func parseHex(b []byte) (uint64, bool) {
	b = bytes.TrimPrefix(b, []byte("0x"))
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// parseFloat parses a decimal number; small inputs do not allocate.
func parseFloat(b []byte) (float64, bool) {
	if v, ok := parseUint(b); ok {
		return float64(v), true
	}
	v, err := strconv.ParseFloat(string(b), 64)
	return v, err == nil
}

// strcache interns label values built from file content so that repeated
// collections do not allocate a new string for the same device name.
type strcache map[string]string

// maxCached bounds a strcache; past it the cache starts over (device names
// churn on hosts that create and delete virtual interfaces).
const maxCached = 4096

func (c *strcache) get(b []byte) string {
	if *c == nil {
		*c = make(strcache)
	}
	if s, ok := (*c)[string(b)]; ok {
		return s
	}
	if len(*c) >= maxCached {
		clear(*c)
	}
	s := string(b)
	(*c)[s] = s
	return s
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

// atFDCWD is AT_FDCWD as a system call argument.
var atFDCWD = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()
