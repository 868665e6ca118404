package collect

import "path/filepath"

// Paths under /proc, /sys and the host root; only Linux collectors read
// them.

func (c *Config) proc(p ...string) string {
	return filepath.Join(append([]string{c.ProcPath}, p...)...)
}

func (c *Config) sys(p ...string) string {
	return filepath.Join(append([]string{c.SysPath}, p...)...)
}

func (c *Config) rootfs(p ...string) string {
	return filepath.Join(append([]string{c.RootfsPath}, p...)...)
}
