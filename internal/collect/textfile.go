package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func init() {
	register("textfile", true, "Exposes statistics read from local disk (*.prom files).", newTextfile)
}

// textfileCollector re-exposes the samples of the *.prom files in
// Config.TextfileDir, in the Prometheus text format. Timestamps are not
// allowed (as in node_exporter): a file with one counts as an error.
type textfileCollector struct {
	dir    string
	logger *slog.Logger
	labels []Label // reused per sample
	data   []byte  // reused file buffer
}

func newTextfile(cfg *Config, logger *slog.Logger) (collector, error) {
	return &textfileCollector{dir: cfg.TextfileDir, logger: logger}, nil
}

func (c *textfileCollector) update(e *emitter) error {
	errVal := 0.0
	defer func() {
		e.gauge("node_textfile_scrape_error", "1 if there was an error opening or reading a file, 0 otherwise", errVal)
	}()
	if c.dir == "" {
		return nil
	}
	names, err := readDirNames(c.dir)
	if err != nil {
		c.logger.Debug("cannot read textfile directory", "dir", c.dir, "err", err)
		errVal = 1
		return nil
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".prom") {
			continue
		}
		path := filepath.Join(c.dir, n)
		mtime, err := c.file(e, path)
		if err != nil {
			c.logger.Debug("cannot read textfile", "file", path, "err", err)
			errVal = 1
			continue
		}
		e.gauge("node_textfile_mtime_seconds", "Unixtime mtime of textfiles successfully read.", mtime, Label{"file", path})
	}
	return nil
}

// file parses one .prom file completely before sending any of its samples,
// so that a bad file contributes nothing but the error.
func (c *textfileCollector) file(e *emitter, path string) (mtime float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("textfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("textfile: %w", err)
	}
	if st.Size() > maxFileSize {
		return 0, fmt.Errorf("textfile: %s is larger than %d bytes", path, maxFileSize)
	}
	buf := bytes.NewBuffer(c.data[:0])
	if _, err := buf.ReadFrom(f); err != nil {
		return 0, fmt.Errorf("textfile: read %s: %w", path, err)
	}
	c.data = buf.Bytes()
	families, err := parseText(c.data)
	if err != nil {
		return 0, fmt.Errorf("textfile: parse %s: %w", path, err)
	}
	slices.SortStableFunc(families, func(a, b *textFamily) int { return strings.Compare(a.name, b.name) })
	for _, fam := range families {
		c.family(e, fam, path)
	}
	return float64(st.ModTime().UnixNano()) / 1e9, nil
}

// family sends every series of fam. A histogram's or summary's _bucket,
// quantile, _sum and _count series are sent untyped, as node_exporter's
// textfile collector does.
func (c *textfileCollector) family(e *emitter, fam *textFamily, path string) {
	help := fam.help
	if help == "" {
		help = "Metric read from " + path
	}
	t := Untyped
	switch fam.typ {
	case "counter":
		t = Counter
	case "gauge":
		t = Gauge
	}
	for _, s := range fam.samples {
		c.labels = append(c.labels[:0], s.labels...)
		slices.SortFunc(c.labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		e.send(s.name, help, t, s.value, c.labels)
	}
}

// readDirNames returns the sorted names in dir.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	slices.Sort(names)
	return names, nil
}
