package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// formatCache remembers what formatting a rendered file gave, so that a
// file whose rendering has not changed since the last run is not formatted
// again: formatting is most of what generate and check cost (issue #14).
// An entry is named by a hash of the rendered file and of the running
// executable (format is a function of these two alone), and holds the hash
// of the formatted file. The file on disk is used when its hash is the one
// remembered: the result is the same bytes format would give, never a
// guess. Entries are 32 bytes; the go command's cache is the model, down
// to its trimming: an entry unused for trimAge is removed.
type formatCache struct {
	dir string // "" when there is no cache
}

const (
	trimAge      = 5 * 24 * time.Hour // an entry unused this long is removed
	trimInterval = 24 * time.Hour     // how often the cache is trimmed
	useInterval  = time.Hour          // how stale an entry's mtime may get before a use renews it
)

// executableID identifies the code that formats, once per process: a
// rebuilt bifrostgen (or test binary) never reads what another one wrote.
var executableID = sync.OnceValues(func() ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
})

// entry is the path of raw's entry, or "" when the cache is off or the
// executable cannot be read.
func (c formatCache) entry(raw []byte) string {
	if c.dir == "" {
		return ""
	}
	id, err := executableID()
	if err != nil {
		return ""
	}
	h := sha256.New()
	h.Write(id)
	h.Write(raw)
	key := hex.EncodeToString(h.Sum(nil))
	return filepath.Join(c.dir, key[:2], key)
}

// formatted returns the content of the file at path when it is what
// formatting raw gives, as remembered, or nil.
func (c formatCache) formatted(raw []byte, path string) []byte {
	entry := c.entry(raw)
	if entry == "" {
		return nil
	}
	want, err := os.ReadFile(entry)
	if err != nil || len(want) != sha256.Size {
		return nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if got := sha256.Sum256(src); !bytes.Equal(got[:], want) {
		return nil
	}
	// The modification time says when the entry was last used.
	if now := time.Now(); statOlder(entry, now.Add(-useInterval)) {
		_ = os.Chtimes(entry, now, now)
	}
	return src
}

// remember records that formatting raw gave src. A failure only costs a
// formatting next time, so it is not reported.
func (c formatCache) remember(raw, src []byte) {
	entry := c.entry(raw)
	if entry == "" {
		return
	}
	sum := sha256.Sum256(src)
	_ = os.MkdirAll(filepath.Dir(entry), 0o755)
	// Written aside and renamed: a concurrent run reads a whole entry or none.
	_ = writeAtomic(entry, sum[:])
}

// statOlder reports whether path was modified before t.
func statOlder(path string, t time.Time) bool {
	info, err := os.Stat(path)
	return err == nil && info.ModTime().Before(t)
}

// trim removes the entries unused for trimAge, at most once per
// trimInterval (the time of the last trim is that of the file trim.txt).
// Failures are not reported: at worst the cache keeps what it could not
// remove.
func (c formatCache) trim() {
	if c.dir == "" {
		return
	}
	now := time.Now()
	marker := filepath.Join(c.dir, "trim.txt")
	if info, err := os.Stat(marker); err == nil && info.ModTime().After(now.Add(-trimInterval)) {
		return
	}
	subdirs, _ := os.ReadDir(c.dir)
	for _, sub := range subdirs {
		if !sub.IsDir() {
			continue
		}
		entries, _ := os.ReadDir(filepath.Join(c.dir, sub.Name()))
		for _, e := range entries {
			if info, err := e.Info(); err == nil && info.ModTime().Before(now.Add(-trimAge)) {
				_ = os.Remove(filepath.Join(c.dir, sub.Name(), e.Name()))
			}
		}
	}
	if os.MkdirAll(c.dir, 0o755) == nil {
		_ = os.WriteFile(marker, []byte(now.UTC().Format(time.RFC3339)+"\n"), 0o644)
	}
}
