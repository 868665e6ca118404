package collect

import (
	"fmt"
	"log/slog"
)

func init() {
	register("stat", true, "Exposes various statistics from /proc/stat.", newStat)
}

// statCollector reads the system-wide lines of /proc/stat.
type statCollector struct {
	path string
	r    fileReader
	f    [][]byte // reused field slice
}

func newStat(cfg *Config, _ *slog.Logger) (collector, error) {
	return &statCollector{path: cfg.proc("stat")}, nil
}

func (c *statCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("stat: %w", noData(err))
	}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) < 2 {
			continue
		}
		var name, help string
		t := Counter
		switch string(c.f[0]) {
		case "intr":
			name, help = "node_intr_total", "Total number of interrupts serviced."
		case "ctxt":
			name, help = "node_context_switches_total", "Total number of context switches."
		case "btime":
			name, help, t = "node_boot_time_seconds", "Node boot time, in unixtime.", Gauge
		case "processes":
			name, help = "node_forks_total", "Total number of forks."
		case "procs_running":
			name, help, t = "node_procs_running", "Number of processes in runnable state.", Gauge
		case "procs_blocked":
			name, help, t = "node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", Gauge
		default:
			continue
		}
		v, ok := parseUint(c.f[1])
		if !ok {
			return fmt.Errorf("stat: bad number in line %q", snippet(line))
		}
		e.send(name, help, t, float64(v), nil)
	}
	return nil
}
