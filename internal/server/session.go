package server

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"hawk/internal/wire"
)

// protocol is what a connection turned out to speak.
type protocol uint8

const (
	protoUnknown protocol = iota // no valid frame yet
	protoLegacy                  // JSON packets, bare-line replies
	protoV2                      // binary v2
)

// session serves one connection. One goroutine, run, owns everything in it
// but the fields marked atomic; others reach it only through drain and kick.
type session struct {
	srv      *Server
	conn     net.Conn   // the TCP connection: deadlines and Close go here
	rw       net.Conn   // reads and writes go here: conn, or its TLS layer
	addr     netip.Addr // the peer's IP address, for the per-address limit
	remote   string
	accepted time.Time

	tls        *tls.ConnectionState // set once a TLS handshake completed
	plaintext  bool                 // TLS is offered but the peer did not start it
	frameStart time.Time            // since when the head of the pending bytes has waited to become a frame

	dec         wire.Decoder
	last        wire.DecoderStats // decoder counters already added to metrics
	small       [256]byte         // reads land here while nothing is pending, so an idle or trickling session holds no frame buffer
	held        int               // small[:held] are bytes read but not yet given to dec: no frame is complete in them
	out         []byte            // replies not yet written; written once per read
	echoPending bool              // out holds a heartbeat echo, to be written before the commit

	proto protocol
	peer  *Agent // fleet entry, once known
	v2    *v2State

	peerClosed bool          // the peer closed the connection (EOF or reset), rather than a timeout or the server
	authFailed bool          // HELLO refused for its credentials: the ERROR waits AuthFailureDelay
	draining   atomic.Bool   // Shutdown asked this session to end
	kicked     atomic.Bool   // a newer session of the same agent asked this one to end
	done       chan struct{} // closed when run returns
	wake       chan struct{} // drain and kick end a wait (paceRefusals) through it
	doneOnce   sync.Once
}

func newSession(srv *Server, c net.Conn) *session {
	return &session{srv: srv, conn: c, rw: c, remote: c.RemoteAddr().String(), accepted: srv.cfg.now(), done: make(chan struct{}),
		wake: make(chan struct{}, 1)}
}

// drain asks the session to commit and acknowledge what it has, send GOAWAY
// and end. Safe from any goroutine.
func (ss *session) drain() {
	ss.draining.Store(true)
	ss.conn.SetReadDeadline(time.Now()) //nolint:errcheck // wakes the reader; an error means it is gone already
	ss.wakeUp()
}

// kick asks the session to end because its agent connected again.
func (ss *session) kick() {
	ss.kicked.Store(true)
	ss.conn.SetReadDeadline(time.Now()) //nolint:errcheck // as in drain
	ss.wakeUp()
}

// errEnd ends a session quietly: the peer left, or was told why already.
var errEnd = errors.New("session ended")

func (ss *session) run() {
	defer ss.finish()
	if ss.srv.cfg.TLS != nil {
		if err := ss.sniff(); err != nil {
			ss.srv.log.Debug("session ended", "remote", ss.remote, "err", err)
			return
		}
	}
	for {
		err := ss.read()
		if err == nil {
			err = ss.process()
		}
		if err == nil && ss.echoPending {
			// A heartbeat echo goes out before the commit of the batches
			// read with it: the agent measures round trip and clock offset
			// from it, and a commit's time would count as network delay.
			ss.echoPending = false
			err = ss.flush()
		}
		if err == nil {
			err = ss.commit()
		}
		if err == nil && (ss.draining.Load() || ss.kicked.Load()) {
			err = ss.leave()
		}
		var pe *errProtocol
		if errors.As(err, &pe) {
			ss.srv.m.errors.WithLabelValues(fmt.Sprintf("protocol_%d", pe.code)).Inc()
			ss.sendError(pe.code, pe.msg)
		}
		if ss.authFailed {
			ss.authFailed = false
			ss.holdRefusal()
		}
		if ferr := ss.flush(); err == nil {
			err = ferr
		}
		if err != nil {
			if !errors.Is(err, errEnd) {
				ss.srv.log.Debug("session ended", "remote", ss.remote, "err", err)
			}
			return
		}
	}
}

