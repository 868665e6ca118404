package inputs

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"hawk/internal/wire"
)

var testBase = []wire.Label{{Name: "job", Value: "j"}, {Name: "instance", Value: "h:1"}}

// sampleText is one sample as a line, NaN included, for comparing results
// as sorted sets.
func sampleText(s Sample) string {
	return fmt.Sprintf("%s{%s} type=%d own=%v t=%d v=%s help=%q", s.Name, labelText(s.Labels), s.Type, s.Own, s.T,
		fmtFloat(s.V), s.Help)
}

func sampleSet(ss []Sample) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = sampleText(s)
	}
	sort.Strings(out)
	return out
}

func ours(p *parser, body []byte, om bool) ([]Sample, error) {
	c := converter{base: testBase, now: 42, maxSeries: 100000}
	err := c.parse(p, body, om)
	return c.out, err
}

func reference(body []byte, om bool) ([]Sample, error) {
	c := refConverter{base: testBase, now: 42, maxSeries: 100000}
	err := c.parse(body, om)
	return c.out, err
}

// diff compares the parser's result on body with the reference's; both
// must accept it.
func diff(t *testing.T, name string, p *parser, body []byte, om bool) {
	t.Helper()
	want, err := reference(body, om)
	if err != nil {
		t.Fatalf("%s: the reference refuses it: %v", name, err)
	}
	diffWant(t, name, p, body, om, want)
}

func diffWant(t *testing.T, name string, p *parser, body []byte, om bool, want []Sample) {
	t.Helper()
	got, err := ours(p, body, om)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	g, w := sampleSet(got), sampleSet(want)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Fatalf("%s: got %d samples, reference %d\n%s", name, len(g), len(w), firstDiff(g, w))
	}
}

func firstDiff(g, w []string) string {
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("got       %s\nreference %s", a, b)
		}
	}
	return ""
}

