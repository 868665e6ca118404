package collect

import (
	"fmt"
	"log/slog"
	"strconv"
)

func init() {
	register("softnet", true, "Exposes statistics from /proc/net/softnet_stat.", newSoftnet)
}

// softnetCollector reads /proc/net/softnet_stat, one line of hex columns
// per CPU.
type softnetCollector struct {
	path string
	r    fileReader
	f    [][]byte // reused field slice
	ids  strcache // CPU numbers
	buf  []byte   // scratch for formatting a CPU number
}

func newSoftnet(cfg *Config, _ *slog.Logger) (collector, error) {
	return &softnetCollector{path: cfg.proc("net", "softnet_stat")}, nil
}

// softnetColumns maps columns of softnet_stat to metrics. Columns 3-7 are
// unused by the kernel.
var softnetColumns = [...]struct {
	col        int
	name, help string
	t          ValueType
}{
	{0, "node_softnet_processed_total", "Number of processed packets", Counter},
	{1, "node_softnet_dropped_total", "Number of dropped packets", Counter},
	{2, "node_softnet_times_squeezed_total", "Number of times processing packets ran out of quota", Counter},
	{8, "node_softnet_cpu_collision_total", "Number of collision occur while obtaining device lock while transmitting", Counter},
	{9, "node_softnet_received_rps_total", "Number of times cpu woken up received_rps", Counter},
	{10, "node_softnet_flow_limit_count_total", "Number of times flow limit has been reached", Counter},
	{11, "node_softnet_backlog_len", "Softnet backlog status", Gauge},
}

func (c *softnetCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("softnet: %w", noData(err))
	}
	for i := 0; len(b) > 0; i++ {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) == 0 {
			continue
		}
		var v [13]uint64
		n := min(len(c.f), len(v))
		for j := range n {
			x, ok := parseHex(c.f[j])
			if !ok {
				return fmt.Errorf("softnet: bad number in line %q", snippet(line))
			}
			v[j] = x
		}
		// Since Linux 5.10 column 12 is the CPU number; before, the line
		// number is (offline CPUs have no line there).
		cpuNum := uint64(i)
		if n >= 13 {
			cpuNum = v[12]
		}
		c.buf = strconv.AppendUint(c.buf[:0], cpuNum, 10)
		cpu := Label{"cpu", c.ids.get(c.buf)}
		for _, col := range softnetColumns {
			if col.col < n {
				e.send(col.name, col.help, col.t, float64(v[col.col]), []Label{cpu})
			}
		}
	}
	return nil
}
