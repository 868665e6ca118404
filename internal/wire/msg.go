package wire

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the first byte of a v2 payload. Frozen: values are never reused.
type Kind uint8

// The v2 message kinds.
const (
	KindHello         Kind = 0x01 // agent → server, first on a connection
	KindWelcome       Kind = 0x02 // server → agent, answer to HELLO
	KindHeartbeat     Kind = 0x03 // agent → server, with the agent's clock
	KindHeartbeatEcho Kind = 0x04 // server → agent, the heartbeat with the server's clock
	KindBatch         Kind = 0x05 // agent → server, samples
	KindAck           Kind = 0x06 // server → agent, cumulative acknowledgement
	KindGoAway        Kind = 0x07 // server → agent, the server is draining
	KindError         Kind = 0x08 // either way, then the sender closes
)

var kindNames = [...]string{"", "HELLO", "WELCOME", "HEARTBEAT", "HEARTBEAT_ECHO", "BATCH", "ACK", "GOAWAY", "ERROR"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(0x%02x)", uint8(k))
}

// ProtocolVersion is the v2 protocol revision this package speaks. A HELLO
// names the highest revision the agent speaks; WELCOME names the one the
// server chose, never higher.
const ProtocolVersion = 2

// ErrKind is returned for a payload of an unknown or unexpected kind.
var ErrKind = errors.New("wire: unexpected message kind")

// PeekKind returns the kind of a v2 payload.
func PeekKind(payload []byte) (Kind, error) {
	if len(payload) == 0 {
		return 0, fmt.Errorf("%w: empty payload", ErrMalformed)
	}
	k := Kind(payload[0])
	if k < KindHello || k > KindError {
		return k, fmt.Errorf("%w: 0x%02x", ErrKind, payload[0])
	}
	return k, nil
}

// Label is one label pair of a series or of an agent.
type Label struct {
	Name, Value string
}

// Hello opens a v2 session.
type Hello struct {
	Version      uint32  // highest protocol revision the agent speaks
	AgentID      string  // stable across agent restarts
	Hostname     string  // the host's name
	AgentVersion string  // the agent's software version
	Labels       []Label // static labels of the agent
	Token        string  // credentials; empty when none

	// Optional fields: appended after Token, each present only when it or a
	// later one is set, so that a HELLO without them is the original layout.
	Secret   string // the per-agent secret the server issued at enrolment; empty before
	BootTime int64  // the host's boot time, Unix seconds; 0 when unknown
}

// Welcome accepts a session.
type Welcome struct {
	Version           uint32        // protocol revision chosen
	ServerTime        int64         // server clock, Unix nanoseconds
	HeartbeatInterval time.Duration // how often the agent should send HEARTBEAT (ms on the wire)
	LastSeq           uint64        // highest batch sequence durably stored for this agent
	MaxBatchSamples   uint32        // most samples the server takes in one batch
	MaxSeries         uint32        // most entries of the series dictionary on one connection
	Window            uint32        // most batches the agent may have unacknowledged
	ServerID          string        // names the server, for logs

	// Optional fields, appended after ServerID as in Hello.
	MaxSampleAge time.Duration // oldest sample the server still stores, relative to its clock (ms on the wire); 0 when unbounded
	Secret       string        // a secret issued to this agent id at enrolment; empty when none is issued
}

// Heartbeat carries the agent's clock; its echo adds the server's. From an
// echo the agent measures round-trip time and clock offset, and reports the
// latest measurements in its next heartbeat.
type Heartbeat struct {
	AgentTime  int64 // agent clock when sent, Unix ns
	RTT        int64 // agent's last measured round trip, ns; 0 = none yet (heartbeat only)
	Offset     int64 // agent clock minus server clock, ns, last measured (heartbeat only)
	ServerRecv int64 // server clock when received, Unix ns (echo only)
	ServerSend int64 // server clock when echoed, Unix ns (echo only)
}

// Ack acknowledges every batch up to and including Seq.
type Ack struct{ Seq uint64 }

// GoAway tells the agent to reconnect (after ReconnectAfter plus jitter)
// and resend whatever is unacknowledged.
type GoAway struct {
	ReconnectAfter time.Duration // ms on the wire
	Reason         string
}