// toOpenMetrics re-encodes a text exposition as OpenMetrics 1.0 with
// _created lines, as a client library serving OpenMetrics writes it.
func toOpenMetrics(t *testing.T, text []byte) []byte {
	t.Helper()
	tp := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := tp.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range fams {
		if fams[strings.TrimSuffix(n, "_total")] != nil && strings.HasSuffix(n, "_total") {
			continue // both are family "n" in OpenMetrics (go_memstats_alloc_bytes)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		if _, err := expfmt.MetricFamilyToOpenMetrics(&b, fams[n], expfmt.WithCreatedLines()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestParseRealExpositions: node_exporter's and Prometheus' own output, in
// the text format and re-encoded as OpenMetrics, give what the expfmt
// converter gave; a second run with the same parser (series cached) too.
func TestParseRealExpositions(t *testing.T) {
	for _, f := range []string{"testdata/node_exporter.prom", "testdata/prometheus.prom"} {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		om := toOpenMetrics(t, text)
		if !bytes.Contains(om, []byte("_created")) && strings.Contains(f, "prometheus") {
			t.Fatalf("%s: no _created line in the OpenMetrics version", f)
		}
		p := newParser()
		diff(t, f, p, text, false)
		diff(t, f+" again", p, text, false)
		want, err := reference(om, true)
		if err != nil {
			t.Fatalf("%s as OpenMetrics: the reference refuses it: %v", f, err)
		}
		q := newParser()
		diffWant(t, f+" as OpenMetrics", q, om, true, want)
		diffWant(t, f+" as OpenMetrics again", q, om, true, want)
		got, _ := ours(p, text, false)
		if len(got) < 250 {
			t.Fatalf("%s: %d samples only", f, len(got))
		}
	}
}

// tricky are bodies both parsers must accept and agree on.
var tricky = []struct {
	name string
	om   bool
	body string
}{
	{"escapes in label values", false, `a{x="q\"uote",y="back\\slash",z="new\nline"} 1` + "\n"},
	{"escapes in help", false, "# HELP a Back\\\\slash and \\n newline.\n# TYPE a gauge\na 1\n"},
	{"special values", false, "a{v=\"nan\"} NaN\na{v=\"inf\"} +Inf\na{v=\"-inf\"} -Inf\na{v=\"neg\"} -1.5e-3\na{v=\"zero\"} -0\n"},
	{"timestamps", false, "a 1 1700000000000\nb -2 -5\n"},
	{"blanks and comments", false, "\n  # a comment\n\t# TYPE a counter\n a { x = \"1\" , } \t 3\n#\n\n"},
	{"empty label set", false, "a{} 1\n"},
	{"summary", false, "# HELP s A summary.\n# TYPE s summary\ns{quantile=\"0.5\",m=\"x\"} 1\ns{quantile=\"0.99\",m=\"x\"} 2\ns_sum{m=\"x\"} 3\ns_count{m=\"x\"} 4\n"},
	{"histogram, le written otherwise", false, "# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"1e1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 4\nh_count 3\n"},
	{"summary lines apart", false, "# TYPE s summary\ns{quantile=\"0.5\"} 1\n# TYPE g gauge\ng 1\ns_sum 3\ns_count 4\n"},
	{"untyped suffixes", false, "x_sum 1\nx_count 2\nx_bucket{le=\"1\"} 3\n"},
	{"clashing labels", false, "a{job=\"other\",instance=\"i\",k=\"v\"} 1\n"},
	{"type names in capitals", false, "# TYPE a COUNTER\na 1\n"},
	{"help after type", false, "# TYPE a gauge\n# HELP a Help.\na 1\n"},
	{"family without samples", false, "# HELP a Nothing.\n# TYPE a gauge\n# TYPE b gauge\nb 1\n"},
	{"om counter", true, "# TYPE c counter\n# HELP c Things.\nc_total 7\nc_created 1700000000.5\n# EOF\n"},
	{"om unit and help escapes", true, "# TYPE d_seconds gauge\n# UNIT d_seconds seconds\n# HELP d_seconds A \\\"quoted\\\" \\\\ help.\nd_seconds 1.5\n# EOF\n"},
	{"om exemplar", true, "# TYPE c counter\nc_total{a=\"1\"} 7 # {trace_id=\"abc\"} 1 1700000000\n# TYPE h histogram\nh_bucket{le=\"1\"} 1 # {trace_id=\"x\"} 0.5\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 3\n# EOF\n"},
	{"om timestamps in seconds", true, "# TYPE g gauge\ng 1 1700000000.123\ng2 2 1700000001\n# EOF\n"},
	{"om gauge histogram", true, "# TYPE g gaugehistogram\ng_bucket{le=\"1\"} 1\ng_bucket{le=\"+Inf\"} 2\ng_gcount 2\ng_gsum 3\n# EOF\n"},
	{"om summary", true, "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 3\ns_count 4\ns_created 1\n# EOF\n"},
	{"om unknown and untyped", true, "# TYPE u unknown\nu 1\nv{a=\"b\"} NaN\n# EOF\n"},
	{"om label escapes", true, `a{x="q\"uote",y="back\\slash",z="new\nline"} 1` + "\n# EOF\n"},
}

func TestParseTricky(t *testing.T) {
	for _, c := range tricky {
		p := newParser()
		diff(t, c.name, p, []byte(c.body), c.om)
		diff(t, c.name+" (cached)", p, []byte(c.body), c.om)
	}
}

// TestParseRefused: bodies both parsers refuse.
func TestParseRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		om   bool
		body string
	}{
		{"bad value", false, "a x\n"},
		{"hex float with p", false, "a 0x1p3\n"},
		{"underscore", false, "a 1_000\n"},
		{"unterminated value", false, "a{x=\"1} 1\n"},
		{"bad escape", false, "a{x=\"\\t\"} 1\n"},
		{"duplicate label", false, "a{x=\"1\",x=\"2\"} 1\n"},
		{"__name__ label", false, "a{__name__=\"b\"} 1\n"},
		{"bad label name", false, "a{1x=\"1\"} 1\n"},
		{"second TYPE", false, "# TYPE a gauge\n# TYPE a gauge\na 1\n"},
		{"TYPE after samples", false, "a 1\n# TYPE a gauge\n"},
		{"unknown type", false, "# TYPE a thing\na 1\n"},
		{"float timestamp", false, "a 1 1.5\n"},
		{"text after timestamp", false, "a 1 2 3\n"},
		{"quantile not a number", false, "# TYPE s summary\ns{quantile=\"x\"} 1\n"},
		{"om without EOF", true, "a 1\n"},
		{"om data after EOF", true, "a 1\n# EOF\nb 1\n"},
		{"om counter without _total", true, "# TYPE c counter\nc 1\n# EOF\n"},
		{"om negative counter", true, "# TYPE c counter\nc_total -1\n# EOF\n"},
		{"om interleaved", true, "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n# EOF\n"},
		{"om unit not a suffix", true, "# TYPE a gauge\n# UNIT a seconds\na 1\n# EOF\n"},
		{"om blank line", true, "a 1\n\n# EOF\n"},
	} {
		if _, err := reference([]byte(c.body), c.om); err == nil {
			t.Errorf("%s: the reference accepts it", c.name)
		}
		if out, err := ours(newParser(), []byte(c.body), c.om); err == nil {
			t.Errorf("%s: accepted: %v", c.name, out)
		}
	}
}

// TestParseQuotedNames: the UTF-8 names syntax (a name in quotes, or the
// metric name in the label set) is refused as such, whether or not the
// reference reads the line. It reads some of these as classic names
// (A"0" is A0, {x} a sample of x), and FuzzParseDiff lets the parser
// refuse exactly these, so each form must come back as errQuotedName, not
// as another parse error.
func TestParseQuotedNames(t *testing.T) {
	for _, c := range []struct {
		body   string
		om     bool
		refOK  bool // the reference reads it
		inLine string
	}{
		{`#TYPE ""`, false, true, "TYPE line"},
		{`# HELP "my.metric" help`, false, false, "HELP line"},
		{`# TYPE "up" gauge` + "\n" + `{"up"} 1`, false, true, "TYPE line"},
		{`# TYPE "up" gauge` + "\n# EOF", true, true, "TYPE line"},
		{`A"0"0`, false, true, "line 1"},
		{`A"0" 1` + "\n# EOF", true, false, "line 1"},
		{`{"up"} 1`, false, true, "line 1"},
		{`{"my.metric",a="b"} 1`, false, false, "line 1"},
		{`{x} 1`, false, true, "line 1"},
		{`m{x,a="b"} 1`, false, false, "line 1"},
		{`m{"my.label"="v"} 1`, false, false, "line 1"},
		{`m{a"b"="v"} 1`, false, true, "line 1"},
		{`m{a="v","x"} 1` + "\n# EOF", true, false, "line 1"},
	} {
		body := []byte(c.body + "\n")
		if _, err := reference(body, c.om); (err == nil) != c.refOK {
			t.Errorf("%q: the reference's verdict changed: %v", c.body, err)
		}
		_, err := ours(newParser(), body, c.om)
		if !errors.Is(err, errQuotedName) || !strings.Contains(err.Error(), c.inLine) {
			t.Errorf("%q: %v, want errQuotedName in %s", c.body, err, c.inLine)
		}
	}
}

// TestParseEscapedType: a backslash in a TYPE line's type is refused as
// such (errEscapedType, which FuzzParseDiff lets the parser refuse), while
// the reference drops it and reads the type.
func TestParseEscapedType(t *testing.T) {
	for _, body := range []string{"#TYPE A gau\\ge\nA 1\n", "# TYPE A histog\\ram\n"} {
		if _, err := reference([]byte(body), false); err != nil {
			t.Errorf("%q: the reference's verdict changed: %v", body, err)
		}
		if _, err := ours(newParser(), []byte(body), false); !errors.Is(err, errEscapedType) {
			t.Errorf("%q: %v, want errEscapedType", body, err)
		}
	}
	if _, err := ours(newParser(), []byte("# TYPE A gauges\nA 1\n"), false); err == nil || errors.Is(err, errEscapedType) {
		t.Errorf("an unknown type without a backslash: %v", err)
	}
}

// TestParseCacheFollowsChanges: a series whose family changes type or help
// between runs is read with the new ones, and one that disappears is not
// reported.
func TestParseCacheFollowsChanges(t *testing.T) {
	p := newParser()
	body := "# HELP a Old.\n# TYPE a gauge\na{x=\"1\"} 1\nb 2\n"
	diff(t, "first", p, []byte(body), false)
	body = "# HELP a New.\n# TYPE a counter\na{x=\"1\"} 1\n# TYPE b gauge\nb 3\n"
	diff(t, "changed", p, []byte(body), false)
	got, _ := ours(p, []byte(body), false)
	if s := one(t, got, "a"); s.Help != "New." || s.Type != wire.TypeCounter {
		t.Fatalf("a %+v", s)
	}
	diff(t, "types gone", p, []byte("a{x=\"1\"} 1\nb 3\n"), false)
	// A summary's _count line, then the same line as a family of its own.
	diff(t, "summary count", p, []byte("# TYPE s summary\ns_count 1\ns_sum 2\n"), false)
	got, err := ours(p, []byte("# TYPE s_count gauge\n# TYPE s summary\ns_count 1\ns_sum 2\n"), false)
	if c := one(t, got, "s_count"); err != nil || c.Type != wire.TypeGauge {
		t.Fatalf("s_count %+v, %v: want the gauge family s_count, as expfmt reads it", c, err)
	}
	// Many series, then few: the cache shrinks.
	var big strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&big, "m{i=\"%d\"} %d\n", i, i)
	}
	diff(t, "many", p, []byte(big.String()), false)
	diff(t, "few", p, []byte("m{i=\"1\"} 1\n"), false)
	diff(t, "few again", p, []byte("m{i=\"1\"} 1\n"), false)
	if len(p.series) > 100 {
		t.Fatalf("%d series cached after runs with one", len(p.series))
	}
}

