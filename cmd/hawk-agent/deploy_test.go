package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAgentExampleConfig loads deploy/hawk-agent.yml and checks that it
// names every option of hawk-agent under its own name, collectors in the
// collector section, so the example cannot fall behind.
func TestAgentExampleConfig(t *testing.T) {
	const path = "../../deploy/hawk-agent.yml"
	var o agentOptions
	set := declareAgent(&o)
	if err := set.Load(path, nil); err != nil {
		t.Fatal(err)
	}
	if w := set.Warnings(); len(w) != 0 {
		t.Errorf("deploy/hawk-agent.yml uses deprecated keys: %q", w)
	}
	if _, err := o.inputs.Build("h", nil); err != nil {
		t.Errorf("inputs: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z0-9.-]+):`).FindAllStringSubmatch(string(b), -1) {
		keys[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z0-9_]+):`).FindAllStringSubmatch(string(b), -1) {
		keys["collector."+m[1]] = true
	}
	for _, opt := range set.Options() {
		if strings.HasPrefix(opt.Name, "no-collector.") {
			continue // the collector section covers both spellings
		}
		if !keys[opt.Name] {
			t.Errorf("deploy/hawk-agent.yml lacks %q", opt.Name)
		}
	}
}