// ErrorCode says why a peer sends ERROR.
type ErrorCode uint16

// Error codes. Frozen: values are never reused.
const (
	CodeProtocol  ErrorCode = 1 // malformed or unexpected message
	CodeVersion   ErrorCode = 2 // no protocol revision in common
	CodeAuth      ErrorCode = 3 // credentials missing or wrong
	CodeLimit     ErrorCode = 4 // a server limit was exceeded
	CodeStorage   ErrorCode = 5 // the server could not store a batch; retry later
	CodeShutdown  ErrorCode = 6 // the server is stopping
	CodeInternal  ErrorCode = 7 // anything else
	CodeOverload  ErrorCode = 8 // too many connections; retry later
	CodeDuplicate ErrorCode = 9 // another connection holds this agent id
)

// Error is the ERROR message.
type Error struct {
	Code    ErrorCode
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("wire: peer error %d: %s", e.Code, e.Message) }

// AppendHello appends the payload of m to dst.
func AppendHello(dst []byte, m *Hello) []byte {
	dst = append(dst, byte(KindHello))
	dst = appendUvarint(dst, uint64(m.Version))
	dst = appendString(dst, m.AgentID)
	dst = appendString(dst, m.Hostname)
	dst = appendString(dst, m.AgentVersion)
	dst = appendLabels(dst, m.Labels)
	dst = appendString(dst, m.Token)
	switch {
	case m.BootTime != 0:
		dst = appendString(dst, m.Secret)
		return appendVarint(dst, m.BootTime)
	case m.Secret != "":
		return appendString(dst, m.Secret)
	}
	return dst
}

// DecodeHello decodes a HELLO payload. The strings are copies.
func DecodeHello(p []byte) (Hello, error) {
	r, err := open(p, KindHello)
	if err != nil {
		return Hello{}, err
	}
	m := Hello{
		Version:      r.u32("version"),
		AgentID:      r.string("agent id"),
		Hostname:     r.string("hostname"),
		AgentVersion: r.string("agent version"),
	}
	m.Labels = readLabels(&r, m.Labels[:0])
	m.Token = r.string("token")
	if r.more() {
		m.Secret = r.string("secret")
	}
	if r.more() {
		m.BootTime = r.varint("boot time")
	}
	return m, r.err
}

// AppendWelcome appends the payload of m to dst.
func AppendWelcome(dst []byte, m *Welcome) []byte {
	dst = append(dst, byte(KindWelcome))
	dst = appendUvarint(dst, uint64(m.Version))
	dst = appendI64(dst, m.ServerTime)
	dst = appendUvarint(dst, uint64(m.HeartbeatInterval.Milliseconds()))
	dst = appendUvarint(dst, m.LastSeq)
	dst = appendUvarint(dst, uint64(m.MaxBatchSamples))
	dst = appendUvarint(dst, uint64(m.MaxSeries))
	dst = appendUvarint(dst, uint64(m.Window))
	dst = appendString(dst, m.ServerID)
	switch {
	case m.Secret != "":
		dst = appendUvarint(dst, uint64(m.MaxSampleAge.Milliseconds()))
		return appendString(dst, m.Secret)
	case m.MaxSampleAge != 0:
		return appendUvarint(dst, uint64(m.MaxSampleAge.Milliseconds()))
	}
	return dst
}

// DecodeWelcome decodes a WELCOME payload.
func DecodeWelcome(p []byte) (Welcome, error) {
	r, err := open(p, KindWelcome)
	if err != nil {
		return Welcome{}, err
	}
	m := Welcome{
		Version:           r.u32("version"),
		ServerTime:        r.i64("server time"),
		HeartbeatInterval: time.Duration(r.uvarint("heartbeat interval")) * time.Millisecond,
		LastSeq:           r.uvarint("last sequence"),
		MaxBatchSamples:   r.u32("max batch samples"),
		MaxSeries:         r.u32("max series"),
		Window:            r.u32("window"),
		ServerID:          r.string("server id"),
	}
	if r.more() {
		m.MaxSampleAge = time.Duration(r.uvarint("max sample age")) * time.Millisecond
	}
	if r.more() {
		m.Secret = r.string("secret")
	}
	return m, r.err
}

