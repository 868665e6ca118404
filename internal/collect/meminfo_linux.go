package collect

import (
	"bytes"
	"fmt"
	"log/slog"
)

func init() {
	register("meminfo", true, "Exposes memory statistics.", newMeminfo)
}

// meminfoCollector reads /proc/meminfo and sends every field.
type meminfoCollector struct {
	path  string
	r     fileReader
	f     [][]byte               // reused field slice
	names map[string]meminfoName // key as in the file -> metric name and help
}

type meminfoName struct{ name, help string }

func newMeminfo(cfg *Config, _ *slog.Logger) (collector, error) {
	return &meminfoCollector{path: cfg.proc("meminfo"), names: map[string]meminfoName{}}, nil
}

// meminfoMetricName renames a /proc/meminfo key as node_exporter does:
// "Active(anon)" becomes "Active_anon", and a value in kB gets "_bytes".
func meminfoMetricName(key []byte, bytesUnit bool) string {
	k := bytes.ReplaceAll(key, []byte("("), []byte("_"))
	k = bytes.ReplaceAll(k, []byte(")"), nil)
	if bytesUnit {
		k = append(k, "_bytes"...)
	}
	return string(k)
}

func (c *meminfoCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("meminfo: %w", noData(err))
	}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) < 2 || len(c.f) > 3 {
			continue
		}
		key := bytes.TrimSuffix(c.f[0], []byte(":"))
		if len(key) == len(c.f[0]) {
			return fmt.Errorf("meminfo: bad line %q", snippet(line))
		}
		v, ok := parseUint(c.f[1])
		if !ok {
			return fmt.Errorf("meminfo: bad value in line %q", snippet(line))
		}
		kb := len(c.f) == 3
		if kb {
			if string(c.f[2]) != "kB" {
				return fmt.Errorf("meminfo: unknown unit in line %q", snippet(line))
			}
			v *= 1024
		}
		n, ok := c.names[string(key)]
		if !ok || (n.name[len(n.name)-6:] == "_bytes") != kb {
			m := meminfoMetricName(key, kb)
			n = meminfoName{"node_memory_" + m, "Memory information field " + m + "."}
			c.names[string(key)] = n
		}
		e.gauge(n.name, n.help, float64(v))
	}
	return nil
}