// read reads once from the connection, into the small buffer when nothing
// is pending. A deadline that passes gives up a stalled frame, ends an idle
// or never-introduced peer, or lets run see a drain request.
func (ss *session) read() error {
	deadline, handshake := ss.deadline()
	if err := ss.conn.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("%w: set deadline: %v", errEnd, err)
	}
	if ss.draining.Load() || ss.kicked.Load() {
		return nil
	}
	var n int
	var err error
	if ss.dec.Pending() == 0 {
		n, err = ss.rw.Read(ss.small[ss.held:])
		ss.held += n
		switch {
		case bytes.IndexByte(ss.small[:ss.held], 0xFF) < 0:
			// No frame can begin in these bytes: skip them here rather
			// than borrow the decoder's 128 KiB buffer to skip them there.
			ss.srv.m.bytesSkipped.Add(float64(ss.held))
			ss.held = 0
		case ss.held == len(ss.small) || !holdable(ss.small[:ss.held]):
			ss.feedHeld()
		}
	} else {
		n, err = ss.rw.Read(ss.dec.Space())
		ss.dec.Commit(n)
	}
	ss.srv.m.bytesIn.Add(float64(n))
	if ss.peer != nil && n > 0 {
		ss.peer.seen(ss.srv.cfg.now())
	}
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrDeadlineExceeded):
		// End of stream: what is buffered may still hold frames behind
		// a partial one.
		ss.feedHeld()
		for ss.dec.Resync() {
			if perr := ss.process(); perr != nil {
				return perr
			}
		}
		ss.commit() //nolint:errcheck // the peer is gone; store what it completed
		ss.notePeerClosed()
		return fmt.Errorf("%w: %v", errEnd, err)
	case ss.draining.Load() || ss.kicked.Load():
		return nil
	}
	now := ss.srv.cfg.now()
	switch {
	case !now.Before(handshake):
		ss.srv.m.errors.WithLabelValues("handshake_timeout").Inc()
		return fmt.Errorf("%w: no handshake within %v", errEnd, ss.srv.cfg.HandshakeTimeout)
	case ss.pending() > 0 && !now.Before(ss.frameStart.Add(ss.srv.cfg.FrameTimeout)):
		// Bytes keep trickling in but no frame completes: a slow peer.
		ss.srv.m.errors.WithLabelValues("frame_timeout").Inc()
		return fmt.Errorf("%w: no frame completed within %v", errEnd, ss.srv.cfg.FrameTimeout)
	case ss.pending() > 0:
		// A frame that stopped half way: give it up and look inside it,
		// and likewise every incomplete frame behind it, as at the end of
		// the stream; otherwise each of them would wait a stall timeout.
		ss.feedHeld()
		for ss.dec.Pending() > 0 && ss.dec.Resync() {
			if err := ss.process(); err != nil {
				return err
			}
		}
		return nil
	}
	ss.srv.m.errors.WithLabelValues("timeout").Inc()
	return fmt.Errorf("%w: read timeout", errEnd)
}

// notePeerClosed records that the peer ended the connection (EOF or reset
// on a read, broken pipe or reset on a write), unless the server was
// ending it anyway (draining, or a newer session of the agent).
func (ss *session) notePeerClosed() { ss.peerClosed = !ss.draining.Load() && !ss.kicked.Load() }

// pending returns how many bytes wait to become a frame.
func (ss *session) pending() int { return ss.held + ss.dec.Pending() }

// feedHeld gives the held bytes to the decoder.
func (ss *session) feedHeld() {
	if ss.held > 0 {
		ss.dec.Write(ss.small[:ss.held])
		ss.held = 0
	}
}

