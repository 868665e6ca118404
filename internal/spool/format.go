package spool

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Record and file layout constants. They describe bytes already on disk in
// every deployed spool: they are frozen. A new layout gets a new segment file
// suffix and a new meta magic, never a new meaning for these.
const (
	// headerSize is the size of a record header:
	// crc(4) | length(4) | seq(8) | unix-ms(8). Frozen.
	headerSize = 24

	// MaxPayload is the largest payload a record may carry. Readers treat a
	// header claiming more as corrupt, so the limit is frozen.
	MaxPayload = 8 << 20

	segSuffix  = ".seg" // segment file suffix; names are %020d of the first seq. Frozen.
	segNameLen = 20 + len(segSuffix)
	metaName   = "META"        // acknowledged/floor state. Frozen.
	metaMagic  = "HAWKSPM1"    // first 8 bytes of META. Frozen.
	metaSize   = 8 + 8 + 8 + 4 // magic | acked | floor | crc. Frozen.
	lockName   = "LOCK"        // flock(2) target; contents unused.
	idName     = "id"          // agent identity, see LoadOrCreateID.
)

// castagnoli is the CRC-32C table used for records and META.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRecord appends the framed record for (seq, ms, payload) to dst.
func appendRecord(dst []byte, seq uint64, ms int64, payload []byte) []byte {
	start := len(dst)
	var h [headerSize]byte
	binary.LittleEndian.PutUint32(h[4:8], uint32(len(payload)))
	binary.LittleEndian.PutUint64(h[8:16], seq)
	binary.LittleEndian.PutUint64(h[16:24], uint64(ms))
	dst = append(dst, h[:]...)
	dst = append(dst, payload...)
	crc := crc32.Checksum(dst[start+4:], castagnoli)
	binary.LittleEndian.PutUint32(dst[start:start+4], crc)
	return dst
}

// record is one decoded record. payload aliases a reader's buffer.
type record struct {
	seq     uint64 // sequence number
	ms      int64  // unix milliseconds at Append
	payload []byte // valid until the reader's next call
	size    int64  // header + payload bytes on disk
}

// segName returns the file name of the segment whose first record is seq.
func segName(first uint64) string {
	return fmt.Sprintf("%020d%s", first, segSuffix)
}

// parseSegName is the inverse of segName; ok is false for any other name.
func parseSegName(name string) (first uint64, ok bool) {
	if len(name) != segNameLen || !strings.HasSuffix(name, segSuffix) {
		return 0, false
	}
	first, err := strconv.ParseUint(name[:20], 10, 64)
	return first, err == nil
}

// meta is the content of the META file.
type meta struct {
	acked uint64 // every seq <= acked was acknowledged by the server
	floor uint64 // no seq below floor is ever assigned again
}

func (m meta) encode() []byte {
	b := make([]byte, 0, metaSize)
	b = append(b, metaMagic...)
	b = binary.LittleEndian.AppendUint64(b, m.acked)
	b = binary.LittleEndian.AppendUint64(b, m.floor)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeMeta(b []byte) (meta, error) {
	if len(b) != metaSize || string(b[:8]) != metaMagic {
		return meta{}, fmt.Errorf("%w: META is %d bytes starting %q", errCorruptMeta, len(b), snippet(b))
	}
	if crc32.Checksum(b[:metaSize-4], castagnoli) != binary.LittleEndian.Uint32(b[metaSize-4:]) {
		return meta{}, fmt.Errorf("%w: META checksum mismatch", errCorruptMeta)
	}
	return meta{
		acked: binary.LittleEndian.Uint64(b[8:16]),
		floor: binary.LittleEndian.Uint64(b[16:24]),
	}, nil
}

// snippet cuts b to a few dozen bytes for error messages.
func snippet(b []byte) []byte {
	const max = 32
	if len(b) > max {
		return b[:max]
	}
	return b
}
