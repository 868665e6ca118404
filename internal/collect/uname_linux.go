package collect

import (
	"fmt"
	"log/slog"
	"runtime"
)

func init() {
	register("uname", true, "Exposes system information as provided by the uname system call.", newUname)
}

// unameCollector reads the uname fields from /proc/sys/kernel, which the
// kernel fills from the same struct as uname(2).
type unameCollector struct {
	dir    string
	r      fileReader
	labels [6]Label // kept between collections; the fields rarely change
	cache  strcache // label values
}

func newUname(cfg *Config, _ *slog.Logger) (collector, error) {
	return &unameCollector{dir: cfg.proc("sys", "kernel")}, nil
}

// unameMachine maps GOARCH to uname's machine for kernels without
// /proc/sys/kernel/arch (added in Linux 6.1).
func unameMachine() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "386":
		return "i686"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}

func (c *unameCollector) update(e *emitter) error {
	files := [...]struct{ label, file string }{
		{"domainname", "domainname"},
		{"machine", "arch"},
		{"nodename", "hostname"},
		{"release", "osrelease"},
		{"sysname", "ostype"},
		{"version", "version"},
	}
	for i, f := range files {
		b, err := c.r.readTrim(c.dir + "/" + f.file)
		v := c.cache.get(b)
		if err != nil {
			if f.file != "arch" || !isMissing(err) {
				return fmt.Errorf("uname: %w", noData(err))
			}
			v = unameMachine()
		}
		c.labels[i] = Label{f.label, v}
	}
	e.gauge("node_uname_info", "Labeled system information as provided by the uname system call.", 1, c.labels[:]...)
	return nil
}
