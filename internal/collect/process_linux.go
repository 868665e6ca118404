package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"

	"golang.org/x/sys/unix"

	"hawk/internal/rawio"
)

func init() {
	register("process", true, "Exposes process_* metrics of the agent's own process, as node_exporter's Go client does for node_exporter.", newProcess)
}

// processCollector reads /proc/self: the process that runs the collectors
// is the one collecting on this host, as node_exporter's process is under
// Prometheus. Names, units and types follow client_golang's process
// collector, which node_exporter registers, so that the Node Exporter Full
// dashboard's "Node Exporter" row works unchanged.
type processCollector struct {
	stat, limits, fdDir, procStat string
	r                             fileReader
	f                             [][]byte // reused field slice
	pageSize                      float64
	// start is process_start_time_seconds, computed on the first successful
	// collection: neither the start time nor the boot time changes.
	start float64
}

func newProcess(cfg *Config, _ *slog.Logger) (collector, error) {
	return &processCollector{
		stat:     cfg.proc("self", "stat"),
		limits:   cfg.proc("self", "limits"),
		fdDir:    cfg.proc("self", "fd"),
		procStat: cfg.proc("stat"),
		pageSize: float64(cfg.seams.pagesize()),
	}, nil
}

func (c *processCollector) update(e *emitter) error {
	b, err := c.r.read(c.stat)
	if err != nil {
		return fmt.Errorf("process: %w", noData(err))
	}
	// The command name in parentheses may hold spaces; fields follow the
	// last ')'. Field 3 of proc(5) (state) is c.f[0].
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return fmt.Errorf("process: unexpected stat %q", snippet(b))
	}
	c.f = splitFields(c.f, b[i+1:])
	if len(c.f) < 22 {
		return fmt.Errorf("process: short stat %q", snippet(b))
	}
	utime, ok1 := parseUint(c.f[11])
	stime, ok2 := parseUint(c.f[12])
	starttime, ok3 := parseUint(c.f[19])
	vsize, ok4 := parseUint(c.f[20])
	rss, ok5 := parseUint(c.f[21])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return fmt.Errorf("process: bad number in stat %q", snippet(b))
	}
	if c.start == 0 {
		boot, err := c.bootTime()
		if err != nil {
			return err
		}
		c.start = boot + float64(starttime)/userHZ
	}
	e.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", float64(utime+stime)/userHZ)
	e.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", float64(vsize))
	e.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", float64(rss)*c.pageSize)
	e.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", c.start)
	fds, err := c.openFDs()
	if err != nil {
		return err
	}
	e.gauge("process_open_fds", "Number of open file descriptors.", float64(fds))
	return c.updateLimits(e)
}

// updateLimits sends the soft limits of open files and address space.
func (c *processCollector) updateLimits(e *emitter) error {
	b, err := c.r.read(c.limits)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	var maxFDs, maxAS float64
	var found int
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		var dst *float64
		switch {
		case bytes.HasPrefix(line, []byte("Max open files ")):
			dst = &maxFDs
		case bytes.HasPrefix(line, []byte("Max address space ")):
			dst = &maxAS
		default:
			continue
		}
		c.f = splitFields(c.f, line)
		if len(c.f) < 5 {
			return fmt.Errorf("process: bad limits line %q", snippet(line))
		}
		v, ok := parseLimit(c.f[3])
		if !ok {
			return fmt.Errorf("process: bad limits line %q", snippet(line))
		}
		*dst = v
		found++
	}
	if found != 2 {
		return fmt.Errorf("process: %s lacks Max open files or Max address space", c.limits)
	}
	e.gauge("process_max_fds", "Maximum number of open file descriptors.", maxFDs)
	e.gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", maxAS)
	return nil
}

// parseLimit parses a soft limit of /proc/<pid>/limits; "unlimited" is
// RLIM_INFINITY as a float, 1.8446744073709552e19, which is what
// client_golang (through procfs) reports.
func parseLimit(b []byte) (float64, bool) {
	if string(b) == "unlimited" {
		return math.MaxUint64, true
	}
	v, ok := parseUint(b)
	return float64(v), ok
}

// bootTime reads btime from /proc/stat.
func (c *processCollector) bootTime() (float64, error) {
	b, err := c.r.read(c.procStat)
	if err != nil {
		return 0, fmt.Errorf("process: %w", err)
	}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			if n, ok := parseUint(bytes.TrimSpace(v)); ok {
				return float64(n), nil
			}
			return 0, fmt.Errorf("process: bad btime line %q", snippet(line))
		}
	}
	return 0, fmt.Errorf("process: no btime in %s", c.procStat)
}

// openFDs counts the entries of /proc/self/fd. Like client_golang, it
// counts the descriptor it opens to read the directory. Since Linux 6.2 the
// size procfs reports for the directory is that count, which spares listing
// it (the kernel builds a dentry for every entry listed); older kernels
// report 0 and the entries are counted with getdents(2) into a reused
// buffer, so that it does not allocate.
func (c *processCollector) openFDs() (int, error) {
	fd, err := c.r.open([]string{c.fdDir})
	if err != nil {
		return 0, fmt.Errorf("process: %w", err)
	}
	defer c.r.close(fd)
	var st unix.Stat_t
	var fs unix.Statfs_t
	if rawio.Fstat(fd, &st) == nil && st.Size > 0 && rawio.Fstatfs(fd, &fs) == nil && fs.Type == procSuperMagic {
		return int(st.Size), nil
	}
	n := 0
	if err := c.r.eachDirent(fd, func([]byte) { n++ }); err != nil {
		return 0, fmt.Errorf("process: read %s: %w", c.fdDir, err)
	}
	return n, nil
}
