package server

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	"hawk/internal/jsonappend"
	"hawk/internal/wire"
)

// /api/v1/agents without reflection: the members of an agent's row that
// change only when it attaches (id, hostname, instance, job, version,
// protocol, remote address, labels) are encoded once, by encoding/json
// itself, and kept with the agent (agentRow); a page is those bytes with
// the live members (up, connected, times, clock, rates, counters, boot
// time, last outage) appended by hand between them. The result is byte for
// byte json.Marshal of the page's []AgentStatus (TestAgentsPageJSONMatchesMarshal).

// agentRow is an agent's encoded identity. Immutable once built: a new
// identity gets a new agentRow.
type agentRow struct {
	b     []byte // head then labels
	split int    // b[:split] is `{"agent_id":…,"remote_addr":"…"` (no closing brace); b[split:] is `,"labels":{…}` or empty
}

// AgentIdentity is the part of an agent's row that changes only when it
// says hello: AgentStatus's first members, encoded once per identity.
type AgentIdentity struct {
	AgentID    string `json:"agent_id"`
	Hostname   string `json:"hostname"`
	Instance   string `json:"instance"`
	Job        string `json:"job,omitempty"`
	Version    string `json:"version,omitempty"`
	Protocol   string `json:"protocol"`
	RemoteAddr string `json:"remote_addr"`
}

// rowSlack is what an encoded row may hold beyond -max-agent-entry-bytes:
// the member names and quotes, the remote address, job and instance.
const rowSlack = 1024

// newAgentRow encodes an identity. It returns nil when the encoding is
// longer than maxEntry+rowSlack (an identity of mostly escaped characters:
// control characters, <>&, invalid UTF-8 take 6 bytes each), so that the
// cache adds at most that to an entry; such an agent's row is encoded on
// each request instead.
func newAgentRow(id AgentIdentity, labels []wire.Label, maxEntry int) *agentRow {
	r := encodeRow(id, labels)
	if len(r.b) > maxEntry+rowSlack {
		return nil
	}
	return r
}

func encodeRow(id AgentIdentity, labels []wire.Label) *agentRow {
	head, _ := json.Marshal(id) // strings only: cannot fail
	head = head[:len(head)-1]
	var lb []byte
	if len(labels) > 0 {
		m := make(map[string]string, len(labels))
		for _, l := range labels {
			m[l.Name] = l.Value
		}
		lb, _ = json.Marshal(m) // sorts the keys, as AgentStatus.Labels does
	}
	b := make([]byte, 0, len(head)+len(`,"labels":`)+len(lb))
	b = append(b, head...)
	if lb != nil {
		b = append(b, `,"labels":`...)
		b = append(b, lb...)
	}
	return &agentRow{b: b, split: len(head)}
}

// identityOf returns a's identity; under Fleet.mu.
func (a *Agent) identityOf() AgentIdentity {
	return AgentIdentity{AgentID: a.id, Hostname: a.hostname, Instance: a.instance, Job: a.job, Version: a.version,
		Protocol: a.protocol, RemoteAddr: a.remote}
}

// rowSnapshot is what a page needs of one agent, copied under Fleet.mu so
// that the encoding runs without it.
type rowSnapshot struct {
	row       *agentRow
	ident     *AgentIdentity // when row is nil: the identity to encode
	labels    []wire.Label   // when row is nil; never changed in place
	up, conn  bool
	since     time.Time
	lastSeen  int64
	offset    int64
	rtt       int64
	rate      float64
	samples   uint64
	bootTime  int64
	outage    Outage
	hasOutage bool
}

func (f *Fleet) snapshotLocked(a *Agent, now time.Time) rowSnapshot {
	s := rowSnapshot{row: a.row, up: f.onlineLocked(a, now), conn: a.conns > 0, since: a.since,
		lastSeen: a.lastSeen.Load(), offset: a.offset.Load(), rtt: a.rtt.Load(), rate: floatFromBits(a.rate.Load()),
		samples: a.samples.Load(), bootTime: a.bootTime}
	if s.row == nil {
		id := a.identityOf()
		s.ident, s.labels = &id, a.labels
	}
	if n := len(a.outages); n > 0 {
		s.outage, s.hasOutage = a.outages[n-1], true
	}
	return s
}

// appendRow appends s as the JSON object json.Marshal makes of its
// AgentStatus.
func appendRow(b []byte, s *rowSnapshot) ([]byte, error) {
	row := s.row
	if row == nil {
		row = encodeRow(*s.ident, s.labels)
	}
	var err error
	b = append(b, row.b[:row.split]...)
	b = append(b, `,"up":`...)
	b = strconv.AppendBool(b, s.up)
	b = append(b, `,"connected":`...)
	b = strconv.AppendBool(b, s.conn)
	b = append(b, `,"connected_since":`...)
	if b, err = appendTime(b, s.since); err != nil {
		return b, err
	}
	b = append(b, `,"last_seen":`...)
	if b, err = appendTime(b, time.Unix(0, s.lastSeen)); err != nil {
		return b, err
	}
	b = append(b, `,"clock_offset_seconds":`...)
	if b, err = appendFloat(b, float64(s.offset)/1e9); err != nil {
		return b, err
	}
	b = append(b, `,"rtt_seconds":`...)
	if b, err = appendFloat(b, float64(s.rtt)/1e9); err != nil {
		return b, err
	}
	b = append(b, `,"samples_per_second":`...)
	if b, err = appendFloat(b, s.rate); err != nil {
		return b, err
	}
	b = append(b, `,"samples_total":`...)
	b = strconv.AppendUint(b, s.samples, 10)
	b = append(b, row.b[row.split:]...)
	if s.bootTime != 0 {
		b = append(b, `,"boot_time":`...)
		b = strconv.AppendInt(b, s.bootTime, 10)
	}
	if s.hasOutage {
		o := s.outage.json()
		b = append(b, `,"last_outage":{"start":`...)
		if b, err = appendTime(b, o.Start); err != nil {
			return b, err
		}
		b = append(b, `,"end":`...)
		if b, err = appendTime(b, o.End); err != nil {
			return b, err
		}
		b = append(b, `,"duration_seconds":`...)
		if b, err = appendFloat(b, o.Duration); err != nil {
			return b, err
		}
		b = append(b, `,"cause":`...)
		b = jsonappend.String(b, o.Cause)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendTime appends t in UTC as time.Time's MarshalJSON does, and fails
// where it fails (a year outside 0…9999).
func appendTime(b []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return b, errors.New("server: agent row: time year outside of range [0,9999]")
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendFloat appends f as encoding/json encodes a float64, and fails where
// it fails (NaN, ±Inf).
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, errors.New("server: agent row: unsupported float " + strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json writes it
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}
