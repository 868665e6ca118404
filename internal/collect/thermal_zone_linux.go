package collect

import (
	"fmt"
	"log/slog"
	"strings"
)

func init() {
	register("thermal_zone", true, "Exposes thermal zone & cooling device statistics from /sys/class/thermal.", newThermalZone)
}

// thermalZoneCollector reads /sys/class/thermal.
type thermalZoneCollector struct {
	dir   string
	r     fileReader
	dirs  fileReader // lists the class directory with raw calls: a sysfs directory never blocks
	cache strcache   // zone and device types
}

func newThermalZone(cfg *Config, _ *slog.Logger) (collector, error) {
	return &thermalZoneCollector{dir: cfg.sys("class", "thermal"), r: fileReader{mayBlock: true}}, nil
}

func (c *thermalZoneCollector) update(e *emitter) error {
	names, err := c.dirs.listDir(c.dir)
	if err != nil {
		return fmt.Errorf("thermal_zone: %w", noData(err))
	}
	for _, n := range names {
		if zone, ok := strings.CutPrefix(n, "thermal_zone"); ok {
			typ, err := c.r.readTrim(c.dir, "/", n, "/type")
			if err != nil {
				continue
			}
			t := c.cache.get(typ)
			milli, err := c.r.readInt(c.dir, "/", n, "/temp")
			if err != nil {
				continue // a zone whose sensor is down gives EIO or ENODATA
			}
			e.gauge("node_thermal_zone_temp", "Zone temperature in Celsius", float64(milli)/1000, Label{"type", t}, Label{"zone", zone})
		}
		if dev, ok := strings.CutPrefix(n, "cooling_device"); ok {
			typ, err := c.r.readTrim(c.dir, "/", n, "/type")
			if err != nil {
				continue
			}
			labels := [2]Label{{"name", dev}, {"type", c.cache.get(typ)}}
			if v, err := c.r.readInt(c.dir, "/", n, "/cur_state"); err == nil {
				e.gauge("node_cooling_device_cur_state", "Current throttle state of the cooling device", float64(v), labels[:]...)
			}
			if v, err := c.r.readInt(c.dir, "/", n, "/max_state"); err == nil {
				e.gauge("node_cooling_device_max_state", "Maximum throttle state of the cooling device", float64(v), labels[:]...)
			}
		}
	}
	return nil
}
