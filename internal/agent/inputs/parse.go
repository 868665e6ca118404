package inputs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"hawk/internal/wire"
)

// errTooManySeries is a result over the input's series cap.
var errTooManySeries = errors.New("too many series")

// errTooLarge is a body or output over the byte cap.
var errTooLarge = errors.New("too large")

// readCapped reads r into buf (reused) up to max bytes; more is errTooLarge.
// It also counts sample lines as they arrive (lines that are neither empty
// nor comments) and stops with errTooManySeries past maxSeries, before
// anything is parsed.
func readCapped(r io.Reader, buf []byte, max int64, maxSeries int) ([]byte, error) {
	buf = buf[:0]
	lines, lineStart := 0, 0
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		chunk := buf[len(buf) : len(buf)+n]
		buf = buf[:len(buf)+n]
		for {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				break
			}
			end := len(buf) - len(chunk) + i
			if isSampleLine(buf[lineStart:end]) {
				lines++
			}
			lineStart = end + 1
			chunk = chunk[i+1:]
		}
		if lines > maxSeries {
			return buf, fmt.Errorf("%w: more than %d", errTooManySeries, maxSeries)
		}
		if int64(len(buf)) > max {
			return buf, fmt.Errorf("%w: more than %d bytes", errTooLarge, max)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func isSampleLine(l []byte) bool {
	l = bytes.TrimLeft(l, " \t")
	return len(l) > 0 && l[0] != '#'
}

// converter turns decoded metric families into Samples.
type converter struct {
	base      []wire.Label // labels the input adds (job, instance, target labels)
	own       bool         // Sample.Own
	now       int64        // ms, for samples without a timestamp
	maxSeries int
	out       []Sample
}

// parse decodes body in format f (text, OpenMetrics or protobuf).
func (c *converter) parse(body []byte, f expfmt.Format) error {
	if f.FormatType() == expfmt.TypeUnknown || f.FormatType() == expfmt.TypeTextPlain {
		p := expfmt.NewTextParser(model.LegacyValidation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
		if err != nil {
			return err
		}
		for _, mf := range fams {
			if err := c.family(mf); err != nil {
				return err
			}
		}
		return nil
	}
	d := expfmt.NewDecoder(bytes.NewReader(body), f)
	for {
		var mf dto.MetricFamily
		err := d.Decode(&mf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.family(&mf); err != nil {
			return err
		}
	}
}

func (c *converter) family(mf *dto.MetricFamily) error {
	name, help := mf.GetName(), mf.GetHelp()
	for _, m := range mf.GetMetric() {
		t := c.now
		if m.TimestampMs != nil {
			t = m.GetTimestampMs()
		}
		ls := c.labels(m.GetLabel())
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			c.add(name, help, wire.TypeCounter, ls, t, m.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			c.add(name, help, wire.TypeGauge, ls, t, m.GetGauge().GetValue())
		case dto.MetricType_SUMMARY:
			s := m.GetSummary()
			for _, q := range s.GetQuantile() {
				c.add(name, help, wire.TypeGauge, with(ls, "quantile", fmtFloat(q.GetQuantile())), t, q.GetValue())
			}
			c.add(name+"_sum", help, wire.TypeCounter, ls, t, s.GetSampleSum())
			c.add(name+"_count", help, wire.TypeCounter, ls, t, float64(s.GetSampleCount()))
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			h := m.GetHistogram()
			inf := false
			for _, b := range h.GetBucket() {
				inf = inf || math.IsInf(b.GetUpperBound(), +1)
				c.add(name+"_bucket", help, wire.TypeCounter, with(ls, "le", fmtFloat(b.GetUpperBound())), t, float64(b.GetCumulativeCount()))
			}
			if !inf {
				c.add(name+"_bucket", help, wire.TypeCounter, with(ls, "le", "+Inf"), t, float64(h.GetSampleCount()))
			}
			c.add(name+"_sum", help, wire.TypeCounter, ls, t, h.GetSampleSum())
			c.add(name+"_count", help, wire.TypeCounter, ls, t, float64(h.GetSampleCount()))
		default:
			c.add(name, help, wire.TypeUntyped, ls, t, m.GetUntyped().GetValue())
		}
		if len(c.out) > c.maxSeries {
			return fmt.Errorf("%w: more than %d", errTooManySeries, c.maxSeries)
		}
	}
	return nil
}

// labels returns the exposed labels followed by the input's own. An exposed
// label the input also sets is kept as exported_<name>, as Prometheus does
// without honor_labels.
func (c *converter) labels(lp []*dto.LabelPair) []wire.Label {
	ls := make([]wire.Label, 0, len(lp)+len(c.base))
	for _, l := range lp {
		n := l.GetName()
		if c.clashes(n) {
			n = "exported_" + n
		}
		ls = append(ls, wire.Label{Name: n, Value: l.GetValue()})
	}
	return append(ls, c.base...)
}

func (c *converter) clashes(name string) bool {
	if c.own && (name == "job" || name == "instance") {
		return true
	}
	for _, b := range c.base {
		if b.Name == name {
			return true
		}
	}
	return false
}

func (c *converter) add(name, help string, typ wire.MetricType, ls []wire.Label, t int64, v float64) {
	c.out = append(c.out, Sample{Name: name, Help: help, Type: typ, Labels: ls, Own: c.own, T: t, V: v})
}

// with returns ls and one more label, in a new slice.
func with(ls []wire.Label, name, value string) []wire.Label {
	out := make([]wire.Label, len(ls), len(ls)+1)
	copy(out, ls)
	return append(out, wire.Label{Name: name, Value: value})
}

func fmtFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
