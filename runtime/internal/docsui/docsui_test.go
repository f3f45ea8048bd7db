package docsui

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

// TestScript: the embedded file is the bundle of the version version.go
// names (update.sh wrote both), and Gzip undoes to the same bytes.
func TestScript(t *testing.T) {
	head := Script()[:min(1000, len(Script()))]
	if !bytes.Contains(head, []byte("@scalar/api-reference "+Version)) {
		t.Fatalf("standalone.js does not open with @scalar/api-reference %s: run `make docs-viewer`\n%s", Version, head)
	}
	zr, err := gzip.NewReader(bytes.NewReader(Gzip()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, Script()) {
		t.Fatalf("Gzip: %d bytes back, err %v; want the %d bytes of Script", len(got), err, len(Script()))
	}
	if len(Hash()) != 32 {
		t.Errorf("Hash %q", Hash())
	}
}
