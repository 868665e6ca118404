package bench

import (
	"testing"
)

func TestSource(t *testing.T) {
	if Source(5, 0) != nil {
		t.Fatal("0 sources binds an address")
	}
	for _, tc := range []struct {
		i, n int
		want string
	}{{0, 3, "127.0.0.2"}, {1, 3, "127.0.0.3"}, {3, 3, "127.0.0.2"}, {253, 1000, "127.0.0.255"}, {254, 1000, "127.0.1.0"}} {
		if got := Source(tc.i, tc.n).IP.String(); got != tc.want {
			t.Errorf("Source(%d, %d) = %s, want %s", tc.i, tc.n, got, tc.want)
		}
	}
	if SourcesFor(100000, 10000) != 10 || SourcesFor(1, 0) != 1 || SourcesFor(10001, 10000) != 2 {
		t.Fatal("SourcesFor")
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:9876", "127.9.8.7:1", "localhost:80"} {
		if err := CheckLoopback(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"10.0.0.1:9876", "[::1]:80", "example.com:80", "127.0.0.1"} {
		if err := CheckLoopback(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
