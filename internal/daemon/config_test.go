package daemon

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func parse(t *testing.T, yaml string, args ...string) (Config, error) {
	t.Helper()
	if yaml != "" {
		p := filepath.Join(t.TempDir(), "hawk.yml")
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"-config", p}, args...)
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	_, err := ParseFlags(fs, &cfg, args)
	return cfg, err
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := parse(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":9876" || cfg.HTTP != ":9877" || cfg.Data != "./data" || model.Duration(cfg.Retention).String() != "15d" ||
		time.Duration(cfg.OutOfOrderWindow) < 6*time.Hour || !cfg.LocalTSDB || len(cfg.RemoteWrite.URLs) != 0 {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestConfigFileAndFlags(t *testing.T) {
	yaml := `
listen: 127.0.0.1:1
data: /var/lib/hawk
retention: 30d
remote-write:
  urls: [http://a/api/v1/write, http://b/api/v1/write]
  shards: 8
`
	cfg, err := parse(t, yaml, "-listen", "127.0.0.1:2", "-remote-write", "http://c/api/v1/write")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:2" { // the command line wins
		t.Errorf("listen %q", cfg.Listen)
	}
	if cfg.Data != "/var/lib/hawk" || model.Duration(cfg.Retention).String() != "30d" || cfg.RemoteWrite.Shards != 8 {
		t.Errorf("file values lost: %+v", cfg)
	}
	if strings.Join(cfg.RemoteWrite.URLs, " ") != "http://c/api/v1/write" { // a list on the command line replaces the file's
		t.Errorf("remote write URLs %q", cfg.RemoteWrite.URLs)
	}
	cfg, err = parse(t, yaml)
	if err != nil || len(cfg.RemoteWrite.URLs) != 2 {
		t.Errorf("file list: %q %v", cfg.RemoteWrite.URLs, err)
	}
}

func TestConfigUnknownKey(t *testing.T) {
	if _, err := parse(t, "listne: :1\n"); err == nil || !strings.Contains(err.Error(), "listne") {
		t.Fatalf("unknown key accepted: %v", err)
	}
}

// TestRemoteOnly starts a stateless collector that writes to a remote
// endpoint only, and stops it cleanly.
func TestRemoteOnly(t *testing.T) {
	var requests atomic.Int64
	rw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rw.Close()
	cfg, err := parse(t, "", "-storage.tsdb=false", "-remote-write", rw.URL, "-listen", "127.0.0.1:0",
		"-http", "127.0.0.1:0", "-data", t.TempDir(), "-liveness-interval", "50ms")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Start(cfg, Listeners{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + d.HTTPAddr().String() + "/api/v1/query?query=up")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("query API in remote-only mode: %s", resp.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := parse(t, "", "-storage.tsdb=false"); err != nil {
		t.Fatal(err)
	}
	cfg.RemoteWrite.URLs = nil
	if _, err := Start(cfg, Listeners{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("no sink at all was accepted")
	}
}
