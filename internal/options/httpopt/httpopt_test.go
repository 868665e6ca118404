package httpopt

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"hawk/internal/options"
)

type testConfig struct {
	Client *Client
}

func parseTest(t *testing.T, yaml string, args ...string) (testConfig, *options.Set, error) {
	t.Helper()
	if yaml != "" {
		p := filepath.Join(t.TempDir(), "c.yml")
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"-config", p}, args...)
	}
	var c testConfig
	s := options.New()
	c.Client = Declare(s, "remote-write", "the remote")
	s.ConfigFlag("config", "file")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := s.Parse(fs, args)
	return c, s, err
}

func TestHTTPClientConfig(t *testing.T) {
	c, _, err := parseTest(t, "remote-write.header: ['X-Scope-OrgID: ops', 'x-extra: 1']\nremote-write.tls-server-name: vm\n",
		"-remote-write.bearer-token-file", "/etc/hawk/token")
	if err != nil {
		t.Fatal(err)
	}
	hc, err := c.Client.Config()
	if err != nil {
		t.Fatal(err)
	}
	if hc.Authorization == nil || hc.Authorization.Type != "Bearer" || hc.Authorization.CredentialsFile != "/etc/hawk/token" {
		t.Errorf("authorization %+v", hc.Authorization)
	}
	if hc.HTTPHeaders == nil || hc.HTTPHeaders.Headers["X-Scope-Orgid"].Values[0] != "ops" || hc.HTTPHeaders.Headers["X-Extra"].Values[0] != "1" {
		t.Errorf("headers %+v", hc.HTTPHeaders)
	}
	if hc.TLSConfig.ServerName != "vm" {
		t.Errorf("tls %+v", hc.TLSConfig)
	}
	for _, args := range [][]string{
		{"-remote-write.header", "no colon"},
		{"-remote-write.header", "Content-Type: text/plain"},
		{"-remote-write.basic-auth-user", "u", "-remote-write.bearer-token-file", "/t"},
		{"-remote-write.bearer-token-file", "/t", "-remote-write.header", "Authorization: Splunk x"},
	} {
		c, _, err := parseTest(t, "", args...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Client.Config(); err == nil {
			t.Errorf("%q: accepted", args)
		}
	}
	c, _, _ = parseTest(t, "", "-remote-write.header", "Authorization: Splunk abc")
	if hc, err := c.Client.Config(); err != nil || hc.Authorization == nil || hc.Authorization.Type != "Splunk" || string(hc.Authorization.Credentials) != "abc" {
		t.Errorf("custom scheme: %+v %v", hc.Authorization, err)
	}
}