// TestParseSeriesCap: the cap holds whatever the lines are.
func TestParseSeriesCap(t *testing.T) {
	c := converter{base: testBase, now: 1, maxSeries: 3}
	err := c.parse(newParser(), []byte("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"), false)
	if err == nil || len(c.out) > 4 {
		t.Fatalf("err %v, %d samples", err, len(c.out))
	}
}

// TestParseAllocs: a run over an exposition seen before allocates nothing
// but what the result needs (here, with its room already made: nothing).
func TestParseAllocs(t *testing.T) {
	body, err := os.ReadFile("testdata/node_exporter.prom")
	if err != nil {
		t.Fatal(err)
	}
	p := newParser()
	c := converter{base: testBase, now: 1, maxSeries: 100000}
	if err := c.parse(p, body, false); err != nil {
		t.Fatal(err)
	}
	n := len(c.out)
	allocs := testing.AllocsPerRun(20, func() {
		c.out = c.out[:0]
		if err := c.parse(p, body, false); err != nil {
			t.Fatal(err)
		}
	})
	if len(c.out) != n || allocs > 0 {
		t.Fatalf("%v allocations per run, %d samples (want %d)", allocs, len(c.out), n)
	}
}

// FuzzParseDiff: whatever the reference (expfmt) accepts, the parser
// accepts with the same samples.
func FuzzParseDiff(f *testing.F) {
	for _, c := range tricky {
		f.Add([]byte(c.body), c.om)
	}
	f.Fuzz(func(t *testing.T, body []byte, om bool) {
		if om && len(body) > 1024 {
			return // expfmt's OpenMetrics grammar takes seconds on long lines
		}
		want, err := reference(body, om)
		if err != nil {
			if _, err := ours(newParser(), body, om); err != nil {
				return
			}
			return // we may accept more (e.g. info and stateset)
		}
		p := newParser()
		got, err := ours(p, body, om)
		if errors.Is(err, errQuotedName) || errors.Is(err, errEscapedType) {
			return // the UTF-8 names syntax, expfmt's escapes in a type: refused by name
		}
		if err != nil && strings.Contains(err.Error(), "missing le label") || strings.Contains(fmt.Sprint(err), "missing quantile label") || strings.Contains(fmt.Sprint(err), "does not fit the type") || strings.Contains(fmt.Sprint(err), "duplicate label") {
			return // stricter on purpose: the reference makes up a bound
		}
		if err != nil {
			t.Fatalf("refused what the reference accepts: %v", err)
		}
		// Every sample we give, the reference gives; the reference may
		// give more only where it makes up a summary's or histogram's
		// _sum, _count or +Inf bucket that the body lacks.
		w := map[string]int{}
		for _, s := range want {
			w[fuzzKey(s)]++
		}
		for _, s := range got {
			k := fuzzKey(s)
			if w[k] == 0 {
				t.Fatalf("%s is not in the reference's result %v", k, sampleSet(want))
			}
			w[k]--
		}
		for _, s := range want {
			if k := fuzzKey(s); w[k] > 0 && !madeUp(s) {
				t.Fatalf("missing %s (we give %v)", k, sampleSet(got))
			}
		}
	})
}

