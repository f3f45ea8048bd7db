package runtime

import (
	"encoding/json"
	"unicode/utf8"
)

// DefaultStoreLimit is Options.StoreLimit when zero: the bytes of input,
// result and logs an execution record keeps of a sync call.
const DefaultStoreLimit = 64 << 10

// truncated is what a record keeps of a value larger than the limit: that it
// was cut, its size, and its beginning, so an operator sees what it was.
type truncated struct {
	Truncated bool   `json:"truncated"`
	Size      int    `json:"size"`
	Preview   string `json:"preview"`
}

// previewBytes is how much of a truncated value the record shows.
const previewBytes = 1024

// capJSON returns raw when it fits in limit bytes, else the truncated marker.
func capJSON(raw json.RawMessage, limit int) json.RawMessage {
	if len(raw) <= limit {
		return raw
	}
	head := raw[:min(previewBytes, len(raw))]
	for len(head) > 0 && !utf8.Valid(head) { // do not cut a character in two
		head = head[:len(head)-1]
	}
	out, err := json.Marshal(truncated{Truncated: true, Size: len(raw), Preview: string(head)})
	if err != nil {
		return nil
	}
	return out
}
