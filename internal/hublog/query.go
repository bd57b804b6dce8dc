package hublog

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxQueryText bounds a query's text, plain or regular expression.
const MaxQueryText = 200

// Query selects lines of hub logs; the zero Query selects every line.
type Query struct {
	Level string    // at least this severe (see Line.Severity): DEBUG, INFO, WARN or ERROR; "" for any
	Event string    // only lines of this event (lifecycle, rpc, hook, error, …); "" for any
	Text  string    // only lines containing it, ignoring case; "" for any
	Regex bool      // Text is a regular expression (Go's syntax, matched in linear time)
	Since time.Time // only lines at or after it (a plain line by the time it inherits); zero for any
}

// Filter is a compiled Query, safe for concurrent use.
type Filter struct {
	q     Query
	level int            // the least rank kept; 0 keeps every level
	text  []byte         // the lower-cased substring of an ASCII Text
	re    *regexp.Regexp // Text as a regular expression, or as a substring that is not ASCII
}

// Compile checks q and compiles it. An unknown level, an over-long text
// and an invalid regular expression are errors that say what is wrong.
func (q Query) Compile() (*Filter, error) {
	f := &Filter{q: q}
	if q.Level != "" {
		lv, ok := ParseLevel(q.Level)
		if !ok {
			return nil, fmt.Errorf("unknown level %q: use one of %s", q.Level, strings.Join(levels[:], ", "))
		}
		f.q.Level, f.level = lv, rank(lv)
	}
	if len(q.Text) > MaxQueryText {
		return nil, fmt.Errorf("the search text is %d bytes long: at most %d are allowed", len(q.Text), MaxQueryText)
	}
	if !utf8.ValidString(q.Text) {
		return nil, errors.New("the search text is not valid UTF-8")
	}
	switch {
	case q.Text == "":
	case q.Regex:
		re, err := regexp.Compile(q.Text)
		if err != nil {
			var se *syntax.Error
			if errors.As(err, &se) {
				return nil, fmt.Errorf("the regular expression is invalid: %s in %q", se.Code, se.Expr)
			}
			return nil, fmt.Errorf("the regular expression is invalid: %w", err)
		}
		f.re = re
	case isASCII(q.Text):
		f.text = lowerASCII(nil, []byte(q.Text))
	default:
		f.re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(q.Text))
	}
	return f, nil
}

// Query returns the query f was compiled from, its level normalised.
func (f *Filter) Query() Query { return f.q }

// Match reports whether f keeps l. A nil Filter keeps every line.
func (f *Filter) Match(l Line) bool {
	if f == nil {
		return true
	}
	var scratch []byte
	return f.matchText([]byte(l.Raw), &scratch) && f.matchParsed(l) && f.matchTime(l.Time)
}

// matchText reports whether raw contains the query's text; scratch is a
// buffer for the lower-cased line, reused between calls.
func (f *Filter) matchText(raw []byte, scratch *[]byte) bool {
	switch {
	case f.re != nil:
		return f.re.Match(raw)
	case f.text != nil:
		*scratch = lowerASCII((*scratch)[:0], raw)
		return bytes.Contains(*scratch, f.text)
	}
	return true
}

// mayMatch is a cheap test on a raw line, before it is parsed: false only
// when f cannot keep it. Parsing JSON costs more than searching the bytes
// for the level and event a kept line must contain.
func (f *Filter) mayMatch(raw []byte, scratch *[]byte) bool {
	if !f.matchText(raw, scratch) {
		return false
	}
	if (f.level <= rank("INFO") && f.q.Event == "") || !isJSONish(raw) {
		return true
	}
	lower := lowerASCII((*scratch)[:0], raw)
	*scratch = lower
	if f.q.Event != "" && !bytes.Contains(lower, lowerASCII(nil, []byte(f.q.Event))) {
		return false
	}
	switch f.level {
	case rank("WARN"):
		return bytes.Contains(lower, []byte("warn")) || bytes.Contains(lower, []byte("error"))
	case rank("ERROR"):
		return bytes.Contains(lower, []byte("error"))
	}
	return true
}

// matchParsed applies the level and event of f to a parsed line.
func (f *Filter) matchParsed(l Line) bool {
	if f.q.Event != "" && !strings.EqualFold(l.Event, f.q.Event) {
		return false
	}
	return f.level == 0 || rank(l.Severity()) >= f.level
}

// matchTime applies Since; a zero time (a plain line with no timed line
// before it) is kept.
func (f *Filter) matchTime(t time.Time) bool {
	return f.q.Since.IsZero() || t.IsZero() || !t.Before(f.q.Since)
}

func isJSONish(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t")
	return len(t) > 0 && t[0] == '{'
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerASCII appends src to dst with ASCII letters lower-cased.
func lowerASCII(dst, src []byte) []byte {
	dst = append(dst, src...)
	b := dst[len(dst)-len(src):]
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// tsKey starts the ts field as bones writes it.
var tsKey = []byte(`"ts":"`)

// lineTime is the ts of a JSON line without parsing the rest of it; ok is
// false for a plain line. A line whose ts is not written the way bones
// writes it is parsed whole.
func lineTime(raw []byte) (time.Time, bool) {
	if !isJSONish(raw) {
		return time.Time{}, false
	}
	if i := bytes.Index(raw, tsKey); i >= 0 {
		rest := raw[i+len(tsKey):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			if t, err := time.Parse(time.RFC3339Nano, string(rest[:j])); err == nil {
				return t, true
			}
		}
	}
	l := Parse(string(raw))
	return l.Time, !l.Plain
}
