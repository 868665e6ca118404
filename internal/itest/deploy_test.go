package itest

import (
	"flag"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"hawk/internal/daemon"
)

// TestServerExampleConfig loads deploy/hawk-server.yml and checks that it
// names every option hawk-server has, so the example cannot fall behind.
func TestServerExampleConfig(t *testing.T) {
	var cfg daemon.Config
	if err := cfg.Load("../../deploy/hawk-server.yml"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../deploy/hawk-server.yml")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*([a-z0-9.-]+):`).FindAllStringSubmatch(string(b), -1) {
		keys[m[1]] = true
	}
	for _, k := range yamlKeys(reflect.TypeOf(cfg)) {
		if !keys[k] {
			t.Errorf("deploy/hawk-server.yml lacks %q", k)
		}
	}
	// Every flag is a key of the file (the file is the flags' other form).
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	def := daemon.DefaultConfig()
	def.RegisterFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		name := strings.TrimPrefix(f.Name, "remote-write.")
		if name == "remote-write" {
			name = "urls"
		}
		if name == "header" {
			name = "headers"
		}
		if name == "storage.tsdb" {
			name = "storage-tsdb"
		}
		if !keys[name] {
			t.Errorf("flag -%s has no key in deploy/hawk-server.yml", f.Name)
		}
	})
}

func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		opts := strings.Split(f.Tag.Get("yaml"), ",")
		tag := opts[0]
		if tag == "" && len(opts) > 1 && opts[1] == "inline" {
			out = append(out, yamlKeys(f.Type)...)
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		out = append(out, tag)
		if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == t.PkgPath() {
			out = append(out, yamlKeys(f.Type)...)
		}
	}
	return out
}
