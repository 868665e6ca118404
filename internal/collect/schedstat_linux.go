package collect

import (
	"bytes"
	"fmt"
	"log/slog"
)

func init() {
	register("schedstat", true, "Exposes task scheduler statistics from /proc/schedstat.", newSchedstat)
}

// schedstatCollector reads the cpuN lines of /proc/schedstat.
type schedstatCollector struct {
	path string
	r    fileReader
	f    [][]byte // reused field slice
	ids  strcache // CPU numbers
}

func newSchedstat(cfg *Config, _ *slog.Logger) (collector, error) {
	return &schedstatCollector{path: cfg.proc("schedstat")}, nil
}

func (c *schedstatCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("schedstat: %w", noData(err))
	}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if !bytes.HasPrefix(line, []byte("cpu")) {
			continue
		}
		c.f = splitFields(c.f, line)
		// cpuN and nine numbers; the last three are running ns, waiting ns
		// and time slices.
		if len(c.f) < 10 {
			return fmt.Errorf("schedstat: short line %q", snippet(line))
		}
		run, ok1 := parseUint(c.f[7])
		wait, ok2 := parseUint(c.f[8])
		slices, ok3 := parseUint(c.f[9])
		if !ok1 || !ok2 || !ok3 {
			return fmt.Errorf("schedstat: bad number in line %q", snippet(line))
		}
		cpu := Label{"cpu", c.ids.get(c.f[0][3:])}
		e.counter("node_schedstat_running_seconds_total", "Number of seconds CPU spent running a process.", float64(run)/1e9, cpu)
		e.counter("node_schedstat_waiting_seconds_total", "Number of seconds spent by processing waiting for this CPU.", float64(wait)/1e9, cpu)
		e.counter("node_schedstat_timeslices_total", "Number of timeslices executed by CPU.", float64(slices), cpu)
	}
	return nil
}
