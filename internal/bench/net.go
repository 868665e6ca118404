package bench

import (
	"fmt"
	"net"
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
