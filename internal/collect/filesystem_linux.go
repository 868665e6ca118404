package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"

	"golang.org/x/sys/unix"
)

func init() {
	register("filesystem", true, "Exposes filesystem statistics, such as disk space used.", newFilesystem)
}

// node_exporter's (upstream v1.x) defaults for
// --collector.filesystem.mount-points-exclude and fs-types-exclude. Debian's
// package also excludes /run, /mnt and /media.
var (
	fsMountPointsExclude = regexp.MustCompile(`^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`)
	fsTypesExclude       = regexp.MustCompile(`^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$`)
)

// filesystemCollector lists mounts from /proc/1/mounts (the host's mount
// namespace when hawk runs in a container) and calls statfs(2) on each.
//
// statfs runs synchronously: a hung network file system blocks the
// collection (node_exporter runs it under a timeout in a goroutine).
//
// The mount table is read and parsed again only when the kernel says it
// changed (see fileReader.readChanged); the statfs calls run every time.
type filesystemCollector struct {
	mounts, mountsFallback string
	rootfs                 string
	statfs, statfsLocal    func(string, *unix.Statfs_t) error
	r                      fileReader
	f                      [][]byte           // reused field slice
	cache                  strcache           // devices, mount points, types
	skip                   map[string]bool    // "mountpoint\x00fstype" -> excluded
	seen                   map[[3]string]bool // mounts listed
	list                   []fsMount          // mounts to stat, from the last read of the table
	listed                 bool               // list holds the table as last read
	logger                 *slog.Logger
	st                     unix.Statfs_t // reused: a local would escape to the heap
}

func newFilesystem(cfg *Config, logger *slog.Logger) (collector, error) {
	root := cfg.RootfsPath
	if root == "/" {
		root = ""
	}
	return &filesystemCollector{
		mounts:         cfg.proc("1", "mounts"),
		mountsFallback: cfg.proc("mounts"),
		rootfs:         root,
		statfs:         cfg.seams.statfs,
		statfsLocal:    cfg.seams.statfsLocal,
		skip:           map[string]bool{},
		seen:           map[[3]string]bool{},
		logger:         logger,
	}, nil
}

// unescapeMount undoes the octal escapes (\040 for space) of /proc/mounts.
func unescapeMount(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] >= '0' && b[i+1] <= '3' {
			out = append(out, (b[i+1]-'0')<<6|(b[i+2]-'0')<<3|(b[i+3]-'0'))
			i += 3
			continue
		}
		out = append(out, b[i])
	}
	return out
}

func (c *filesystemCollector) excluded(mp, fstype []byte) bool {
	key := make([]byte, 0, 128)
	key = append(append(append(key, mp...), 0), fstype...)
	skip, ok := c.skip[string(key)]
	if !ok {
		skip = fsMountPointsExclude.Match(mp) || fsTypesExclude.Match(fstype)
		if len(c.skip) >= maxCached {
			clear(c.skip)
		}
		c.skip[string(key)] = skip
	}
	return skip
}

// hasOption reports whether the comma-separated options contain opt.
func hasOption(opts []byte, opt string) bool {
	for len(opts) > 0 {
		var o []byte
		o, opts, _ = bytes.Cut(opts, []byte(","))
		if string(o) == opt {
			return true
		}
	}
	return false
}

// localFS are file system types on local devices (or in memory), whose
// statfs answers from the super block in memory and cannot hang the way a
// network or FUSE file system's can; theirs is a raw system call. Others,
// named here or not, get an ordinary one.
var localFS = map[string]bool{
	"ext2": true, "ext3": true, "ext4": true, "xfs": true, "btrfs": true, "f2fs": true, "jfs": true,
	"reiserfs": true, "bcachefs": true, "nilfs2": true, "vfat": true, "msdos": true, "exfat": true,
	"ntfs": true, "ntfs3": true, "hfsplus": true, "tmpfs": true, "ramfs": true, "zfs": true,
}

// fsMount is a mount to stat: device, mount point, type, and read-only.
type fsMount struct {
	m  [3]string
	ro bool
}

func (c *filesystemCollector) update(e *emitter) error {
	if err := c.refresh(); err != nil {
		return err
	}
	for _, m := range c.list {
		c.stat(e, m.m, m.ro)
	}
	return nil
}

// refresh reads and parses the mount table if it changed.
func (c *filesystemCollector) refresh() error {
	b, changed, err := c.r.readChanged(c.mounts)
	if err != nil && isMissing(err) {
		b, changed, err = c.r.readChanged(c.mountsFallback)
	}
	if err != nil {
		c.listed = false
		return fmt.Errorf("filesystem: %w", noData(err))
	}
	if !changed && c.listed {
		return nil
	}
	c.listed = false
	c.list = c.list[:0]
	clear(c.seen)
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.f = splitFields(c.f, line)
		if len(c.f) == 0 {
			continue
		}
		if len(c.f) < 4 {
			return fmt.Errorf("filesystem: bad mount line %q", snippet(line))
		}
		mp := unescapeMount(c.f[1])
		if c.excluded(mp, c.f[2]) {
			continue
		}
		m := [3]string{c.cache.get(unescapeMount(c.f[0])), c.cache.get(mp), c.cache.get(c.f[2])}
		if c.seen[m] {
			continue
		}
		c.seen[m] = true
		c.list = append(c.list, fsMount{m, hasOption(c.f[3], "ro")})
	}
	c.listed = true
	return nil
}

// stat sends the metrics of one mount; a failing statfs sets
// node_filesystem_device_error and is not an error of the collector.
func (c *filesystemCollector) stat(e *emitter, m [3]string, ro bool) {
	labels := [3]Label{{"device", m[0]}, {"fstype", m[2]}, {"mountpoint", m[1]}}
	st := &c.st
	statfs := c.statfs
	if localFS[m[2]] {
		statfs = c.statfsLocal
	}
	err := statfs(c.rootfs+m[1], st)
	devErr, roVal := 0.0, 0.0
	if err != nil {
		devErr = 1
		c.logger.Debug("statfs failed", "mountpoint", m[1], "err", err)
	}
	if ro {
		roVal = 1
	}
	e.gauge("node_filesystem_device_error", "Whether an error occurred while getting statistics for the given device.", devErr, labels[:]...)
	e.gauge("node_filesystem_readonly", "Filesystem read-only status.", roVal, labels[:]...)
	if err != nil {
		return
	}
	bs := float64(st.Bsize)
	e.gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", float64(st.Blocks)*bs, labels[:]...)
	e.gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.", float64(st.Bfree)*bs, labels[:]...)
	e.gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", float64(st.Bavail)*bs, labels[:]...)
	e.gauge("node_filesystem_files", "Filesystem total file nodes.", float64(st.Files), labels[:]...)
	e.gauge("node_filesystem_files_free", "Filesystem total free file nodes.", float64(st.Ffree), labels[:]...)
}
