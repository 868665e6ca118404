package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// histSub is the number of sub-buckets per power of two: quantiles are
// exact below 64 ns and within 1/64 (1.6%) above.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histBuckets = histSub + (64-histSubBits)*histSub
)

// Hist is a log-linear histogram of durations. The zero value is ready;
// it is safe for concurrent use and costs one atomic add per Record, so
// many agents share one.
type Hist struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // nanoseconds
	max    atomic.Int64  // nanoseconds, exact
}

func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	return histSub + shift*histSub + int(v>>shift) - histSub
}

// histValue returns the middle of bucket i.
func histValue(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	shift := (i - histSub) / histSub
	sub := uint64((i-histSub)%histSub + histSub)
	return sub<<shift + (uint64(1)<<shift)/2
}

// Record adds one duration; negative durations count as zero.
func (h *Hist) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[histIndex(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if int64(v) <= m || h.max.CompareAndSwap(m, int64(v)) {
			return
		}
	}
}

// Count returns how many durations were recorded.
func (h *Hist) Count() uint64 { return h.n.Load() }

// Max returns the largest duration recorded.
func (h *Hist) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean returns the mean duration, or 0 when none was recorded.
func (h *Hist) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the q-quantile (0 < q <= 1) by the nearest-rank method,
// or 0 when nothing was recorded. It never exceeds Max.
func (h *Hist) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(histValue(i)), h.Max())
		}
	}
	return h.Max()
}
