package server

import (
	"testing"
	"time"

	"hawk/internal/store"
	"hawk/internal/wire"
)

// blockingSink holds every Commit until release is closed.
type blockingSink struct {
	*store.Memory
	entered chan struct{} // a Commit has started
	release chan struct{}
}

func (s *blockingSink) Appender() store.Appender {
	return &blockingApp{Appender: s.Memory.Appender(), s: s}
}

type blockingApp struct {
	store.Appender
	s *blockingSink
}

func (a *blockingApp) Commit() error {
	select {
	case a.s.entered <- struct{}{}:
	default:
	}
	<-a.s.release
	return a.Appender.Commit()
}

// TestEchoBeforeCommit: a heartbeat read together with a batch is echoed
// while the batch's commit is still running, so a slow commit does not
// count as network delay in the agent's round trip and clock offset.
func TestEchoBeforeCommit(t *testing.T) {
	sink := &blockingSink{Memory: store.NewMemory(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	_, addr := startServer(t, Config{Sink: sink, LivenessInterval: time.Hour})
	c := dial(t, addr)
	c.hello("echo")
	out, err := c.enc.AppendBatch(nil, 1, testBatch(3, 1000, 1), 0)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := wire.AppendFrame(nil, wire.AppendHeartbeat(nil, &wire.Heartbeat{AgentTime: 7}, false))
	if _, err := c.c.Write(append(out, hb...)); err != nil { // one write: one read on the server
		t.Fatal(err)
	}
	<-sink.entered
	p := c.recv() // the commit is blocked: only the echo can come now
	if k, _ := wire.PeekKind(p); k != wire.KindHeartbeatEcho {
		t.Fatalf("got %v while the commit was blocked, want the echo", k)
	}
	close(sink.release)
	if a := c.ack(); a != 1 {
		t.Fatalf("ack %d", a)
	}
}
