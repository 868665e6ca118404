package options

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type testConfig struct {
	Listen    string
	Retention time.Duration
	Shards    int
	TSDB      bool
	URLs      []string
}

func declareTest(c *testConfig) *Set {
	s := New()
	s.String(&c.Listen, "listen", ":9876", "address")
	s.Duration(&c.Retention, "retention", 15*24*time.Hour, "how long")
	s.Bool(&c.TSDB, "storage.tsdb", true, "store locally")
	s.Alias("storage-tsdb", "storage.tsdb")
	s.Strings(&c.URLs, "remote-write", "endpoints")
	s.Alias("remote-write.urls", "remote-write")
	s.Int(&c.Shards, "remote-write.shards", 0, "shards")
	s.ConfigFlag("config", "file")
	return s
}

func parseTest(t *testing.T, yaml string, args ...string) (testConfig, *Set, error) {
	t.Helper()
	if yaml != "" {
		p := filepath.Join(t.TempDir(), "c.yml")
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"-config", p}, args...)
	}
	var c testConfig
	s := declareTest(&c)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := s.Parse(fs, args)
	return c, s, err
}

func TestDefaults(t *testing.T) {
	c, s, err := parseTest(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":9876" || c.Retention != 15*24*time.Hour || !c.TSDB || c.URLs != nil || c.Shards != 0 {
		t.Fatalf("defaults: %+v", c)
	}
	if o := s.Lookup("retention"); o == nil || o.Default != "15d" {
		t.Fatalf("retention default shown as %+v", o)
	}
	if u := s.Usage(); !strings.Contains(u, "-listen :9876\n\taddress\n") || !strings.Contains(u, "-remote-write.shards 0\n\tshards\n") {
		t.Fatalf("usage:\n%s", u)
	}
}

func TestFileFlatAndNested(t *testing.T) {
	flat := "listen: 127.0.0.1:1\nretention: 30d\nremote-write: [http://a/w, http://b/w]\nremote-write.shards: 8\nstorage.tsdb: false\n"
	nested := "listen: 127.0.0.1:1\nretention: 720h\nremote-write.shards: 8\nstorage:\n  tsdb: false\nremote-write: [http://a/w, http://b/w]\n"
	for name, y := range map[string]string{"flat": flat, "nested": nested} {
		c, s, err := parseTest(t, y)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Listen != "127.0.0.1:1" || c.Retention != 30*24*time.Hour || c.Shards != 8 || c.TSDB ||
			strings.Join(c.URLs, " ") != "http://a/w http://b/w" {
			t.Errorf("%s: %+v", name, c)
		}
		if len(s.Warnings()) != 0 {
			t.Errorf("%s: warnings %q", name, s.Warnings())
		}
	}
}

func TestCommandLineWins(t *testing.T) {
	y := "listen: 127.0.0.1:1\nremote-write: [http://a/w, http://b/w]\nremote-write.shards: 8\n"
	c, _, err := parseTest(t, y, "-listen", "127.0.0.1:2", "-remote-write", "http://c/w")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:2" || c.Shards != 8 {
		t.Errorf("%+v", c)
	}
	// A list on the command line replaces the file's, not adds to it.
	if strings.Join(c.URLs, " ") != "http://c/w" {
		t.Errorf("urls %q", c.URLs)
	}
}

func TestAliasWarns(t *testing.T) {
	c, s, err := parseTest(t, "storage-tsdb: false\nremote-write:\n  urls: [http://a/w]\n  shards: 2\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.TSDB || strings.Join(c.URLs, " ") != "http://a/w" || c.Shards != 2 {
		t.Errorf("%+v", c)
	}
	w := strings.Join(s.Warnings(), "\n")
	if !strings.Contains(w, `"storage-tsdb" is deprecated; write "storage.tsdb"`) || !strings.Contains(w, `"remote-write.urls"`) {
		t.Errorf("warnings: %q", s.Warnings())
	}
}

func TestFileErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"listen: :1\nlistne: :2\n", `2: unknown option "listne"`},
		{"listen: :1\n\nlisten: :2\n", `3: "listen" is also set on line 1`},
		{"storage.tsdb: true\nstorage-tsdb: false\n", `is also set on line 1`},
		{"retention: soon\n", `1: retention: "soon" is not a duration`},
		{"remote-write.shards: many\n", `remote-write.shards: "many" is not an integer`},
		{"listen: [a, b]\n", "want a single value"},
		{"remote-write: [{a: b}]\n", "want a list of strings"},
		{"- a\n", "want a mapping"},
		{"listen: :1\n  bad indent: x\n", "yaml"},
	} {
		_, _, err := parseTest(t, c.yaml)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
	if _, _, err := parseTest(t, "", "-config", "/nonexistent/hawk.yml"); err == nil {
		t.Error("a missing file is not an error")
	}
}
