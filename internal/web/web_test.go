package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// get runs one request against h and returns the recorded response.
func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPagesServed(t *testing.T) {
	h := Handler()
	for _, tc := range []struct{ path, want string }{
		{"/", `id="fleet"`},
		{"/?q=web&sort=up", `id="fleet"`},
		{"/host?instance=web-01", `id="charts"`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, tc.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache for a page", cc)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("missing X-Content-Type-Options: nosniff")
			}
			body := rec.Body.String()
			if !strings.Contains(body, tc.want) {
				t.Errorf("body lacks %q", tc.want)
			}
			if !regexp.MustCompile(`src="static/[a-z]+\.js\?v=[0-9a-f]{16}"`).MatchString(body) {
				t.Error("page does not load versioned, page-relative scripts")
			}
		})
	}
}

// staticNames lists the embedded files served under /static/.
func staticNames(t *testing.T) []string {
	t.Helper()
	all, err := fs.Glob(assetFS, "assets/*")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range all {
		if path.Ext(n) != ".html" {
			names = append(names, path.Base(n))
		}
	}
	if len(names) < 6 {
		t.Fatalf("only %d static assets embedded: %v", len(names), names)
	}
	return names
}

func TestStaticAssets(t *testing.T) {
	u := New(Options{})
	h := u.Handler()
	want := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
		".svg": "image/svg+xml",
	}
	for _, name := range staticNames(t) {
		t.Run(name, func(t *testing.T) {
			raw, err := assetFS.ReadFile("assets/" + name)
			if err != nil {
				t.Fatal(err)
			}
			rec := get(t, h, http.MethodGet, "/static/"+name, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != want[path.Ext(name)] {
				t.Errorf("Content-Type %q, want %q", ct, want[path.Ext(name)])
			}
			if !bytes.Equal(rec.Body.Bytes(), raw) {
				t.Error("body differs from the embedded file")
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("unversioned Cache-Control %q, want no-cache", cc)
			}
			v := u.files["/static/"+name].hash
			rec = get(t, h, http.MethodGet, "/static/"+name+"?v="+v, nil)
			if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
				t.Errorf("versioned Cache-Control %q, want immutable", cc)
			}
			rec = get(t, h, http.MethodGet, "/static/"+name+"?v=stale", nil)
			if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("stale-version Cache-Control %q, want no-cache", cc)
			}
		})
	}
}

// Every asset is linked from a page, and every link points at an asset.
func TestAssetsReferenced(t *testing.T) {
	u := New(Options{})
	var pagesHTML strings.Builder
	for route := range pages {
		pagesHTML.Write(u.files[route].body)
	}
	for _, name := range staticNames(t) {
		if !strings.Contains(pagesHTML.String(), `"static/`+name+`?v=`) {
			t.Errorf("asset %s is not referenced by any page", name)
		}
	}
	for _, m := range regexp.MustCompile(`"static/([^"?]+)\?v=([0-9a-f]+)"`).FindAllStringSubmatch(pagesHTML.String(), -1) {
		f, ok := u.files["/static/"+m[1]]
		if !ok || f.hash != m[2] {
			t.Errorf("page links %s?v=%s, which is not served with that version", m[1], m[2])
		}
	}
}

// externalRef matches references that would make the browser contact another
// host: absolute http(s) URLs and protocol-relative URLs in src, href, url()
// and @import.
var externalRef = regexp.MustCompile(`(?i)https?://|(src|href)\s*=\s*["']?//|url\(\s*["']?//|@import`)

// xmlNamespace is an identifier, never fetched, so it is allowed in SVG.
const xmlNamespace = `xmlns="http://www.w3.org/2000/svg"`

func TestNoExternalURLs(t *testing.T) {
	u := New(Options{})
	for route, f := range u.files {
		body := strings.ReplaceAll(string(f.body), xmlNamespace, "")
		if loc := externalRef.FindStringIndex(body); loc != nil {
			lo, hi := max(0, loc[0]-30), min(len(body), loc[1]+30)
			t.Errorf("%s refers to another host: %q", route, body[lo:hi])
		}
	}
	if len(u.files) < 8 {
		t.Fatalf("only %d files checked", len(u.files))
	}
}

