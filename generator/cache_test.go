package generator

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFormatCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, GeneratedFile)
	raw := []byte("package p\nfunc  F( ) {}\n")
	src, err := format(raw)
	if err != nil {
		t.Fatal(err)
	}
	cache := formatCache{dir: filepath.Join(dir, "cache")}
	if got := cache.formatted(raw, path); got != nil {
		t.Fatalf("before anything is remembered: got %q", got)
	}
	cache.remember(raw, src)
	if got := cache.formatted(raw, path); got != nil {
		t.Fatalf("with no file on disk: got %q", got)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cache.formatted(raw, path); string(got) != string(src) {
		t.Fatalf("got %q, want %q", got, src)
	}
	if got := cache.formatted([]byte("package p\nfunc  G( ) {}\n"), path); got != nil {
		t.Fatalf("for another rendering: got %q", got)
	}
	if got := (formatCache{}).formatted(raw, path); got != nil {
		t.Fatalf("with the cache off: got %q", got)
	}
	// A file edited by hand is not what formatting gives: it is formatted again.
	if err := os.WriteFile(path, append(src, "// edited\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cache.formatted(raw, path); got != nil {
		t.Fatalf("for an edited file: got %q", got)
	}
}

func TestFormatCacheTrim(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, GeneratedFile)
	cache := formatCache{dir: filepath.Join(dir, "cache")}
	used, unused := []byte("package used\n"), []byte("package unused\n")
	for _, raw := range [][]byte{used, unused} {
		cache.remember(raw, raw)
	}
	if err := os.WriteFile(path, used, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-trimAge - time.Hour)
	for _, raw := range [][]byte{used, unused} {
		if err := os.Chtimes(cache.entry(raw), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if cache.formatted(used, path) == nil { // a use renews the entry
		t.Fatal("no hit")
	}
	cache.trim()
	if _, err := os.Stat(cache.entry(used)); err != nil {
		t.Errorf("the entry used was removed: %v", err)
	}
	if _, err := os.Stat(cache.entry(unused)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the entry unused for %v is still there: %v", trimAge, err)
	}
	// Trimmed less than trimInterval ago: nothing is removed.
	if err := os.Chtimes(cache.entry(used), old, old); err != nil {
		t.Fatal(err)
	}
	cache.trim()
	if _, err := os.Stat(cache.entry(used)); err != nil {
		t.Errorf("trimmed again within %v: %v", trimInterval, err)
	}
}

func TestGroupImports(t *testing.T) {
	raw := "package p\n\nimport (\n\"context\"\nbfruntime \"github.com/bifrost-go/bifrost/runtime\"\n_ \"embed\"\n\"example.com/x\"\n\"net/http\"\n)\n\nvar _ = 1\n"
	want := "package p\n\nimport (\n\"context\"\n_ \"embed\"\n\"net/http\"\n\nbfruntime \"github.com/bifrost-go/bifrost/runtime\"\n\"example.com/x\"\n)\n\nvar _ = 1\n"
	if got := string(groupImports([]byte(raw))); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	single := "package p\n\nimport \"context\"\n"
	if got := string(groupImports([]byte(single))); got != single {
		t.Fatalf("a single import: got %q", got)
	}
}
