package collect

import (
	"fmt"
	"log/slog"
	"strings"
)

func init() {
	register("cpufreq", true, "Exposes CPU frequency statistics.", newCPUFreq)
}

// cpufreqCollector reads /sys/devices/system/cpu/cpuN/cpufreq. Virtual
// machines often have none; that sends nothing and is not an error. Looking
// for it costs a directory listing and a failing lookup per CPU, so after a
// scan that found no cpufreq directory the collector looks again only
// every cpufreqRescan collections (a cpufreq driver loaded later shows up
// with that delay).
type cpufreqCollector struct {
	dir   string
	r     fileReader
	f     [][]byte // reused field slice
	cache strcache // governor names
	idle  int      // collections to skip before looking again
}

const cpufreqRescan = 20

func newCPUFreq(cfg *Config, _ *slog.Logger) (collector, error) {
	return &cpufreqCollector{dir: cfg.sys("devices", "system", "cpu")}, nil
}

var cpufreqFiles = [...]struct{ file, name, help string }{
	{"cpuinfo_cur_freq", "node_cpu_frequency_hertz", "Current CPU thread frequency in hertz."},
	{"cpuinfo_max_freq", "node_cpu_frequency_max_hertz", "Maximum CPU thread frequency in hertz."},
	{"cpuinfo_min_freq", "node_cpu_frequency_min_hertz", "Minimum CPU thread frequency in hertz."},
	{"scaling_cur_freq", "node_cpu_scaling_frequency_hertz", "Current scaled CPU thread frequency in hertz."},
	{"scaling_max_freq", "node_cpu_scaling_frequency_max_hertz", "Maximum scaled CPU thread frequency in hertz."},
	{"scaling_min_freq", "node_cpu_scaling_frequency_min_hertz", "Minimum scaled CPU thread frequency in hertz."},
}

func (c *cpufreqCollector) update(e *emitter) error {
	if c.idle > 0 {
		c.idle--
		return nil
	}
	names, err := c.r.listDir(c.dir)
	if err != nil {
		return fmt.Errorf("cpufreq: %w", noData(err))
	}
	found := false
	defer func() {
		if !found {
			c.idle = cpufreqRescan
		}
	}()
	for _, n := range names {
		num, ok := strings.CutPrefix(n, "cpu")
		if !ok {
			continue
		}
		if _, ok := parseUint([]byte(num)); !ok {
			continue
		}
		if !c.r.exists(c.dir, "/", n, "/cpufreq") {
			continue // one open instead of seven failing ones
		}
		found = true
		cpu := Label{"cpu", num}
		for _, f := range cpufreqFiles {
			khz, err := c.r.readUint(c.dir, "/", n, "/cpufreq/", f.file)
			if err != nil {
				continue // absent, or not readable by this user
			}
			e.gauge(f.name, f.help, float64(khz)*1000, cpu)
		}
		c.governors(e, n, cpu)
	}
	return nil
}

// governors sends node_cpu_scaling_governor: 1 for the current governor, 0
// for the other available ones.
func (c *cpufreqCollector) governors(e *emitter, n string, cpu Label) {
	cur, err := c.r.readTrim(c.dir, "/", n, "/cpufreq/scaling_governor")
	if err != nil {
		return
	}
	current := c.cache.get(cur)
	b, err := c.r.read(c.dir, "/", n, "/cpufreq/scaling_available_governors")
	if err != nil {
		return
	}
	c.f = splitFields(c.f, b)
	for _, g := range c.f {
		v := 0.0
		if string(g) == current {
			v = 1
		}
		e.gauge("node_cpu_scaling_governor", "Current enabled CPU frequency governor.", v, cpu, Label{"governor", c.cache.get(g)})
	}
}