// holdable reports whether b, read while the decoder had nothing pending,
// may wait in the small buffer: it holds a frame's beginning and no
// complete frame. Until then the decoder, and the 128 KiB buffer it
// borrows, are not needed; a peer trickling a frame a byte at a time
// costs 256 bytes, not a frame buffer.
func holdable(b []byte) bool {
	i := bytes.IndexByte(b, 0xFF)
	switch {
	case i < 0:
		return false // no frame begins here: let the decoder skip it
	case len(b)-i < wire.HeaderLen:
		return true
	case b[i+1] != 0xFF:
		return false
	}
	n := int(b[i+2])<<8 | int(b[i+3])
	return len(b)-i < n+wire.Overhead
}

// deadline returns the read deadline for the session's state, and the end
// of its handshake (far off once the handshake is done).
func (ss *session) deadline() (deadline, handshake time.Time) {
	cfg := &ss.srv.cfg
	now := cfg.now()
	handshake = now.Add(time.Hour)
	if ss.proto == protoUnknown || ss.v2 != nil && !ss.v2.welcomed {
		handshake = ss.accepted.Add(cfg.HandshakeTimeout)
	}
	deadline = now.Add(cfg.IdleTimeout)
	if ss.pending() > 0 {
		if ss.frameStart.IsZero() {
			ss.frameStart = now
		}
		deadline = now.Add(cfg.StallTimeout)
		if end := ss.frameStart.Add(cfg.FrameTimeout); end.Before(deadline) {
			deadline = end
		}
	}
	if handshake.Before(deadline) {
		deadline = handshake
	}
	return deadline, handshake
}

// process handles every complete frame that is buffered.
func (ss *session) process() error {
	for p, ok := ss.dec.Next(); ok; p, ok = ss.dec.Next() {
		if err := ss.handle(p); err != nil {
			return err
		}
	}
	st := ss.dec.Stats()
	switch {
	case ss.pending() == 0:
		ss.frameStart = time.Time{}
	case st.Frames != ss.last.Frames || ss.frameStart.IsZero():
		ss.frameStart = ss.srv.cfg.now() // progress: a new frame starts waiting
	}
	ss.srv.m.addDecoder(st, ss.last)
	ss.last = st
	return nil
}

// handle dispatches one frame payload.
func (ss *session) handle(p []byte) error {
	if ss.proto == protoUnknown {
		if wire.IsLegacy(p) {
			return ss.startLegacy(p)
		}
		if len(p) == 0 {
			return nil // decides nothing
		}
		if reason := ss.plaintextRefused(protoV2); reason != "" {
			ss.srv.refuse(reason, "plaintext v2 connection refused: TLS required", "remote", ss.remote)
			ss.sendError(wire.CodeAuth, "this server requires TLS: connect with TLS (hawk-agent -tls)")
			return errEnd
		}
		ss.proto = protoV2
		ss.srv.m.connsTotal.WithLabelValues("v2").Inc()
		ss.v2 = newV2State(ss.srv.cfg.MaxSeries)
	}
	if ss.proto == protoLegacy {
		return ss.handleLegacy(p)
	}
	return ss.handleV2(p)
}

func (ss *session) startLegacy(p []byte) error {
	if ss.srv.cfg.DisableLegacy {
		ss.srv.refuse("legacy_disabled", "legacy connection refused: -legacy=false", "remote", ss.remote)
		return fmt.Errorf("%w: legacy protocol disabled", errEnd)
	}
	if reason := ss.plaintextRefused(protoLegacy); reason != "" {
		ss.srv.refuse(reason, "plaintext legacy connection refused: TLS only (-tls-plaintext none)", "remote", ss.remote)
		return fmt.Errorf("%w: plaintext legacy connection on a TLS-only server", errEnd)
	}
	if !ss.legacyAllowed() {
		ss.srv.refuse("legacy_not_allowed", "legacy connection refused: address not in -legacy-allow", "remote", ss.remote)
		return fmt.Errorf("%w: legacy peer not in the allowed networks", errEnd)
	}
	ss.proto = protoLegacy
	ss.srv.m.connsTotal.WithLabelValues("legacy").Inc()
	peer, err := ss.srv.fleet.attachLegacy(ss.conn.RemoteAddr(), ss.srv.cfg.now())
	if err != nil {
		ss.srv.refuse("max_legacy_agents", "legacy connection refused: -max-legacy-agents tracked", "remote", ss.remote)
		return fmt.Errorf("%w: %v", errEnd, err)
	}
	ss.peer = peer
	return ss.handleLegacy(p)
}

