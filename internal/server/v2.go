package server

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"

	"hawk/internal/store"
	"hawk/internal/wire"
)

// v2State is a v2 session's protocol state.
type v2State struct {
	welcomed bool
	hello    wire.Hello
	dict     *wire.Dict
	bufs     *batchBufs // decode target and pending samples; borrowed while a batch is in flight
	req      *commitReq // hands complete batches to the group committer; made at the first commit
	// series is the dictionary's entries, by id. The label and help text
	// it keeps is bounded by MaxDictBytes: MaxSeries alone would let
	// 64 KiB definitions add up to gigabytes on one connection.
	series  seriesDict
	dictMem int // series.memory(), as accounted in the dictionary_bytes gauge
	fresh   int // series accepted since the last commit (commitReq.fresh)
	lb      labels.ScratchBuilder
	scratch labels.Labels // a definition's labels, valid until lb is used again

	readyN    int       // pending[:readyN] belong to complete batches
	readyNew  int       // complete batches in pending[:readyN], duplicates not counted
	readySeq  uint64    // highest complete batch, stored or duplicate
	readyAt   time.Time // when the oldest unacknowledged complete batch was read
	ackedSeq  uint64    // highest sequence acknowledged
	committed uint64    // highest sequence durably stored for this agent
	seqSeen   uint64    // highest sequence begun on this connection
	open      bool      // a batch has parts still to come
	openPart  uint32    // last part read of the open batch
	openStart int       // index in pending of the open batch's first sample
	openDup   bool      // the open batch is at or below committed
	heldBytes int64     // memory of the batch buffers, as accounted in Server.openBatchBytes
}

// badReason says why a series definition was refused. Its name is the
// reason label of hawk_server_errors_total counting the dropped samples.
type badReason uint8

const (
	seriesOK         badReason = iota
	badInvalid                 // breaks the data model
	badLabelTooLong            // a name or value over the length limit
	badTooManyLabels           // more labels than MaxLabels
	badSeriesLimit             // the agent's cardinality guard is full
	badFuture                  // not a series reason: samples too far ahead
	badReserved                // a family only the server writes
	badGlobalLimit             // the server's cardinality guard is full
	nBadReasons
)

var badReasonNames = [nBadReasons]string{"", "invalid_series", "label_too_long", "too_many_labels", "series_limit", "timestamp_future",
	"reserved_series", "series_limit_global"}

// serverFamilies are the metric names only the server writes, from the
// fleet's view of each agent: an agent's own batches may not (contract in
// CONTRACTS.md; the agent's self-metrics, hawk_agent_connected and the
// like, are its own and stay allowed).
var serverFamilies = map[string]bool{
	"up": true, "hawk_agent_up": true, "hawk_agent_last_seen_timestamp_seconds": true,
	"hawk_agent_info": true, "hawk_agent_outages_total": true,
}

type pendingSample struct {
	id uint32
	t  int64
	v  float64
}

func newV2State(maxSeries int) *v2State { return &v2State{dict: wire.NewDict(maxSeries)} }

// errProtocol ends a v2 session with ERROR(code).
type errProtocol struct {
	code wire.ErrorCode
	msg  string
}

func (e *errProtocol) Error() string { return fmt.Sprintf("protocol error %d: %s", e.code, e.msg) }

func protoErr(code wire.ErrorCode, format string, args ...any) error {
	return &errProtocol{code: code, msg: fmt.Sprintf(format, args...)}
}

func (ss *session) handleV2(p []byte) error {
	v := ss.v2
	if wire.IsLegacy(p) {
		return protoErr(wire.CodeProtocol, "legacy packet on a v2 connection")
	}
	k, err := wire.PeekKind(p)
	if err != nil {
		return protoErr(wire.CodeProtocol, "%v", err)
	}
	if !v.welcomed && k != wire.KindHello {
		return protoErr(wire.CodeProtocol, "%v before HELLO", k)
	}
	switch k {
	case wire.KindHello:
		if v.welcomed {
			return protoErr(wire.CodeProtocol, "second HELLO")
		}
		return ss.hello(p)
	case wire.KindHeartbeat:
		return ss.heartbeat(p)
	case wire.KindBatch:
		return ss.batch(p)
	case wire.KindError:
		m, _ := wire.DecodeError(p)
		ss.srv.log.Info("agent sent error", "agent", v.hello.AgentID, "code", m.Code, "message", m.Message)
		return errEnd
	}
	return protoErr(wire.CodeProtocol, "unexpected %v from an agent", k)
}

