package rawio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// WriteAll and ReadAt round-trip, and a read past the end stops at it
// with io.EOF, as os.File.ReadAt does.
func TestWriteAllReadAt(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := bytes.Repeat([]byte("hawk"), 5000)
	if err := WriteAll(f, data); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 100)
	if n, err := ReadAt(f, got, 400); n != 100 || err != nil || !bytes.Equal(got, data[400:500]) {
		t.Fatalf("ReadAt in the middle: %d, %v, %q", n, err, got[:n])
	}
	n, err := ReadAt(f, got, int64(len(data)-10))
	if n != 10 || !errors.Is(err, io.EOF) || !bytes.Equal(got[:n], data[len(data)-10:]) {
		t.Fatalf("ReadAt over the end: %d, %v", n, err)
	}
	want, err := f.ReadAt(got, int64(len(data)-10))
	if want != n || !errors.Is(err, io.EOF) {
		t.Fatalf("os.File.ReadAt over the end: %d, %v", want, err)
	}
}
