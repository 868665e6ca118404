package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assetFS embed.FS

// Options configures the UI. The zero value is usable.
type Options struct {
	// Title is shown in the page header and window titles; "hawk" if empty.
	Title string
}

// UI holds the rendered pages and assets. It is immutable after New and safe
// for concurrent use.
type UI struct {
	// files maps a request path ("/", "/host", "/static/app.css") to its
	// prepared response.
	files map[string]*file
}

// file is one prepared response body.
type file struct {
	body     []byte // uncompressed content
	gz       []byte // gzipped content, nil when gzip does not pay off
	ctype    string // Content-Type header
	etag     string // strong ETag of body, quoted
	gzEtag   string // strong ETag of gz, quoted
	hash     string // short content hash used as ?v= cache buster
	isStatic bool   // under /static/: immutable when ?v= matches hash
}

// pages maps the served page paths to their templates in assets/.
var pages = map[string]string{
	"/":       "fleet.html",
	"/host":   "host.html",
	"/alerts": "alerts.html",
}

// Handler returns the UI with default options. Mount it at "/".
func Handler() http.Handler { return New(Options{}).Handler() }

// New renders the embedded pages and prepares every asset. It panics only if
// the embedded files are broken, which the package tests rule out.
func New(opts Options) *UI {
	if opts.Title == "" {
		opts.Title = "hawk"
	}
	u := &UI{files: make(map[string]*file)}
	statics, err := fs.Glob(assetFS, "assets/*")
	if err != nil {
		panic(fmt.Sprintf("web: glob embedded assets: %v", err))
	}
	for _, name := range statics {
		base := path.Base(name)
		if strings.HasSuffix(base, ".html") {
			continue // pages are rendered below, not served raw
		}
		b, err := assetFS.ReadFile(name)
		if err != nil {
			panic(fmt.Sprintf("web: read embedded %s: %v", name, err))
		}
		f := newFile(b, contentType(base))
		f.isStatic = true
		u.files["/static/"+base] = f
	}
	for route, tmpl := range pages {
		b, err := u.render(tmpl, opts)
		if err != nil {
			panic(fmt.Sprintf("web: render %s: %v", tmpl, err))
		}
		u.files[route] = newFile(b, "text/html; charset=utf-8")
	}
	return u
}

// render executes one page template. The asset function returns the
// page-relative, versioned URL of a static file.
func (u *UI) render(name string, opts Options) ([]byte, error) {
	funcs := template.FuncMap{
		"asset": func(base string) (string, error) {
			f, ok := u.files["/static/"+base]
			if !ok {
				return "", fmt.Errorf("web: unknown asset %q", base)
			}
			return "static/" + base + "?v=" + f.hash, nil
		},
	}
	t, err := template.New(name).Funcs(funcs).ParseFS(assetFS, "assets/"+name)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, opts); err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	return buf.Bytes(), nil
}

// newFile hashes and, where it helps, gzips a body.
func newFile(body []byte, ctype string) *file {
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])[:16]
	f := &file{body: body, ctype: ctype, hash: h, etag: `"` + h + `"`, gzEtag: `"` + h + `-gz"`}
	if gz := gzipBytes(body); len(gz) < len(body)*9/10 {
		f.gz = gz
	}
	return f
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // level is valid
	_, _ = zw.Write(b)                                       // bytes.Buffer cannot fail
	_ = zw.Close()
	return buf.Bytes()
}

// contentType knows the few extensions shipped in assets/.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".html":
		return "text/html; charset=utf-8"
	}
	return "application/octet-stream"
}
