package handlers

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// dom is a parsed page or fragment for tests to query like a browser's
// querySelectorAll, with a small selector language: compound selectors
// (tag or *, #id, .class, [attr], [attr=value] or [attr="value"]) joined by
// spaces for descendants. The content of a <template> is searched too.
type dom struct {
	t    testing.TB
	root *html.Node
}

func parseDOM(t testing.TB, body string) dom {
	t.Helper()
	root, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return dom{t: t, root: root}
}

// all returns the elements matching sel, in document order.
func (d dom) all(sel string) []*html.Node {
	d.t.Helper()
	steps := parseSelector(d.t, sel)
	var out []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && matchesPath(c, steps) {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(d.root)
	return out
}

// one returns the only element matching sel, failing the test unless there
// is exactly one.
func (d dom) one(sel string) *html.Node {
	d.t.Helper()
	found := d.all(sel)
	if len(found) != 1 {
		d.t.Fatalf("%d elements match %q, want 1", len(found), sel)
	}
	return found[0]
}

// has reports whether any element matches sel.
func (d dom) has(sel string) bool {
	d.t.Helper()
	return len(d.all(sel)) > 0
}

// in is the part of the document under n.
func (d dom) in(n *html.Node) dom { return dom{t: d.t, root: n} }

// text is the text of n and its descendants with white space runs folded
// to one space, as a reader sees it.
func text(n *html.Node) string { return strings.Join(strings.Fields(rawText(n)), " ") }

// rawText is the text of n and its descendants as it stands, white space
// and all (for pre).
func rawText(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// attr is n's attribute key; ok is false when n has none.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// val is attr without ok: "" when absent.
func val(n *html.Node, key string) string {
	v, _ := attr(n, key)
	return v
}

// compound is one step of a selector.
type compound struct {
	tag     string
	id      string
	classes []string
	attrs   []attrTest
}

type attrTest struct {
	key, val string
	any      bool // [key]: present with any value
}

// parseSelector splits sel into its descendant steps.
func parseSelector(t testing.TB, sel string) []compound {
	t.Helper()
	var steps []compound
	for s := strings.TrimSpace(sel); s != ""; s = strings.TrimLeft(s, " ") {
		var c compound
		c.tag, s = takeName(s)
		for s != "" && s[0] != ' ' {
			var name string
			switch s[0] {
			case '#':
				name, s = takeName(s[1:])
				c.id = name
			case '.':
				name, s = takeName(s[1:])
				c.classes = append(c.classes, name)
			case '[':
				end := strings.IndexByte(s, ']')
				if end < 0 {
					t.Fatalf("selector %q: unclosed [", sel)
				}
				key, v, hasVal := strings.Cut(s[1:end], "=")
				c.attrs = append(c.attrs, attrTest{key: key, val: strings.Trim(v, `"`), any: !hasVal})
				s = s[end+1:]
			default:
				t.Fatalf("selector %q: unexpected %q", sel, s)
			}
		}
		steps = append(steps, c)
	}
	if len(steps) == 0 {
		t.Fatalf("empty selector")
	}
	return steps
}

// takeName splits a tag, id or class name off the front of s.
func takeName(s string) (string, string) {
	i := strings.IndexAny(s, "#.[ ")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

func (c compound) matches(n *html.Node) bool {
	if c.tag != "" && c.tag != "*" && n.Data != c.tag {
		return false
	}
	if c.id != "" && val(n, "id") != c.id {
		return false
	}
	classes := strings.Fields(val(n, "class"))
	for _, cl := range c.classes {
		if !contains(classes, cl) {
			return false
		}
	}
	for _, a := range c.attrs {
		v, ok := attr(n, a.key)
		if !ok || (!a.any && v != a.val) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// matchesPath reports whether n matches the last step and its ancestors
// the steps before it, in order.
func matchesPath(n *html.Node, steps []compound) bool {
	last := len(steps) - 1
	if !steps[last].matches(n) {
		return false
	}
	i := last - 1
	for p := n.Parent; p != nil && i >= 0; p = p.Parent {
		if p.Type == html.ElementNode && steps[i].matches(p) {
			i--
		}
	}
	return i < 0
}

func TestDOMQueries(t *testing.T) {
	t.Parallel()
	d := parseDOM(t, `<div id="a" class="x y"><p data-k="v w">one <b>two</b></p></div>`+
		`<template><tr id="r"><td>cell</td></tr></template><p>three</p>`)
	tests := []struct {
		sel  string
		want []string // text of each match
	}{
		{"p", []string{"one two", "three"}},
		{"#a p", []string{"one two"}},
		{"div.x.y [data-k]", []string{"one two"}},
		{`p[data-k="v w"] b`, []string{"two"}},
		{"p[data-k=v]", nil},
		{"div.z p", nil},
		{"template tr#r td", []string{"cell"}},
	}
	for _, tt := range tests {
		var got []string
		for _, n := range d.all(tt.sel) {
			got = append(got, text(n))
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("all(%q) = %q, want %q", tt.sel, got, tt.want)
		}
	}
}
