package bench

import (
	"fmt"
	"net"
	"syscall"
)

// Source returns the local address for connection i of a run spread over n
// source addresses: 127.0.0.2, 127.0.0.3, ... in turn, each with an
// ephemeral port, so that every address has its own ~28k ports. nil (any
// address) when n is 0.
func Source(i, n int) *net.TCPAddr {
	if n <= 0 {
		return nil
	}
	k := 2 + i%n // 127.0.0.0 is the network, 127.0.0.1 the server
	return &net.TCPAddr{IP: net.IPv4(127, byte(k>>16), byte(k>>8), byte(k))}
}

// SourcesFor returns how many source addresses conns connections need at
// perAddr connections per address.
func SourcesFor(conns, perAddr int) int {
	if perAddr <= 0 {
		perAddr = 10000
	}
	return max(1, (conns+perAddr-1)/perAddr)
}

// RaiseFileLimit lifts RLIMIT_NOFILE to at least n open files, raising the
// hard limit too when allowed (as root, up to fs.nr_open), and returns the
// soft limit now in force.
func RaiseFileLimit(n uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("bench: getrlimit: %w", err)
	}
	if lim.Cur >= n {
		return lim.Cur, nil
	}
	want := lim
	want.Cur = n
	want.Max = max(lim.Max, n)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
		return n, nil
	}
	// Not allowed to raise the hard limit: go as far as it.
	want.Cur, want.Max = lim.Max, lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return lim.Cur, fmt.Errorf("bench: setrlimit %d: %w", n, err)
	}
	return lim.Max, fmt.Errorf("bench: open files limited to %d, wanted %d", lim.Max, n)
}

// CheckLoopback returns an error unless addr is host:port with a host in
// 127.0.0.0/8 (or "localhost"): hawk-bench loads only this machine.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bench: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return fmt.Errorf("bench: address %q is not in 127.0.0.0/8", addr)
	}
	return nil
}
