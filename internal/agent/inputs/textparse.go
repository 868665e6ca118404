package inputs

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"hawk/internal/wire"
)

// parser reads the Prometheus text format (0.0.4) and OpenMetrics 1.0
// straight from the body into Samples. It is kept by its input between
// runs: the name, type, help and labels of a series are decoded once and
// found again by the series' raw text (name and label set as exposed), so a
// run over an unchanged exposition allocates only its result slice.
//
// Families follow the formats: a TYPE line names the family; in the text
// format _sum, _count and _bucket lines belong to a summary or histogram
// declared in the same body, in OpenMetrics the suffixes of the family's
// type do (_total, _created, _gcount, _gsum, _info too). _created samples
// and exemplars are dropped, UNIT lines ignored. Series carry the labels
// the converter gives them (base labels appended, clashes renamed
// exported_*); le and quantile values are written as Go formats the
// float, so "1.0" and "1" are one series.
type parser struct {
	fams   map[string]*family
	series map[string]*series
	gen    uint64 // this run; families and series used in it carry it

	cur   *family // family of the last line
	pend  pending // metadata lines not yet applied
	lbuf  []rawLabel
	count int // series in this run
}

type famType uint8

const (
	famUntyped famType = iota
	famCounter
	famGauge
	famSummary
	famHistogram
	famGaugeHistogram
	famInfo     // OpenMetrics only
	famStateset // OpenMetrics only
)

type family struct {
	name, help string
	typ        famType
	gen        uint64 // run in which it was last declared or used
	declared   uint64 // run in which a TYPE or HELP line named it
	samples    uint64 // run in which it had samples
}

// role is what a sample line is to its family.
type role uint8

const (
	roleValue role = iota
	roleQuantile
	roleBucket
	roleSum
	roleCount
	roleCreated
)

type series struct {
	fam    *family
	gen    uint64
	role   role
	name   string
	typ    wire.MetricType
	labels []wire.Label
}

type pending struct {
	name           []byte
	help           []byte
	typ            famType
	hasHelp, isSet bool
	hasType        bool
}

type rawLabel struct {
	name, value []byte
	escaped     bool
}

func newParser() *parser {
	return &parser{fams: map[string]*family{}, series: map[string]*series{}}
}

var errParse = errors.New("parse error")

// errQuotedName is a metric or label name in quotes, or a metric name in
// the label set: the text format's syntax for names outside
// [a-zA-Z_:][a-zA-Z0-9_:]* (Prometheus 3's UTF-8 names), which the agent
// does not read. Its names reach PromQL and dashboards unchanged, so it
// keeps to the classic ones.
var errQuotedName = errors.New("a quoted metric or label name, or a metric name in braces (the UTF-8 names syntax), is not supported")

// errEscapedType is a TYPE line whose type has a backslash. The type is a
// bare word in both formats, as Prometheus reads it; expfmt alone drops
// each backslash there (gau\ge is a gauge to it).
var errEscapedType = errors.New("an escape in a metric type")

// perr is a parse error at line; a %w in format keeps its error wrapped.
func perr(line int, format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %w", errParse, line, fmt.Errorf(format, args...))
}

// quoted reports whether b, where a name or what follows one is expected,
// begins the UTF-8 names syntax: a quote, or with brace, a '{' (a line
// that opens with its label set names its metric in it).
func quoted(b []byte, brace bool) bool {
	return len(b) > 0 && (b[0] == '"' || brace && b[0] == '{')
}

// parse adds the samples of body to c.out. om selects OpenMetrics.
func (p *parser) parse(body []byte, om bool, c *converter) error {
	p.gen++
	p.cur, p.pend.isSet, p.count = nil, false, 0
	defer p.sweep()
	line := 0
	eof := false
	for len(body) > 0 {
		var l []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			l, body = body[:i], body[i+1:]
		} else {
			l, body = body, nil
		}
		line++
		if eof {
			return perr(line, "unexpected data after # EOF")
		}
		if !om {
			if l = skipBlank(l); len(l) == 0 || (len(l) == 1 && l[0] == '\r') {
				continue
			}
			if l[0] != '#' {
				if l = trimBlank(l); len(l) == 0 {
					continue // blanks and carriage returns only
				}
			}
		} else if len(l) == 0 {
			return perr(line, "empty line")
		}
		if l[0] == '#' {
			done, err := p.comment(l, line, om)
			if err != nil {
				return err
			}
			eof = done
			continue
		}
		if err := p.sample(l, line, om, c); err != nil {
			return err
		}
		if len(c.out) > c.maxSeries {
			return fmt.Errorf("%w: more than %d", errTooManySeries, c.maxSeries)
		}
	}
	if om && !eof {
		return perr(line, "data does not end with # EOF")
	}
	return p.flush(line, om)
}

