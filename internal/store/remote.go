package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
)

// Defaults of RemoteOptions.
const (
	DefaultRemoteShards        = 4
	DefaultMaxSamplesPerSend   = 2000
	DefaultRemoteFlushDeadline = 5 * time.Millisecond
	DefaultRemoteTimeout       = 5 * time.Second
	DefaultRemoteMinBackoff    = 30 * time.Millisecond
	DefaultRemoteMaxBackoff    = 2 * time.Second
	DefaultRemoteMaxRetryTime  = 10 * time.Second
)

// ErrRemoteClosed is returned by the Commit of a Remote that was closed
// before the remote accepted the transaction. Test with errors.Is.
var ErrRemoteClosed = errors.New("store: remote write sink closed")

// RemoteOptions configures OpenRemote. The zero value of every field but URL
// selects its default.
type RemoteOptions struct {
	// URL is the remote write endpoint, e.g.
	// http://vminsert:8480/insert/0/prometheus/api/v1/write.
	URL string
	// Name labels the sink's metrics (remote="..."); empty means the URL's
	// host and path, without user info or query.
	Name string
	// Client configures the HTTP client as Prometheus' remote_write
	// http_config does: headers, basic auth, authorization, TLS. Headers
	// cannot replace the remote write protocol's own (prometheus/common
	// refuses them).
	Client config.HTTPClientConfig
	// Timeout bounds one HTTP request; 0 means DefaultRemoteTimeout.
	Timeout time.Duration
	// Shards is how many requests may be in flight at once; each shard
	// sends its series in order. 0 means DefaultRemoteShards.
	Shards int
	// MaxSamplesPerSend caps the samples of one request; 0 means
	// DefaultMaxSamplesPerSend.
	MaxSamplesPerSend int
	// FlushDeadline is how long a shard waits for more commits before it
	// sends a request that is not full; 0 means DefaultRemoteFlushDeadline.
	FlushDeadline time.Duration
	// MinBackoff and MaxBackoff bound the exponential wait between retries;
	// 0 means DefaultRemoteMinBackoff and DefaultRemoteMaxBackoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxRetryTime is how long after Commit was called its samples may
	// still be retried; then Commit fails and the agent resends later.
	// Keep it well below how long an agent waits for an acknowledgement.
	// 0 means DefaultRemoteMaxRetryTime.
	MaxRetryTime time.Duration
	// Slot is the Series.Ref slot this sink caches the label hash in, in
	// [0, MaxSinks). In a Fanout every sink needs its own slot.
	Slot int
	// Registerer receives the sink's metrics; nil means none.
	Registerer prometheus.Registerer
	// Logger receives a warning per request whose samples the remote
	// refused; nil discards it.
	Logger *slog.Logger
	// HTTPClient sends the requests; nil builds one from Client. A given
	// client's idle connections are not closed by Close.
	HTTPClient *http.Client
}

// Remote is a Sink that sends samples with Prometheus remote write 1.0 to
// another store. It is safe for concurrent use; each Appender belongs to one
// goroutine. See the package documentation for batching, retries and what
// a Commit guarantees.
type Remote struct {
	opts    RemoteOptions  // with defaults applied
	client  *http.Client   // sends the requests
	owned   bool           // client built here: Close closes its idle connections
	log     *slog.Logger   // never nil
	metrics *remoteMetrics // exported through the Registerer
	shards  []*remoteShard // the senders; a series always goes to the same one

	ctx    context.Context    // cancelled by Close: aborts requests and waits
	cancel context.CancelFunc // cancels ctx

	mu     sync.RWMutex // read-held by Commits handing parts to shards, write-held by Close
	closed bool         // guarded by mu; no part reaches a shard once set

	wg        sync.WaitGroup // the shard goroutines
	closeOnce sync.Once
}

// OpenRemote checks opts and starts the shards. It does not contact the
// remote.
func OpenRemote(opts RemoteOptions) (*Remote, error) {
	u, err := url.Parse(opts.URL)
	if err != nil {
		return nil, errors.New("store: open remote: malformed URL") // the error would repeat a password in it
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("store: open remote: %q is not an http or https URL with a host", snippetString(u.Redacted()))
	}
	if opts.Slot < 0 || opts.Slot >= MaxSinks {
		return nil, fmt.Errorf("store: open remote: slot %d outside [0, %d)", opts.Slot, MaxSinks)
	}
	if err := opts.Client.Validate(); err != nil {
		return nil, fmt.Errorf("store: open remote: %w", err)
	}
	opts = remoteDefaults(opts, u)
	m := newRemoteMetrics(opts.Name)
	if opts.Registerer != nil {
		if err := m.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("store: register remote metrics: %w", err)
		}
	}
	r := &Remote{opts: opts, client: opts.HTTPClient, log: opts.Logger, metrics: m}
	if r.client == nil {
		if r.client, err = config.NewClientFromConfig(opts.Client, "remote_write", config.WithUserAgent("hawk-server")); err != nil {
			return nil, fmt.Errorf("store: open remote: %w", err)
		}
		r.owned = true
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.shards = make([]*remoteShard, opts.Shards)
	for i := range r.shards {
		r.shards[i] = newRemoteShard(r)
		r.wg.Add(1)
		go r.shards[i].run()
	}
	return r, nil
}

