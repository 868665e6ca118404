package collect

import (
	"fmt"
	"log/slog"
)

func init() {
	register("entropy", true, "Exposes available entropy.", newEntropy)
}

// entropyCollector reads /proc/sys/kernel/random.
type entropyCollector struct {
	avail, pool string
	r           fileReader
}

func newEntropy(cfg *Config, _ *slog.Logger) (collector, error) {
	return &entropyCollector{
		avail: cfg.proc("sys", "kernel", "random", "entropy_avail"),
		pool:  cfg.proc("sys", "kernel", "random", "poolsize"),
	}, nil
}

func (c *entropyCollector) update(e *emitter) error {
	avail, err := c.r.readUint(c.avail)
	if err != nil {
		return fmt.Errorf("entropy: %w", noData(err))
	}
	e.gauge("node_entropy_available_bits", "Bits of available entropy.", float64(avail))
	pool, err := c.r.readUint(c.pool)
	if err != nil {
		return fmt.Errorf("entropy: %w", err)
	}
	e.gauge("node_entropy_pool_size_bits", "Bits of entropy pool.", float64(pool))
	return nil
}