// sweep forgets the series and families no run has used lately, once they
// are as many as the ones in use.
func (p *parser) sweep() {
	if len(p.series) > 2*p.count+64 {
		for k, s := range p.series {
			if s.gen != p.gen {
				delete(p.series, k)
			}
		}
	}
	if len(p.fams) > 2*p.count+64 {
		for k, f := range p.fams {
			if f.gen != p.gen {
				delete(p.fams, k)
			}
		}
	}
}

func trimBlank(l []byte) []byte {
	for len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
		l = l[1:]
	}
	for len(l) > 0 && (l[len(l)-1] == ' ' || l[len(l)-1] == '\t' || l[len(l)-1] == '\r') {
		l = l[:len(l)-1]
	}
	return l
}

// comment handles a line starting with '#'; it reports # EOF.
func (p *parser) comment(l []byte, line int, om bool) (bool, error) {
	rest := l[1:]
	if om {
		if string(rest) == " EOF" {
			return true, p.flush(line, om)
		}
		if len(rest) == 0 || rest[0] != ' ' {
			return false, perr(line, "invalid comment")
		}
		rest = rest[1:]
	} else {
		rest = skipBlank(rest)
	}
	kw, rest := word(rest)
	var kind int
	switch string(kw) {
	case "HELP":
		kind = 1
	case "TYPE":
		kind = 2
	case "UNIT":
		if !om {
			return false, nil
		}
		kind = 3
	default:
		if om {
			return false, perr(line, "invalid comment")
		}
		return false, nil // any other comment
	}
	if om {
		if len(rest) == 0 || rest[0] != ' ' {
			return false, perr(line, "invalid %s line", kw)
		}
		rest = rest[1:]
	} else {
		if rest = skipBlank(rest); len(rest) == 0 {
			return false, nil // a bare "# TYPE": a comment
		}
	}
	name, rest := metricName(rest)
	if quoted(rest, false) {
		return false, perr(line, "%s line: %w", kw, errQuotedName)
	}
	if !om && len(name) > 0 && len(rest) == 0 {
		return false, nil // "# TYPE name": a comment too
	}
	if len(name) == 0 {
		return false, perr(line, "invalid metric name in %s line", kw)
	}
	var val []byte
	switch {
	case len(rest) == 0:
		if kind == 2 || (om && kind == 1) {
			return false, perr(line, "%s line without a value", kw)
		}
	case rest[0] == ' ' || rest[0] == '\t':
		if om {
			val = rest[1:]
		} else if val = skipBlank(rest); len(val) == 0 {
			return false, nil // "# TYPE name ": a comment as well
		}
	default:
		return false, perr(line, "invalid metric name in %s line", kw)
	}
	if p.pend.isSet && !bytes.Equal(p.pend.name, name) {
		if err := p.flush(line, om); err != nil {
			return false, err
		}
	}
	if !p.pend.isSet {
		p.pend = pending{name: append(p.pend.name[:0], name...), help: p.pend.help[:0], isSet: true}
	}
	switch kind {
	case 1:
		if p.pend.hasHelp {
			return false, perr(line, "second HELP line for metric name %q", name)
		}
		p.pend.hasHelp = true
		var err error
		p.pend.help, err = unescape(p.pend.help[:0], val, om)
		if err != nil {
			return false, perr(line, "HELP: %v", err)
		}
	case 2:
		if p.pend.hasType {
			return false, perr(line, "second TYPE line for metric name %q", name)
		}
		t, ok := parseType(trimBlank(val), om)
		if !ok && bytes.IndexByte(val, '\\') >= 0 {
			return false, perr(line, "metric type %q: %w", val, errEscapedType)
		}
		if !ok {
			return false, perr(line, "unknown metric type %q", val)
		}
		p.pend.hasType, p.pend.typ = true, t
	case 3:
		if len(val) > 0 && !bytes.HasSuffix(name, append([]byte("_"), val...)) {
			return false, perr(line, "unit %q not a suffix of metric %q", val, name)
		}
	}
	return false, nil
}

