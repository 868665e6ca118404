package collect

import (
	"fmt"
	"log/slog"
	"regexp"
)

func init() {
	register("vmstat", true, "Exposes statistics from /proc/vmstat.", newVmstat)
}

// vmstatFields is node_exporter's default --collector.vmstat.fields.
var vmstatFields = regexp.MustCompile(`^(oom_kill|pgpg|pswp|pg.*fault).*`)

// vmstatCollector reads the selected fields of /proc/vmstat.
type vmstatCollector struct {
	path  string
	r     fileReader
	f     [][]byte              // reused field slice
	names map[string]vmstatName // every key seen -> metric name, "" if filtered out
}

type vmstatName struct{ name, help string }

func newVmstat(cfg *Config, _ *slog.Logger) (collector, error) {
	return &vmstatCollector{path: cfg.proc("vmstat"), names: map[string]vmstatName{}}, nil
}

func (c *vmstatCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("vmstat: %w", noData(err))
	}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) != 2 {
			continue
		}
		n, ok := c.names[string(c.f[0])]
		if !ok {
			if vmstatFields.Match(c.f[0]) {
				n = vmstatName{"node_vmstat_" + string(c.f[0]), "/proc/vmstat information field " + string(c.f[0]) + "."}
			}
			c.names[string(c.f[0])] = n
		}
		if n.name == "" {
			continue
		}
		v, ok := parseFloat(c.f[1])
		if !ok {
			return fmt.Errorf("vmstat: bad number in line %q", snippet(line))
		}
		e.untyped(n.name, n.help, v)
	}
	return nil
}