// The UI must reach the API relative to the page, so that it keeps working
// behind a reverse proxy that adds a path prefix.
func TestAPIRelative(t *testing.T) {
	for route, f := range New(Options{}).files {
		if bytes.Contains(f.body, []byte(`'/api/`)) || bytes.Contains(f.body, []byte(`"/api/`)) {
			t.Errorf("%s uses an absolute /api/ path", route)
		}
		if bytes.Contains(f.body, []byte(`"/static/`)) {
			t.Errorf("%s uses an absolute /static/ path", route)
		}
	}
}

func TestNotOwnedPaths(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/api/v1/query", "/api/v1/agents", "/metrics", "/static/",
		"/static/nope.js", "/static/fleet.html", "/host/web-01", "/index.html", "/favicon.ico", "/assets/app.css"} {
		if rec := get(t, h, http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, rec.Code)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	rec := get(t, Handler(), http.MethodPost, "/", nil)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, want 405", rec.Code)
	}
	if a := rec.Header().Get("Allow"); a != "GET, HEAD" {
		t.Errorf("Allow %q", a)
	}
}

func TestHead(t *testing.T) {
	h := Handler()
	full := get(t, h, http.MethodGet, "/static/plot.js", nil)
	rec := get(t, h, http.MethodHead, "/static/plot.js", nil)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: status %d, %d body bytes", rec.Code, rec.Body.Len())
	}
	if got, want := rec.Header().Get("Content-Length"), full.Header().Get("Content-Length"); got != want || got == "" {
		t.Errorf("HEAD Content-Length %q, GET %q", got, want)
	}
}

func TestGzip(t *testing.T) {
	h := Handler()
	plain := get(t, h, http.MethodGet, "/static/host.js", nil)
	zipped := get(t, h, http.MethodGet, "/static/host.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatal("gzip not used though accepted")
	}
	if zipped.Body.Len() >= plain.Body.Len() {
		t.Errorf("gzipped %d bytes, plain %d", zipped.Body.Len(), plain.Body.Len())
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain.Body.Bytes()) {
		t.Error("gunzipped body differs from the plain body")
	}
	if zipped.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Error("gzip and plain representations share an ETag")
	}
	if plain.Header().Get("Vary") != "Accept-Encoding" {
		t.Error("missing Vary: Accept-Encoding")
	}
	refused := get(t, h, http.MethodGet, "/static/host.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if refused.Header().Get("Content-Encoding") != "" {
		t.Error("gzip used though refused with q=0")
	}
}

func TestConditionalGet(t *testing.T) {
	h := Handler()
	for _, enc := range []string{"", "gzip"} {
		first := get(t, h, http.MethodGet, "/", map[string]string{"Accept-Encoding": enc})
		etag := first.Header().Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		again := get(t, h, http.MethodGet, "/", map[string]string{"Accept-Encoding": enc, "If-None-Match": etag})
		if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
			t.Errorf("enc %q: revalidation gave %d with %d bytes, want 304 and none", enc, again.Code, again.Body.Len())
		}
		other := get(t, h, http.MethodGet, "/", map[string]string{"Accept-Encoding": enc, "If-None-Match": `"0000"`})
		if other.Code != http.StatusOK {
			t.Errorf("enc %q: mismatched ETag gave %d, want 200", enc, other.Code)
		}
	}
}

func TestTitleEscaped(t *testing.T) {
	rec := get(t, New(Options{Title: `lab <b>&</b>`}).Handler(), http.MethodGet, "/", nil)
	body := rec.Body.String()
	if !strings.Contains(body, "lab &lt;b&gt;&amp;&lt;/b&gt;") {
		t.Error("title not shown HTML-escaped")
	}
	if strings.Contains(body, "<b>&</b>") {
		t.Error("title injected unescaped")
	}
	if def := get(t, Handler(), http.MethodGet, "/", nil).Body.String(); !strings.Contains(def, "<title>Fleet · hawk</title>") {
		t.Error("default title is not hawk")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=0.8", true},
		{"gzip; q=0", false},
		{"gzip;q=0.000", false},
		{"br", false},
		{"x-gzip", false},
		{"*", false}, // being conservative: only an explicit gzip counts
	} {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestETagMatch(t *testing.T) {
	const etag = `"abc"`
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{`"abc"`, true},
		{`W/"abc"`, true},
		{`"x", "abc"`, true},
		{`*`, true},
		{`"abcd"`, false},
		{`abc`, false},
	} {
		if got := etagMatch(tc.header, etag); got != tc.want {
			t.Errorf("etagMatch(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
