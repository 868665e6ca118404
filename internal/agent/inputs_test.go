package agent

import (
	"strings"
	"testing"

	"hawk/internal/agent/inputs"
	"hawk/internal/store"
)

func hasSeries(sink *store.Memory, name string) bool {
	for _, s := range sink.Series() {
		if strings.Contains(s, `__name__="`+name+`"`) {
			return true
		}
	}
	return false
}

// TestSetInputsKeepsConnection: replacing the inputs (what SIGHUP does)
// brings the new inputs' samples through the spool to the server over the
// session that was already open.
func TestSetInputsKeepsConnection(t *testing.T) {
	sink := store.NewMemory()
	ts := startServer(t, "127.0.0.1:0", sink, nil)
	a, stop := runAgent(t, t.TempDir(), ts.addr())
	build := func(cmd string) *inputs.Runner {
		c := inputs.Config{Exec: inputs.Commands{{Command: cmd}},
			Limits: inputs.Limits{MaxSeriesPerInput: 100, MaxSamples: 1000, MaxBodyBytes: 1 << 16}}
		r, err := c.Build("testhost", nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	eventually(t, "a session", func() bool { return a.stats.connected.Load() })
	a.SetInputs(build("echo first_input_metric 1"))
	eventually(t, "the first input's sample", func() bool { return hasSeries(sink, "first_input_metric") })
	a.SetInputs(build("echo second_input_metric 2"))
	a.ReloadDone(true)
	eventually(t, "the second input's sample", func() bool { return hasSeries(sink, "second_input_metric") })
	eventually(t, "the reload count", func() bool { return hasSeries(sink, "hawk_config_reloads_total") })
	if n := a.stats.reconnect.Load(); n != 1 {
		t.Errorf("%d sessions opened; replacing the inputs must not reconnect", n)
	}
	stop()
}
