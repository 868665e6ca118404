package alerting

import (
	"os/exec"
	"path/filepath"
	"testing"
)

const shipped = "../../deploy/rules"

// TestShippedRulesLoad: hawk-server itself accepts every shipped rule file.
func TestShippedRulesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(shipped, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range files {
		if filepath.Ext(f) == ".yml" && !isTestFile(f) {
			rules = append(rules, f)
		}
	}
	if len(rules) == 0 {
		t.Fatal("no shipped rule file")
	}
	if err := CheckFiles(rules); err != nil {
		t.Fatal(err)
	}
}

// TestShippedRulesPromtool runs `promtool check rules` and `promtool test
// rules` on deploy/rules, as CI does (Debian package prometheus).
func TestShippedRulesPromtool(t *testing.T) {
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian: apt-get install prometheus)")
	}
	for _, args := range [][]string{{"check", "rules", "hawk-host.yml"}, {"test", "rules", "hawk-host_test.yml"}} {
		cmd := exec.Command(path, args...)
		cmd.Dir = shipped
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

func isTestFile(f string) bool {
	m, _ := filepath.Match("*_test.yml", filepath.Base(f))
	return m
}
