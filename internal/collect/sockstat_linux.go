package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
)

func init() {
	register("sockstat", true, "Exposes various statistics from /proc/net/sockstat.", newSockstat)
}

// sockstatCollector reads /proc/net/sockstat and sockstat6.
type sockstatCollector struct {
	paths    [2]string
	pageSize float64
	r        fileReader
	f        [][]byte                // reused field slice
	names    map[string]sockstatName // "TCP:inuse" -> metric name and help
}

type sockstatName struct{ name, help string }

func newSockstat(cfg *Config, _ *slog.Logger) (collector, error) {
	return &sockstatCollector{
		paths:    [2]string{cfg.proc("net", "sockstat"), cfg.proc("net", "sockstat6")},
		pageSize: float64(os.Getpagesize()),
		names:    map[string]sockstatName{},
	}, nil
}

func (c *sockstatCollector) name(proto, key []byte) sockstatName {
	k := make([]byte, 0, 64)
	k = append(append(append(k, proto...), ':'), key...)
	if n, ok := c.names[string(k)]; ok {
		return n
	}
	p, s := string(proto), string(key)
	n := sockstatName{"node_sockstat_" + p + "_" + s, "Number of " + p + " sockets in state " + s + "."}
	if p == "sockets" && s == "used" {
		n.help = "Number of IPv4 sockets in use."
	}
	c.names[string(k)] = n
	return n
}

func (c *sockstatCollector) update(e *emitter) error {
	for i, path := range c.paths {
		b, err := c.r.read(path)
		if err != nil {
			if isMissing(err) {
				if i == 0 {
					return fmt.Errorf("sockstat: %w", noData(err))
				}
				continue // no IPv6
			}
			return fmt.Errorf("sockstat: %w", err)
		}
		if err := c.parse(e, b); err != nil {
			return err
		}
	}
	return nil
}

// parse handles lines like "TCP: inuse 1 orphan 0 tw 4 alloc 1 mem 104".
func (c *sockstatCollector) parse(e *emitter, b []byte) error {
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) < 3 || len(c.f)%2 == 0 {
			continue
		}
		proto, ok := bytes.CutSuffix(c.f[0], []byte(":"))
		if !ok {
			return fmt.Errorf("sockstat: bad line %q", snippet(line))
		}
		for j := 1; j+1 < len(c.f); j += 2 {
			v, ok := parseUint(c.f[j+1])
			if !ok {
				return fmt.Errorf("sockstat: bad number in line %q", snippet(line))
			}
			n := c.name(proto, c.f[j])
			e.gauge(n.name, n.help, float64(v))
			if string(c.f[j]) == "mem" {
				// mem is in pages; node_exporter adds the value in bytes.
				n := c.name(proto, []byte("mem_bytes"))
				e.gauge(n.name, n.help, float64(v)*c.pageSize)
			}
		}
	}
	return nil
}
