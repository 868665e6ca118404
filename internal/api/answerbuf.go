package api

import "sync"

// maxKeptAnswer is the largest answer buffer kept for reuse; a larger one
// (an answer of unusually long label sets) is left to the collector.
const maxKeptAnswer = 32 << 20

// answerBufs holds the buffers /api/v1/series answers were encoded into,
// emptied, for the next answers. An answer of 20,000 series grows its
// buffer to about 2.5 MB by doubling, and made some 10 MB of garbage that
// way: most of what a lookup left to the collector, whose marking of a
// large head then delayed the agents' ACKs (issue 17, series-lookup). A
// sync.Pool lets the buffers go when lookups stop.
var answerBufs sync.Pool // of *[]byte

// answerBuf returns an empty buffer, with the capacity of an earlier
// answer when there is one.
func answerBuf() []byte {
	if p, ok := answerBufs.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return nil
}

// keepAnswerBuf offers b for reuse once nothing refers to it any more:
// once its answer is written.
func keepAnswerBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxKeptAnswer {
		return
	}
	answerBufs.Put(&b)
}
