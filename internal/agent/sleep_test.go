package agent

import (
	"context"
	"testing"
	"time"
)

func TestSleeper(t *testing.T) {
	for name, sl := range map[string]sleeper{"default": newSleeper(), "timer": newTimerSleeper()} {
		t.Run(name, func(t *testing.T) {
			defer sl.close()
			ctx := context.Background()
			for range 3 { // reused, as the loops reuse it
				start := time.Now()
				if !sl.sleep(ctx, 20*time.Millisecond) {
					t.Fatal("sleep reported cancellation")
				}
				if d := time.Since(start); d < 20*time.Millisecond {
					t.Fatalf("woke after %v of 20ms", d)
				}
			}
			if !sl.sleep(ctx, 0) {
				t.Fatal("zero sleep reported cancellation")
			}
			cctx, cancel := context.WithCancel(ctx)
			done := make(chan bool)
			go func() { done <- sl.sleep(cctx, time.Hour) }()
			cancel()
			select {
			case ok := <-done:
				if ok {
					t.Fatal("an hour's sleep reported it elapsed after cancellation")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("sleep did not end with its context")
			}
			if sl.sleep(cctx, time.Millisecond) {
				t.Fatal("sleep with a cancelled context reported it elapsed")
			}
		})
	}
}

func TestTick(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() { defer close(done); tick(ctx, 10*time.Millisecond, c) }()
	start := time.Now()
	for range 3 {
		select {
		case <-c:
		case <-time.After(10 * time.Second):
			t.Fatal("no tick")
		}
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("3 ticks of 10ms in %v", d)
	}
	cancel()
	<-done
}
