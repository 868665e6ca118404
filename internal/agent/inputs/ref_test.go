package inputs

// The reference the parser is checked against: the converter it replaced,
// which decoded with prometheus/common's expfmt into dto.MetricFamily and
// turned those into Samples. Test code only: expfmt is not linked into the
// agent.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"hawk/internal/wire"
)

type refConverter struct {
	base      []wire.Label
	own       bool
	now       int64
	maxSeries int
	out       []Sample
}

func (c *refConverter) clashes(name string) bool {
	cc := converter{base: c.base, own: c.own}
	return cc.clashes(name)
}

func (c *refConverter) parse(body []byte, om bool) error {
	if !om {
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
	d := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeOpenMetrics))
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

func (c *refConverter) labels(lp []*dto.LabelPair) []wire.Label {
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

func (c *refConverter) add(name, help string, typ wire.MetricType, ls []wire.Label, t int64, v float64) {
	c.out = append(c.out, Sample{Name: name, Help: help, Type: typ, Labels: ls, Own: c.own, T: t, V: v})
}

func with(ls []wire.Label, name, value string) []wire.Label {
	out := make([]wire.Label, len(ls), len(ls)+1)
	copy(out, ls)
	return append(out, wire.Label{Name: name, Value: value})
}

func (c *refConverter) family(mf *dto.MetricFamily) error {
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
