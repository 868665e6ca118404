package wire

import (
	"bytes"
	"sync"
)

// bufSize is the size of a decoder's buffer: room for an incomplete frame of
// the largest size plus 64 KiB for the next read.
const bufSize = MaxFrame + 64<<10

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

func getBuf() *[]byte  { return bufPool.Get().(*[]byte) }
func putBuf(b *[]byte) { bufPool.Put(b) }

// DecoderStats counts what a Decoder saw. Every byte of the stream is either
// part of an accepted frame or counted in Skipped.
type DecoderStats struct {
	Frames   uint64 // frames accepted
	Bytes    uint64 // bytes of accepted frames, envelope included
	BadCheck uint64 // frames rejected because CHECK did not match
	BadTail  uint64 // frames rejected because the tail was not FF FE
	Stalled  uint64 // incomplete frames given up by Resync
	Skipped  uint64 // bytes that belonged to no accepted frame
}

// Decoder splits a byte stream into frame payloads. It does no I/O: the
// caller reads into Space and reports the count with Commit (or copies in
// with Write), then calls Next until it reports no frame.
//
// The decoder holds a buffer from a shared pool only while bytes are
// pending; when Next has consumed everything it returns the buffer, so an
// idle connection holds none. A Decoder is not safe for concurrent use.
type Decoder struct {
	buf   *[]byte // pending bytes are (*buf)[r:w]; nil when nothing is pending
	r, w  int
	stats DecoderStats
}

// Stats returns the counters so far.
func (d *Decoder) Stats() DecoderStats { return d.stats }

// Pending reports how many bytes are buffered but not yet part of a frame.
func (d *Decoder) Pending() int { return d.w - d.r }

// Space returns the free space at the end of the buffer for the caller to
// read into; it is never empty. Bytes written there count once passed to
// Commit.
func (d *Decoder) Space() []byte {
	if d.buf == nil {
		d.buf = getBuf()
		d.r, d.w = 0, 0
	}
	b := *d.buf
	if d.w == len(b) || (d.r > 0 && len(b)-d.w < MaxFrame) {
		// Move the pending bytes (less than one frame) to the front.
		d.w = copy(b, b[d.r:d.w])
		d.r = 0
	}
	return b[d.w:]
}

// Commit adds the first n bytes of the last Space to the pending bytes.
func (d *Decoder) Commit(n int) { d.w += n }

// Write copies as much of p as fits into the buffer and returns how much it
// took; it takes at least 64 KiB whenever Next has reported no frame since
// the last Write.
func (d *Decoder) Write(p []byte) int {
	n := copy(d.Space(), p)
	d.Commit(n)
	return n
}

// Next returns the payload of the next complete frame. The payload is valid
// until the next call of Space, Write, Commit or Release. ok is false when
// more bytes are needed; any bytes that cannot begin a frame have been
// skipped by then.
func (d *Decoder) Next() (payload []byte, ok bool) {
	for d.buf != nil {
		b := (*d.buf)[d.r:d.w]
		i := bytes.IndexByte(b, preambleByte)
		for i >= 0 && i+1 < len(b) && b[i+1] != preambleByte {
			j := bytes.IndexByte(b[i+1:], preambleByte)
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 {
			d.skip(len(b))
			d.release()
			return nil, false
		}
		d.skip(i)
		b = b[i:]
		if len(b) < HeaderLen {
			return nil, false
		}
		n := int(b[2])<<8 | int(b[3])
		if len(b) < n+Overhead {
			return nil, false
		}
		if !d.accept(b[:n+Overhead]) {
			d.skip(1) // resume inside the rejected bytes
			continue
		}
		d.r += n + Overhead
		d.stats.Frames++
		d.stats.Bytes += uint64(n + Overhead)
		return b[HeaderLen : HeaderLen+n], true
	}
	return nil, false
}

// accept checks the trailer of the candidate frame f and counts a reject.
func (d *Decoder) accept(f []byte) bool {
	n := len(f) - Overhead
	t := f[HeaderLen+n:]
	if t[2] != tailByte0 || t[3] != tailByte1 {
		d.stats.BadTail++
		return false
	}
	if uint16(t[0])<<8|uint16(t[1]) != Check(f[HeaderLen:HeaderLen+n]) {
		d.stats.BadCheck++
		return false
	}
	return true
}

// skip drops n pending bytes as not part of any frame.
func (d *Decoder) skip(n int) {
	d.r += n
	d.stats.Skipped += uint64(n)
}

// Resync gives up the incomplete frame at the head of the pending bytes:
// scanning resumes just after its first preamble byte, so frames inside the
// bytes it claimed are found by Next. It returns false if nothing is
// pending. Call it at end of stream, or when a partial frame has waited too
// long (a length corrupted upward would otherwise hold back the good frames
// behind it until 64 KiB more arrived).
func (d *Decoder) Resync() bool {
	if d.Pending() == 0 {
		return false
	}
	d.stats.Stalled++
	d.skip(1)
	return true
}

// release returns the buffer to the pool once nothing is pending.
func (d *Decoder) release() {
	if d.buf != nil && d.r == d.w {
		putBuf(d.buf)
		d.buf = nil
		d.r, d.w = 0, 0
	}
}

// Release returns the buffer to the pool and drops any pending bytes. Call
// it when the stream ends.
func (d *Decoder) Release() {
	if d.buf != nil {
		d.r = d.w
		d.release()
	}
}
