//go:build e2e

package itest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// webhookAlert is one alert of an Alertmanager webhook notification, with
// the time it reached the receiver.
type webhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	At          time.Time         `json:"-"`
}

// webhook is the receiver Alertmanager notifies, on loopback.
func webhook(t *testing.T) (string, <-chan webhookAlert) {
	ch := make(chan webhookAlert, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct{ Alerts []webhookAlert }
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		now := time.Now()
		for _, a := range n.Alerts {
			a.At = now
			select {
			case ch <- a:
			default:
				t.Errorf("webhook: too many notifications")
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startAlertmanager runs Debian's prometheus-alertmanager, notifying hook
// at once (group_wait 0) and not repeating within the test.
func startAlertmanager(t *testing.T, hook string) string {
	path, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		t.Skip("prometheus-alertmanager not installed (scripts/deps.sh installs it)")
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, agent_id]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: true
`, hook)
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	logPath := filepath.Join(dir, "am.log")
	_, done := startProcess(t, logPath, path, "--config.file", filepath.Join(dir, "am.yml"), "--storage.path", filepath.Join(dir, "data"),
		"--web.listen-address", addr, "--cluster.listen-address", "")
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := httpClient.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return "http://" + addr
			}
		}
		select {
		case <-done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("alertmanager exited:\n%s", b)
		case <-time.After(100 * time.Millisecond): // polling /-/ready is the only readiness signal
		}
		if time.Now().After(deadline) {
			t.Fatal("alertmanager not ready in 20 s")
		}
	}
}

// awaitHostDown returns the first HostDown notification for host with the
// given status.
func awaitHostDown(t *testing.T, ch <-chan webhookAlert, host, status string, within time.Duration) webhookAlert {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case a := <-ch:
			if a.Labels["alertname"] == "HostDown" && a.Labels["hostname"] == host && a.Status == status {
				return a
			}
		case <-deadline:
			t.Fatalf("no %s HostDown for %s at the webhook within %v", status, host, within)
		}
	}
}

func (p *proc) waitQuery(t *testing.T, q string, want float64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, v := range p.query(t, q, time.Time{}) {
			if v == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became %v within %v", q, want, within)
		}
		time.Sleep(200 * time.Millisecond) // polling the query API is the signal
	}
}

// TestHostDownAlert: a real hawk-agent frozen with SIGSTOP (no FIN, like
// a hung host) raises HostDown at a real Alertmanager's webhook with the
// shipped rules and defaults; it resolves on SIGCONT; a killed agent
// alerts too; the alert survives a server restart without a second
// notification.
func TestHostDownAlert(t *testing.T) {
	hook, got := webhook(t)
	am := startAlertmanager(t, hook)
	rules, err := filepath.Abs("../../deploy/rules/hawk-host.yml")
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	srv := startServer(t, data, "127.0.0.1:0", "-rule-file", rules, "-alertmanager", am)
	spool := filepath.Join(t.TempDir(), "spool")
	agent := runAgent(t, spool+".log", "-server", srv.agent, "-interval", "1s", "-spool", spool, "-hostname", "alert-host")
	srv.waitQuery(t, `hawk_agent_up{hostname="alert-host"}`, 1, 20*time.Second)

	stopped := time.Now()
	agent.Process.Signal(syscall.SIGSTOP)
	fired := awaitHostDown(t, got, "alert-host", "firing", 40*time.Second)
	t.Logf("SIGSTOP → HostDown at the webhook: %v", fired.At.Sub(stopped).Round(10*time.Millisecond))
	for _, l := range []string{"job", "instance", "agent_id", "hostname"} {
		if fired.Labels[l] == "" {
			t.Errorf("HostDown lacks label %s: %v", l, fired.Labels)
		}
	}
	agent.Process.Signal(syscall.SIGCONT)
	resumed := time.Now()
	res := awaitHostDown(t, got, "alert-host", "resolved", 40*time.Second)
	t.Logf("SIGCONT → resolved at the webhook: %v; outage_cause %q", res.At.Sub(resumed).Round(10*time.Millisecond), res.Annotations["outage_cause"])

	// Freeze again, and restart the server while the alert fires.
	srv.waitQuery(t, `hawk_agent_up{hostname="alert-host"}`, 1, 20*time.Second)
	agent.Process.Signal(syscall.SIGSTOP)
	defer agent.Process.Signal(syscall.SIGCONT)
	awaitHostDown(t, got, "alert-host", "firing", 40*time.Second)
	srv.kill(syscall.SIGTERM)
	pidFile := filepath.Join(t.TempDir(), "hawk.pid")
	srv2 := startServer(t, data, srv.agent, "-rule-file", rules, "-alertmanager", am, "-pid-file", pidFile)
	// The new process evaluates the stored hawk_agent_up 0, so HostDown is
	// firing there and sent to Alertmanager, which knows it already.
	deadline := time.Now().Add(20 * time.Second)
	for !alertFiring(t, srv2, "HostDown", "alert-host") {
		if time.Now().After(deadline) {
			t.Fatal("HostDown not firing on the restarted server")
		}
		time.Sleep(200 * time.Millisecond) // polling /api/v1/alerts is the signal
	}
	noNotification(t, got, "restart")

	// A SIGHUP upgrade while it fires: the new process (same listeners)
	// restores the alert from the TSDB; neither resolved nor sent twice.
	pid := readPID(t, pidFile)
	syscall.Kill(pid, syscall.SIGHUP)
	next := waitPIDChange(t, pidFile, pid)
	t.Cleanup(func() { syscall.Kill(next, syscall.SIGTERM); waitExit(t, next) }) // started by our server, ended by us
	waitExit(t, pid)
	deadline = time.Now().Add(20 * time.Second)
	for !alertFiring(t, srv2, "HostDown", "alert-host") {
		if time.Now().After(deadline) {
			t.Fatal("HostDown not firing after the SIGHUP upgrade")
		}
		time.Sleep(200 * time.Millisecond) // polling /api/v1/alerts is the signal
	}
	noNotification(t, got, "SIGHUP upgrade")

	// Killed (the connection closes).
	agent.Process.Signal(syscall.SIGCONT)
	awaitHostDown(t, got, "alert-host", "resolved", 40*time.Second)
	srv2.waitQuery(t, `hawk_agent_up{hostname="alert-host"}`, 1, 20*time.Second)
	killed := time.Now()
	agent.Process.Kill()
	fired = awaitHostDown(t, got, "alert-host", "firing", 40*time.Second)
	t.Logf("SIGKILL → HostDown at the webhook: %v", fired.At.Sub(killed).Round(10*time.Millisecond))
}

func alertFiring(t *testing.T, p *proc, name, host string) bool {
	resp, err := httpClient.Get("http://" + p.http + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string
				State  string
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, a := range body.Data.Alerts {
		if a.Labels["alertname"] == name && a.Labels["hostname"] == host && a.State == "firing" {
			return true
		}
	}
	return false
}

// noNotification fails if a HostDown notification (firing or resolved)
// reaches the webhook within three of Alertmanager's group intervals, by
// which a duplicate would be out.
func noNotification(t *testing.T, got <-chan webhookAlert, after string) {
	t.Helper()
	select {
	case a := <-got:
		if a.Labels["alertname"] == "HostDown" {
			t.Fatalf("%s made a second HostDown notification: %v %v", after, a.Status, a.Labels)
		}
	case <-time.After(3 * time.Second):
	}
}
