package collect

import (
	"bytes"
	"fmt"
	"log/slog"
)

func init() {
	register("cpu", true, "Exposes CPU statistics.", newCPU)
}

// userHZ is the unit of the times in /proc/stat, fixed at 100 on Linux.
const userHZ = 100

// cpuModes names the columns of a cpuN line of /proc/stat, in order.
var cpuModes = [...]string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}

// cpuCollector reads the per-CPU lines of /proc/stat.
type cpuCollector struct {
	path string
	r    fileReader
	f    [][]byte // reused field slice
	ids  strcache // CPU numbers as label values
}

func newCPU(cfg *Config, _ *slog.Logger) (collector, error) {
	return &cpuCollector{path: cfg.proc("stat")}, nil
}

const (
	helpCPU      = "Seconds the CPUs spent in each mode."
	helpCPUGuest = "Seconds the CPUs spent in guests (VMs) for each mode."
)

func (c *cpuCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("cpu: %w", noData(err))
	}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if !bytes.HasPrefix(line, []byte("cpu")) || len(line) < 4 || line[3] < '0' || line[3] > '9' {
			continue
		}
		c.f = splitFields(c.f, line)
		if len(c.f) < 1+len(cpuModes) {
			return fmt.Errorf("cpu: short line %q", snippet(line))
		}
		var v [10]float64
		n := min(len(c.f)-1, len(v))
		for i := range n {
			x, ok := parseUint(c.f[1+i])
			if !ok {
				return fmt.Errorf("cpu: bad number in line %q", snippet(line))
			}
			v[i] = float64(x) / userHZ
		}
		cpu := Label{"cpu", c.ids.get(c.f[0][3:])}
		for i, mode := range cpuModes {
			e.counter("node_cpu_seconds_total", helpCPU, v[i], cpu, Label{"mode", mode})
		}
		if n >= 10 {
			e.counter("node_cpu_guest_seconds_total", helpCPUGuest, v[8], cpu, Label{"mode", "user"})
			e.counter("node_cpu_guest_seconds_total", helpCPUGuest, v[9], cpu, Label{"mode", "nice"})
		}
	}
	return nil
}