func (ss *session) hello(p []byte) error {
	v, cfg := ss.v2, &ss.srv.cfg
	h, err := wire.DecodeHello(p)
	if err != nil {
		return protoErr(wire.CodeProtocol, "%v", err)
	}
	if h.Version < wire.ProtocolVersion {
		return protoErr(wire.CodeVersion, "protocol %d not supported; this server speaks %d", h.Version, wire.ProtocolVersion)
	}
	if h.AgentID == "" || len(h.AgentID) > 128 || !utf8.ValidString(h.AgentID) {
		return protoErr(wire.CodeProtocol, "agent id %q is empty, too long or not UTF-8", snippet(h.AgentID))
	}
	if err := ss.checkHelloLimits(&h); err != nil {
		return err
	}
	if cfg.Auth != nil {
		if err := cfg.Auth(&h, ss.conn.RemoteAddr()); err != nil {
			return ss.refuseCredentials("auth", "agent refused: bad credentials", []any{"agent", snippet(h.AgentID), "err", err}, "%v", err)
		}
	}
	if err := ss.checkClientCert(h.AgentID); err != nil {
		return ss.refuseCredentials("client_cert", "agent refused: client certificate", []any{"agent", snippet(h.AgentID), "err", err}, "%v", err)
	}
	enrolled, err := ss.checkEnrolment(&h)
	if err != nil {
		return err
	}
	secret := h.Secret
	h.Token, h.Secret = "", "" // keep no credentials in memory
	v.hello = h
	peer, prev, err := ss.srv.fleet.attach(&h, ss, cfg.now())
	if errors.Is(err, errEntryTooLarge) {
		ss.srv.refuse("agent_entry_too_large", "agent refused: HELLO identity over -max-agent-entry-bytes", "agent", snippet(h.AgentID), "remote", ss.remote)
		return protoErr(wire.CodeLimit, "HELLO identity of %d bytes, limit %d (-max-agent-entry-bytes)", entrySize(&h), cfg.MaxAgentEntryBytes)
	}
	if errors.Is(err, errFleetBytes) {
		ss.srv.refuse("max_fleet_identity_bytes", "agent refused: the agents' identities fill -max-fleet-identity-bytes", "agent", snippet(h.AgentID), "remote", ss.remote)
		return protoErr(wire.CodeOverload, "the agents' identities fill the fleet (-max-fleet-identity-bytes %d); try later or another server", cfg.MaxFleetIDBytes)
	}
	if err != nil {
		ss.srv.refuse("max_agents", "agent refused: the fleet is full", "agent", snippet(h.AgentID), "remote", ss.remote, "max_agents", cfg.MaxAgents)
		return protoErr(wire.CodeOverload, "the server tracks %d agents, its limit; try later or another server", cfg.MaxAgents)
	}
	ss.peer = peer
	if prev != nil { // the agent reconnected before its old connection ended
		prev.kick()
		select {
		case <-prev.done:
		case <-time.After(cfg.HandshakeTimeout):
			return protoErr(wire.CodeDuplicate, "previous connection of this agent did not end")
		}
	}
	var issued string
	if cfg.Enrolment != nil && !enrolled {
		if issued, err = ss.enrol(h.AgentID, secret); err != nil {
			return err
		}
	}
	v.committed = cfg.Sequences.Last(h.AgentID)
	v.ackedSeq, v.seqSeen = v.committed, 0
	v.welcomed = true
	ss.appendFrame(func(b []byte) []byte {
		return wire.AppendWelcome(b, &wire.Welcome{
			Version:           wire.ProtocolVersion,
			ServerTime:        cfg.now().UnixNano(),
			HeartbeatInterval: cfg.HeartbeatInterval,
			LastSeq:           v.committed,
			MaxBatchSamples:   uint32(cfg.MaxBatchSamples),
			MaxSeries:         uint32(cfg.MaxSeries),
			Window:            uint32(cfg.Window),
			ServerID:          cfg.ServerID,
			MaxSampleAge:      cfg.MaxSampleAge,
			Secret:            issued,
		})
	})
	ss.srv.log.Debug("agent connected", "agent", h.AgentID, "host", h.Hostname, "remote", ss.remote, "last_seq", v.committed)
	return nil
}

