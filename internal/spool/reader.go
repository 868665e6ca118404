package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"hawk/internal/rawio"
)

// windowSize is how much a segReader reads ahead with one pread.
const windowSize = 64 << 10

// errTail reports bytes at the end of a segment that hold no valid record:
// a torn write, or a damaged final record. segReader.off is where they start.
var errTail = errors.New("spool: torn or damaged segment tail")

// segReader decodes records from one segment file up to limit. It never
// reads past limit, so it may follow the active segment while Append writes
// beyond it. It is used by Open's recovery scan and by Cursor.
type segReader struct {
	f       *os.File // segment file, read with ReadAt only
	off     int64    // offset of the next record
	limit   int64    // bytes known complete; grows for the active segment
	expect  uint64   // seq the record at off must carry
	skipped uint64   // seqs skipped over damaged records, cumulative
	buf     []byte   // read window; record payloads alias it
	bufOff  int64    // file offset of buf[0]
}

func (r *segReader) reset(f *os.File, first uint64, limit int64) {
	r.f, r.off, r.limit, r.expect, r.skipped = f, 0, limit, first, 0
	r.buf, r.bufOff = r.buf[:0], 0
	if cap(r.buf) > 4*windowSize {
		r.buf = nil // drop a buffer grown for one big record
	}
}

// peek returns the n bytes at off; off+n must be <= limit. The slice is
// valid until the next peek.
func (r *segReader) peek(off int64, n int) ([]byte, error) {
	if off >= r.bufOff && off+int64(n) <= r.bufOff+int64(len(r.buf)) {
		return r.buf[off-r.bufOff:][:n], nil
	}
	size := int64(max(n, windowSize))
	size = min(size, r.limit-off)
	if int64(cap(r.buf)) < size {
		r.buf = make([]byte, size)
	}
	r.buf = r.buf[:size]
	k, err := rawio.ReadAt(r.f, r.buf, off)
	r.buf, r.bufOff = r.buf[:k], off
	if k < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("spool: read %s at %d: %w", r.f.Name(), off, err)
	}
	return r.buf[:n], nil
}

// at decodes the record at off if it is valid and its seq is in [lo, hi].
func (r *segReader) at(off int64, lo, hi uint64) (rec record, ok bool, err error) {
	if r.limit-off < headerSize {
		return rec, false, nil
	}
	h, err := r.peek(off, headerSize)
	if err != nil {
		return rec, false, err
	}
	length := binary.LittleEndian.Uint32(h[4:8])
	seq := binary.LittleEndian.Uint64(h[8:16])
	if seq < lo || seq > hi || length > MaxPayload || int64(length) > r.limit-off-headerSize {
		return rec, false, nil
	}
	b, err := r.peek(off, headerSize+int(length))
	if err != nil {
		return rec, false, err
	}
	if crc32.Checksum(b[4:], castagnoli) != binary.LittleEndian.Uint32(b[:4]) {
		return rec, false, nil
	}
	rec = record{
		seq:     seq,
		ms:      int64(binary.LittleEndian.Uint64(b[16:24])),
		payload: b[headerSize:],
		size:    int64(len(b)),
	}
	return rec, true, nil
}

// next returns the next valid record, io.EOF at limit, or errTail when the
// bytes from off to limit hold no valid record. A damaged record followed by
// a valid one is skipped and counted in skipped. Within a segment sequence
// numbers are consecutive, which makes resynchronisation cheap: a candidate
// must carry a seq in the narrow range the skipped bytes could hold.
func (r *segReader) next() (record, error) {
	if r.off >= r.limit {
		return record{}, io.EOF
	}
	rec, ok, err := r.at(r.off, r.expect, r.expect)
	if err != nil {
		return record{}, err
	}
	if !ok {
		rec, ok, err = r.resync()
		if err != nil {
			return record{}, err
		}
		if !ok {
			return record{}, errTail
		}
	}
	r.off += rec.size
	r.expect = rec.seq + 1
	return rec, nil
}

// resync searches past a damaged record at off for the next valid one.
func (r *segReader) resync() (record, bool, error) {
	for p := r.off + headerSize; p+headerSize <= r.limit; p++ {
		hi := r.expect + uint64((p-r.off)/headerSize)
		rec, ok, err := r.at(p, r.expect+1, hi)
		if err != nil {
			return record{}, false, err
		}
		if ok {
			r.skipped += rec.seq - r.expect
			r.off = p
			return rec, true, nil
		}
	}
	return record{}, false, nil
}
