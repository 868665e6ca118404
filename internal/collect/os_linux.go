package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

func init() {
	register("os", true, "Expose OS release info.", newOS)
}

// osReleaseKeys are the os-release(5) variables node_os_info carries, in the
// order of its labels (sorted, as node_exporter declares them).
var osReleaseKeys = [...]struct{ label, key string }{
	{"build_id", "BUILD_ID"},
	{"id", "ID"},
	{"id_like", "ID_LIKE"},
	{"image_id", "IMAGE_ID"},
	{"image_version", "IMAGE_VERSION"},
	{"name", "NAME"},
	{"pretty_name", "PRETTY_NAME"},
	{"variant", "VARIANT"},
	{"variant_id", "VARIANT_ID"},
	{"version", "VERSION"},
	{"version_codename", "VERSION_CODENAME"},
	{"version_id", "VERSION_ID"},
}

// osCollector reads <rootfs>/etc/os-release, or /usr/lib/os-release when
// the former is absent, as node_exporter's os collector does.
type osCollector struct {
	paths [2]string
	r     fileReader
	// raw is the content parsed into info, version and supportEnd; the
	// file is re-read every collection but parsed only when it changes.
	raw        []byte
	info       [len(osReleaseKeys)]Label
	version    float64 // major.minor of VERSION_ID; 0 if it has none
	supportEnd float64 // SUPPORT_END as Unix seconds; 0 if absent
}

func newOS(cfg *Config, _ *slog.Logger) (collector, error) {
	return &osCollector{paths: [2]string{cfg.rootfs("etc", "os-release"), cfg.rootfs("usr", "lib", "os-release")},
		r: fileReader{mayBlock: true}}, nil // regular files, on disk
}

func (c *osCollector) update(e *emitter) error {
	b, err := c.r.read(c.paths[0])
	if isMissing(err) {
		b, err = c.r.read(c.paths[1])
	}
	if err != nil {
		return fmt.Errorf("os: %w", noData(err))
	}
	if c.raw == nil || !bytes.Equal(b, c.raw) {
		if err := c.parse(b); err != nil {
			return err
		}
		c.raw = append(c.raw[:0], b...)
	}
	e.gauge("node_os_info", "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.", 1, c.info[:]...)
	if c.version > 0 {
		e.gauge("node_os_version", "Metric containing the major.minor part of the OS version.", c.version, c.info[1], c.info[2], c.info[5])
	}
	if c.supportEnd != 0 {
		e.gauge("node_os_support_end_timestamp_seconds", "Metric containing the end-of-life date timestamp of the OS.", c.supportEnd)
	}
	return nil
}

// parse fills info, version and supportEnd from os-release content.
func (c *osCollector) parse(b []byte) error {
	vars := map[string]string{}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			return fmt.Errorf("os: bad os-release line %q", snippet(line))
		}
		vars[string(k)] = osReleaseValue(v)
	}
	for i, k := range osReleaseKeys {
		c.info[i] = Label{k.label, vars[k.key]}
	}
	c.version = osMajorMinor(vars["VERSION_ID"])
	c.supportEnd = 0
	if s := vars["SUPPORT_END"]; s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return fmt.Errorf("os: bad SUPPORT_END %q", snippet([]byte(s)))
		}
		c.supportEnd = float64(t.Unix())
	}
	return nil
}

// osReleaseValue unquotes a value as a shell would: single quotes keep
// everything, double quotes take backslash escapes of \, ", $ and `.
func osReleaseValue(v []byte) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return string(v[1 : len(v)-1])
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return string(v)
	}
	v = v[1 : len(v)-1]
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && bytes.IndexByte([]byte("\\\"$`"), v[i+1]) >= 0 {
			i++
		}
		out = append(out, v[i])
	}
	return string(out)
}

// osMajorMinor is node_exporter's ^[0-9]+\.?[0-9]* match of VERSION_ID as a
// number: "22.04" is 22.04, "12" is 12, "11.7.1" is 11.7, "rolling" is 0.
func osMajorMinor(s string) float64 {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0
	}
	return v
}
