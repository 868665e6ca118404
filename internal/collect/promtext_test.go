package collect

import (
	"errors"
	"math"
	"testing"
)

func TestParseText(t *testing.T) {
	in := `# A comment
# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027
http_requests_total{method="post",code="400"}    3
# HELP escaped Help with a \\ backslash\nand a newline.
escaped{path="C:\\DIR\\FILE.TXT",q="say \"hi\"\n"} 1.458255915e9
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE latency histogram
latency_bucket{le="0.1"} 3
latency_bucket{le="+Inf"} 7
latency_sum 5.5
latency_count 7
special{a="b",} +Inf
neg -Inf
nan NaN
`
	fams, err := parseText([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, f := range fams {
		names = append(names, f.name)
	}
	want := []string{"http_requests_total", "escaped", "rpc_duration_seconds", "latency", "special", "neg", "nan"}
	if len(names) != len(want) {
		t.Fatalf("families %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("families %v, want %v", names, want)
		}
	}
	if f := fams[0]; f.typ != "counter" || f.help != "The total number of HTTP requests." || len(f.samples) != 2 ||
		f.samples[1].value != 3 || f.samples[1].labels[1] != (Label{"code", "400"}) {
		t.Errorf("counter family %+v", f)
	}
	if f := fams[1]; f.help != "Help with a \\ backslash\nand a newline." ||
		f.samples[0].labels[0].Value != `C:\DIR\FILE.TXT` || f.samples[0].labels[1].Value != "say \"hi\"\n" {
		t.Errorf("escapes %+v", f)
	}
	if f := fams[2]; f.typ != "summary" || len(f.samples) != 3 || f.samples[2].name != "rpc_duration_seconds_count" {
		t.Errorf("summary %+v", f)
	}
	if f := fams[3]; f.typ != "histogram" || len(f.samples) != 4 || !math.IsInf(fams[4].samples[0].value, 1) ||
		!math.IsInf(fams[5].samples[0].value, -1) || !math.IsNaN(fams[6].samples[0].value) {
		t.Errorf("histogram and special values %+v", f)
	}
}

func TestParseTextMalformed(t *testing.T) {
	for _, in := range []string{
		"metric 1 1700000000000\n",           // timestamp
		"metric\n",                           // no value
		"metric one\n",                       // bad value
		"1metric 1\n",                        // bad name
		"metric{a=\"b\" 1\n",                 // unterminated labels
		"metric{a=b} 1\n",                    // unquoted value
		"metric{a=\"b\",a=\"c\"} 1\n",        // repeated label
		"metric{1a=\"b\"} 1\n",               // bad label name
		"metric{a=\"\\x\"} 1\n",              // unknown escape
		"metric 1\nmetric 2\n",               // repeated series
		"metric 1\n# TYPE metric counter\n",  // TYPE after samples
		"# TYPE m counter\n# TYPE m gauge\n", // second TYPE
		"# HELP m a\n# HELP m b\n",           // second HELP
		"# TYPE m colour\n",                  // unknown type
		"metric{a=\"b\"} 1 extra words\n",    // trailing text
		"metric{a=\"unterminated} 1\n",       // unterminated value
	} {
		if _, err := parseText([]byte(in)); !errors.Is(err, errTextFormat) {
			t.Errorf("%q: err %v", in, err)
		}
	}
}

func FuzzParseText(f *testing.F) {
	f.Add([]byte("# TYPE a counter\na{b=\"c\"} 1\n"))
	f.Add([]byte("x_bucket{le=\"+Inf\"} 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fams, err := parseText(data)
		if err != nil {
			return
		}
		for _, fam := range fams {
			for _, s := range fam.samples {
				if !validMetricName(s.name) {
					t.Fatalf("accepted invalid name %q", s.name)
				}
			}
		}
	})
}
