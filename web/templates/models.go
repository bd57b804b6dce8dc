// Package templates holds the dashboard's templ components and the view
// models they render. Components only render the values they are given: every
// string here is already formatted by the handlers, and none of it is trusted
// (templ escapes it all).
package templates

import "strings"

// Flash is a one-shot message shown in #flash. Output and Retry are shown
// only by the answer they were made for: they never travel in the cookie
// that carries a message across a redirect.
type Flash struct {
	Error   bool
	Message string
	Output  string `json:"-"` // what a command printed, shown preformatted; "" for none
	Retry   *Retry `json:"-"` // an action offered instead, e.g. Stop anyway; nil for none
}

// Page is what every full page needs.
type Page struct {
	Title     string // document title, e.g. "(2) boneyard"
	EventsURL string // SSE stream for live updates; "" for none
	TitleURL  string // the page's current title as text, for a hidden tab that closed its stream; set with EventsURL
	Flash     *Flash
	Health    Health
	ReadOnly  bool    // the server takes no action: say so, and render no action forms
	Favicon   string  // the icon's URL, with the title's count as a badge; "" for the plain icon
	Notices   Notices // for desktop notifications; used with EventsURL
}

// Health says that the data shown is not the whole truth: nothing has been
// collected yet, or the latest collection failed in part. The zero value
// shows nothing.
type Health struct {
	Collecting bool   // no collection has finished yet
	Error      string // what failed in the latest collection
	Hint       string // what the user can do about it
	// Notes are what the collection left out on purpose: files refused,
	// registry warnings, other users' hubs. Shown without alarm.
	Notes []string
}

// Stamp is a formatted point in time: "3m ago" with the exact UTC time on
// hover.
type Stamp struct {
	Rel string
	UTC string
}

// Path is a path shortened with ~ for display, full path on hover.
type Path struct {
	Short  string
	Full   string
	Elided bool // Short leaves out part of the middle of the path
}

// Parts splits Short after each slash, so a cell can offer a line break
// there rather than inside a name. A path that fits a narrow cell's line
// stays whole.
func (p Path) Parts() []string {
	if len(p.Short) <= 24 {
		return []string{p.Short}
	}
	return strings.SplitAfter(p.Short, "/")
}

// Count is the number of workspaces in one status.
type Count struct {
	Status string
	N      int
	Detail string // how N splits, on hover, e.g. "1 workspace, 1 process"
}

// Row is one workspace as the table and the detail page show it.
type Row struct {
	ID           string
	Name         string
	Cwd          Path
	Status       string
	OrphanReason string
	Reason       string // why a stopped hub is stopped; "" otherwise
	HubURL       string
	HubLink      bool // HubURL is http(s) on loopback and may be an href
	NATSURL      string
	PID          int
	CanReap      bool   // the pid is live, so Reap makes sense
	CanStart     bool   // Start is offered
	CanStop      bool   // Stop and Restart are offered
	LifecycleOff string // why Start, Stop and Restart are shown turned off; "" when they work
	CreateTime   string // the hub process's start (RFC 3339, ns) when known
	Uptime       string
	AgentID      string
	LastTouched  Stamp
	StartedAt    Stamp
	Lock         string
	CPU          string
	RSS          string
	Ports        string
	Children     string
	Changed      bool // its status changed since the client's last update
	ReadOnly     bool // no action forms: the server takes no action

	Down     bool   // a workspace boneyard remembers whose entry is gone: no hub, no entry actions
	Summary  string // how it went down, e.g. "hub died 14:02 (killed: …)"; "" unless Down
	Death    string // its hub's death not acknowledged yet, e.g. "hub died 14:02"; "" when none
	Flapping string // e.g. "hub died 3 times in 10 min" when its hub keeps dying
	CPUSpark Spark  // the last hour's CPU share
	RSSSpark Spark  // the last hour's memory
}

