package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRuleFileRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("groups:\n- name: g\n  rules:\n  - alert: X\n    expr: up ==\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parse(t, "", "-rule-file", bad, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-data", filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(cfg, Listeners{}, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "bad.yml") {
		t.Fatalf("Start with a bad rule file: %v, want an error naming bad.yml", err)
	}
	cfg.LocalTSDB = false
	cfg.RemoteWrite.URLs = []string{"http://127.0.0.1:1/write"}
	cfg.Alerting.RuleFiles = nil
	cfg.Alerting.Alertmanagers = []string{"http://127.0.0.1:9093"}
	if _, err := Start(cfg, Listeners{}, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "embedded TSDB") {
		t.Fatalf("alerting without the TSDB: %v", err)
	}
}

// TestReloadEndpoint: POST /-/reload re-reads the rule files; a bad file
// keeps the rules in use and answers 500.
func TestReloadEndpoint(t *testing.T) {
	dir := t.TempDir()
	rf := filepath.Join(dir, "r.yml")
	write := func(s string) {
		if err := os.WriteFile(rf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("groups:\n- name: g\n  rules:\n  - record: a\n    expr: vector(1)\n")
	cfg, err := parse(t, "", "-rule-file", rf, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-data", filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Start(cfg, Listeners{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	}()
	reload := func() int {
		resp, err := http.Post("http://"+d.HTTPAddr().String()+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	write("groups:\n- name: g\n  rules:\n  - record: a\n    expr: sum(\n")
	if code := reload(); code != http.StatusInternalServerError {
		t.Fatalf("reload of a bad file: %d", code)
	}
	if g := d.rules.RuleGroups(); len(g) != 1 || g[0].Rules()[0].Name() != "a" {
		t.Fatalf("rules after a failed reload: %v", g)
	}
	write("groups:\n- name: g\n  rules:\n  - record: b\n    expr: vector(2)\n")
	if code := reload(); code != http.StatusOK {
		t.Fatalf("reload: %d", code)
	}
	if g := d.rules.RuleGroups(); len(g) != 1 || g[0].Rules()[0].Name() != "b" {
		t.Fatalf("rules after reload: %v", g)
	}
}
