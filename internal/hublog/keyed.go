package hublog

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Several state directories are read together under keys (the ids of
// their workspaces): a merged page's places and a feed's cursors, each
// encoded for a URL as key-value pairs joined by "~".

// MaxKeys bounds the sources of an encoded Marks or Cursors.
const MaxKeys = 512

// Marks are places in several state directories' logs, by key: where the
// next older page of a merged search starts for each source that has one.
type Marks map[string]Mark

// Cursors are cursors in several state directories' logs, by key.
type Cursors map[string]Cursor

// String encodes the marks for a URL, sorted by key.
func (m Marks) String() string {
	return encodeKeyed(m, func(v Mark) string { return v.String() })
}

// String encodes the cursors for a URL, sorted by key.
func (c Cursors) String() string {
	return encodeKeyed(c, func(v Cursor) string { return v.String() })
}

// ParseMarks decodes what Marks.String encoded; "" is no marks.
func ParseMarks(s string) (Marks, error) { return decodeKeyed(s, ParseMark) }

// ParseCursors decodes what Cursors.String encoded; "" is no cursors.
func ParseCursors(s string) (Cursors, error) { return decodeKeyed(s, ParseCursor) }

func encodeKeyed[V any](m map[string]V, enc func(V) string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"-"+enc(m[k]))
	}
	return strings.Join(parts, "~")
}

func decodeKeyed[V any](s string, dec func(string) (V, error)) (map[string]V, error) {
	if s == "" {
		return nil, nil
	}
	if strings.Count(s, "~") >= MaxKeys {
		return nil, errors.New("log position names more sources than boneyard follows")
	}
	out := map[string]V{}
	for part := range strings.SplitSeq(s, "~") {
		k, v, ok := strings.Cut(part, "-")
		if !ok || !validKey(k) {
			return nil, fmt.Errorf("log position %q is not one boneyard wrote", part)
		}
		val, err := dec(v)
		if err != nil {
			return nil, err
		}
		out[k] = val
	}
	return out, nil
}

// validKey is a source key: 1 to 64 letters and digits.
func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, c := range k {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
