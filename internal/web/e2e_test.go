//go:build e2e

package web

// Browser tests of the UI, run with
//
//	go test -tags e2e ./internal/web/
//
// TestE2EFake drives the UI against the fake API of fakeapi_test.go, so the
// pages are tested without a server. TestE2ELive drives a running hawk-server:
//
//	HAWK_E2E_URL=http://127.0.0.1:9090 HAWK_E2E_SHOTS=/tmp/shots \
//		go test -tags e2e -run TestE2ELive -v ./internal/web/
//
// Both need Chromium (Debian's chromium package) at /usr/bin/chromium, or at
// the path in HAWK_E2E_CHROME. They write fleet.png and host.png to
// HAWK_E2E_SHOTS (the fake test to its fake/ subfolder), or to a temporary
// folder that they print; also host-narrow.png and fleet-narrow.png at a
// phone's width.

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// update rewrites testdata/queries.txt with the queries the host page sent
// in the browser (go test -tags e2e -run TestE2EFake -update).
var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var windowRE = regexp.MustCompile(`\[\d+s\]`)

// normalizeQuery replaces the instance and the rate window of a query the
// page issued with the placeholders of queries.txt.
func normalizeQuery(q, instance string) string {
	q = strings.ReplaceAll(q, `"`+instance+`"`, `"`+instanceHole+`"`)
	return windowRE.ReplaceAllLiteralString(q, "["+windowHole+"]")
}

func TestE2EFake(t *testing.T) {
	srv, fake := newFakeServer(t)
	r := runUI(t, srv.URL, shotsDir(t, "fake"))
	if r.rows != 4 {
		t.Errorf("fleet shows %d rows, the fake has 4 agents", r.rows)
	}
	if r.firstStatus != "down" {
		t.Errorf("first row is %q; down agents should sort first", r.firstStatus)
	}
	checkGoldenQueries(t, r)
	if r.storage != "damaged" || !strings.Contains(r.storageText, "WAL damage found at start: 1 segment") ||
		!strings.Contains(r.storageText, "/var/lib/hawk/wal-damaged") {
		t.Errorf("fleet page storage line %q (%q), want the fake's WAL damage", r.storage, r.storageText)
	}
	// The fake has one outage per agent and, for each host, one firing alert
	// and one pending (not marked).
	if r.outages != 1 || r.alertMarks != 1 {
		t.Errorf("host page of %s shows %d outage bands and %d alert marks, want 1 and 1", r.instance, r.outages, r.alertMarks)
	}
	// One query per chart per load: 1 h, 7 d, 24 h and 24 h narrow.
	if q := fake.seen(); len(q) != 24 {
		t.Errorf("fake API saw %d queries, want 24: %q", len(q), q)
	}
}

func TestE2ELive(t *testing.T) {
	base := os.Getenv("HAWK_E2E_URL")
	if base == "" {
		t.Skip("HAWK_E2E_URL is not set; point it at a running hawk-server")
	}
	r := runUI(t, strings.TrimRight(base, "/"), shotsDir(t, ""))
	if r.storage != "ok" {
		t.Errorf("a healthy server's fleet page shows storage %q: %q", r.storage, r.storageText)
	}
}

// shotsDir returns HAWK_E2E_SHOTS/sub, or a fresh temporary folder.
func shotsDir(t *testing.T, sub string) string {
	t.Helper()
	dir := os.Getenv("HAWK_E2E_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots go to %s", dir)
	return dir
}

