package server

import "testing"

func TestClampConns(t *testing.T) {
	for _, c := range []struct {
		max    int
		nofile uint64
		want   int
	}{
		{100000, 20000, 18976},    // this machine's hard limit
		{100000, 1048576, 100000}, // a raised limit: the configured value
		{500, 20000, 500},
		{100000, 1024, 512}, // a tiny limit keeps half for the rest
	} {
		if got := clampConns(c.max, c.nofile); got != c.want {
			t.Errorf("clampConns(%d, %d) = %d, want %d", c.max, c.nofile, got, c.want)
		}
	}
}
