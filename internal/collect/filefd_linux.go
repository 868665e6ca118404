package collect

import (
	"fmt"
	"log/slog"
)

func init() {
	register("filefd", true, "Exposes file descriptor statistics from /proc/sys/fs/file-nr.", newFilefd)
}

// filefdCollector reads /proc/sys/fs/file-nr.
type filefdCollector struct {
	path string
	r    fileReader
	f    [][]byte // reused field slice
}

func newFilefd(cfg *Config, _ *slog.Logger) (collector, error) {
	return &filefdCollector{path: cfg.proc("sys", "fs", "file-nr")}, nil
}

func (c *filefdCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("filefd: %w", noData(err))
	}
	c.f = splitFields(c.f, b)
	if len(c.f) != 3 {
		return fmt.Errorf("filefd: unexpected content %q", snippet(b))
	}
	alloc, ok1 := parseUint(c.f[0])
	maxFD, ok2 := parseUint(c.f[2])
	if !ok1 || !ok2 {
		return fmt.Errorf("filefd: bad number in %q", snippet(b))
	}
	e.gauge("node_filefd_allocated", "File descriptor statistics: allocated.", float64(alloc))
	e.gauge("node_filefd_maximum", "File descriptor statistics: maximum.", float64(maxFD))
	return nil
}