// handleLegacy answers a legacy packet with its exact line; bad packets are
// counted and get no answer.
func (ss *session) handleLegacy(p []byte) error {
	if !wire.IsLegacy(p) {
		ss.srv.m.errors.WithLabelValues("legacy_non_json").Inc()
		return nil
	}
	pkt, err := wire.DecodeLegacy(p)
	switch {
	case errors.Is(err, wire.ErrLegacyType):
		ss.srv.m.errors.WithLabelValues("legacy_unknown_type").Inc()
		return nil
	case err != nil:
		ss.srv.m.errors.WithLabelValues("legacy_malformed").Inc()
		return nil
	}
	if pkt.Type == wire.LegacyHeartbeat {
		ss.srv.m.legacy.WithLabelValues("heartbeat").Inc()
	} else {
		ss.srv.m.legacy.WithLabelValues("report").Inc()
	}
	ss.out = append(ss.out, pkt.Reply()...)
	return nil
}

// flush writes the pending replies.
func (ss *session) flush() error {
	if len(ss.out) == 0 {
		return nil
	}
	if err := ss.conn.SetWriteDeadline(ss.srv.cfg.now().Add(10 * time.Second)); err != nil {
		return fmt.Errorf("%w: %v", errEnd, err)
	}
	_, err := ss.rw.Write(ss.out)
	ss.out = ss.out[:0]
	if cap(ss.out) > 64<<10 {
		ss.out = nil // do not keep a large buffer for an idle connection
	}
	if err != nil {
		// A reset or a broken pipe: the peer closed first, as if the read
		// had seen it (which one fails first is a race).
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
			ss.notePeerClosed()
		}
		return fmt.Errorf("%w: write: %v", errEnd, err)
	}
	return nil
}

// commit stores the complete batches read so far and acknowledges them.
func (ss *session) commit() error {
	if ss.v2 == nil {
		return nil
	}
	return ss.commitV2()
}

// leave ends the session at the request of Shutdown or of a newer session.
func (ss *session) leave() error {
	if ss.v2 != nil && ss.v2.welcomed {
		if ss.draining.Load() {
			ss.sendGoAway()
		} else {
			ss.sendError(wire.CodeDuplicate, "agent connected again on another connection")
		}
	}
	return errEnd
}

func (ss *session) finish() {
	ss.dec.Release()
	if ss.v2 != nil { // released before the peer can see the close
		ss.srv.openBatchBytes.Add(-ss.v2.heldBytes)
		ss.v2.heldBytes = 0
	}
	ss.conn.Close()
	if ss.peer != nil {
		ss.srv.fleet.detach(ss.peer, ss, ss.peerClosed, ss.srv.cfg.now())
	}
	if ss.v2 != nil {
		ss.srv.m.dictSeries.Sub(float64(ss.v2.series.len()))
		ss.srv.m.dictBytes.Sub(float64(ss.v2.dictMem))
		if ss.v2.bufs != nil {
			putBatchBufs(ss.v2.bufs)
			ss.v2.bufs = nil
		}
	}
	if ss.proto == protoUnknown {
		ss.srv.m.connsTotal.WithLabelValues("unknown").Inc()
	}
	ss.doneOnce.Do(func() { close(ss.done) })
	ss.srv.endSession(ss)
}

// appendFrame appends to the replies a frame whose payload enc appends.
func (ss *session) appendFrame(enc func([]byte) []byte) {
	out, start := wire.BeginFrame(ss.out)
	out, err := wire.EndFrame(enc(out), start)
	if err != nil {
		panic("server: reply larger than a frame") // replies are small by construction
	}
	ss.out = out
}
