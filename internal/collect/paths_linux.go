package collect

import "path/filepath"

// Paths under /sys and the host root; only Linux collectors read them.

func (c *Config) sys(p ...string) string {
	return filepath.Join(append([]string{c.SysPath}, p...)...)
}

func (c *Config) rootfs(p ...string) string {
	return filepath.Join(append([]string{c.RootfsPath}, p...)...)
}
