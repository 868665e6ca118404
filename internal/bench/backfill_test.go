package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"hawk/internal/server"
	"hawk/internal/store"
)

// TestBackfill sends an hour of one host's history at 15 s and finds every
// batch stored.
func TestBackfill(t *testing.T) {
	sink := store.NewMemory()
	srv, err := server.New(server.Config{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}()
	n, err := RunBackfill(context.Background(), BackfillConfig{Addr: ln.Addr().String(), Instance: "bf", Series: 20, Span: time.Hour, Step: 15 * time.Second})
	if err != nil || n != 240 {
		t.Fatalf("backfilled %d batches: %v", n, err)
	}
	var got int
	for _, s := range sink.Series() {
		if len(sink.Get(s)) == 240 {
			got++
		}
	}
	if got != 20 {
		t.Fatalf("%d series hold all 240 samples, want 20", got)
	}
}