func (ss *session) heartbeat(p []byte) error {
	hb, err := wire.DecodeHeartbeat(p)
	if err != nil {
		return protoErr(wire.CodeProtocol, "%v", err)
	}
	now := ss.srv.cfg.now().UnixNano()
	offset := hb.Offset
	if hb.RTT == 0 { // no measurement yet: the one-way estimate
		offset = hb.AgentTime - now
	}
	ss.peer.clock(offset, hb.RTT)
	hb.ServerRecv, hb.ServerSend = now, ss.srv.cfg.now().UnixNano()
	ss.appendFrame(func(b []byte) []byte { return wire.AppendHeartbeat(b, &hb, true) })
	ss.echoPending = true
	return nil
}

// batch takes one BATCH frame: definitions join the dictionary, samples
// wait in pending until the batch is complete and committed.
func (ss *session) batch(p []byte) error {
	v := ss.v2
	head, err := wire.PeekBatch(p)
	if err != nil {
		return protoErr(wire.CodeProtocol, "%v", err)
	}
	if v.bufs == nil {
		v.bufs = getBatchBufs()
	}
	if !head.Final {
		if err := ss.reservePart(len(p)); err != nil {
			return err
		}
	}
	var refused int
	if head.Defs > 0 {
		// Defining series is the costly part of a batch: it waits for a
		// place, one of the CPUs being kept for batches that define none.
		ss.srv.defining.enter()
		refused, err = ss.readPart(p)
		ss.srv.defining.leave()
	} else {
		refused, err = ss.readPart(p)
	}
	if err != nil {
		return err
	}
	ss.paceRefusals(refused)
	return nil
}

// readPart decodes the BATCH part p, defines its series and adds its
// samples to the pending ones. It returns how many definitions were
// refused, which the caller paces once readPart's place is left.
func (ss *session) readPart(p []byte) (refused int, err error) {
	v := ss.v2
	b := &v.bufs.batch
	if err := v.dict.DecodeBatch(p, b); err != nil {
		if errors.Is(err, wire.ErrDictFull) {
			return 0, protoErr(wire.CodeLimit, "%v", err)
		}
		return 0, protoErr(wire.CodeProtocol, "%v", err)
	}
	if err := v.sequence(b, uint64(ss.srv.cfg.MaxSeqGap)); err != nil {
		var pe *errProtocol
		if errors.As(err, &pe) && pe.code == wire.CodeLimit {
			ss.srv.m.errors.WithLabelValues("sequence_jump").Inc()
			ss.srv.log.Warn("batch sequence jumps too far ahead; refused", "agent", v.hello.AgentID,
				"remote", ss.remote, "seq", b.Seq, "stored", v.committed)
		}
		return 0, err
	}
	for i := range b.Defs {
		if i%yieldEvery == yieldEvery-1 {
			runtime.Gosched()
		}
		if s, h, bad := ss.define(&b.Defs[i]); bad == seriesOK {
			if v.series.add(s, h) {
				v.fresh++
			}
		} else {
			v.series.refuse(bad)
			refused++
		}
	}
	ss.srv.m.dictSeries.Add(float64(len(b.Defs)))
	mem := v.series.memory()
	ss.srv.m.dictBytes.Add(float64(mem - v.dictMem))
	v.dictMem = mem
	if limit := ss.srv.cfg.MaxDictBytes; v.series.strBytes > limit {
		return refused, protoErr(wire.CodeLimit, "series dictionary holds more than %d bytes of labels and help", limit)
	}
	if !v.openDup {
		// Grown once per part, not by appends: an open batch holds what
		// holdBatchBytes accounts, and its buffer fits the pool again.
		v.bufs.pending = slices.Grow(v.bufs.pending, len(b.Samples))
		for _, s := range b.Samples {
			v.bufs.pending = append(v.bufs.pending, pendingSample{id: s.ID, t: s.T, v: s.V})
		}
		if err := ss.holdBatchBytes(!b.Final); err != nil {
			return refused, err
		}
		if len(v.bufs.pending)-v.openStart > ss.srv.cfg.MaxBatchSamples {
			return refused, protoErr(wire.CodeLimit, "batch %d has more than %d samples", b.Seq, ss.srv.cfg.MaxBatchSamples)
		}
	} else {
		ss.srv.m.samplesDup.Add(float64(len(b.Samples)))
	}
	if b.Final {
		v.open = false
		v.readySeq, v.readyN = b.Seq, len(v.bufs.pending)
		if v.readyAt.IsZero() {
			v.readyAt = ss.srv.cfg.now()
		}
		if v.openDup {
			ss.srv.m.batchDup.Inc()
		} else {
			v.readyNew++
		}
	}
	return refused, nil
}