// AppendHeartbeat appends a HEARTBEAT payload (echo false) or a
// HEARTBEAT_ECHO payload (echo true) to dst.
func AppendHeartbeat(dst []byte, m *Heartbeat, echo bool) []byte {
	if !echo {
		dst = appendI64(append(dst, byte(KindHeartbeat)), m.AgentTime)
		dst = appendVarint(dst, m.RTT)
		return appendVarint(dst, m.Offset)
	}
	dst = append(dst, byte(KindHeartbeatEcho))
	dst = appendI64(dst, m.AgentTime)
	dst = appendI64(dst, m.ServerRecv)
	return appendI64(dst, m.ServerSend)
}

// DecodeHeartbeat decodes a HEARTBEAT or HEARTBEAT_ECHO payload.
func DecodeHeartbeat(p []byte) (Heartbeat, error) {
	if len(p) > 0 && Kind(p[0]) == KindHeartbeatEcho {
		r, _ := open(p, KindHeartbeatEcho)
		m := Heartbeat{AgentTime: r.i64("agent time"), ServerRecv: r.i64("receive time"), ServerSend: r.i64("send time")}
		return m, r.err
	}
	r, err := open(p, KindHeartbeat)
	if err != nil {
		return Heartbeat{}, err
	}
	m := Heartbeat{AgentTime: r.i64("agent time"), RTT: r.varint("rtt"), Offset: r.varint("offset")}
	return m, r.err
}

// AppendAck appends an ACK payload to dst.
func AppendAck(dst []byte, m Ack) []byte {
	return appendUvarint(append(dst, byte(KindAck)), m.Seq)
}

// DecodeAck decodes an ACK payload.
func DecodeAck(p []byte) (Ack, error) {
	r, err := open(p, KindAck)
	if err != nil {
		return Ack{}, err
	}
	m := Ack{Seq: r.uvarint("sequence")}
	return m, r.err
}

// AppendGoAway appends a GOAWAY payload to dst.
func AppendGoAway(dst []byte, m *GoAway) []byte {
	dst = append(dst, byte(KindGoAway))
	dst = appendUvarint(dst, uint64(m.ReconnectAfter.Milliseconds()))
	return appendString(dst, m.Reason)
}

// DecodeGoAway decodes a GOAWAY payload.
func DecodeGoAway(p []byte) (GoAway, error) {
	r, err := open(p, KindGoAway)
	if err != nil {
		return GoAway{}, err
	}
	m := GoAway{
		ReconnectAfter: time.Duration(r.uvarint("reconnect after")) * time.Millisecond,
		Reason:         r.string("reason"),
	}
	return m, r.err
}

// AppendError appends an ERROR payload to dst.
func AppendError(dst []byte, m *Error) []byte {
	dst = append(dst, byte(KindError))
	dst = appendUvarint(dst, uint64(m.Code))
	return appendString(dst, m.Message)
}

// DecodeError decodes an ERROR payload.
func DecodeError(p []byte) (Error, error) {
	r, err := open(p, KindError)
	if err != nil {
		return Error{}, err
	}
	code := r.uvarint("code")
	if code > 0xFFFF {
		r.fail("code")
	}
	m := Error{Code: ErrorCode(code), Message: r.string("message")}
	return m, r.err
}

// open checks the kind byte and returns a reader positioned after it.
// Bytes after the last field a decoder knows are ignored, so that a later
// revision can add fields at the end of a message.
func open(p []byte, k Kind) (reader, error) {
	if len(p) == 0 || Kind(p[0]) != k {
		got, _ := PeekKind(p)
		return reader{}, fmt.Errorf("%w: want %v, got %v", ErrKind, k, got)
	}
	return reader{b: p, off: 1}, nil
}

func appendLabels(dst []byte, ls []Label) []byte {
	dst = appendUvarint(dst, uint64(len(ls)))
	for _, l := range ls {
		dst = appendString(dst, l.Name)
		dst = appendString(dst, l.Value)
	}
	return dst
}

func readLabels(r *reader, dst []Label) []Label {
	n := r.count("label count", 2)
	for i := 0; i < n && r.err == nil; i++ {
		dst = append(dst, Label{Name: r.string("label name"), Value: r.string("label value")})
	}
	return dst
}
