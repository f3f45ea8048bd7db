package generator

import (
	"os"
	"path/filepath"
	"testing"
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