// remoteDefaults fills in the zero fields of opts.
func remoteDefaults(opts RemoteOptions, u *url.URL) RemoteOptions {
	if opts.Name == "" {
		opts.Name = u.Host + u.Path
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.Timeout, DefaultRemoteTimeout)
	def(&opts.FlushDeadline, DefaultRemoteFlushDeadline)
	def(&opts.MinBackoff, DefaultRemoteMinBackoff)
	def(&opts.MaxBackoff, DefaultRemoteMaxBackoff)
	def(&opts.MaxRetryTime, DefaultRemoteMaxRetryTime)
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.Shards <= 0 {
		opts.Shards = DefaultRemoteShards
	}
	if opts.MaxSamplesPerSend <= 0 {
		opts.MaxSamplesPerSend = DefaultMaxSamplesPerSend
	}
	return opts
}

// Appender starts a transaction. See Appender for its rules; Commit returns
// once the remote accepted every sample (or refused it for good, see the
// package documentation), or with an error.
func (r *Remote) Appender() Appender { return &remoteAppender{r: r} }

// Close fails the Commits still waiting with an error wrapping
// ErrRemoteClosed, aborts the requests in flight and stops the shards. No
// sample a Commit returned nil for is pending, so nothing else is flushed.
// It is idempotent.
func (r *Remote) Close() error {
	r.closeOnce.Do(func() {
		r.cancel()
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		for _, sh := range r.shards {
			close(sh.in)
		}
		r.wg.Wait()
		if r.owned {
			r.client.CloseIdleConnections()
		}
	})
	return nil
}

// refSlots implements slotted for Fanout.
func (r *Remote) refSlots() []int { return []int{r.opts.Slot} }

// remoteSample is one appended sample. The labels are copied by value
// (immutable) so a shard may use them after the Series changed.
type remoteSample struct {
	ls   labels.Labels
	hash uint64 // ls.Hash(), which picks the shard
	t    int64
	v    float64
}

// remoteAppender collects one transaction's samples until Commit.
type remoteAppender struct {
	r       *Remote
	samples []remoteSample // in append order
}

// Append implements Appender. It caches the series' label hash in the
// sink's Series.Ref slot (0 means not computed yet) and never rejects.
func (a *remoteAppender) Append(s *Series, t int64, v float64) error {
	slot := s.Ref(a.r.opts.Slot)
	if *slot == 0 {
		*slot = s.Labels.Hash()
	}
	a.samples = append(a.samples, remoteSample{ls: s.Labels, hash: *slot, t: t, v: v})
	return nil
}

// Commit implements Appender: it hands the samples to the shards, each of
// which batches them with other transactions' samples, and waits until
// every request carrying them succeeded or failed for good.
func (a *remoteAppender) Commit() error {
	if len(a.samples) == 0 {
		return nil
	}
	r := a.r
	now := time.Now()
	parts := a.split(now)
	a.samples = nil
	res := make(chan error, len(parts))
	handed, err := r.hand(parts, res, now.Add(r.opts.MaxRetryTime))
	for range handed {
		if e := <-res; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		r.metrics.commitsFailed.Inc()
		return fmt.Errorf("store: commit remote %s: %w", r.opts.Name, err)
	}
	return nil
}

// split groups the transaction's samples by shard, keeping their order.
func (a *remoteAppender) split(now time.Time) []*remotePart {
	n := uint64(len(a.r.shards))
	byShard := make([]*remotePart, n)
	var parts []*remotePart
	for _, smp := range a.samples {
		i := smp.hash % n
		p := byShard[i]
		if p == nil {
			p = &remotePart{shard: a.r.shards[i], arrived: now, deadline: now.Add(a.r.opts.MaxRetryTime)}
			byShard[i] = p
			parts = append(parts, p)
		}
		p.samples = append(p.samples, smp)
	}
	return parts
}

// hand gives each part to its shard and returns how many were handed over;
// every one of those answers exactly once on res. It stops at Close or at
// the deadline.
func (r *Remote) hand(parts []*remotePart, res chan error, deadline time.Time) (int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return 0, ErrRemoteClosed
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for i, p := range parts {
		p.res = res
		select {
		case p.shard.in <- p:
		case <-r.ctx.Done():
			return i, ErrRemoteClosed
		case <-timer.C:
			return i, errors.New("shards busy past the retry time")
		}
	}
	return len(parts), nil
}

// Rollback implements Appender.
func (a *remoteAppender) Rollback() error {
	a.samples = nil
	return nil
}

// snippetString cuts s for an error message.
func snippetString(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