// sequence checks that b continues the connection's batches: a new batch
// has a higher sequence than any before it, a part follows its predecessor,
// and, once the agent has a stored or a seen sequence, a new batch is at
// most gap ahead of it. The gap bounds what a buggy or hostile peer can do
// to the agent id's stored sequence: a batch numbered 2^64-1 would be
// acknowledged and persisted, and the real agent's spool could never catch
// up with it. A refused batch is never stored nor persisted.
func (v *v2State) sequence(b *wire.Batch, gap uint64) error {
	if v.open {
		if b.Seq != v.seqSeen || b.Part != v.openPart+1 {
			return protoErr(wire.CodeProtocol, "batch %d part %d while batch %d part %d is open",
				b.Seq, b.Part, v.seqSeen, v.openPart+1)
		}
		v.openPart = b.Part
		return nil
	}
	if b.Part != 0 || b.Seq <= v.seqSeen {
		return protoErr(wire.CodeProtocol, "batch %d part %d after batch %d", b.Seq, b.Part, v.seqSeen)
	}
	if base := max(v.committed, v.seqSeen); base > 0 && b.Seq-base > gap {
		return protoErr(wire.CodeLimit, "batch %d is more than %d ahead of batch %d", b.Seq, gap, base)
	}
	v.seqSeen, v.openPart, v.open = b.Seq, 0, true
	v.openStart = len(v.bufs.pending)
	v.openDup = b.Seq <= v.committed
	return nil
}

// localTarget reports whether labels name a target on the agent's own host:
// an instance "<host>:<port>" whose host is the session's host name or
// instance, as the agent's scrape input names a local exporter. Such a
// series keeps its own job and instance (a Prometheus scrape of that
// target would give the same), and may carry its own up; agent_id is
// still the session's, so it cannot pass for another agent's.
func (v *v2State) localTarget(ls []wire.Label) bool {
	for _, l := range ls {
		if l.Name != "instance" {
			continue
		}
		host, port, ok := strings.Cut(l.Value, ":")
		if !ok || port == "" || strings.Contains(port, ":") {
			return false
		}
		return host == v.hello.Hostname || host == v.identity().instance
	}
	return false
}

type helloIdentity struct{ job, instance string }

// identity is the job and instance of the session's HELLO (the instance
// defaults to the host name, as in the fleet).
func (v *v2State) identity() helloIdentity {
	id := helloIdentity{instance: v.hello.Hostname}
	for _, l := range v.hello.Labels {
		switch l.Name {
		case "job":
			id.job = l.Value
		case "instance":
			id.instance = l.Value
		}
	}
	return id
}

// sessionOwns reports whether label name is set from the session rather
// than taken from the series: agent_id always, job and instance unless
// HonorLabels (as a Prometheus scrape sets them unless honor_labels) or
// the series is a local target's.
func (v *v2State) sessionOwns(name string, cfg *Config, local bool) bool {
	if !cfg.StampIdentity {
		return false
	}
	switch name {
	case "agent_id":
		return true
	case "job", "instance":
		return !cfg.HonorLabels && !local
	}
	return false
}

// stampIdentity adds the session's identity labels: the authenticated
// agent id, and the job and instance of its HELLO. A series thus cannot be
// written in another agent's name.
func (v *v2State) stampIdentity(lb *labels.ScratchBuilder, cfg *Config, local bool) {
	lb.Add("agent_id", v.hello.AgentID)
	if cfg.HonorLabels || local {
		return
	}
	id := v.identity()
	if id.job != "" {
		lb.Add("job", id.job)
	}
	if id.instance != "" {
		lb.Add("instance", id.instance)
	}
}

