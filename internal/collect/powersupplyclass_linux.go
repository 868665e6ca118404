package collect

import (
	"fmt"
	"log/slog"
)

func init() {
	register("powersupplyclass", true, "Exposes Power Supply statistics from /sys/class/power_supply.", newPowerSupply)
}

// powerSupplyCollector reads /sys/class/power_supply/<name>.
type powerSupplyCollector struct {
	dir   string
	r     fileReader
	dirs  fileReader // lists the class directory with raw calls: a sysfs directory never blocks
	cache strcache   // types
}

func newPowerSupply(cfg *Config, _ *slog.Logger) (collector, error) {
	return &powerSupplyCollector{dir: cfg.sys("class", "power_supply"), r: fileReader{mayBlock: true}}, nil
}

// powerSupplyAttrs are the numeric attributes; the kernel gives µV, µA,
// µW, µWh and µAh, and tenths of a degree, hence the divisor.
var powerSupplyAttrs = [...]struct {
	file, name string
	div        float64
}{
	{"online", "online", 1},
	{"present", "present", 1},
	{"capacity", "capacity", 1},
	{"cycle_count", "cyclecount", 1},
	{"current_now", "current_ampere", 1e6},
	{"voltage_now", "voltage_volt", 1e6},
	{"voltage_min_design", "voltage_min_design", 1e6},
	{"power_now", "power_watt", 1e6},
	{"energy_now", "energy_watthour", 1e6},
	{"energy_full", "energy_full", 1e6},
	{"energy_full_design", "energy_full_design", 1e6},
	{"charge_now", "charge_ampere", 1e6},
	{"charge_full", "charge_full", 1e6},
	{"charge_full_design", "charge_full_design", 1e6},
	{"temp", "temp_celsius", 10},
}

func (c *powerSupplyCollector) update(e *emitter) error {
	names, err := c.dirs.listDir(c.dir)
	if err != nil {
		return fmt.Errorf("powersupplyclass: %w", noData(err))
	}
	for _, n := range names {
		ps := Label{"power_supply", n}
		for _, a := range powerSupplyAttrs {
			v, err := c.r.readInt(c.dir, "/", n, "/", a.file)
			if err != nil {
				continue
			}
			e.gauge("node_power_supply_"+a.name, a.file+" value of /sys/class/power_supply/<power_supply>.", float64(v)/a.div, ps)
		}
		typ, err := c.r.readTrim(c.dir, "/", n, "/type")
		if err != nil {
			continue
		}
		e.gauge("node_power_supply_info", "info of /sys/class/power_supply/<power_supply>.", 1, ps, Label{"type", c.cache.get(typ)})
	}
	return nil
}
