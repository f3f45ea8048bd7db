// Package jsonscan walks JSON text without decoding it: the kinds of values,
// the keys of an object and the elements of an array, with no allocation.
// Generated decoders use it to see what encoding/json cannot tell them: which
// fields were present, and where a value of the wrong kind stands.
//
// It expects text that encoding/json has accepted; on anything else it stops
// (Next returns false) and never panics.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of a JSON value.
type Kind uint8

const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"invalid", "null", "boolean", "number", "string", "array", "object"}

func (k Kind) String() string { return kindNames[k] }

// KindOf returns the kind of the value that raw starts with (after spaces).
func KindOf(raw []byte) Kind {
	i := skipSpace(raw, 0)
	if i >= len(raw) {
		return Invalid
	}
	switch c := raw[i]; {
	case c == 'n':
		return Null
	case c == 't' || c == 'f':
		return Bool
	case c == '"':
		return String
	case c == '[':
		return Array
	case c == '{':
		return Object
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	}
	return Invalid
}

// IsInteger reports whether raw is a number without fraction or exponent.
func IsInteger(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || KindOf(raw) != Number {
		return false
	}
	return !bytes.ContainsAny(raw, ".eE")
}

// Unquote returns the contents of a JSON string. It allocates only when the
// string holds escapes.
func Unquote(raw []byte) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// ObjectIter walks the members of a JSON object.
type ObjectIter struct {
	data       []byte
	pos        int
	key, value []byte
	done       bool
}

// Members starts a walk of the object raw holds.
func Members(raw []byte) ObjectIter {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ObjectIter{done: true}
	}
	return ObjectIter{data: raw, pos: i + 1}
}

// Next moves to the next member; false at the end or on malformed text.
func (it *ObjectIter) Next() bool {
	if it.done {
		return false
	}
	d := it.data
	i := skipSpace(d, it.pos)
	if i < len(d) && d[i] == ',' {
		i = skipSpace(d, i+1)
	}
	if i >= len(d) || d[i] != '"' {
		it.done = true
		return false
	}
	end := skipString(d, i)
	if end < 0 {
		it.done = true
		return false
	}
	it.key = d[i+1 : end-1]
	i = skipSpace(d, end)
	if i >= len(d) || d[i] != ':' {
		it.done = true
		return false
	}
	i = skipSpace(d, i+1)
	vend := skipValue(d, i)
	if vend < 0 {
		it.done = true
		return false
	}
	it.value = d[i:vend]
	it.pos = vend
	return true
}

// Key returns the current member's key as written, without quotes and
// unescaped only if it holds no escapes (see KeyIs).
func (it *ObjectIter) Key() []byte { return it.key }

// Value returns the current member's raw value.
func (it *ObjectIter) Value() []byte { return it.value }

// KeyIs reports whether the current key names the field name the way
// encoding/json matches it: equal under Unicode case folding.
func (it *ObjectIter) KeyIs(name string) bool {
	if string(it.key) == name { // the common case: no copy, no folding
		return true
	}
	if bytes.IndexByte(it.key, '\\') >= 0 {
		var k string
		if err := json.Unmarshal(append(append([]byte{'"'}, it.key...), '"'), &k); err != nil {
			return false
		}
		return strings.EqualFold(k, name)
	}
	return len(it.key) >= len(name) && len(it.key) <= len(name)*utf8.UTFMax && equalFold(it.key, name)
}

// equalFold is strings.EqualFold for a byte slice and a string, without
// converting either.
func equalFold(b []byte, s string) bool {
	for i := 0; i < len(b) && i < len(s); i++ {
		if b[i] >= utf8.RuneSelf || s[i] >= utf8.RuneSelf {
			return strings.EqualFold(string(b[i:]), s[i:])
		}
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return len(b) == len(s)
}

// ArrayIter walks the elements of a JSON array.
type ArrayIter struct {
	data  []byte
	pos   int
	index int
	value []byte
	done  bool
}

// Elements starts a walk of the array raw holds.
func Elements(raw []byte) ArrayIter {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return ArrayIter{done: true}
	}
	return ArrayIter{data: raw, pos: i + 1, index: -1}
}

// Next moves to the next element; false at the end or on malformed text.
func (it *ArrayIter) Next() bool {
	if it.done {
		return false
	}
	d := it.data
	i := skipSpace(d, it.pos)
	if i < len(d) && d[i] == ',' {
		i = skipSpace(d, i+1)
	}
	if i >= len(d) || d[i] == ']' {
		it.done = true
		return false
	}
	end := skipValue(d, i)
	if end < 0 {
		it.done = true
		return false
	}
	it.value = d[i:end]
	it.pos = end
	it.index++
	return true
}

// Index returns the current element's index, from 0.
func (it *ArrayIter) Index() int { return it.index }

// Value returns the current element's raw value.
func (it *ArrayIter) Value() []byte { return it.value }

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at d[i] == '"', or -1.
func skipString(d []byte, i int) int {
	for j := i + 1; j < len(d); j++ {
		switch d[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at d[i], or -1.
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(d); j++ {
			switch d[j] {
			case '"':
				end := skipString(d, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	// A literal or a number: up to the next delimiter.
	j := i
	for j < len(d) {
		switch d[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if j == i {
				return -1
			}
			return j
		}
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// DeeperThan reports whether raw nests arrays and objects more than max
// levels deep. It stops at the first level past max, so a hostile body costs
// no more than reading it up to there.
func DeeperThan(raw []byte, max int) bool {
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			if i = skipString(raw, i); i < 0 {
				return false // malformed: encoding/json reports it
			}
			i-- // the loop's i++ steps past the closing quote
		case '[', '{':
			if depth++; depth > max {
				return true
			}
		case ']', '}':
			if depth--; depth < 0 {
				return false // malformed: encoding/json reports it
			}
		}
	}
	return false
}