func parseType(v []byte, om bool) (famType, bool) {
	if om {
		switch string(v) {
		case "counter":
			return famCounter, true
		case "gauge":
			return famGauge, true
		case "summary":
			return famSummary, true
		case "histogram":
			return famHistogram, true
		case "gaugehistogram":
			return famGaugeHistogram, true
		case "unknown":
			return famUntyped, true
		case "info":
			return famInfo, true
		case "stateset":
			return famStateset, true
		}
		return 0, false
	}
	for _, t := range [...]struct {
		s string
		t famType
	}{{"counter", famCounter}, {"gauge", famGauge}, {"summary", famSummary}, {"histogram", famHistogram},
		{"untyped", famUntyped}, {"gauge_histogram", famGaugeHistogram}, {"gaugehistogram", famGaugeHistogram}} {
		if bytes.EqualFold(v, []byte(t.s)) {
			return t.t, true
		}
	}
	return 0, false
}

// flush applies the pending metadata lines: the family they describe
// becomes the current one.
func (p *parser) flush(line int, om bool) error {
	if !p.pend.isSet {
		return nil
	}
	p.pend.isSet = false
	f := p.fams[string(p.pend.name)]
	if f != nil && f.samples == p.gen {
		return perr(line, "metadata for metric %q after its samples", p.pend.name)
	}
	typ, help := p.pend.typ, p.pend.help
	if !p.pend.hasType {
		typ = famUntyped
	}
	if f != nil && f.declared == p.gen {
		// More metadata lines for a family declared earlier in this body.
		if !p.pend.hasType {
			typ = f.typ
		}
		if !p.pend.hasHelp {
			help = append(help[:0], f.help...)
		}
	}
	if f == nil || f.typ != typ || f.help != string(help) {
		f = &family{name: string(p.pend.name), help: string(help), typ: typ}
		p.fams[f.name] = f
	}
	f.gen, f.declared = p.gen, p.gen
	p.cur = f
	return nil
}

// match gives the role of a sample named name in family f.
func match(f *family, name []byte, om bool) (role, bool) {
	if len(name) < len(f.name) || string(name[:len(f.name)]) != f.name {
		return 0, false
	}
	suf := string(name[len(f.name):])
	switch f.typ {
	case famCounter:
		if !om && suf == "" {
			return roleValue, true
		}
		if om {
			switch suf {
			case "_total":
				return roleValue, true
			case "_created":
				return roleCreated, true
			}
		}
	case famGauge, famUntyped, famStateset:
		return roleValue, suf == ""
	case famInfo:
		return roleValue, suf == "_info"
	case famSummary:
		switch suf {
		case "":
			return roleQuantile, true
		case "_sum":
			return roleSum, true
		case "_count":
			return roleCount, true
		case "_created":
			return roleCreated, om
		}
	case famHistogram, famGaugeHistogram:
		switch suf {
		case "_bucket":
			return roleBucket, true
		case "_sum":
			return roleSum, true
		case "_count":
			return roleCount, true
		case "_created":
			return roleCreated, om
		case "_gsum":
			return roleSum, om && f.typ == famGaugeHistogram
		case "_gcount":
			return roleCount, om && f.typ == famGaugeHistogram
		}
	}
	return 0, false
}

// family finds the family of a sample named name.
func (p *parser) family(name []byte, line int, om bool) (*family, role, error) {
	if f := p.cur; f != nil {
		if r, ok := match(f, name, om); ok {
			if om || len(name) == len(f.name) {
				return f, r, nil
			}
			// In the text format a family of the line's whole name
			// comes first.
			if g := p.fams[string(name)]; g == nil || g.gen != p.gen {
				return f, r, nil
			}
		}
		if om && f.declared == p.gen && f.samples != p.gen && string(name) == f.name && f.typ != famUntyped {
			return nil, 0, perr(line, "sample %q missing the suffix of its type", name)
		}
	}
	f := p.fams[string(name)]
	if !om && (f == nil || f.gen != p.gen) {
		// A _sum, _count or _bucket line of a summary or histogram
		// declared in this body, wherever it was declared.
		for _, suf := range [...]string{"_sum", "_count", "_bucket"} {
			if bytes.HasSuffix(name, []byte(suf)) {
				if f := p.fams[string(name[:len(name)-len(suf)])]; f != nil && f.gen == p.gen {
					if r, ok := match(f, name, om); ok {
						return f, r, nil
					}
				}
			}
		}
	}
	if f != nil && f.gen == p.gen {
		if r, ok := match(f, name, om); ok {
			if om && f.samples == p.gen && f != p.cur {
				return nil, 0, perr(line, "interleaved metric family %q", name)
			}
			return f, r, nil
		}
		if f.declared == p.gen {
			return nil, 0, perr(line, "sample %q does not fit the type of its family", name)
		}
	}
	if om {
		// An OpenMetrics sample of a family declared earlier in the body
		// (its metadata was not the last).
		for i := len(name) - 1; i > 0; i-- {
			if name[i] != '_' {
				continue
			}
			if g := p.fams[string(name[:i])]; g != nil && g.gen == p.gen && g.declared == p.gen {
				if r, ok := match(g, name, om); ok {
					if g.samples == p.gen && g != p.cur {
						return nil, 0, perr(line, "interleaved metric family %q", g.name)
					}
					return g, r, nil
				}
			}
		}
	}
	// An untyped family of its own.
	if f == nil || f.typ != famUntyped || f.help != "" {
		f = &family{name: string(name), typ: famUntyped}
		p.fams[f.name] = f
	}
	f.gen = p.gen
	return f, roleValue, nil
}

