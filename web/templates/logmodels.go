package templates

// The view models of the hub log console: a workspace's log page, the
// merged page of every hub, and the log panel of a detail page.

// LogTime is a log line's time: local, with the UTC time on hover.
type LogTime struct {
	Local string // "17:05:53", or "Dec 1 17:05:53" on another day; "" when unknown
	UTC   string // RFC 3339, for the datetime attribute
	Title string // "2026-12-01 17:05:53 UTC"
}

// LogSource is the workspace a line of the merged view comes from.
type LogSource struct {
	ID   string
	Name string
	Href string
}

// LogLine is one hub log line as the log views show it.
type LogLine struct {
	Time       LogTime
	Level      string // the badge: DEBUG, INFO, WARN, ERROR, or "panic"; "" for a plain line
	LevelClass string // the badge's CSS class suffix: debug, info, warn, error, panic
	Event      string
	Msg        string // the message, or a plain line's text
	Plain      bool   // shown in monospace, as written
	Alert      bool   // an ERROR or panic line, which stands out
	Gap        bool   // not a line: a note that lines were passed over
	Summary    string // the fields in one short line: "agent=system rpc=tasks.create"
	Fields     []Field
	Raw        string // the line as written, shown on expand
	Cut        string // how much of the line was left out, e.g. "1.0 MiB left out"; "" when whole
	File       string // the file it is in: hub.log, hub.log.1, …
	Source     *LogSource
}

// LogFilters is the filter form of a log view, from the query string.
type LogFilters struct {
	Action     string // the URL the form is sent to
	Levels     []Option
	Events     []Option
	Sinces     []Option
	Workspaces []Option // the merged view's workspace choice; nil elsewhere
	Q          string
	Regex      bool
	Error      string   // why the filter cannot be applied (an invalid regular expression)
	Ignored    []string // query values not understood, e.g. `unknown level "LOUD": showing every level`
	Filtered   bool     // a filter is set
	Clear      string   // the view without filters
}

// LogList is a list of log lines and what goes with it.
type LogList struct {
	Lines     []LogLine
	Older     string // the URL of the next older lines; "" when there are none
	OlderNote string // why there may be more than Older says, e.g. "Searched back to 17:05:00 …"
	Newest    string // the URL of the newest lines, when this page shows older ones
	Empty     string // shown while there is no line
	Live      bool   // new lines arrive over the page's event stream
	Merged    bool   // lines are tagged with their workspace
}

// LogFile is a downloadable log file.
type LogFile struct {
	Name    string
	Size    string
	Href    string // "" when it is refused
	Refused string // why it is not served ("is a symbolic link")
}

// LogPage is GET /workspaces/{id}/log and GET /logs.
type LogPage struct {
	Page
	Heading   string
	Workspace *LogSource // nil on the merged page
	Path      Path       // the log's path; zero on the merged page
	Filters   LogFilters
	List      LogList
	Files     []LogFile
	Notes     []string // files or workspaces that could not be read, and why
}

// LogPanel is the hub log on a workspace's detail page: its newest lines,
// live, with a way to the console.
type LogPanel struct {
	Path    Path
	Console string // the workspace's log console
	Filters LogFilters
	List    LogList
	Files   []LogFile
	Notes   []string
}
