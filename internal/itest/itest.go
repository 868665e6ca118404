// Package itest holds hawk's end-to-end tests: they run the built binaries
// (bin/ at the repository root, or $HAWK_BIN) on loopback and talk to them
// as agents, promtool and operators do. The tests carry the build tag e2e;
// scripts/e2e/itest.sh runs them.
package itest