// sample handles one sample line.
func (p *parser) sample(l []byte, line int, om bool, c *converter) error {
	if err := p.flush(line, om); err != nil {
		return err
	}
	name, rest := metricName(l)
	if quoted(rest, len(name) == 0) {
		return perr(line, "%w", errQuotedName)
	}
	if len(name) == 0 {
		return perr(line, "invalid metric name")
	}
	// The series text: name and label set, as exposed.
	var lbls []rawLabel
	if !om {
		rest = skipBlank(rest)
	}
	if len(rest) > 0 && rest[0] == '{' {
		var err error
		lbls, rest, err = p.labels(rest[1:], om)
		if err != nil {
			return perr(line, "%w", err)
		}
	}
	key := l[:len(l)-len(rest)]
	// value, timestamp, exemplar
	if om {
		if len(rest) == 0 || rest[0] != ' ' {
			return perr(line, "expected a value after the series")
		}
		rest = rest[1:]
	} else {
		rest = skipBlank(rest)
	}
	vs, rest := token(rest)
	v, err := parseFloat(vs, om)
	if err != nil {
		return perr(line, "invalid value %q", vs)
	}
	t := c.now
	if om {
		if len(rest) > 0 {
			if rest[0] != ' ' {
				return perr(line, "invalid text after the value")
			}
			rest = rest[1:]
			if len(rest) > 0 && rest[0] != '#' {
				var ts []byte
				ts, rest = token(rest)
				f, err := parseFloat(ts, true)
				if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
					return perr(line, "invalid timestamp %q", ts)
				}
				t = int64(math.Round(f * 1000))
				if len(rest) > 0 {
					if rest[0] != ' ' {
						return perr(line, "invalid text after the timestamp")
					}
					rest = rest[1:]
				}
			}
			if len(rest) > 0 && (len(rest) < 2 || rest[0] != '#' || rest[1] != ' ') {
				return perr(line, "invalid text after the sample")
			}
			// An exemplar: ignored.
		}
	} else {
		rest = skipBlank(rest)
		if len(rest) > 0 {
			var ts []byte
			ts, rest = token(rest)
			n, err := strconv.ParseInt(string(ts), 10, 64)
			if err != nil {
				return perr(line, "invalid timestamp %q", ts)
			}
			t = n
			if len(skipBlank(rest)) > 0 {
				return perr(line, "unexpected text after the timestamp")
			}
		}
	}
	s := p.series[string(key)]
	// A cached series is taken as it is while its family is the current
	// one; else, or for a text-format _sum, _count or _bucket line (a
	// family of that whole name may have been declared since), its family
	// is looked up again.
	if s == nil || s.fam.gen != p.gen || ((p.cur != s.fam || (!om && len(s.name) != len(s.fam.name))) && !p.fits(s, name, om)) {
		f, r, err := p.family(name, line, om)
		if err != nil {
			return err
		}
		if s == nil || s.fam != f {
			s, err = p.newSeries(key, f, r, name, lbls, c, om)
			if err != nil {
				return perr(line, "%v", err)
			}
		}
	}
	f := s.fam
	if om && f.samples == p.gen && f != p.cur {
		return perr(line, "interleaved metric family %q", f.name)
	}
	p.cur, f.samples, f.gen = f, p.gen, p.gen
	if s.gen != p.gen {
		s.gen = p.gen
		p.count++
	}
	switch s.role {
	case roleCreated:
		return nil
	case roleBucket, roleCount:
		if om && (math.IsNaN(v) || v < 0) {
			return perr(line, "negative or NaN count")
		}
	}
	if om && f.typ == famCounter && s.role == roleValue && (math.IsNaN(v) || v < 0) {
		return perr(line, "counter value must not be negative or NaN")
	}
	c.out = append(c.out, Sample{Name: s.name, Help: f.help, Type: s.typ, Labels: s.labels, Own: c.own, T: t, V: v})
	return nil
}

