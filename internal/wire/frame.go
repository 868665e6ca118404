package wire

import (
	"errors"
	"hash/crc32"
)

// Frame envelope constants. Frozen: deployed agents depend on every byte.
const (
	HeaderLen  = 4                      // preamble (2) + length (2)
	TrailerLen = 4                      // check (2) + tail (2)
	Overhead   = HeaderLen + TrailerLen // bytes a frame adds to its payload
	MaxPayload = 0xFFFF                 // the length field is 16 bits
	MaxFrame   = MaxPayload + Overhead  // 65543

	preambleByte = 0xFF // both preamble bytes
	tailByte0    = 0xFF
	tailByte1    = 0xFE
)

// ErrFrameTooLarge is returned when a payload does not fit the 16-bit length.
var ErrFrameTooLarge = errors.New("wire: frame too large")

// Check is the frame's check value: the upper 16 bits of the CRC-32/IEEE of
// the payload.
func Check(payload []byte) uint16 {
	return uint16(crc32.ChecksumIEEE(payload) >> 16)
}

// AppendFrame appends payload, framed, to dst.
func AppendFrame(dst, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return dst, ErrFrameTooLarge
	}
	dst, start := BeginFrame(dst)
	dst = append(dst, payload...)
	return EndFrame(dst, start)
}

// BeginFrame appends a frame header with a placeholder length to dst and
// returns the offset of the header. The caller appends the payload to the
// returned slice and closes the frame with EndFrame, so that a message is
// encoded in place with no copy.
func BeginFrame(dst []byte) ([]byte, int) {
	start := len(dst)
	return append(dst, preambleByte, preambleByte, 0, 0), start
}

// EndFrame fills in the length of the frame begun at start and appends the
// check and the tail. If the payload is too long, dst is returned cut back to
// start, with ErrFrameTooLarge.
func EndFrame(dst []byte, start int) ([]byte, error) {
	n := len(dst) - start - HeaderLen
	if n > MaxPayload {
		return dst[:start], ErrFrameTooLarge
	}
	dst[start+2] = byte(n >> 8)
	dst[start+3] = byte(n)
	c := Check(dst[start+HeaderLen:])
	return append(dst, byte(c>>8), byte(c), tailByte0, tailByte1), nil
}
