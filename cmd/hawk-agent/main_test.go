package main

import (
	"flag"
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerDependencies keeps the agent small: it must not link the
// TSDB, PromQL or the server's storage and API packages.
func TestNoServerDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	banned := []string{"hawk/internal/store", "hawk/internal/api", "hawk/internal/server",
		"github.com/prometheus/prometheus/tsdb", "github.com/prometheus/prometheus/promql"}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				t.Errorf("hawk-agent links %s", dep)
			}
		}
	}
}

func TestFlags(t *testing.T) {
	o := &agentOptions{}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	declareAgent(o).Register(fs)
	cfg := &o.cfg
	err := fs.Parse([]string{"-server", "a:1, b:2", "-server", "c:3", "-label", "dc=fra", "-no-collector.cpu",
		"-collector.arp", "-interval", "15s", "-textfile-dir", "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Servers, " ") != "a:1 b:2 c:3" || len(cfg.Labels) != 1 || cfg.Labels[0].Value != "fra" ||
		cfg.Collect.Enable["cpu"] || !cfg.Collect.Enable["arp"] || cfg.Interval.Seconds() != 15 || cfg.Collect.TextfileDir != "/x" {
		t.Fatalf("parsed %+v", cfg)
	}
	if err := fs.Parse([]string{"-label", "novalue"}); err == nil {
		t.Fatal("-label without = accepted")
	}
}
