// Package web is hawk's built-in user interface: a fleet page listing every
// agent and legacy peer, and a host page with charts of one host's CPU, load,
// memory, filesystems, disks and network.
//
// The model is deliberately static. Every page and asset is embedded in the
// binary with go:embed and rendered once, in New, into an immutable set of
// byte slices (plain and gzipped) with a content hash. Requests never touch
// the file system or a template; all data is fetched by the browser from the
// server's own Prometheus-compatible API (/api/v1/agents and
// /api/v1/query_range), using URLs relative to the page so that the UI also
// works behind a reverse proxy that adds a path prefix.
//
// Nothing is loaded from other hosts: no CDN, no web fonts, no third-party
// JavaScript. The charts are drawn on <canvas> by assets/plot.js, a small
// chart module written for hawk. A Content-Security-Policy of 'self' makes the
// browser enforce that.
//
// URLs served by the handler (everything else is 404, including /api/ and
// /metrics, which belong to other handlers of the same server):
//
//	/                fleet page
//	/host?instance=X host page for instance X
//	/static/<file>   CSS, JavaScript and the icon; with ?v=<hash> they are
//	                 cacheable for a year, without it they revalidate
//
// Test hooks, read by the end-to-end test: the fleet table (#fleet) carries
// data-rows (rendered rows) and data-state="ready" after the first load; each
// chart (.chart) carries data-state ("loading", "ready" or "error"),
// data-points (points drawn) and data-ms; <body> gets data-ready="true" and
// data-ms (milliseconds since navigation start) when the page is complete.
// Each chart also shows its PromQL in data-query.
//
// The host page issues one query_range per chart, all in parallel, with a
// step that keeps every series at 300 points or fewer and a rate window of
// max(step + 15 s, 60 s); assets/host.js explains the choice. The queries are
// kept in testdata/queries.txt: TestQueriesEvaluate runs them through
// Prometheus' engine over a TSDB with known data, and the e2e test checks
// that the browser really sends them.
//
// Tests: go test ./internal/web/ runs the handler and query tests; with
// -tags e2e it also drives headless Chromium against a fake API
// (TestE2EFake), and against a running hawk-server when HAWK_E2E_URL is set
// (TestE2ELive). See e2e_test.go.
package web
