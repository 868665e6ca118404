package bench

import (
	"testing"

	"hawk/internal/wire"
)

func TestInfluxLine(t *testing.T) {
	f := func(def wire.SeriesDef, v float64, ms int64, want string) {
		t.Helper()
		p := AppendInfluxPrefix(nil, &def, "value")
		if got := string(AppendInfluxLine(nil, p, v, ms)); got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
	f(wire.SeriesDef{Name: "node_load1", Labels: []wire.Label{{Name: "job", Value: "node"}}}, 0.25, 1700000000123,
		"node_load1,job=node value=0.25 1700000000123000000\n")
	f(wire.SeriesDef{Name: "node_filesystem_size_bytes", Labels: []wire.Label{
		{Name: "mountpoint", Value: "/my disk,x=y"}, {Name: "empty", Value: ""}, {Name: "a b", Value: "c"}}}, 1e12, 5,
		`node_filesystem_size_bytes,mountpoint=/my\ disk\,x\=y,a\ b=c value=1000000000000 5000000`+"\n")
	f(wire.SeriesDef{Name: "m,1 x"}, -3, 0, `m\,1\ x value=-3 0000000`+"\n")
}

func TestInfluxPrefixReuse(t *testing.T) {
	def := wire.SeriesDef{Name: "n", Labels: []wire.Label{{Name: "k", Value: "v"}}}
	buf := AppendInfluxPrefix(nil, &def, "value")
	again := AppendInfluxPrefix(buf[:0], &def, "value")
	if string(again) != "n,k=v value=" {
		t.Fatalf("got %q", again)
	}
}
