package collect

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// textSample is one sample line of a file in the Prometheus text format.
type textSample struct {
	name   string
	labels []Label
	value  float64
}

// textFamily is the samples of one metric family, with its TYPE and HELP.
type textFamily struct {
	name    string
	typ     string // counter, gauge, histogram, summary, untyped
	help    string
	samples []textSample
}

var errTextFormat = errors.New("text format")

// parseText parses the Prometheus text exposition format (version 0.0.4)
// strictly: a malformed line, a repeated HELP or TYPE, a TYPE after the
// family's samples, a repeated series or a sample with a timestamp is an
// error, and the whole input is refused. Families come back in order of
// first appearance. The agent does not link a protobuf runtime for this.
func parseText(data []byte) ([]*textFamily, error) {
	p := textParser{byName: map[string]*textFamily{}, seen: map[string]struct{}{}}
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if err := p.line(string(bytes.TrimRight(line, "\r"))); err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", errTextFormat, n, err)
		}
	}
	return p.families, nil
}

type textParser struct {
	families []*textFamily
	byName   map[string]*textFamily
	seen     map[string]struct{} // series already read, to refuse repeats
}

func (p *textParser) line(s string) error {
	s = strings.TrimLeft(s, " \t")
	switch {
	case s == "":
		return nil
	case strings.HasPrefix(s, "#"):
		return p.comment(s)
	}
	return p.sample(s)
}

// comment handles "# HELP name text" and "# TYPE name type"; other
// comments are ignored.
func (p *textParser) comment(s string) error {
	f := strings.Fields(s[1:])
	if len(f) < 2 || (f[0] != "HELP" && f[0] != "TYPE") {
		return nil
	}
	name := f[1]
	if !validMetricName(name) {
		return fmt.Errorf("invalid metric name %q", name)
	}
	fam := p.family(name)
	if f[0] == "HELP" {
		if fam.help != "" {
			return fmt.Errorf("second HELP for %s", name)
		}
		_, rest, _ := strings.Cut(strings.TrimLeft(s[1:], " \t"), name)
		fam.help = unescapeHelp(strings.TrimLeft(rest, " \t"))
		return nil
	}
	if fam.typ != "" {
		return fmt.Errorf("second TYPE for %s", name)
	}
	if len(fam.samples) > 0 {
		return fmt.Errorf("TYPE for %s after its samples", name)
	}
	if len(f) != 3 {
		return fmt.Errorf("TYPE line for %s without exactly one type", name)
	}
	switch f[2] {
	case "counter", "gauge", "histogram", "summary", "untyped":
		fam.typ = f[2]
	default:
		return fmt.Errorf("unknown type %q for %s", f[2], name)
	}
	return nil
}

func (p *textParser) family(name string) *textFamily {
	fam := p.byName[name]
	if fam == nil {
		fam = &textFamily{name: name}
		p.byName[name] = fam
		p.families = append(p.families, fam)
	}
	return fam
}

// familyOf returns the family a sample name belongs to: a histogram's or
// summary's _bucket, _sum and _count series belong to it.
func (p *textParser) familyOf(name string) *textFamily {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if fam := p.byName[base]; fam != nil && (fam.typ == "histogram" || fam.typ == "summary") {
				return fam
			}
		}
	}
	return p.family(name)
}

func (p *textParser) sample(s string) error {
	i := strings.IndexAny(s, "{ \t")
	if i < 0 {
		return fmt.Errorf("no value in %q", snippetString(s))
	}
	name, rest := s[:i], s[i:]
	if !validMetricName(name) {
		return fmt.Errorf("invalid metric name %q", snippetString(name))
	}
	var labels []Label
	if rest[0] == '{' {
		var err error
		if labels, rest, err = parseLabels(rest[1:]); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	f := strings.Fields(rest)
	switch {
	case len(f) == 0:
		return fmt.Errorf("%s: no value", name)
	case len(f) > 2:
		return fmt.Errorf("%s: text after the value", name)
	case len(f) == 2:
		return fmt.Errorf("%s: has a timestamp, which is not supported", name)
	}
	v, err := parseValue(f[0])
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	key := seriesKey(name, labels)
	if _, dup := p.seen[key]; dup {
		return fmt.Errorf("%s: series repeated", name)
	}
	p.seen[key] = struct{}{}
	fam := p.familyOf(name)
	fam.samples = append(fam.samples, textSample{name: name, labels: labels, value: v})
	return nil
}

// parseLabels parses `name="value",...}` and returns what follows the '}'.
func parseLabels(s string) ([]Label, string, error) {
	var labels []Label
	for {
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, "}") {
			return labels, s[1:], nil
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, "", errors.New("label without '='")
		}
		ln := strings.TrimSpace(s[:eq])
		if !validLabelName(ln) {
			return nil, "", fmt.Errorf("invalid label name %q", snippetString(ln))
		}
		for _, l := range labels {
			if l.Name == ln {
				return nil, "", fmt.Errorf("label %s repeated", ln)
			}
		}
		v, rest, err := parseQuoted(strings.TrimLeft(s[eq+1:], " \t"))
		if err != nil {
			return nil, "", fmt.Errorf("label %s: %w", ln, err)
		}
		labels = append(labels, Label{ln, v})
		rest = strings.TrimLeft(rest, " \t")
		if strings.HasPrefix(rest, ",") {
			rest = rest[1:]
		} else if !strings.HasPrefix(rest, "}") {
			return nil, "", errors.New("expected ',' or '}' after a label")
		}
		s = rest
	}
}

// parseQuoted reads a double-quoted label value with the escapes \\, \"
// and \n.
func parseQuoted(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", errors.New("value not quoted")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			i++
			if i == len(s) {
				return "", "", errors.New("unterminated escape")
			}
			switch s[i] {
			case '\\', '"':
				b.WriteByte(s[i])
			case 'n':
				b.WriteByte('\n')
			default:
				return "", "", fmt.Errorf("unknown escape \\%c", s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated value")
}

func parseValue(s string) (float64, error) {
	switch s {
	case "+Inf", "Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid value %q", snippetString(s))
	}
	return v, nil
}

func unescapeHelp(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(`\\`, `\`, `\n`, "\n").Replace(s)
}

func validMetricName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func validLabelName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func seriesKey(name string, labels []Label) string {
	var b strings.Builder
	b.WriteString(name)
	sorted := append([]Label(nil), labels...)
	for i := 1; i < len(sorted); i++ { // a handful of labels: insertion sort
		for j := i; j > 0 && sorted[j].Name < sorted[j-1].Name; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, l := range sorted {
		b.WriteString("\xff" + l.Name + "\xfe" + l.Value)
	}
	return b.String()
}

func snippetString(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}
