// Package wire is hawk's wire format: the frame envelope that deployed
// agents already speak, the legacy JSON packets inside it, and the binary v2
// messages. It does no I/O; docs/protocol.md is the normative spec.
//
// # Frames (frozen)
//
//	offset  size  field
//	0       2     preamble FF FF
//	2       2     LEN, payload length, uint16 big-endian
//	4       LEN   payload
//	4+LEN   2     CHECK: upper 16 bits of CRC-32/IEEE(payload), big-endian
//	6+LEN   2     tail FF FE
//
// Decoder scans for the preamble and checks CHECK and the tail; a rejected
// frame is counted and scanning resumes one byte after its start, so frames
// inside the bytes a corrupted length claimed are still found. It buffers at
// most one incomplete frame plus one read, in a buffer borrowed from a pool
// only while bytes are pending.
//
// # Payloads
//
// A payload starting with '{' is a legacy packet (DecodeLegacy). Any other
// payload is a v2 message whose first byte is its Kind. v2 fields are
// uvarints, zigzag varints, length-prefixed strings (uvarint length, then
// bytes) and 8-byte little-endian times and floats; a decoder ignores bytes
// after the fields it knows, so later revisions extend messages at the end.
//
// BATCH carries samples against a per-connection series dictionary: a series
// is defined (type, name, help, labels) the first time a connection carries
// it and takes the next id; later samples send the id's distance from the
// previous sample's id and the value as a delta from the series' previous
// value (the same bits, an integer delta, a delta in hundredths, the XOR of
// the bits with zero bytes trimmed, or the raw bits, whichever is exact and
// shortest). Samples are grouped by timestamp. A batch larger than a frame
// is split into parts that share its sequence number.
//
// Encoder and Dict are the two ends of one connection's dictionary; neither
// is safe for concurrent use. Slices returned by Decoder.Next alias its
// buffer; strings in decoded messages are copies.
package wire
