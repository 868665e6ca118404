package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
)

func init() {
	register("diskstats", true, "Exposes disk I/O statistics.", newDiskstats)
}

// diskstatsExclude is node_exporter's default
// --collector.diskstats.device-exclude: partitions, RAM disks, loops.
var diskstatsExclude = regexp.MustCompile(`^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`)

// diskSectorSize is the unit of the sector columns of /proc/diskstats,
// always 512 whatever the device's sector size.
const diskSectorSize = 512

// diskstatsColumns describes columns 4 onwards of /proc/diskstats; scale
// turns the raw number into the metric's unit: sectors are multiplied by
// 512, and a negative scale divides (ms to s), which keeps 5360 ms at 5.36 s
// rather than 5.3600000000000005.
var diskstatsColumns = [...]struct {
	name, help string
	t          ValueType
	scale      float64
}{
	{"node_disk_reads_completed_total", "The total number of reads completed successfully.", Counter, 1},
	{"node_disk_reads_merged_total", "The total number of reads merged.", Counter, 1},
	{"node_disk_read_bytes_total", "The total number of bytes read successfully.", Counter, diskSectorSize},
	{"node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", Counter, -1000},
	{"node_disk_writes_completed_total", "The total number of writes completed successfully.", Counter, 1},
	{"node_disk_writes_merged_total", "The number of writes merged.", Counter, 1},
	{"node_disk_written_bytes_total", "The total number of bytes written successfully.", Counter, diskSectorSize},
	{"node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", Counter, -1000},
	{"node_disk_io_now", "The number of I/Os currently in progress.", Gauge, 1},
	{"node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", Counter, -1000},
	{"node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", Counter, -1000},
	{"node_disk_discards_completed_total", "The total number of discards completed successfully.", Counter, 1},
	{"node_disk_discards_merged_total", "The total number of discards merged.", Counter, 1},
	{"node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", Counter, 1},
	{"node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", Counter, -1000},
	{"node_disk_flush_requests_total", "The total number of flush requests completed successfully", Counter, 1},
	{"node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", Counter, -1000},
}

// diskstatsCollector reads /proc/diskstats and the udev database for
// node_disk_info.
type diskstatsCollector struct {
	path    string
	udevDir string
	r       fileReader
	f       [][]byte            // reused field slice
	cache   strcache            // device names and numbers
	skip    map[string]bool     // device -> excluded
	info    map[string][8]Label // device -> labels of node_disk_info
}

func newDiskstats(cfg *Config, _ *slog.Logger) (collector, error) {
	return &diskstatsCollector{
		path:    cfg.proc("diskstats"),
		udevDir: cfg.rootfs("run", "udev", "data"),
		skip:    map[string]bool{},
		info:    map[string][8]Label{},
	}, nil
}

func (c *diskstatsCollector) update(e *emitter) error {
	b, err := c.r.read(c.path)
	if err != nil {
		return fmt.Errorf("diskstats: %w", noData(err))
	}
	var v [len(diskstatsColumns)]float64
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) == 0 {
			continue
		}
		if len(c.f) < 3+11 {
			return fmt.Errorf("diskstats: short line %q", snippet(line))
		}
		name := c.f[2]
		skip, seen := c.skip[string(name)]
		if !seen {
			skip = diskstatsExclude.Match(name)
			if len(c.skip) >= maxCached {
				clear(c.skip)
			}
			c.skip[string(name)] = skip
		}
		if skip {
			continue
		}
		n := min(len(c.f)-3, len(v))
		for i := range n {
			x, ok := parseUint(c.f[3+i])
			if !ok {
				return fmt.Errorf("diskstats: bad number in line %q", snippet(line))
			}
			if sc := diskstatsColumns[i].scale; sc < 0 {
				v[i] = float64(x) / -sc
			} else {
				v[i] = float64(x) * sc
			}
		}
		dev := c.cache.get(name)
		info := c.diskInfo(dev, c.f[0], c.f[1])
		e.gauge("node_disk_info", "Info of /sys/block/<block_device>.", 1, info[:]...)
		devLabel := Label{"device", dev}
		for i, col := range diskstatsColumns[:n] {
			e.send(col.name, col.help, col.t, v[i], []Label{devLabel})
		}
	}
	return nil
}

// diskInfo returns the labels of node_disk_info, reading the udev database
// (/run/udev/data/b<major>:<minor>) the first time a device is seen.
func (c *diskstatsCollector) diskInfo(dev string, major, minor []byte) [8]Label {
	if l, ok := c.info[dev]; ok && l[1].Value == string(major) && l[2].Value == string(minor) {
		return l
	}
	l := [8]Label{{"device", dev}, {"major", string(major)}, {"minor", string(minor)},
		{"model", ""}, {"path", ""}, {"revision", ""}, {"serial", ""}, {"wwn", ""}}
	b, err := c.r.read(c.udevDir, "/b", l[1].Value, ":", l[2].Value)
	for err == nil && len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		kv, ok := bytes.CutPrefix(line, []byte("E:"))
		if !ok {
			continue
		}
		k, val, _ := bytes.Cut(kv, []byte("="))
		switch string(k) {
		case "ID_MODEL":
			l[3].Value = string(val)
		case "ID_PATH":
			l[4].Value = string(val)
		case "ID_REVISION":
			l[5].Value = string(val)
		case "ID_SERIAL_SHORT":
			l[6].Value = string(val)
		case "ID_WWN":
			l[7].Value = string(val)
		}
	}
	if len(c.info) >= maxCached {
		clear(c.info)
	}
	c.info[dev] = l
	return l
}
