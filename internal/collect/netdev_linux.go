package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
)

func init() {
	register("netdev", true, "Exposes network interface statistics such as bytes transferred.", newNetdev)
}

// netdevExclude is node_exporter's default --collector.netdev.device-exclude.
var netdevExclude = regexp.MustCompile(`^lo$`)

// netdevColumns names the 16 counters of a /proc/net/dev line, in order.
var netdevColumns = [16]struct{ name, help string }{}

func init() {
	cols := [16]string{
		"receive_bytes", "receive_packets", "receive_errs", "receive_drop",
		"receive_fifo", "receive_frame", "receive_compressed", "receive_multicast",
		"transmit_bytes", "transmit_packets", "transmit_errs", "transmit_drop",
		"transmit_fifo", "transmit_colls", "transmit_carrier", "transmit_compressed",
	}
	for i, c := range cols {
		netdevColumns[i].name = "node_network_" + c + "_total"
		netdevColumns[i].help = "Network device statistic " + c + "."
	}
}

// netdevCollector reads /proc/net/dev, and rx_nohandler from sysfs, which
// node_exporter gets over netlink.
type netdevCollector struct {
	path   string
	sysNet string
	r      fileReader
	f      [][]byte        // reused field slice
	devs   strcache        // device names
	skip   map[string]bool // device -> excluded
	seen   []string        // devices sent in this collection
}

func newNetdev(cfg *Config, _ *slog.Logger) (collector, error) {
	return &netdevCollector{
		path:   cfg.proc("net", "dev"),
		sysNet: cfg.sys("class", "net"),
		skip:   map[string]bool{},
	}, nil
}

func (c *netdevCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("netdev: %w", noData(err))
	}
	_, b = nextLine(b) // two header lines
	_, b = nextLine(b)
	var v [16]float64
	c.seen = c.seen[:0]
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		skip, seen := c.skip[string(name)]
		if !seen {
			skip = netdevExclude.Match(name)
			if len(c.skip) >= maxCached {
				clear(c.skip)
			}
			c.skip[string(name)] = skip
		}
		if skip {
			continue
		}
		c.f = splitFields(c.f, rest)
		if len(c.f) != len(v) {
			return fmt.Errorf("netdev: bad line %q", snippet(line))
		}
		for i := range v {
			x, ok := parseUint(c.f[i])
			if !ok {
				return fmt.Errorf("netdev: bad number in line %q", snippet(line))
			}
			v[i] = float64(x)
		}
		dev := Label{"device", c.devs.get(name)}
		for i, col := range netdevColumns {
			e.counter(col.name, col.help, v[i], dev)
		}
		c.seen = append(c.seen, dev.Value)
	}
	for _, dev := range c.seen {
		c.nohandler(e, dev)
	}
	return nil
}

// nohandler sends rx_nohandler when sysfs has it; it is optional.
func (c *netdevCollector) nohandler(e *emitter, dev string) {
	n, err := c.r.readUint(c.sysNet, "/", dev, "/statistics/rx_nohandler")
	if err != nil {
		return
	}
	e.counter("node_network_receive_nohandler_total", "Network device statistic receive_nohandler.", float64(n), Label{"device", dev})
}
