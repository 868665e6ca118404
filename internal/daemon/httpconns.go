package daemon

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// connTracker counts the HTTP connections a listener accepted until the
// server is done with them. http.Server.Shutdown can miss a connection that
// Accept returned just as Shutdown began; across an upgrade that request
// would be cut off. Waiting for the count to reach zero after Shutdown
// closes the gap.
type connTracker struct {
	mu    sync.Mutex
	open  map[net.Conn]struct{}
	empty chan struct{} // closed when open becomes empty; nil while empty
}

func newConnTracker() *connTracker { return &connTracker{open: make(map[net.Conn]struct{})} }

// listener wraps ln so that accepted connections are counted.
func (t *connTracker) listener(ln net.Listener) net.Listener { return &trackedListener{ln, t} }

// connState is the http.Server ConnState hook: closed and hijacked
// connections are no longer the server's.
func (t *connTracker) connState(c net.Conn, s http.ConnState) {
	if s != http.StateClosed && s != http.StateHijacked {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.open, c)
	if len(t.open) == 0 && t.empty != nil {
		close(t.empty)
		t.empty = nil
	}
}

func (t *connTracker) add(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.open[c] = struct{}{}
	if t.empty == nil {
		t.empty = make(chan struct{})
	}
}

// wait returns once every accepted connection is closed, or ctx ends.
func (t *connTracker) wait(ctx context.Context) error {
	t.mu.Lock()
	ch := t.empty
	t.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type trackedListener struct {
	net.Listener
	t *connTracker
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.t.add(c)
	}
	return c, err
}
