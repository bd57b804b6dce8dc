package handlers

import (
	"net/url"
	"slices"
	"testing"
)

func TestHeadersKeepASortLinkPerColumn(t *testing.T) {
	t.Parallel()
	hs := view{sort: "nats", desc: true}.headers()
	var labels []string
	for _, h := range hs {
		for _, c := range h.Columns {
			labels = append(labels, c.Label)
		}
	}
	want := []string{"Status", "Name", "Directory", "Hub URL", "NATS URL", "PID", "CPU", "RSS", "Ports", "Children", "Uptime", "Agent ID", "Last touched", "Lock"}
	if !slices.Equal(labels, want) {
		t.Errorf("header links %q, want one per column %q", labels, want)
	}
	urls := hs[3]
	if len(urls.Columns) != 2 || urls.Sort != "descending" || urls.Columns[1].Sort != "descending" ||
		urls.Columns[0].Sort != "none" || urls.Columns[1].Href != "/?sort=nats" || urls.Columns[0].Href != "/?sort=hub" {
		t.Errorf("URLs header %+v", urls)
	}
}

func TestParseView(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query   string
		href    string
		ignored []string
	}{
		{"", "/", nil},
		{"status=orphan&q=+api+&sort=cpu&dir=desc", "/?dir=desc&q=api&sort=cpu&status=orphan", nil},
		{"status=bogus&sort=nope&dir=up", "/", []string{`unknown status "bogus": showing all`, `unknown sort "nope": showing problems first`}},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		v := parseView(q)
		if v.href() != tt.href || !slices.Equal(v.ignored, tt.ignored) {
			t.Errorf("parseView(%q): href %q, ignored %q; want %q, %q", tt.query, v.href(), v.ignored, tt.href, tt.ignored)
		}
	}
}