// browser starts a headless Chromium with a fresh profile. The flags keep it
// from reaching out to the network, which this closed network refuses.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := os.Getenv("HAWK_E2E_CHROME")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := os.Stat(exe); err != nil {
		t.Skipf("no Chromium: %v (apt-get install chromium, or set HAWK_E2E_CHROME)", err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
	})
	if err := chromedp.Do(ctx); err != nil { // start it without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// consoleErrors collects the page's errors, uncaught exceptions and browser
// log errors (CSP violations, failed loads) until ctx ends.
type consoleErrors struct {
	mu   sync.Mutex
	msgs []string // "type: text (url:line)"
	wg   sync.WaitGroup
}

func watchConsole(t *testing.T, ctx context.Context) *consoleErrors {
	ctx, cancel := context.WithCancel(ctx)
	c := &consoleErrors{}
	msgs := chromedp.Console(ctx)
	c.wg.Go(func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				c.mu.Lock()
				c.msgs = append(c.msgs, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
				c.mu.Unlock()
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		c.wg.Wait()
	})
	return c
}

func (c *consoleErrors) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// uiResult is what runUI saw, for extra checks by the caller.
type uiResult struct {
	rows        int          // fleet rows
	firstStatus string       // status of the first fleet row
	instance    string       // instance whose host page was checked
	charts      []chartState // its charts at 24 h
	storage     string       // the fleet page's storage line: ok, refusing or damaged
	storageText string       // and its text
	outages     int          // outage bands on its charts
	alertMarks  int          // firing-alert marks on its charts
}

// checkGoldenQueries compares the queries the page issued with
// testdata/queries.txt, which TestQueriesEvaluate runs through Prometheus'
// engine; -update rewrites the file.
func checkGoldenQueries(t *testing.T, r uiResult) {
	t.Helper()
	var b strings.Builder
	for _, c := range r.charts {
		fmt.Fprintf(&b, "%s\t%s\n", c.ID, normalizeQuery(c.Query, r.instance))
	}
	if *update {
		if err := os.WriteFile(queriesFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(queriesFile)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("the page's queries differ from %s (run with -update after checking):\n%s", queriesFile, b.String())
	}
}

type fleetRow struct {
	Host   string `json:"host"`
	Status string `json:"status"`
	Text   string `json:"text"`
	Href   string `json:"href"`
}

type chartState struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Points int    `json:"points"`
	MS     int    `json:"ms"`
	Error  string `json:"error"`
	Query  string `json:"query"`
}

// runUI opens the fleet page of base, then the host page of its first host
// that is up, checks both and writes fleet.png and host.png to shots.
func runUI(t *testing.T, base, shots string) uiResult {
	ctx := browser(t)
	errs := watchConsole(t, ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Fleet page.
	run("open fleet page",
		chromedp.Navigate(base+"/"),
		chromedp.Poll[chromedp.Void](`Number(document.querySelector('#fleet')?.dataset.rows) >= 1`,
			chromedp.WithPollingTimeout(30*time.Second)),
	)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]fleetRow](`[...document.querySelectorAll('#fleet tbody tr')].map(tr => ({
		host: tr.dataset.host || '', status: tr.dataset.status || '',
		text: tr.innerText, href: tr.querySelector('td.host a')?.href || ''}))`))
	if err != nil {
		t.Fatalf("read fleet rows: %v", err)
	}
	var up *fleetRow
	for i, r := range rows {
		if strings.TrimSpace(r.Host) == "" || !strings.Contains(r.Text, r.Host) {
			t.Errorf("row %d has no hostname: %+v", i, r)
		}
		if r.Status == "up" && up == nil {
			up = &rows[i]
		}
	}
	if up == nil {
		t.Fatalf("no fleet row is up: %+v", rows)
	}
	if !strings.Contains(up.Text, "up") {
		t.Errorf("row of %s says status up but shows %q", up.Host, up.Text)
	}
	run("storage status on the fleet page", chromedp.Poll[chromedp.Void](`document.getElementById('storage').dataset.state !== undefined`,
		chromedp.WithPollingTimeout(30*time.Second)))
	storage, err := chromedp.Run(ctx, chromedp.Evaluate[[2]string](`[document.getElementById('storage').dataset.state,
		document.getElementById('storage').hidden ? '' : document.getElementById('storage').innerText]`))
	if err != nil {
		t.Fatalf("read storage line: %v", err)
	}
	fleetMS, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#fleet').dataset.ms || ''`))
	t.Logf("fleet: %d rows, first %s (%s), ready after %s ms", len(rows), rows[0].Host, rows[0].Status, fleetMS)
	shoot(t, ctx, filepath.Join(shots, "fleet.png"))

	// Host page: at its default range (1 h), switched to 7 d by its button,
	// then opened afresh at 24 h, whose time to ready is the one of record.
	u, err := url.Parse(up.Href)
	if err != nil || u.Query().Get("instance") == "" {
		t.Fatalf("host link %q has no instance", up.Href)
	}
	run("open host page", chromedp.Navigate(up.Href))
	checkCharts(t, ctx, "1h")
	run("switch to 7 d", chromedp.Click(chromedp.CSS(`#ranges button[data-range="7d"]`)))
	checkCharts(t, ctx, "7d")
	run("open host page at 24 h", chromedp.Navigate(up.Href+"&range=24h"))
	charts := checkCharts(t, ctx, "24h")
	// Outage bands and alert marks arrive after the charts, on their own.
	run("outages and alerts on the host page", chromedp.Poll[chromedp.Void](
		`document.getElementById('charts').dataset.outages !== undefined && document.getElementById('charts').dataset.alerts !== undefined`,
		chromedp.WithPollingTimeout(30*time.Second)))
	marks, err := chromedp.Run(ctx, chromedp.Evaluate[[2]string](`[document.getElementById('charts').dataset.outages, document.getElementById('charts').dataset.alerts]`))
	if err != nil {
		t.Fatalf("read outages and alert marks: %v", err)
	}
	outages, _ := strconv.Atoi(marks[0])
	alertMarks, _ := strconv.Atoi(marks[1])
	hover(t, ctx, charts[0].ID)
	shoot(t, ctx, filepath.Join(shots, "host.png"))

	// A phone-sized screen: the page must not scroll sideways (the fleet
	// table scrolls inside its own box), and the charts must redraw.
	run("narrow viewport", chromedp.EmulateViewport(390, 844))
	for _, page := range []struct{ url, shot string }{{up.Href + "&range=24h", "host-narrow.png"}, {base + "/", "fleet-narrow.png"}} {
		run("open "+page.url+" narrow", chromedp.Navigate(page.url),
			chromedp.Poll[chromedp.Void](`document.body.dataset.ready === 'true'`, chromedp.WithPollingTimeout(30*time.Second)))
		over, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if over > 0 {
			t.Errorf("%s is %d px wider than a 390 px screen", page.url, over)
		}
		shoot(t, ctx, filepath.Join(shots, page.shot))
	}

	if e := errs.list(); len(e) > 0 {
		t.Errorf("browser reported errors:\n%s", strings.Join(e, "\n"))
	}
	return uiResult{rows: len(rows), firstStatus: rows[0].Status, instance: u.Query().Get("instance"), charts: charts,
		storage: storage[0], storageText: storage[1], outages: outages, alertMarks: alertMarks}
}

