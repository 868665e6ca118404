package web

import (
	"net/http"
	"strconv"
	"strings"
)

// csp allows only same-origin resources, so an asset that referred to another
// host would fail in the browser as well as in the package tests.
const csp = "default-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler returns the http.Handler serving the UI. Mount it at "/"; it answers
// 404 for every path it does not own, so more specific routes such as /api/
// and /metrics must be registered on the same mux.
func (u *UI) Handler() http.Handler { return http.HandlerFunc(u.serve) }

func (u *UI) serve(w http.ResponseWriter, r *http.Request) {
	f, ok := u.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cache-Control", cacheControl(f, r))
	body, etag := f.body, f.etag
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		// A different representation needs a different strong ETag.
		body, etag = f.gz, f.gzEtag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body) // a failed write means the client went away
}

// cacheControl lets browsers keep versioned static assets for a year: their
// URL changes with their content. Pages and unversioned requests revalidate
// every time, which costs one 304 thanks to the ETag.
func cacheControl(f *file, r *http.Request) string {
	if f.isStatic && r.URL.Query().Get("v") == f.hash {
		return "public, max-age=31536000, immutable"
	}
	return "no-cache"
}

// etagMatch reports whether an If-None-Match header lists etag (or "*").
// Weak validators match too, as RFC 9110 asks for If-None-Match.
func etagMatch(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip, honouring
// an explicit q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