// checkHelloLimits bounds what HELLO brings into the fleet's labels.
func (ss *session) checkHelloLimits(h *wire.Hello) error {
	cfg := &ss.srv.cfg
	if len(h.Labels) > cfg.MaxLabels {
		return protoErr(wire.CodeLimit, "HELLO has %d labels, limit %d", len(h.Labels), cfg.MaxLabels)
	}
	for _, s := range []string{h.Hostname, h.AgentVersion} {
		if len(s) > cfg.MaxLabelValueLen {
			return protoErr(wire.CodeLimit, "HELLO field of %d bytes, limit %d", len(s), cfg.MaxLabelValueLen)
		}
		if !utf8.ValidString(s) {
			return protoErr(wire.CodeProtocol, "HELLO field %q is not UTF-8", snippet(s))
		}
	}
	for i, l := range h.Labels {
		if len(l.Name) > cfg.MaxLabelNameLen || len(l.Value) > cfg.MaxLabelValueLen {
			return protoErr(wire.CodeLimit, "HELLO label %q too long", snippet(l.Name))
		}
		if l.Name == "" || !utf8.ValidString(l.Name) || !utf8.ValidString(l.Value) {
			return protoErr(wire.CodeProtocol, "HELLO label %q is empty or not UTF-8", snippet(l.Name))
		}
		if l.Name == model.MetricNameLabel {
			return protoErr(wire.CodeProtocol, "HELLO label %s is reserved", model.MetricNameLabel)
		}
		for _, o := range h.Labels[:i] { // at most MaxLabels: quadratic but small
			if o.Name == l.Name {
				return protoErr(wire.CodeProtocol, "HELLO label %q given twice", snippet(l.Name))
			}
		}
	}
	return nil
}

// define turns a series definition into a dictionary entry: the series
// and its labels' hash, or why the definition is refused. A refused
// definition keeps its id, marked bad, so that the dictionary stays in
// step with the agent while that series' samples are dropped; nothing of
// it is allocated or kept (its labels are built in a scratch buffer,
// copied only once admitted).
func (ss *session) define(d *wire.SeriesDef) (store.Series, uint64, badReason) {
	v, cfg := ss.v2, &ss.srv.cfg
	if d.Name == "" || !utf8.ValidString(d.Name) || d.Type > wire.TypeGauge {
		return store.Series{}, 0, badInvalid // an unknown type byte too: the data model has no meaning for it
	}
	if len(d.Labels) > cfg.MaxLabels {
		return store.Series{}, 0, badTooManyLabels
	}
	if len(d.Name) > cfg.MaxLabelNameLen {
		return store.Series{}, 0, badLabelTooLong
	}
	local := cfg.StampIdentity && v.localTarget(d.Labels)
	if serverFamilies[d.Name] && !(local && d.Name == "up") {
		return store.Series{}, 0, badReserved
	}
	v.lb.Reset()
	v.lb.Add(model.MetricNameLabel, d.Name)
	for _, l := range d.Labels {
		if l.Name == "" || l.Name == model.MetricNameLabel || !utf8.ValidString(l.Name) || !utf8.ValidString(l.Value) {
			return store.Series{}, 0, badInvalid
		}
		if len(l.Name) > cfg.MaxLabelNameLen || len(l.Value) > cfg.MaxLabelValueLen {
			return store.Series{}, 0, badLabelTooLong
		}
		if l.Value != "" && !v.sessionOwns(l.Name, cfg, local) {
			v.lb.Add(l.Name, l.Value)
		}
	}
	if cfg.StampIdentity {
		v.stampIdentity(&v.lb, cfg, local)
	}
	v.lb.Sort()
	v.lb.Overwrite(&v.scratch)
	if _, dup := v.scratch.HasDuplicateLabelNames(); dup {
		return store.Series{}, 0, badInvalid
	}
	h := v.scratch.Hash()
	if bad := ss.admit(h); bad != seriesOK {
		return store.Series{}, 0, bad
	}
	help := d.Help
	if len(help) > cfg.MaxHelpLen {
		// The series is fine; its HELP text is kept in the dictionary and in
		// the metadata for ever, so only its first MaxHelpLen bytes are.
		help = strings.ToValidUTF8(help[:cfg.MaxHelpLen], "")
		ss.srv.m.errors.WithLabelValues("help_too_long").Inc()
	}
	return store.Series{Labels: v.scratch.Copy(), Meta: metadata.Metadata{Type: metricType(d.Type), Help: help}}, h, seriesOK
}

