package daemon

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"hawk/internal/wire"
)

// helloOnce sends a HELLO for id (with secret) to the agent port and
// returns the reply: WELCOME or ERROR.
func helloOnce(t *testing.T, addr, id, secret string) (wire.Welcome, *wire.Error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // the reads fail if it did
	f, err := wire.AppendFrame(nil, wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: id, Secret: secret}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(f); err != nil {
		t.Fatal(err)
	}
	var dec wire.Decoder
	defer dec.Release()
	buf := make([]byte, 4096)
	for {
		if p, ok := dec.Next(); ok {
			if k, _ := wire.PeekKind(p); k == wire.KindError {
				e, _ := wire.DecodeError(p)
				return wire.Welcome{}, &e
			}
			w, err := wire.DecodeWelcome(p)
			if err != nil {
				t.Fatal(err)
			}
			return w, nil
		}
		n, err := c.Read(buf)
		dec.Write(buf[:n])
		if err != nil && n == 0 {
			t.Fatalf("no reply: %v", err)
		}
	}
}

func forget(t *testing.T, base, id string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/v1/agents/"+id+"/enrolment", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReEnrolment: by default an agent id is bound to the secret issued at
// its first HELLO; DELETE /api/v1/agents/<id>/enrolment (from loopback,
// HTTP auth being off) lets a reinstalled host enrol again.
func TestReEnrolment(t *testing.T) {
	d := startDaemon(t)
	agents, base := d.AgentAddr().String(), "http://"+d.HTTPAddr().String()
	w, e := helloOnce(t, agents, "host-1", "")
	if e != nil || len(w.Secret) != 64 {
		t.Fatalf("first HELLO: %+v %v", w, e)
	}
	if _, e := helloOnce(t, agents, "host-1", ""); e == nil || e.Code != wire.CodeAuth {
		t.Fatalf("HELLO without the secret: %v, want ERROR 3", e)
	}
	if _, e := helloOnce(t, agents, "host-1", w.Secret); e != nil {
		t.Fatalf("HELLO with the secret: %v", e)
	}
	if code, body := forget(t, base, "host-1"); code != 200 || !strings.Contains(body, `"was_enrolled":true`) {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	w2, e := helloOnce(t, agents, "host-1", "")
	if e != nil || len(w2.Secret) != 64 || w2.Secret == w.Secret {
		t.Fatalf("HELLO after re-enrolment: %+v %v", w2, e)
	}
}
