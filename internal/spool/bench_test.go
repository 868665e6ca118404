package spool

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func BenchmarkAppend(b *testing.B) {
	for _, sync := range []bool{false, true} {
		for _, size := range []int{256, 4096} {
			b.Run(fmt.Sprintf("sync=%v/size=%d", sync, size), func(b *testing.B) {
				s := openT(b, b.TempDir(), Options{Sync: sync, MaxBytes: 64 << 20})
				p := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.Append(p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAppendParallel has every goroutine append to one spool, like
// several collectors sharing it would.
func BenchmarkAppendParallel(b *testing.B) {
	s := openT(b, b.TempDir(), Options{MaxBytes: 64 << 20})
	b.SetBytes(256)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		p := make([]byte, 256)
		for pb.Next() {
			if _, err := s.Append(p); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCursor(b *testing.B) {
	const n, size = 10000, 1024
	s := openT(b, b.TempDir(), Options{})
	p := make([]byte, size)
	for range n {
		if _, err := s.Append(p); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	c := s.Cursor(0)
	defer func() { c.Close() }()
	for b.Loop() {
		_, _, err := c.Next()
		if errors.Is(err, io.EOF) {
			c.Close()
			c = s.Cursor(0)
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
