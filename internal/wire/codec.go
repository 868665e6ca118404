package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrMalformed is returned for a v2 payload that cannot be decoded: too
// short, a varint out of range, a count larger than the bytes that follow.
var ErrMalformed = errors.New("wire: malformed message")

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }
func appendVarint(dst []byte, v int64) []byte   { return binary.AppendVarint(dst, v) }

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendI64(dst []byte, v int64) []byte {
	return binary.LittleEndian.AppendUint64(dst, uint64(v))
}

// reader decodes the primitives of a v2 payload. It keeps its first error;
// after an error every method returns zero values.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at offset %d", ErrMalformed, what, r.off)
	}
}

// more reports whether bytes are left: an optional trailing field follows.
func (r *reader) more() bool { return r.err == nil && r.off < len(r.b) }

func (r *reader) byte1(what string) byte {
	if r.err != nil || r.off >= len(r.b) {
		r.fail(what)
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.off += n
	return v
}

// count reads a uvarint that counts items of at least minSize bytes each and
// checks it against the bytes left, so no allocation follows a claim that
// the payload cannot back.
func (r *reader) count(what string, minSize int) int {
	v := r.uvarint(what)
	if r.err == nil && v > uint64((len(r.b)-r.off)/minSize) {
		r.fail(what + " larger than the message")
		return 0
	}
	return int(v)
}

// bytesN returns the next n bytes as a sub-slice of the payload.
func (r *reader) bytesN(n int, what string) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.off {
		r.fail(what)
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

// str reads a length-prefixed string as a sub-slice of the payload.
func (r *reader) str(what string) []byte {
	n := r.uvarint(what)
	if n > uint64(len(r.b)-r.off) {
		r.fail(what)
		return nil
	}
	return r.bytesN(int(n), what)
}

func (r *reader) string(what string) string { return string(r.str(what)) }

func (r *reader) i64(what string) int64 {
	b := r.bytesN(8, what)
	if b == nil {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(b))
}

func (r *reader) u32(what string) uint32 {
	v := r.uvarint(what)
	if v > math.MaxUint32 {
		r.fail(what)
		return 0
	}
	return uint32(v)
}
