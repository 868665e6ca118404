package collect

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

func init() {
	register("arp", true, "Exposes ARP statistics from /proc/net/arp.", newARP)
}

// arpCollector counts the entries of /proc/net/arp by device.
type arpCollector struct {
	path   string
	r      fileReader
	f      [][]byte   // reused field slice
	devs   strcache   // device names
	counts []arpCount // reused per collection
}

type arpCount struct {
	dev string
	n   int
}

func newARP(cfg *Config, _ *slog.Logger) (collector, error) {
	return &arpCollector{path: cfg.proc("net", "arp")}, nil
}

func (c *arpCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("arp: %w", noData(err))
	}
	_, b = nextLine(b) // header
	c.counts = c.counts[:0]
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) == 0 {
			continue
		}
		if len(c.f) != 6 {
			return fmt.Errorf("arp: bad line %q", snippet(line))
		}
		dev := c.devs.get(c.f[5])
		i := slices.IndexFunc(c.counts, func(a arpCount) bool { return a.dev == dev })
		if i < 0 {
			c.counts = append(c.counts, arpCount{dev: dev})
			i = len(c.counts) - 1
		}
		c.counts[i].n++
	}
	slices.SortFunc(c.counts, func(a, b arpCount) int { return strings.Compare(a.dev, b.dev) })
	for _, a := range c.counts {
		e.gauge("node_arp_entries", "ARP entries by device", float64(a.n), Label{"device", a.dev})
	}
	return nil
}
