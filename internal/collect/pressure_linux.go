package collect

import (
	"bytes"
	"fmt"
	"log/slog"
)

func init() {
	register("pressure", true, "Exposes pressure stall statistics from /proc/pressure/.", newPressure)
}

// pressureCollector reads the PSI files in /proc/pressure.
type pressureCollector struct {
	dir string
	r   fileReader
	f   [][]byte // reused field slice
}

func newPressure(cfg *Config, _ *slog.Logger) (collector, error) {
	return &pressureCollector{dir: cfg.proc("pressure")}, nil
}

// pressureMetrics says which line of which resource becomes which metric.
var pressureMetrics = [...]struct {
	resource, line, name, help string
}{
	{"cpu", "some", "node_pressure_cpu_waiting_seconds_total", "Total time in seconds that processes have waited for CPU time"},
	{"io", "some", "node_pressure_io_waiting_seconds_total", "Total time in seconds that processes have waited due to IO congestion"},
	{"io", "full", "node_pressure_io_stalled_seconds_total", "Total time in seconds no process could make progress due to IO congestion"},
	{"memory", "some", "node_pressure_memory_waiting_seconds_total", "Total time in seconds that processes have waited for memory"},
	{"memory", "full", "node_pressure_memory_stalled_seconds_total", "Total time in seconds no process could make progress due to memory congestion"},
	{"irq", "full", "node_pressure_irq_stalled_seconds_total", "Total time in seconds no process could make progress due to IRQ congestion"},
}

func (c *pressureCollector) update(e *emitter) error {
	found := false
	for i := 0; i < len(pressureMetrics); {
		res := pressureMetrics[i].resource
		j := i
		for j < len(pressureMetrics) && pressureMetrics[j].resource == res {
			j++
		}
		b, err := c.r.read(c.dir + "/" + res)
		if err != nil {
			if isMissing(err) {
				i = j
				continue // irq is only there with CONFIG_IRQ_TIME_ACCOUNTING
			}
			return fmt.Errorf("pressure: %w", err)
		}
		found = true
		for len(b) > 0 {
			var line []byte
			line, b = nextLine(b)
			c.f = splitFields(c.f, line)
			if len(c.f) != 5 {
				continue
			}
			total, ok := bytes.CutPrefix(c.f[4], []byte("total="))
			us, ok2 := parseUint(total)
			if !ok || !ok2 {
				return fmt.Errorf("pressure: bad line in %s: %q", res, snippet(line))
			}
			for _, m := range pressureMetrics[i:j] {
				if string(c.f[0]) == m.line {
					e.counter(m.name, m.help, float64(us)/1e6)
				}
			}
		}
		i = j
	}
	if !found {
		return fmt.Errorf("pressure: %w: %s absent", ErrNoData, c.dir)
	}
	return nil
}
