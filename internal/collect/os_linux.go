package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"hawk/internal/rawio"
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
	// raw is the content parsed into info, version and supportEnd, read
	// from path, whose inode, size and times were stx. While a raw stat
	// finds them the same, the file is not read again: reading a regular
	// file takes ordinary system calls, which wake the Go runtime's
	// monitor thread (see fileReader.mayBlock).
	raw        []byte
	path       string
	stx        unix.Statx_t
	info       [len(osReleaseKeys)]Label
	version    float64 // major.minor of VERSION_ID; 0 if it has none
	supportEnd float64 // SUPPORT_END as Unix seconds; 0 if absent
}

func newOS(cfg *Config, _ *slog.Logger) (collector, error) {
	return &osCollector{paths: [2]string{cfg.rootfs("etc", "os-release"), cfg.rootfs("usr", "lib", "os-release")},
		r: fileReader{mayBlock: true}}, nil // regular files, on disk
}

func (c *osCollector) update(e *emitter) error {
	if !c.unchanged() {
		if err := c.reread(); err != nil {
			return err
		}
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

// unchanged reports whether the file last parsed is still there as it was.
// /etc/os-release appearing in front of /usr/lib/os-release is a change of
// the directory, not of the file, hence the look at the first path.
func (c *osCollector) unchanged() bool {
	if c.raw == nil {
		return false
	}
	var st unix.Statx_t
	if c.path != c.paths[0] && rawio.Statx(c.paths[0], &st) == nil {
		return false
	}
	if rawio.Statx(c.path, &st) != nil {
		return false
	}
	return st.Ino == c.stx.Ino && st.Size == c.stx.Size && st.Mtime == c.stx.Mtime && st.Ctime == c.stx.Ctime
}

// reread reads the os-release file and parses it if its content changed.
// The file is looked at before it is read, so that a change between the
// two is seen the next time.
func (c *osCollector) reread() error {
	path := c.paths[0]
	err := rawio.Statx(path, &c.stx)
	if err == unix.ENOENT {
		path = c.paths[1]
		err = rawio.Statx(path, &c.stx)
	}
	if err != nil {
		c.stx = unix.Statx_t{} // the read below says what is wrong
	}
	b, err := c.r.read(path)
	if err != nil {
		c.raw = nil
		return fmt.Errorf("os: %w", noData(err))
	}
	c.path = path
	if c.raw == nil || !bytes.Equal(b, c.raw) {
		if err := c.parse(b); err != nil {
			c.raw = nil
			return err
		}
		c.raw = append(c.raw[:0], b...)
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
