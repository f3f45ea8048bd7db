package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aymanbagabas/go-udiff"
)

// Write puts files on disk, rewriting only those whose content changed (so
// build caches and editors are not disturbed), each atomically. It returns
// the paths it wrote or removed.
func Write(files []File) ([]string, error) {
	var changed []string
	for _, f := range files {
		old, err := os.ReadFile(f.Path)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return changed, err
		}
		switch {
		case f.Content == nil && exists:
			if err := os.Remove(f.Path); err != nil {
				return changed, err
			}
		case f.Content == nil, exists && bytes.Equal(old, f.Content):
			continue
		default:
			if err := writeAtomic(f.Path, f.Content); err != nil {
				return changed, err
			}
		}
		changed = append(changed, f.Path)
	}
	return changed, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bifrost_gen-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Change is a file whose content on disk differs from what generate would write.
type Change struct {
	Path string
	Diff string // unified diff from the file on disk to the generated content
}

// Stale compares files with the disk, writing nothing.
func Stale(files []File) ([]Change, error) {
	var out []Change
	for _, f := range files {
		old, err := os.ReadFile(f.Path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if bytes.Equal(old, f.Content) && (err == nil) == (f.Content != nil) {
			continue
		}
		diff := udiff.Unified(f.Path+" (on disk)", f.Path+" (generated)", string(old), string(f.Content))
		if f.Content == nil {
			diff = fmt.Sprintf("%s: stale: its package has no workflows any more\n%s", f.Path, diff)
		}
		out = append(out, Change{Path: f.Path, Diff: diff})
	}
	return out, nil
}
