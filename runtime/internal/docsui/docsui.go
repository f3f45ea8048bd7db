// Package docsui embeds the API reference viewer that the runtime serves
// for /api/docs, so that the page works where no CDN can be reached:
// Scalar's standalone bundle (@scalar/api-reference, MIT, see LICENSE),
// dist/browser/standalone.js of the npm package at Version.
//
// The bundle is fetched from the npm registry by update.sh
// (`make docs-viewer`), never edited by hand; README.md says how to move to
// another version.
package docsui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed" // the viewer
	"encoding/hex"
	"sync"
)

//go:embed standalone.js
var script []byte

// Script returns the viewer's JavaScript, as the npm package ships it. The
// caller must not modify it.
func Script() []byte { return script }

// Hash returns the first 16 bytes of the SHA-256 of Script, in hex: a name
// for its content, for versioned URLs and ETags.
var Hash = sync.OnceValue(func() string {
	sum := sha256.Sum256(script)
	return hex.EncodeToString(sum[:16])
})

// Gzip returns Script compressed with gzip, computed on the first call
// (about a quarter of the size). The caller must not modify it.
var Gzip = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level: no error
	_, _ = zw.Write(script)                                // a bytes.Buffer does not fail
	_ = zw.Close()
	return b.Bytes()
})
