package handlers

import (
	"bytes"
	"context"
	"slices"
	"sync"

	"github.com/a-h/templ"

	"boneyard/internal/collector"
	"boneyard/web/templates"
)

// The parts of a page that live updates and actions swap in, and what
// changed between two snapshots. Fragments are rendered without a request's
// context: they are shared by every request and stream showing the view.

// fragment renders components for sharing.
func fragment(comps ...templ.Component) ([]byte, error) {
	return renderHTML(context.Background(), comps...)
}

// rowFragment is one rendered table row (as an out-of-band swap).
type rowFragment struct {
	status string
	html   []byte
}

// dashFragments are the parts of one dashboard view of one snapshot that
// live updates swap, each rendered once and shared by every stream showing
// that view.
type dashFragments struct {
	seq      uint64
	model    templates.Dashboard
	title    []byte
	health   []byte
	counts   []byte
	cleanup  []byte // the Clean up button
	orphans  []byte
	activity []byte // "" without a journal
	notices  []byte
	ids      []string
	rows     map[string]rowFragment

	// The whole section is needed only when rows come or go, so it is
	// rendered on first use.
	sectionOnce sync.Once
	section     []byte
	sectionErr  error
}

func buildDashFragments(snap *collector.Snapshot, v view, f formatter) (*dashFragments, error) {
	d := f.dashboardModel(snap, v)
	fr := &dashFragments{seq: snap.Seq, model: d, rows: make(map[string]rowFragment, len(d.Rows))}
	var err error
	for _, part := range []struct {
		dst  *[]byte
		comp templ.Component
	}{
		{&fr.title, templates.Title(d.Title)},
		{&fr.health, templates.HealthBanner(d.Health, true)},
		{&fr.counts, templates.Counts(d.Counts, true)},
		{&fr.cleanup, templates.CleanupButton(d.Cleanup, true)},
		{&fr.orphans, templates.OrphanSection(d.Orphans, d.Back, true)},
		{&fr.notices, templates.NoticeList(d.Notices, true)},
	} {
		if *part.dst, err = fragment(part.comp); err != nil {
			return nil, err
		}
	}
	if d.Remembers {
		if fr.activity, err = fragment(templates.ActivitySection(d.Activity, true)); err != nil {
			return nil, err
		}
	}
	for _, r := range d.Rows {
		html, err := fragment(templates.RowUpdate(r, d.Back))
		if err != nil {
			return nil, err
		}
		fr.ids = append(fr.ids, r.ID)
		fr.rows[r.ID] = rowFragment{status: r.Status, html: html}
	}
	return fr, nil
}

func (fr *dashFragments) sectionHTML() ([]byte, error) {
	fr.sectionOnce.Do(func() { fr.section, fr.sectionErr = fragment(templates.WorkspaceSection(fr.model, true)) })
	return fr.section, fr.sectionErr
}

// full is every live fragment of the view.
func (fr *dashFragments) full() ([]byte, error) {
	section, err := fr.sectionHTML()
	if err != nil {
		return nil, err
	}
	return slices.Concat(fr.title, fr.health, fr.counts, fr.cleanup, section, fr.orphans, fr.activity, fr.notices), nil
}

// sectionState tells which of its forms the workspace section takes: rows
// (or "no match"), the empty state, collecting or unlisted.
func (fr *dashFragments) sectionState() [3]bool {
	return [3]bool{fr.model.Empty, fr.model.Collecting, fr.model.Unlisted}
}