// checkCharts waits until the host page is ready and every chart is drawn
// with data.
func checkCharts(t *testing.T, ctx context.Context, rng string) []chartState {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](
		`document.body.dataset.ready === 'true' && new URLSearchParams(location.search).get('range') === '`+rng+`'`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("host page (%s) not ready: %v", rng, err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]chartState](`[...document.querySelectorAll('.chart')].map(c => ({
		id: c.dataset.chart, state: c.dataset.state, points: Number(c.dataset.points || 0),
		ms: Number(c.dataset.ms || 0), error: c.dataset.error || '', query: c.dataset.query || ''}))`))
	if err != nil {
		t.Fatalf("read charts: %v", err)
	}
	if len(charts) < 6 {
		t.Fatalf("%d charts, want 6: %+v", len(charts), charts)
	}
	for _, c := range charts {
		if c.State != "ready" || c.Points <= 0 {
			t.Errorf("%s chart %s: state %q, %d points, error %q, query %s", rng, c.ID, c.State, c.Points, c.Error, c.Query)
		}
	}
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.ms`))
	if err != nil {
		t.Fatal(err)
	}
	per := make([]string, 0, len(charts))
	for _, c := range charts {
		per = append(per, fmt.Sprintf("%s %d pts %d ms", c.ID, c.Points, c.MS))
	}
	t.Logf("host page %s: %d charts ready in %s ms (%s)", rng, len(charts), ms, strings.Join(per, ", "))
	return charts
}

// hover moves the mouse over a chart and checks that the tooltip shows the
// time and at least one value.
func hover(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	type rect struct{ X, Y, W, H float64 }
	r, err := chromedp.Run(ctx, chromedp.Evaluate[rect](`(() => {
		const c = document.querySelector('.chart[data-chart="`+id+`"] .plot-overlay');
		c.scrollIntoView({block: 'center'});
		const b = c.getBoundingClientRect();
		return {X: b.x, Y: b.y, W: b.width, H: b.height};
	})()`))
	if err != nil {
		t.Fatalf("locate chart %s: %v", id, err)
	}
	if err := chromedp.Do(ctx,
		// Near the right edge: a young host has data only there.
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, r.X+r.W*0.985, r.Y+r.H*0.4),
		chromedp.Poll[chromedp.Void](`!document.querySelector('.chart[data-chart="`+id+`"] .plot-tip').hidden`,
			chromedp.WithPollingTimeout(5*time.Second)),
	); err != nil {
		t.Fatalf("hover chart %s: %v", id, err)
	}
	tip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.chart[data-chart="`+id+`"] .plot-tip').innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tip, ":") || !strings.ContainsAny(strings.SplitN(tip, "\n", 2)[1], "0123456789") {
		t.Errorf("tooltip of %s shows no time and values: %q", id, tip)
	}
	t.Logf("tooltip of %s: %q", id, tip)
}

func shoot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", path, len(png))
}

// TestE2EHost24h opens the host page of HAWK_E2E_HOST, a host with a day of
// data (scripts/e2e/ui.sh backfills one), at 24 h five times, checks every
// chart holds data and reports how long the page took to be ready. The
// figure is recorded, not asserted: speed is measured, not unit-tested.
func TestE2EHost24h(t *testing.T) {
	base, host := os.Getenv("HAWK_E2E_URL"), os.Getenv("HAWK_E2E_HOST")
	if base == "" || host == "" {
		t.Skip("HAWK_E2E_URL and HAWK_E2E_HOST are not both set")
	}
	ctx := browser(t)
	page := strings.TrimRight(base, "/") + "/host?instance=" + url.QueryEscape(host) + "&range=24h"
	var times []int
	for i := range 5 {
		if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
			t.Fatalf("open %s: %v", page, err)
		}
		charts := checkCharts(t, ctx, "24h")
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.ms || ''`))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(ms)
		times = append(times, n)
		if i == 0 {
			for _, c := range charts {
				t.Logf("chart %s: %d points", c.ID, c.Points)
			}
			shoot(t, ctx, filepath.Join(shotsDir(t, ""), "host-24h.png"))
		}
	}
	slices.Sort(times)
	t.Logf("host page with 24 h of data ready in %v ms (sorted, 5 loads); median %d ms", times, times[len(times)/2])
}
