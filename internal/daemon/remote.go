package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hawk/internal/options"
	"hawk/internal/options/httpopt"
	"hawk/internal/store"
)

// RemoteWrite configures the remote-write sinks; every URL shares it.
type RemoteWrite struct {
	URLs              []string
	Client            *httpopt.Client // headers, auth, TLS
	Shards            int
	MaxSamplesPerSend int
	MaxRetryTime      time.Duration
}

func (r *RemoteWrite) declare(s *options.Set) {
	s.Strings(&r.URLs, "remote-write", "remote write endpoint (repeatable): VictoriaMetrics, Mimir, Thanos Receive, Prometheus; agents are acknowledged once every sink accepted")
	s.Alias("remote-write.urls", "remote-write")
	r.Client = httpopt.Declare(s, "remote-write", "remote write endpoints")
	s.Alias("remote-write.headers", "remote-write.header")
	s.Int(&r.Shards, "remote-write.shards", 0, "concurrent requests per remote (0: default)")
	s.Int(&r.MaxSamplesPerSend, "remote-write.max-samples-per-send", 0, "samples per request at most (0: default)")
	s.Duration(&r.MaxRetryTime, "remote-write.max-retry-time", 10*time.Second, "how long a commit may retry before the agent is told to resend later")
}

// openRemotes opens one sink per URL, using Series ref slots from first on.
func (r *RemoteWrite) openRemotes(first int, reg prometheus.Registerer, log *slog.Logger) ([]store.Sink, error) {
	if len(r.URLs) > store.MaxSinks-first {
		return nil, fmt.Errorf("-remote-write: at most %d endpoints", store.MaxSinks-first)
	}
	client, err := r.Client.Config()
	if err != nil {
		return nil, fmt.Errorf("-remote-write: %w", err)
	}
	opts := store.RemoteOptions{Client: client, Shards: r.Shards, MaxSamplesPerSend: r.MaxSamplesPerSend,
		MaxRetryTime: r.MaxRetryTime, Registerer: reg}
	var sinks []store.Sink
	for i, u := range r.URLs {
		o := opts
		o.URL, o.Slot, o.Logger = u, first+i, log.With("component", "remote-write", "url", u)
		s, err := store.OpenRemote(o)
		if err != nil {
			closeSinks(sinks)
			return nil, err
		}
		sinks = append(sinks, s)
	}
	return sinks, nil
}

func readSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func closeSinks(sinks []store.Sink) error {
	var errs []error
	for _, s := range sinks {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