// fuzzKey is sampleText, without the time of a summary's or histogram's
// sample: the reference gives all of one the last timestamp any of its
// lines had, the parser each line's own.
func fuzzKey(s Sample) string {
	if madeUp(s) || strings.HasSuffix(s.Name, "_bucket") || slices.ContainsFunc(s.Labels, func(l wire.Label) bool { return l.Name == "quantile" }) {
		s.T = 0
	}
	return sampleText(s)
}

// madeUp reports whether s could be one the reference adds to a summary or
// histogram.
func madeUp(s Sample) bool {
	if strings.HasSuffix(s.Name, "_sum") || strings.HasSuffix(s.Name, "_count") {
		return true
	}
	return strings.HasSuffix(s.Name, "_bucket") && len(s.Labels) > 0 && s.Labels[len(s.Labels)-1] == wire.Label{Name: "le", Value: "+Inf"}
}

// BenchmarkParse: node_exporter's exposition (507 samples) read into
// Samples by the parser, with its cache warm as between scrapes, and by the
// expfmt converter it replaced. ns/op over 507 is the cost per sample.
func BenchmarkParse(b *testing.B) {
	body, err := os.ReadFile("testdata/node_exporter.prom")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hawk", func(b *testing.B) {
		p := newParser()
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			c := converter{base: testBase, now: 1, maxSeries: 100000, out: make([]Sample, 0, 520)}
			if err := c.parse(p, body, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("expfmt", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			c := refConverter{base: testBase, now: 1, maxSeries: 100000}
			if err := c.parse(body, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkScrape: one scrape of node_exporter's exposition from a local
// HTTP server (the server's own CPU included), parse and all. The body is
// served gzipped when the request asks for it, as node_exporter does.
func BenchmarkScrape(b *testing.B) {
	body, err := os.ReadFile("testdata/node_exporter.prom")
	if err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz.Bytes())
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	s, err := newScraper(Target{URL: srv.URL, Job: "node", Interval: time.Minute, Timeout: 10 * time.Second}, "h", Limits{MaxSeriesPerInput: 20000, MaxSamples: 100000, MaxBodyBytes: 16 << 20}, nilLogger())
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	b.ReportAllocs()
	for b.Loop() {
		if out := s.gather(context.Background(), time.Now()); len(out) < 500 {
			b.Fatalf("%d samples", len(out))
		}
	}
}