// fits reports whether a cached series still belongs where it was found:
// its family is this run's family for name.
func (p *parser) fits(s *series, name []byte, om bool) bool {
	f, _, err := p.family(name, 0, om)
	return err == nil && f == s.fam
}

func (p *parser) newSeries(key []byte, f *family, r role, name []byte, lbls []rawLabel, c *converter, om bool) (*series, error) {
	s := &series{fam: f, role: r}
	switch {
	case r == roleSum && (f.typ == famHistogram || f.typ == famGaugeHistogram || f.typ == famSummary):
		s.name, s.typ = f.name+"_sum", wire.TypeCounter
	case r == roleCount:
		s.name, s.typ = f.name+"_count", wire.TypeCounter
	case r == roleBucket:
		s.name, s.typ = f.name+"_bucket", wire.TypeCounter
	case r == roleQuantile:
		s.name, s.typ = string(name), wire.TypeGauge
	default:
		s.name = string(name)
		switch f.typ {
		case famCounter:
			s.typ = wire.TypeCounter
		case famGauge, famInfo, famStateset:
			s.typ = wire.TypeGauge
		default:
			s.typ = wire.TypeUntyped
		}
	}
	special := ""
	switch r {
	case roleQuantile:
		special = "quantile"
	case roleBucket:
		special = "le"
	}
	ls := make([]wire.Label, 0, len(lbls)+len(c.base))
	var sp *wire.Label
	for i, l := range lbls {
		for _, m := range lbls[:i] {
			if bytes.Equal(m.name, l.name) {
				return nil, fmt.Errorf("duplicate label %q", l.name)
			}
		}
		if string(l.name) == "__name__" {
			return nil, errors.New(`label name "__name__" is reserved`)
		}
		n := string(l.name)
		val := string(l.value)
		if l.escaped {
			b, _ := unescape(nil, l.value, om)
			val = string(b)
		}
		if n == special && special != "" {
			q, err := parseFloat([]byte(val), om)
			if err != nil || math.IsNaN(q) {
				return nil, fmt.Errorf("invalid %s %q", n, val)
			}
			sp = &wire.Label{Name: n, Value: fmtFloat(q)}
			continue
		}
		if c.clashes(n) {
			n = "exported_" + n
		}
		ls = append(ls, wire.Label{Name: n, Value: val})
	}
	if special != "" && sp == nil {
		return nil, fmt.Errorf("missing %s label", special)
	}
	ls = append(ls, c.base...)
	if sp != nil {
		ls = append(ls, *sp)
	}
	s.labels = ls
	if old := p.series[string(key)]; old != nil {
		old.fam, old.role, old.name, old.typ, old.labels = s.fam, s.role, s.name, s.typ, s.labels
		return old, nil
	}
	p.series[string(key)] = s
	return s, nil
}

