package tlsfiles

import (
	"crypto/tls"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestVerifiesWithTheCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	get := func(c Config) error {
		tc, err := c.Client()
		if err != nil {
			return err
		}
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		defer cl.CloseIdleConnections()
		resp, err := cl.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(Config{CAFile: ca}); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	if err := get(Config{}); err == nil {
		t.Fatal("verified without the CA")
	}
	if err := get(Config{InsecureSkipVerify: true}); err != nil {
		t.Fatalf("insecure: %v", err)
	}
	if err := get(Config{CAFile: ca, ServerName: "other.example"}); err == nil {
		t.Fatal("a wrong server name passed")
	}
}

func TestRefused(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not pem"), 0o600)
	for _, c := range []Config{
		{CAFile: filepath.Join(dir, "missing.pem")},
		{CAFile: junk},
		{CertFile: junk},
		{KeyFile: junk},
		{CertFile: junk, KeyFile: junk},
	} {
		if _, err := c.Client(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestYAML(t *testing.T) {
	var c Config
	if err := yaml.Unmarshal([]byte("{ca_file: /a, server_name: s, insecure_skip_verify: true, min_version: TLS13}"), &c); err != nil {
		t.Fatal(err)
	}
	if c.CAFile != "/a" || c.ServerName != "s" || !c.InsecureSkipVerify || c.MinVersion != tls.VersionTLS13 {
		t.Fatalf("%+v", c)
	}
	if err := yaml.Unmarshal([]byte("{min_version: SSL3}"), &c); err == nil || !strings.Contains(err.Error(), "SSL3") {
		t.Fatalf("SSL3: %v", err)
	}
	tc, err := (&Config{}).Client()
	if err != nil || tc.MinVersion != tls.VersionTLS12 {
		t.Fatalf("default min version %v %v", tc, err)
	}
}
