package collect

import (
	"fmt"
	"log/slog"
)

func init() {
	register("conntrack", true, "Shows conntrack statistics (does nothing if no /proc/sys/net/netfilter/ present).", newConntrack)
}

// conntrackCollector reads the table size from /proc/sys/net/netfilter and
// the per-CPU counters from /proc/net/stat/nf_conntrack.
type conntrackCollector struct {
	count, max, stat string
	r                fileReader
	f                [][]byte // reused field slice
	cols             []int    // column of each conntrackStats entry, -1 if absent
}

func newConntrack(cfg *Config, _ *slog.Logger) (collector, error) {
	return &conntrackCollector{
		count: cfg.proc("sys", "net", "netfilter", "nf_conntrack_count"),
		max:   cfg.proc("sys", "net", "netfilter", "nf_conntrack_max"),
		stat:  cfg.proc("net", "stat", "nf_conntrack"),
	}, nil
}

var conntrackStats = [...]struct{ col, name, help string }{
	{"found", "node_nf_conntrack_stat_found", "Number of searched entries which were successful."},
	{"invalid", "node_nf_conntrack_stat_invalid", "Number of packets seen which can not be tracked."},
	{"ignore", "node_nf_conntrack_stat_ignore", "Number of packets seen which are already connected to a conntrack entry."},
	{"insert", "node_nf_conntrack_stat_insert", "Number of entries inserted into the list."},
	{"insert_failed", "node_nf_conntrack_stat_insert_failed", "Number of entries for which list insertion was attempted but failed."},
	{"drop", "node_nf_conntrack_stat_drop", "Number of packets dropped due to conntrack failure."},
	{"early_drop", "node_nf_conntrack_stat_early_drop", "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached."},
	{"search_restart", "node_nf_conntrack_stat_search_restart", "Number of conntrack table lookups which had to be restarted due to hashtable resizes."},
}

func (c *conntrackCollector) update(e *emitter) error {
	n, err := c.r.readUint(c.count)
	if err != nil {
		return fmt.Errorf("conntrack: %w", noData(err))
	}
	e.gauge("node_nf_conntrack_entries", "Number of currently allocated flow entries for connection tracking.", float64(n))
	n, err = c.r.readUint(c.max)
	if err != nil {
		return fmt.Errorf("conntrack: %w", noData(err))
	}
	e.gauge("node_nf_conntrack_entries_limit", "Maximum size of connection tracking table.", float64(n))
	return c.stats(e)
}

// stats sums the hex columns of /proc/net/stat/nf_conntrack over CPUs.
func (c *conntrackCollector) stats(e *emitter) error {
	b, err := c.r.read(c.stat)
	if err != nil {
		if isMissing(err) {
			return nil
		}
		return fmt.Errorf("conntrack: %w", err)
	}
	header, b := nextLine(b)
	c.f = splitFields(c.f, header)
	c.cols = c.cols[:0]
	for _, s := range conntrackStats {
		col := -1
		for i, h := range c.f {
			if string(h) == s.col {
				col = i
			}
		}
		c.cols = append(c.cols, col)
	}
	var sums [len(conntrackStats)]uint64
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) == 0 {
			continue
		}
		for i, col := range c.cols {
			if col < 0 || col >= len(c.f) {
				continue
			}
			v, ok := parseHex(c.f[col])
			if !ok {
				return fmt.Errorf("conntrack: bad number in line %q", snippet(line))
			}
			sums[i] += v
		}
	}
	for i, s := range conntrackStats {
		if c.cols[i] >= 0 {
			e.gauge(s.name, s.help, float64(sums[i]))
		}
	}
	return nil
}
