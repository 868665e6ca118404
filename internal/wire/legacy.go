package wire

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Legacy packet types, as the original demo agents number them. Frozen.
const (
	LegacyHeartbeat = 0
	LegacyReport    = 1
)

// The replies the server writes on a legacy connection: bare lines, not
// frames. Frozen: deployed agents read exactly these bytes (the spelling
// included).
const (
	LegacyHeartbeatReply = "heartBeat\n"
	LegacyReportReply    = "Report data has recive\n"
)

var (
	// ErrLegacyMalformed is returned for a payload that is not the legacy
	// JSON envelope, or whose content does not fit its type.
	ErrLegacyMalformed = errors.New("wire: malformed legacy packet")
	// ErrLegacyType is returned for a well-formed packet of an unknown type.
	ErrLegacyType = errors.New("wire: unknown legacy packet type")
)

// IsLegacy reports whether a frame payload is a legacy JSON packet rather
// than a v2 message: legacy payloads start with '{'.
func IsLegacy(payload []byte) bool { return len(payload) > 0 && payload[0] == '{' }

// legacyPacket is the envelope as Go's encoding/json writes the demo agent's
// struct of a byte and a []byte: the content travels base64-encoded.
type legacyPacket struct {
	PacketType    *uint8 `json:"PacketType"`
	PacketContent []byte `json:"PacketContent"`
}

// LegacyHeartbeatContent is the content of a heartbeat packet.
type LegacyHeartbeatContent struct {
	Version   string `json:"version"`
	Timestamp int64  `json:"timestamp"`
}

// LegacyReportContent is the content of a report packet.
type LegacyReportContent struct {
	Content   string `json:"content"`
	Rand      int64  `json:"rand"`
	Timestamp int64  `json:"timestamp"`
}

// LegacyPacket is a decoded legacy packet: Type says which content is set.
type LegacyPacket struct {
	Type      uint8
	Heartbeat LegacyHeartbeatContent
	Report    LegacyReportContent
}

// Reply returns the line the server answers this packet with.
func (p *LegacyPacket) Reply() string {
	if p.Type == LegacyHeartbeat {
		return LegacyHeartbeatReply
	}
	return LegacyReportReply
}

// DecodeLegacy decodes a legacy payload. Errors wrap ErrLegacyMalformed or
// ErrLegacyType.
func DecodeLegacy(payload []byte) (LegacyPacket, error) {
	var env legacyPacket
	if err := json.Unmarshal(payload, &env); err != nil {
		return LegacyPacket{}, fmt.Errorf("%w: %v: %q", ErrLegacyMalformed, err, snippet(payload))
	}
	if env.PacketType == nil {
		return LegacyPacket{}, fmt.Errorf("%w: no PacketType: %q", ErrLegacyMalformed, snippet(payload))
	}
	p := LegacyPacket{Type: *env.PacketType}
	var content any
	switch p.Type {
	case LegacyHeartbeat:
		content = &p.Heartbeat
	case LegacyReport:
		content = &p.Report
	default:
		return LegacyPacket{}, fmt.Errorf("%w: %d", ErrLegacyType, p.Type)
	}
	if err := json.Unmarshal(env.PacketContent, content); err != nil {
		return LegacyPacket{}, fmt.Errorf("%w: content of type %d: %v: %q",
			ErrLegacyMalformed, p.Type, err, snippet(env.PacketContent))
	}
	return p, nil
}

// AppendLegacy appends the payload of a legacy packet to dst, encoded as the
// demo agents encode it. content is marshalled with encoding/json.
func AppendLegacy(dst []byte, typ uint8, content any) ([]byte, error) {
	c, err := json.Marshal(content)
	if err != nil {
		return dst, fmt.Errorf("wire: legacy content: %w", err)
	}
	env, err := json.Marshal(struct {
		PacketType    uint8
		PacketContent []byte
	}{typ, c})
	if err != nil {
		return dst, fmt.Errorf("wire: legacy envelope: %w", err)
	}
	return append(dst, env...), nil
}

// snippet cuts bad input to a length fit for an error message.
func snippet(b []byte) []byte {
	const max = 40
	if len(b) > max {
		return b[:max]
	}
	return b
}
