package itest

import (
	"os"
	"regexp"
	"testing"

	"hawk/internal/daemon"
)

// TestServerExampleConfig loads deploy/hawk-server.yml and checks that it
// names every option hawk-server has, under the option's own name (no
// deprecated spelling), so the example cannot fall behind.
func TestServerExampleConfig(t *testing.T) {
	const path = "../../deploy/hawk-server.yml"
	cfg := daemon.DefaultConfig()
	set := daemon.Declare(&cfg)
	if err := set.Load(path, nil); err != nil {
		t.Fatal(err)
	}
	if w := set.Warnings(); len(w) != 0 {
		t.Errorf("deploy/hawk-server.yml uses deprecated keys: %q", w)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z0-9.-]+):`).FindAllStringSubmatch(string(b), -1) {
		keys[m[1]] = true
	}
	for _, o := range set.Options() {
		if !keys[o.Name] {
			t.Errorf("deploy/hawk-server.yml lacks %q", o.Name)
		}
	}
}
