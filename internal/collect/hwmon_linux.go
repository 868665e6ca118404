package collect

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

func init() {
	register("hwmon", true, "Exposes hardware monitoring and sensor data from /sys/class/hwmon/.", newHwmon)
}

// hwmonCollector reads the sensors of /sys/class/hwmon/hwmonN, named
// <type><n>_<property> (temp1_input, fan2_min, in0_max...).
type hwmonCollector struct {
	dir   string
	r     fileReader
	dirs  fileReader           // the class directory: sysfs directories never block, so raw calls
	names map[string]hwmonName // "temp:crit" -> metric name and help
}

type hwmonName struct {
	name, help string
	div        float64 // raw value / div = value in unit
}

func newHwmon(cfg *Config, _ *slog.Logger) (collector, error) {
	return &hwmonCollector{dir: cfg.sys("class", "hwmon"), names: map[string]hwmonName{}, r: fileReader{mayBlock: true}}, nil
}

// hwmonUnits gives the unit suffix and scale of each sensor type.
var hwmonUnits = map[string]struct {
	unit string
	div  float64
}{
	"temp":      {"celsius", 1e3},
	"in":        {"volts", 1e3},
	"curr":      {"amps", 1e3},
	"power":     {"watt", 1e6},
	"energy":    {"joule", 1e6},
	"fan":       {"rpm", 1},
	"humidity":  {"", 1e3},
	"pwm":       {"", 1},
	"intrusion": {"", 1},
}

// hwmonClean lower-cases s and turns characters other than [a-z0-9:_]
// into '_', trimming '_' at both ends.
func hwmonClean(s string) string {
	b := []byte(strings.ToLower(strings.TrimSpace(s)))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ':' || c == '_') {
			b[i] = '_'
		}
	}
	return strings.Trim(string(b), "_")
}

// chipName names a chip by its stable device path (type_device, such as
// platform_coretemp_0), falling back to its name file, then to hwmonN.
func (c *hwmonCollector) chipName(dir, n string) string {
	if dev, err := filepath.EvalSymlinks(dir + "/device"); err == nil {
		devName := hwmonClean(filepath.Base(dev))
		devType := hwmonClean(filepath.Base(filepath.Dir(dev)))
		if devType != "" && devName != "" {
			return devType + "_" + devName
		}
		if devName != "" {
			return devName
		}
	}
	if b, err := c.r.readTrim(dir + "/name"); err == nil && len(b) > 0 {
		if s := hwmonClean(string(b)); s != "" {
			return s
		}
	}
	return hwmonClean(n)
}

// metric returns the name of the metric for sensor type typ and property
// prop, e.g. ("temp", "input") -> node_hwmon_temp_celsius and
// ("temp", "crit_alarm") -> node_hwmon_temp_crit_alarm_celsius.
func (c *hwmonCollector) metric(typ, prop string) (hwmonName, bool) {
	key := typ + ":" + prop
	if n, ok := c.names[key]; ok {
		return n, n.name != ""
	}
	u, ok := hwmonUnits[typ]
	var n hwmonName
	if ok {
		name := "node_hwmon_" + typ
		if prop != "input" {
			name += "_" + prop
		}
		if u.unit != "" {
			name += "_" + u.unit
		}
		div := u.div
		if strings.HasSuffix(prop, "alarm") || prop == "enable" || prop == "fault" {
			div = 1
		}
		n = hwmonName{name, "Hardware monitor for " + typ + " (" + prop + ")", div}
	}
	c.names[key] = n
	return n, ok
}

func (c *hwmonCollector) update(e *emitter) error {
	chips, err := c.dirs.listDir(c.dir)
	if err != nil {
		return fmt.Errorf("hwmon: %w", noData(err))
	}
	for _, n := range chips {
		dir := c.dir + "/" + n
		chip := Label{"chip", c.chipName(dir, n)}
		if b, err := c.r.readTrim(dir + "/name"); err == nil {
			e.gauge("node_hwmon_chip_names", "Annotation metric for human-readable chip names", 1, chip, Label{"chip_name", string(b)})
		}
		if err := c.sensors(e, dir, chip); err != nil {
			return err
		}
	}
	return nil
}

// sensors sends every <type><n>_<property> file of one chip directory.
func (c *hwmonCollector) sensors(e *emitter, dir string, chip Label) error {
	files, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("hwmon: %w", err)
	}
	for _, f := range files {
		if f.IsDir() {
			continue
		}
		sensor, prop, ok := strings.Cut(f.Name(), "_")
		if !ok {
			continue
		}
		typ := strings.TrimRight(sensor, "0123456789")
		if typ == sensor || typ == "" {
			continue
		}
		if prop == "label" {
			if b, err := c.r.readTrim(dir + "/" + f.Name()); err == nil {
				e.gauge("node_hwmon_sensor_label", "Label for given chip and sensor", 1, chip, Label{"label", string(b)}, Label{"sensor", sensor})
			}
			continue
		}
		m, ok := c.metric(typ, prop)
		if !ok {
			continue
		}
		v, err := c.r.readInt(dir + "/" + f.Name())
		if err != nil {
			continue // write-only or failing sensor
		}
		e.gauge(m.name, m.help, float64(v)/m.div, chip, Label{"sensor", sensor})
	}
	return nil
}
