package templates

// CleanupLink is the dashboard's Clean up button: shown when the plan it
// opens has anything to do.
type CleanupLink struct {
	N       int    // items in the plan the link opens; 0 hides the button
	Href    string // the cleanup preview to open
	Summary string // what it opens, e.g. "3 items to clean up: see the preview first"
}

// Cleanup is the data of GET /cleanup, and of the answer to POST /cleanup.
type Cleanup struct {
	Page
	IdleOn    bool   // stop idle hubs too
	IdleHours string // the idle limit's field, as entered or the default
	Groups    []CleanupGroup
	Unknown   string // why there is no plan right now; "" when there is one
	Results   []CleanupResultRow
	Back      string // this preview's URL, for the confirmation page to return to
}

// CleanupGroup is the items of one kind.
type CleanupGroup struct {
	Kind  string // the items' kind, e.g. "reap-process"
	Title string // e.g. "Orphan hub processes to reap"
	Items []CleanupItemRow
}

// CleanupItemRow is one item of the plan.
type CleanupItemRow struct {
	ID     string // the item's id, the value its checkbox sends
	Label  string // what it acts on: a workspace's name, or "pid N"
	Cwd    Path
	Reason string
	Action string
}

// CleanupResultRow is what running one item came to.
type CleanupResultRow struct {
	ID      string
	Label   string
	Outcome string // done, gone, refused, failed
	Message string
}
