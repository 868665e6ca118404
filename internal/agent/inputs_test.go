package agent

import (
	"strings"
	"testing"

	"hawk/internal/agent/inputs"
	"hawk/internal/store"
	"hawk/internal/wire"
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

// TestBuilderAddInput: a target's sample keeps its own labels (job and
// instance are the target's), referenced rather than copied when the agent
// adds no static labels; the agent's own samples get its job and instance;
// static labels go on both. Earlier definitions stay intact as later ones
// are added.
func TestBuilderAddInput(t *testing.T) {
	target := []wire.Label{{Name: "job", Value: "node"}, {Name: "instance", Value: "127.0.0.1:9100"}}
	own := []wire.Label{{Name: "command", Value: "check"}}
	for _, static := range [][]wire.Label{nil, {{Name: "dc", Value: "eu"}}} {
		b := newBuilder(Config{Job: "hawk", Instance: "h1", Labels: static})
		for i := range 100 {
			b.addInput(&inputs.Sample{Name: "m", Labels: target, T: int64(i), V: 1})
			b.addInput(&inputs.Sample{Name: "own", Labels: own, Own: true, T: int64(i), V: 2})
		}
		want := map[string]string{
			"m":   labelString(append(append([]wire.Label(nil), target...), static...)),
			"own": labelString(append(append(append([]wire.Label(nil), own...), static...), wire.Label{Name: "job", Value: "hawk"}, wire.Label{Name: "instance", Value: "h1"})),
		}
		for i, d := range b.batch.Defs {
			if got := labelString(d.Labels); got != want[d.Name] {
				t.Fatalf("static %v, def %d %s: labels %s, want %s", static, i, d.Name, got, want[d.Name])
			}
			if d.Name == "m" && len(static) == 0 && &d.Labels[0] != &target[0] {
				t.Fatalf("def %d: a target's labels were copied with no static labels to add", i)
			}
		}
	}
}

func labelString(ls []wire.Label) string {
	var s strings.Builder
	for _, l := range ls {
		s.WriteString(l.Name + "=" + l.Value + ",")
	}
	return s.String()
}