// admit passes the series with label hash h through the agent's
// cardinality guard and the server's. Every agent within its own limit can
// still add up past what the head can hold: the server's guard bounds the
// sum. A series the server's guard refuses is not recorded in the agent's,
// so that it does not count against the agent's limit, nor hold memory
// there: the agent's guard is only asked whether it would admit h before
// the server's guard is, and records h after.
func (ss *session) admit(h uint64) badReason {
	cfg := &ss.srv.cfg
	g, now := &ss.peer.guard, cfg.now()
	if !g.wouldAdmit(h, cfg.MaxSeriesPerAgent, now, cfg.SeriesWindow) {
		return badSeriesLimit
	}
	if !ss.srv.allSeries.admit(h, cfg.MaxSeriesTotal, now, cfg.SeriesWindow) {
		return badGlobalLimit
	}
	if !g.admit(h, cfg.MaxSeriesPerAgent, now, cfg.SeriesWindow) {
		return badSeriesLimit // another connection of the agent took the last place
	}
	return seriesOK
}

func metricType(t wire.MetricType) model.MetricType {
	switch t {
	case wire.TypeCounter:
		return model.MetricTypeCounter
	case wire.TypeGauge:
		return model.MetricTypeGauge
	}
	return model.MetricTypeUnknown
}

// commitV2 stores the complete batches in pending and acknowledges them.
func (ss *session) commitV2() error {
	v, m := ss.v2, ss.srv.m
	if v == nil {
		return nil
	}
	defer ss.releaseBufs()
	if v.readySeq <= v.ackedSeq {
		return nil
	}
	if v.readyN > 0 {
		if v.req == nil {
			v.req = newCommitReq()
		}
		r := v.req
		r.samples, r.series, r.fresh = v.bufs.pending[:v.readyN], &v.series, v.fresh
		r.future = ss.srv.cfg.now().Add(ss.srv.cfg.MaxFutureSkew).UnixMilli()
		ss.srv.commits.commit(r)
		r.samples, r.series = nil, nil
		v.fresh = 0
		if r.err != nil {
			m.batchFailed.Add(float64(v.readyNew))
			ss.srv.log.Warn("commit failed", "agent", v.hello.AgentID, "err", r.err)
			return protoErr(wire.CodeStorage, "storage failed: %v", r.err)
		}
		m.samplesStored.Add(float64(r.stored))
		m.samplesRejected.Add(float64(r.rejected))
		m.samplesDup.Add(float64(r.duplicate))
		for reason, n := range r.dropped {
			if n > 0 {
				m.errors.WithLabelValues(badReasonNames[reason]).Add(float64(n))
			}
		}
		m.batchStored.Add(float64(v.readyNew))
		ss.peer.samples.Add(uint64(r.stored))
		ss.srv.fleet.observeSamples(ss.peer, v.bufs.pending[:v.readyN])
		if err := ss.srv.cfg.Sequences.Advance(v.hello.AgentID, v.readySeq); err != nil {
			ss.srv.log.Warn("sequence not persisted", "agent", v.hello.AgentID, "err", err)
		}
		n := copy(v.bufs.pending, v.bufs.pending[v.readyN:])
		v.bufs.pending = v.bufs.pending[:n]
		ss.holdBatchBytes(false) //nolint:errcheck // less is held than before: no limit to pass
		v.openStart -= v.readyN
		v.readyN = 0
	}
	v.readyNew = 0 // batches without samples are acknowledged, not counted
	v.committed = max(v.committed, v.readySeq)
	v.ackedSeq = v.readySeq
	ss.appendFrame(func(b []byte) []byte { return wire.AppendAck(b, wire.Ack{Seq: v.ackedSeq}) })
	m.ackSeconds.Observe(ss.srv.cfg.now().Sub(v.readyAt).Seconds())
	v.readyAt = time.Time{}
	return nil
}

// pendingSampleSize is the memory of one pending sample, and of one
// decoded one (wire.Sample has the same layout).
const pendingSampleSize = int64(unsafe.Sizeof(pendingSample{}))

