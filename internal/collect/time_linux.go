package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"time"
)

func init() {
	register("time", true, "Exposes the current system time.", newTime)
}

// timeCollector reports the clock, the zone offset and the clock sources.
type timeCollector struct {
	now   func() time.Time
	csDir string // /sys/devices/system/clocksource
	r     fileReader
	f     [][]byte // reused field slice
	cache strcache // clock source names, zone names, device numbers
}

func newTime(cfg *Config, _ *slog.Logger) (collector, error) {
	return &timeCollector{now: cfg.Now, csDir: cfg.sys("devices", "system", "clocksource")}, nil
}

func (c *timeCollector) update(e *emitter) error {
	now := c.now()
	e.gauge("node_time_seconds", "System time in seconds since epoch (1970).", float64(now.UnixNano())/1e9)
	zone, offset := now.Zone()
	e.gauge("node_time_zone_offset_seconds", "System time zone offset in seconds.", float64(offset), Label{"time_zone", zone})
	return c.clocksources(e)
}

// clocksources reports the available and current clock source of each
// clocksourceN device; a missing directory is not an error.
func (c *timeCollector) clocksources(e *emitter) error {
	names, err := c.r.listDir(c.csDir)
	if err != nil {
		if isMissing(err) {
			return nil
		}
		return fmt.Errorf("time: %w", err)
	}
	for _, n := range names {
		dev, ok := bytes.CutPrefix([]byte(n), []byte("clocksource"))
		if !ok {
			continue
		}
		devLabel := Label{"device", c.cache.get(dev)}
		b, err := c.r.read(c.csDir + "/" + n + "/available_clocksource")
		if err != nil {
			return fmt.Errorf("time: %w", err)
		}
		c.f = splitFields(c.f, b)
		for _, cs := range c.f {
			e.gauge("node_time_clocksource_available_info", "Available clocksources read from '/sys/devices/system/clocksource'.", 1,
				Label{"clocksource", c.cache.get(cs)}, devLabel)
		}
		b, err = c.r.readTrim(c.csDir + "/" + n + "/current_clocksource")
		if err != nil {
			return fmt.Errorf("time: %w", err)
		}
		e.gauge("node_time_clocksource_current_info", "Current clocksource read from '/sys/devices/system/clocksource'.", 1,
			Label{"clocksource", c.cache.get(b)}, devLabel)
	}
	return nil
}