// labels reads a label set after its '{', up to and including its '}'.
func (p *parser) labels(b []byte, om bool) ([]rawLabel, []byte, error) {
	ls := p.lbuf[:0]
	defer func() { p.lbuf = ls[:0] }()
	for {
		if !om {
			b = skipBlank(b)
		}
		if len(b) > 0 && b[0] == '}' {
			return ls, b[1:], nil
		}
		n := labelNameLen(b)
		if quoted(b[n:], false) {
			return nil, nil, errQuotedName
		}
		if n == 0 {
			return nil, nil, errors.New("invalid label name")
		}
		name := b[:n]
		b = b[n:]
		if !om {
			b = skipBlank(b)
		}
		if len(b) > 0 && (b[0] == ',' || b[0] == '}') {
			return nil, nil, errQuotedName // {name} or {name,...}: a metric name in braces
		}
		if len(b) == 0 || b[0] != '=' {
			return nil, nil, fmt.Errorf("expected '=' after label name %q", name)
		}
		b = b[1:]
		if !om {
			b = skipBlank(b)
		}
		if len(b) == 0 || b[0] != '"' {
			return nil, nil, fmt.Errorf("expected '\"' after %s=", name)
		}
		b = b[1:]
		esc := false
		i := 0
		for ; i < len(b); i++ {
			if b[i] == '\\' {
				esc = true
				i++
				if i == len(b) {
					break
				}
				switch b[i] {
				case '\\', '"', 'n':
				default:
					if !om { // OpenMetrics keeps it as written
						return nil, nil, fmt.Errorf("invalid escape in the value of label %q", name)
					}
				}
				continue
			}
			if b[i] == '"' {
				break
			}
		}
		if i >= len(b) {
			return nil, nil, fmt.Errorf("unterminated value of label %q", name)
		}
		val := b[:i]
		if !utf8.Valid(val) {
			return nil, nil, fmt.Errorf("invalid UTF-8 in the value of label %q", name)
		}
		ls = append(ls, rawLabel{name: name, value: val, escaped: esc})
		b = b[i+1:]
		if !om {
			b = skipBlank(b)
		}
		if len(b) > 0 && b[0] == ',' {
			b = b[1:]
			if om && len(b) > 0 && b[0] == '}' {
				return nil, nil, errors.New("trailing comma in label set")
			}
			continue
		}
		if len(b) > 0 && b[0] == '}' {
			return ls, b[1:], nil
		}
		return nil, nil, errors.New("expected ',' or '}' in label set")
	}
}

// unescape appends s with its escapes resolved: \\, \n and \"; another
// escape is an error in the text format and kept as written in
// OpenMetrics.
func unescape(dst, s []byte, om bool) ([]byte, error) {
	if bytes.IndexByte(s, '\\') < 0 {
		return append(dst, s...), nil
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch != '\\' {
			dst = append(dst, ch)
			continue
		}
		if i++; i == len(s) {
			if om {
				return append(dst, '\\'), nil
			}
			return dst, errors.New("escape at the end")
		}
		switch s[i] {
		case '\\':
			dst = append(dst, '\\')
		case 'n':
			dst = append(dst, '\n')
		case '"':
			dst = append(dst, '"')
		default:
			if om { // kept as written, as prometheus/common does
				dst = append(dst, '\\', s[i])
				continue
			}
			return dst, fmt.Errorf("invalid escape \\%c", s[i])
		}
	}
	return dst, nil
}

func parseFloat(b []byte, om bool) (float64, error) {
	if len(b) == 0 {
		return 0, errParse
	}
	for _, ch := range b {
		if ch == '_' || ch == 'p' || ch == 'P' {
			return 0, errParse
		}
	}
	// Small integers, the common case, without strconv.
	if len(b) < 16 {
		var n int64
		i := 0
		if b[0] == '-' {
			i = 1
		}
		if i < len(b) {
			j := i
			for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
				n = n*10 + int64(b[j]-'0')
			}
			if j == len(b) {
				if i == 1 {
					if n == 0 {
						return math.Copysign(0, -1), nil
					}
					return float64(-n), nil
				}
				return float64(n), nil
			}
		}
	}
	return strconv.ParseFloat(string(b), 64)
}

func skipBlank(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// word splits b at its first blank.
func word(b []byte) ([]byte, []byte) {
	i := 0
	for i < len(b) && b[i] != ' ' && b[i] != '\t' {
		i++
	}
	return b[:i], b[i:]
}

// token is word in a sample line: a value or timestamp.
func token(b []byte) ([]byte, []byte) { return word(b) }

// metricName splits off a leading metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
func metricName(b []byte) ([]byte, []byte) {
	i := 0
	for i < len(b) {
		ch := b[i]
		if ch == '_' || ch == ':' || (ch|0x20 >= 'a' && ch|0x20 <= 'z') || (i > 0 && ch >= '0' && ch <= '9') {
			i++
			continue
		}
		break
	}
	return b[:i], b[i:]
}

// labelNameLen is the length of a leading label name ([a-zA-Z_][a-zA-Z0-9_]*).
func labelNameLen(b []byte) int {
	i := 0
	for i < len(b) {
		ch := b[i]
		if ch == '_' || (ch|0x20 >= 'a' && ch|0x20 <= 'z') || (i > 0 && ch >= '0' && ch <= '9') {
			i++
			continue
		}
		break
	}
	return i
}
