package collect

import (
	"bytes"
	"fmt"
	"log/slog"
)

func init() {
	register("udp_queues", true, "Exposes UDP total lengths of the rx_queue and tx_queue from /proc/net/udp and /proc/net/udp6.", newUDPQueues)
}

// udpQueuesCollector sums the queue columns of /proc/net/udp and udp6.
type udpQueuesCollector struct {
	paths [2]string
	r     fileReader
	f     [][]byte // reused field slice
}

func newUDPQueues(cfg *Config, _ *slog.Logger) (collector, error) {
	return &udpQueuesCollector{paths: [2]string{cfg.proc("net", "udp"), cfg.proc("net", "udp6")}}, nil
}

func (c *udpQueuesCollector) update(e *emitter) error {
	found := false
	for i, ip := range [2]string{"v4", "v6"} {
		b, err := c.r.read(c.paths[i])
		if err != nil {
			if isMissing(err) {
				continue
			}
			return fmt.Errorf("udp_queues: %w", err)
		}
		found = true
		tx, rx, err := c.sum(b)
		if err != nil {
			return err
		}
		const help = "Number of allocated memory in the kernel for UDP datagrams in bytes."
		e.gauge("node_udp_queues", help, float64(tx), Label{"ip", ip}, Label{"queue", "tx"})
		e.gauge("node_udp_queues", help, float64(rx), Label{"ip", ip}, Label{"queue", "rx"})
	}
	if !found {
		return fmt.Errorf("udp_queues: %w: no /proc/net/udp", ErrNoData)
	}
	return nil
}

// sum adds up the "tx_queue:rx_queue" column (hex) over all sockets.
func (c *udpQueuesCollector) sum(b []byte) (tx, rx uint64, err error) {
	_, b = nextLine(b) // header
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) == 0 {
			continue
		}
		if len(c.f) < 5 {
			return 0, 0, fmt.Errorf("udp_queues: bad line %q", snippet(line))
		}
		t, r, ok := bytes.Cut(c.f[4], []byte(":"))
		tv, ok1 := parseHex(t)
		rv, ok2 := parseHex(r)
		if !ok || !ok1 || !ok2 {
			return 0, 0, fmt.Errorf("udp_queues: bad queue column in line %q", snippet(line))
		}
		tx += tv
		rx += rv
	}
	return tx, rx, nil
}
