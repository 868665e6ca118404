package collect

import (
	"fmt"
	"log/slog"
)

func init() {
	register("loadavg", true, "Exposes load average.", newLoadavg)
}

// loadavgCollector reads /proc/loadavg.
type loadavgCollector struct {
	path string
	r    fileReader
	f    [][]byte // reused field slice
}

func newLoadavg(cfg *Config, _ *slog.Logger) (collector, error) {
	return &loadavgCollector{path: cfg.proc("loadavg")}, nil
}

func (c *loadavgCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("loadavg: %w", noData(err))
	}
	c.f = splitFields(c.f, b)
	if len(c.f) < 3 {
		return fmt.Errorf("loadavg: unexpected content %q", snippet(b))
	}
	var v [3]float64
	for i := range v {
		x, ok := parseFloat(c.f[i])
		if !ok {
			return fmt.Errorf("loadavg: bad number %q", snippet(c.f[i]))
		}
		v[i] = x
	}
	e.gauge("node_load1", "1m load average.", v[0])
	e.gauge("node_load5", "5m load average.", v[1])
	e.gauge("node_load15", "15m load average.", v[2])
	return nil
}