// holdBatchBytes accounts the memory the session's unfinished batches
// hold (pending samples and the last decoded part; by length, so a pooled
// buffer's spare capacity, at most 64 Ki samples, is not counted), against the connection's limit and the server's. A peer
// over its own limit is closed with ERROR 4; past the server's limit the
// batch is refused with ERROR 8 and the agent resends it later. Without
// this, open batches of tiny repeated samples cost about 65 times their
// wire size (a 1-byte sample becomes 24 bytes twice over).
//
// The server's limit refuses only a part that leaves its batch unfinished
// (unfinished): a final part completes the batch, which is committed and
// released at once, so a well-behaved agent sending whole batches is not
// refused because other peers hold the server's budget of open ones.
func (ss *session) holdBatchBytes(unfinished bool) error {
	v, cfg := ss.v2, &ss.srv.cfg
	var held int64
	if v.bufs != nil {
		held = int64(len(v.bufs.pending)+len(v.bufs.batch.Samples)) * pendingSampleSize
	}
	total := ss.srv.openBatchBytes.Add(held - v.heldBytes)
	v.heldBytes = held
	switch {
	case held > int64(cfg.MaxOpenBatchBytes):
		ss.srv.m.errors.WithLabelValues("open_batch_bytes").Inc()
		return protoErr(wire.CodeLimit, "unfinished batches hold %d bytes on this connection, limit %d", held, cfg.MaxOpenBatchBytes)
	case unfinished && held > 0 && total > int64(cfg.MaxOpenBatchBytesTotal):
		return ss.openBatchesFull()
	}
	return nil
}

// reservePart accounts, before it is decoded, the most memory a part of
// size bytes that leaves its batch unfinished can make the connection
// hold: its pending samples and, at most, one sample per payload byte,
// both decoded and pending. If the server's limit of unfinished batches
// cannot take that, the part is refused undecoded (ERROR 8, as
// holdBatchBytes would after decoding it): a peer holding parts open
// costs the server no decoding once the limit is reached, and concurrent
// parts cannot pass the limit together while they decode. holdBatchBytes
// then accounts what the part really holds. A final part is not reserved
// (batch does not call this): it completes its batch and is never refused
// by this limit.
func (ss *session) reservePart(size int) error {
	v := ss.v2
	pending := 0
	if v.bufs != nil {
		pending = len(v.bufs.pending)
	}
	most := int64(pending+2*wire.BatchMostSamples(size)) * pendingSampleSize
	total := ss.srv.openBatchBytes.Add(most - v.heldBytes)
	v.heldBytes = most
	if total > int64(ss.srv.cfg.MaxOpenBatchBytesTotal) {
		return ss.openBatchesFull()
	}
	return nil
}

// openBatchesFull refuses a part that leaves its batch unfinished while
// the server holds -max-open-batch-bytes-total.
func (ss *session) openBatchesFull() error {
	ss.srv.m.errors.WithLabelValues("open_batch_bytes_total").Inc()
	return protoErr(wire.CodeOverload, "the server holds its limit of unfinished batches; resend later")
}

// releaseBufs gives the batch buffers back when no batch is in flight: an
// agent between batches holds none.
func (ss *session) releaseBufs() {
	v := ss.v2
	if !v.open && v.bufs != nil && len(v.bufs.pending) == 0 {
		putBatchBufs(v.bufs)
		v.bufs = nil
		ss.holdBatchBytes(false) //nolint:errcheck // nothing is held now
	}
}

// batchBufs are what a session needs while a batch is in flight: the
// decode target and the samples waiting for the commit. Sessions borrow
// them from a pool per batch, so that thousands of agents between batches
// hold none (a 300-series batch's are about 60 KB).
type batchBufs struct {
	batch   wire.Batch
	pending []pendingSample
}

var batchPool = sync.Pool{New: func() any { return new(batchBufs) }}

func getBatchBufs() *batchBufs { return batchPool.Get().(*batchBufs) }

// putBatchBufs returns b to the pool, unless a huge batch grew it.
func putBatchBufs(b *batchBufs) {
	const maxKeep = 1 << 16 // samples
	if cap(b.pending) > maxKeep || cap(b.batch.Samples) > maxKeep {
		return
	}
	b.batch.Reset()
	b.pending = b.pending[:0]
	batchPool.Put(b)
}

func (ss *session) sendError(code wire.ErrorCode, msg string) {
	ss.appendFrame(func(b []byte) []byte { return wire.AppendError(b, &wire.Error{Code: code, Message: msg}) })
}

func (ss *session) sendGoAway() {
	ss.appendFrame(func(b []byte) []byte {
		return wire.AppendGoAway(b, &wire.GoAway{ReconnectAfter: 100 * time.Millisecond, Reason: "server draining"})
	})
}

// snippet cuts a string from a peer to a length fit for a message.
func snippet(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}
