// Command package builds hawk's .deb and .rpm packages with nfpm (as a
// library, so the version is the one go.mod pins):
//
//	go run ./scripts/package -arch amd64 -bin dist/build/amd64 -version 1.2.3 -out dist
//
// -bin holds hawk-agent and hawk-server built for -arch (make package
// builds them). Each package has its binary in /usr/bin, its systemd unit
// (from deploy/, with the binary's path and user adjusted), its
// configuration file under /etc/hawk marked as such (kept on upgrade,
// removed on purge), its data directory owned by the hawk system user,
// and the maintainer scripts of deploy/package.
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm"
)

// maintainer is the packages' Maintainer field.
const maintainer = "hawk developers <hawk-monitoring@users.noreply.github.com>"

// pkg describes one of the two packages.
type pkg struct {
	name, description string
	conf              string // configuration file under /etc/hawk, from deploy/
	state             string // data directory
}

var pkgs = []pkg{
	{
		name:        "hawk-agent",
		description: "hawk host agent\n Collects host metrics under node_exporter's names and pushes them to a\n hawk-server, keeping unacknowledged batches in a local spool.",
		conf:        "hawk-agent.env",
		state:       "/var/lib/hawk-agent",
	},
	{
		name:        "hawk-server",
		description: "hawk collector\n Receives metrics from hawk agents, stores them in an embedded Prometheus\n TSDB and serves the Prometheus query API and a web UI.",
		conf:        "hawk-server.yml",
		state:       "/var/lib/hawk",
	},
}

func main() {
	arch := flag.String("arch", "amd64", "GOARCH of the binaries")
	bin := flag.String("bin", "", "directory holding hawk-agent and hawk-server built for -arch")
	version := flag.String("version", "0.0.0", "package version")
	out := flag.String("out", "dist", "output directory")
	deploy := flag.String("deploy", "deploy", "the repository's deploy/ directory")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "package: -bin is required")
		os.Exit(2)
	}
	work, err := os.MkdirTemp("", "hawk-package")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(work)
	for _, p := range pkgs {
		for _, format := range []string{"deb", "rpm"} {
			path, err := build(p, format, *arch, *bin, *version, *out, *deploy, work)
			if err != nil {
				os.RemoveAll(work)
				fatal(fmt.Errorf("%s %s: %w", p.name, format, err))
			}
			fmt.Println(path)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "package:", err)
	os.Exit(1)
}

// expand writes src with @NAME@, @STATE@ and @CONF@ replaced into work and
// returns the new path.
func expand(p pkg, src, work string, extra ...string) (string, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	r := strings.NewReplacer(append([]string{"@NAME@", p.name, "@STATE@", p.state, "@CONF@", "/etc/hawk/" + p.conf}, extra...)...)
	dst := filepath.Join(work, p.name+"-"+filepath.Base(src))
	return dst, os.WriteFile(dst, []byte(r.Replace(string(b))), 0o755)
}

func build(p pkg, format, arch, bin, version, out, deploy, work string) (string, error) {
	// The unit in deploy/ is for a hand install: binary in /usr/local/bin.
	// Packaged, the binary is in /usr/bin and the agent runs as the hawk
	// user (the server already does).
	unit, err := expand(p, filepath.Join(deploy, p.name+".service"), work,
		"/usr/local/bin/", "/usr/bin/", "User=root\n", "User=hawk\nGroup=hawk\n")
	if err != nil {
		return "", err
	}
	scripts := nfpm.Scripts{}
	for _, s := range []struct {
		dst  *string
		name string
	}{{&scripts.PreInstall, "preinstall.sh"}, {&scripts.PostInstall, "postinstall.sh"}, {&scripts.PreRemove, "preremove.sh"}, {&scripts.PostRemove, "postremove.sh"}} {
		if *s.dst, err = expand(p, filepath.Join(deploy, "package", s.name), work); err != nil {
			return "", err
		}
	}
	root := &files.ContentFileInfo{Owner: "root", Group: "root"}
	mode := func(m os.FileMode) *files.ContentFileInfo { fi := *root; fi.Mode = m; return &fi }
	hawk := &files.ContentFileInfo{Owner: "hawk", Group: "hawk", Mode: 0o750}
	contents := files.Contents{
		{Source: filepath.Join(bin, p.name), Destination: "/usr/bin/" + p.name, FileInfo: mode(0o755)},
		{Source: unit, Destination: "/usr/lib/systemd/system/" + p.name + ".service", FileInfo: mode(0o644)},
		{Source: filepath.Join(deploy, p.conf), Destination: "/etc/hawk/" + p.conf, Type: files.TypeConfigNoReplace, FileInfo: mode(0o644)},
		{Destination: p.state, Type: files.TypeDir, FileInfo: hawk},
	}
	if format == "deb" {
		// Debian wants a copyright file and a changelog; and a Go binary
		// is static by design, which lintian's statically-linked-binary
		// error is told through an override.
		changelog, err := debChangelog(p, version, work)
		if err != nil {
			return "", err
		}
		override := filepath.Join(work, p.name+".lintian-overrides")
		if err := os.WriteFile(override, []byte(p.name+": statically-linked-binary [usr/bin/"+p.name+"]\n"), 0o644); err != nil {
			return "", err
		}
		doc := "/usr/share/doc/" + p.name + "/"
		contents = append(contents,
			&files.Content{Source: filepath.Join(deploy, "package", "copyright"), Destination: doc + "copyright", FileInfo: mode(0o644)},
			&files.Content{Source: changelog, Destination: doc + "changelog.gz", FileInfo: mode(0o644)},
			&files.Content{Source: override, Destination: "/usr/share/lintian/overrides/" + p.name, FileInfo: mode(0o644)})
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:        p.name,
		Arch:        arch,
		Platform:    "linux",
		Version:     version,
		Section:     "net",
		Priority:    "optional",
		Maintainer:  maintainer,
		Description: p.description,
		Vendor:      "hawk",
		Homepage:    "https://github.com/hawk-monitoring/hawk",
		License:     "not chosen yet",
		Overridables: nfpm.Overridables{
			Contents: contents,
			Scripts:  scripts,
			Depends:  []string{"passwd"},
			RPM:      nfpm.RPM{Group: "System Environment/Daemons"},
		},
	})
	if format == "rpm" {
		info.Depends = []string{"shadow-utils"}
	}
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		return "", err
	}
	packager, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(out, packager.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := packager.Package(info, f); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// debChangelog writes a one-entry Debian changelog, gzipped without a
// name or time in its header, and returns its path.
func debChangelog(p pkg, version, work string) (string, error) {
	path := filepath.Join(work, p.name+"-changelog.gz")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	z, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	fmt.Fprintf(z, "%s (%s) unstable; urgency=medium\n\n  * Built from the hawk repository; its git history is the change log.\n\n -- %s  %s\n",
		p.name, version, maintainer, time.Now().UTC().Format(time.RFC1123Z))
	if err := z.Close(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}
