package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
	names, err := listDir(c.dir)
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
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(c.data))
	if err != nil {
		return 0, fmt.Errorf("textfile: parse %s: %w", path, err)
	}
	names := make([]string, 0, len(families))
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			if m.TimestampMs != nil {
				return 0, fmt.Errorf("textfile: %s: metric %s has a timestamp, which is not supported", path, name)
			}
		}
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c.family(e, families[name], path)
	}
	return float64(st.ModTime().UnixNano()) / 1e9, nil
}

// family sends every series of mf; histograms and summaries become their
// _bucket/quantile, _sum and _count series, all untyped.
func (c *textfileCollector) family(e *emitter, mf *dto.MetricFamily, path string) {
	name, help := mf.GetName(), mf.GetHelp()
	if help == "" {
		help = "Metric read from " + path
	}
	for _, m := range mf.GetMetric() {
		c.labels = c.labels[:0]
		for _, lp := range m.GetLabel() {
			c.labels = append(c.labels, Label{lp.GetName(), lp.GetValue()})
		}
		slices.SortFunc(c.labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			e.send(name, help, Counter, m.GetCounter().GetValue(), c.labels)
		case dto.MetricType_GAUGE:
			e.send(name, help, Gauge, m.GetGauge().GetValue(), c.labels)
		case dto.MetricType_SUMMARY:
			s := m.GetSummary()
			for _, q := range s.GetQuantile() {
				c.withExtra(e, name, help, "quantile", q.GetQuantile(), q.GetValue())
			}
			e.send(name+"_sum", help, Untyped, s.GetSampleSum(), c.labels)
			e.send(name+"_count", help, Untyped, float64(s.GetSampleCount()), c.labels)
		case dto.MetricType_HISTOGRAM:
			h := m.GetHistogram()
			inf := false
			for _, b := range h.GetBucket() {
				inf = inf || math.IsInf(b.GetUpperBound(), 1)
				c.withExtra(e, name+"_bucket", help, "le", b.GetUpperBound(), float64(b.GetCumulativeCount()))
			}
			if !inf {
				c.withExtra(e, name+"_bucket", help, "le", math.Inf(1), float64(h.GetSampleCount()))
			}
			e.send(name+"_sum", help, Untyped, h.GetSampleSum(), c.labels)
			e.send(name+"_count", help, Untyped, float64(h.GetSampleCount()), c.labels)
		default:
			e.send(name, help, Untyped, m.GetUntyped().GetValue(), c.labels)
		}
	}
}

// withExtra sends a sample with one more label (le or quantile), keeping the
// labels sorted.
func (c *textfileCollector) withExtra(e *emitter, name, help, label string, bound, v float64) {
	n := len(c.labels)
	c.labels = append(c.labels, Label{label, formatBound(bound)})
	slices.SortFunc(c.labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	e.send(name, help, Untyped, v, c.labels)
	i := slices.IndexFunc(c.labels, func(l Label) bool { return l.Name == label })
	c.labels = slices.Delete(c.labels, i, i+1)
	c.labels = c.labels[:n]
}

// formatBound formats an le or quantile value as Prometheus does.
func formatBound(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