// OrphanRow is one process-only orphan hub.
type OrphanRow struct {
	PID        int
	Elapsed    string
	Cwd        Path // Short "unknown" when the cwd is unknown
	Reason     string
	Cmd        string
	CreateTime string // RFC 3339 with nanoseconds, round-tripped by the form
}

// Field is a hidden form field.
type Field struct {
	Name  string
	Value string
}

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// Column is a sortable table header.
type Column struct {
	Label string
	Href  string // link that sorts by this column (toggling direction)
	Sort  string // aria-sort value: "ascending", "descending" or "none"
}

// Header is one header cell of the workspaces table: one column, or
// several that share the cell.
type Header struct {
	Columns []Column
	Sort    string // aria-sort of the cell: its sorted column's, else "none"
}

// View is the dashboard's filter and sort state, from the query string.
type View struct {
	Status   string
	Q        string
	Statuses []Option
	Sorts    []Option
	Dirs     []Option
	Filtered bool     // a filter hides some rows
	Ignored  []string // query values not understood, e.g. `unknown status "bogus": showing all`
	Kind     string   // the recent activity's kind filter, kept by the form
}

// Orphans is the process-only orphan section.
type Orphans struct {
	Rows     []OrphanRow
	Hidden   int    // orphans the view's filter hides
	Unknown  bool   // not collected yet, or the registry or process table could not be read
	Clear    string // the dashboard URL without the filter
	ReadOnly bool   // no reap forms: the server takes no action
}

// Dashboard is the data of GET /.
type Dashboard struct {
	Page
	Counts     []Count
	Headers    []Header
	Rows       []Row
	Orphans    Orphans
	Empty      bool // the registry has no entries at all
	Collecting bool // no collection has finished yet: show neither rows nor the empty state
	Unlisted   bool // the registry could not be listed: Health says why
	View       View
	Back       string // this view's URL, for actions to return to
	Register   RegisterForm
	Activity   Activity
	Remembers  bool        // boneyard keeps a journal: show the activity
	Bones      BonesNote   // the bones CLI that starts and stops hubs
	Cleanup    CleanupLink // the Clean up button
}

// RegisterForm keeps what the user typed when registration failed.
type RegisterForm struct {
	Cwd  string
	Name string
}

// Detail is the data of GET /workspaces/{id}.
type Detail struct {
	Page
	Row  Row
	Log  LogPanel
	Back string
	// Gone renders #detail as a workspace no longer in the registry: no
	// fields that look live, no actions. Only Row.ID is needed with it.
	Gone bool
	// Forgotten renders #detail as a workspace boneyard no longer
	// remembers, from its history: Row.ID, Name and Cwd are set.
	Forgotten bool

	Remembers bool       // boneyard keeps a journal: show the timeline
	Timeline  []EventRow // the workspace's events, newest first
	LastPID   int        // a down workspace's last hub pid
	LastSeen  Stamp      // when a down workspace was last in the registry
	CPUChart  Chart
	RSSChart  Chart
	Bones     BonesNote // the bones CLI that starts and stops hubs
}

// Confirm is the no-JavaScript confirmation page of reap and remove.
type Confirm struct {
	Page
	Verb      string // "reap" or "remove"
	Target    string // what is acted on, for the question
	Effect    string // what the action does, as the JavaScript dialog says it
	Action    string // form action URL
	Hidden    []Field
	CancelURL string
}

// Message is a small page with a heading and a message (401, 403, 404, ...).
type Message struct {
	Page
	Heading string
	Text    string
	Hint    string // optional second paragraph; rendered as code when Code is set
	Code    string
}

// What each destructive action does, said the same way in the browser's
// confirmation dialog and on the confirmation page shown without JavaScript.
const (
	ReapEffect        = "SIGTERM, then SIGKILL after 2 s; its entry is removed."
	RemoveEffect      = "A hub process still running keeps running, as an orphan."
	ReapProcessEffect = "It gets SIGTERM, then SIGKILL after 2 s."
	ForgetEffect      = "It leaves the dashboard; its history stays."
)