// diff is only what changed from prev to fr: the title, health banner,
// counts, Clean up button, orphan section, activity and notices when they
// differ; changed rows, highlighted when their status changed; deleted
// rows; or the whole section when rows were added or reordered or it
// changed form.
func (fr *dashFragments) diff(prev *dashFragments) ([]byte, error) {
	var buf bytes.Buffer
	for _, part := range [][2][]byte{{fr.title, prev.title}, {fr.health, prev.health}, {fr.counts, prev.counts}, {fr.cleanup, prev.cleanup},
		{fr.orphans, prev.orphans}, {fr.activity, prev.activity}, {fr.notices, prev.notices}} {
		if !bytes.Equal(part[0], part[1]) {
			buf.Write(part[0])
		}
	}
	sameForm := fr.sectionState() == prev.sectionState()
	sameSet := slices.Equal(fr.ids, prev.ids) && sameForm
	onlyRemoved := !sameSet && sameForm && len(fr.ids) > 0 && isSubsequence(fr.ids, prev.ids)
	if !sameSet && !onlyRemoved {
		section, err := fr.sectionHTML()
		if err != nil {
			return nil, err
		}
		buf.Write(section)
	}
	if onlyRemoved {
		for _, id := range prev.ids {
			if _, ok := fr.rows[id]; !ok {
				html, err := fragment(templates.RowDeleted(id))
				if err != nil {
					return nil, err
				}
				buf.Write(html)
			}
		}
	}
	for i, id := range fr.ids {
		old, had := prev.rows[id]
		cur := fr.rows[id]
		switch {
		case had && old.status != cur.status:
			r := fr.model.Rows[i]
			r.Changed = true
			html, err := fragment(templates.RowUpdate(r, fr.model.Back))
			if err != nil {
				return nil, err
			}
			buf.Write(html)
		case (sameSet || onlyRemoved) && had && !bytes.Equal(old.html, cur.html):
			buf.Write(cur.html)
		}
	}
	return buf.Bytes(), nil
}

// isSubsequence reports whether sub is seq with some elements left out.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}

// detailFragments are the live parts of one workspace's page.
type detailFragments struct {
	title string
	html  []byte // title, health banner and #detail
}

func buildDetailFragments(snap *collector.Snapshot, id string, f formatter) (*detailFragments, error) {
	health := templates.HealthBanner(f.health(snap), true)
	noticeList := templates.NoticeList(notices(snap), true)
	w := shownWorkspace(snap, id)
	if w == nil {
		// Without a listing, absence proves nothing: keep the page as it is.
		if !snap.Listed() {
			t := title(snap)
			html, err := fragment(templates.Title(t), health, noticeList)
			return &detailFragments{title: t, html: html}, err
		}
		gone := templates.Detail{Gone: true, Row: templates.Row{ID: id}}
		t := title(snap, "gone")
		if evs := history(snap, id); len(evs) > 0 {
			gone = f.forgottenModel(snap, id, evs)
			t = gone.Title
		}
		html, err := fragment(templates.Title(t), health, templates.DetailSection(gone, true), noticeList)
		return &detailFragments{title: t, html: html}, err
	}
	d := f.detailModel(snap, w)
	html, err := fragment(templates.Title(d.Title), health, templates.DetailSection(d, true), noticeList)
	return &detailFragments{title: d.Title, html: html}, err
}

// diff is all of fr when anything changed from prev, else nothing.
func (fr *detailFragments) diff(prev *detailFragments) []byte {
	if bytes.Equal(fr.html, prev.html) {
		return nil
	}
	return fr.html
}

// diffKey names a dashboard update: a view, from one snapshot to the
// cache's.
type diffKey struct {
	view string
	from uint64
}

func (s *Server) dashFragments(snap *collector.Snapshot, v view) (*dashFragments, error) {
	return s.frags.get(snap.Seq, v.query().Encode(), func() (*dashFragments, error) {
		return buildDashFragments(snap, v, s.formatter())
	})
}

// dashFull is every live fragment of a view, for streams that catch up.
func (s *Server) dashFull(snap *collector.Snapshot, v view) ([]byte, error) {
	return s.fulls.get(snap.Seq, v.query().Encode(), func() ([]byte, error) {
		fr, err := s.dashFragments(snap, v)
		if err != nil {
			return nil, err
		}
		return fr.full()
	})
}
