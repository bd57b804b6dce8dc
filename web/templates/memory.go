package templates

import "strconv"

// The view models of what boneyard remembers: events, notices, resource
// charts.

// EventRow is one journal event as the activity list and a timeline show it.
type EventRow struct {
	Time        Stamp  // Rel is the clock time, e.g. "14:02:05" or "Mar 3 14:02:05"
	Kind        string // e.g. "hub-died"
	WorkspaceID string // links the name to its page when set
	Name        string
	Cwd         Path
	PID         int
	Detail      string
}

// Activity is the dashboard's recent activity: the newest events of the
// kind chosen.
type Activity struct {
	Rows   []EventRow
	Kinds  []Option // the kind filter
	Keep   []Field  // the table's view, kept by the kind filter's form
	Kind   string   // the kind shown, "" for all
	Clear  string   // the dashboard URL without the kind filter
	APIURL string   // the same events as JSON
}

// Notices are the latest events worth a desktop notification; the page's
// script shows the new ones when the user asked for notifications.
type Notices struct {
	Run   string // tells one boneyard run's serials from another's
	Items []Notice
}

// Notice is one desktop notification.
type Notice struct {
	ID          string
	Serial      uint64
	Kind        string
	WorkspaceID string
	Title       string
	Body        string
	URL         string // the workspace's page, "" for an orphan process
}

// Spark is a small line chart of one resource: a polyline in a fixed
// viewBox (SparkWidth by SparkHeight for rows, ChartWidth by ChartHeight
// for the detail page).
type Spark struct {
	Points string // "x,y x,y …" in the viewBox; "" when there is nothing to draw
	Label  string // what it shows, for screen readers and on hover
}

// Chart is a detail page's chart of one resource, with its axes.
type Chart struct {
	Spark
	Title string // "CPU", "Memory (RSS)"
	Max   string // the top of the y axis, e.g. "3.2%"
	From  string // the x axis's start, e.g. "13:05"
	To    string // its end, e.g. "14:05"
}

// The charts' viewBoxes. A detail chart's plot leaves room for the axis
// labels: chartLeft on the left, chartBottom below.
const (
	SparkWidth  = 60
	SparkHeight = 16
	ChartWidth  = 320
	ChartHeight = 96
	chartLeft   = 48
	chartBottom = 16
	chartTop    = 4
	chartRight  = 4
)

// ChartPlot is the area of a chart's viewBox the line is drawn in.
type ChartPlot struct{ X, Y, W, H int }

// DetailPlot is the plot area of every detail chart.
var DetailPlot = ChartPlot{X: chartLeft, Y: chartTop, W: ChartWidth - chartLeft - chartRight, H: ChartHeight - chartBottom - chartTop}

func itoa(n int) string { return strconv.Itoa(n) }

// viewBox is the viewBox attribute of a w by h chart.
func viewBox(w, h int) string { return "0 0 " + itoa(w) + " " + itoa(h) }

// The paths of what boneyard remembers.
const (
	NoticesPath   = "/notices" // the latest notices, for a hidden tab
	APIEventsPath = APIPrefix + "events"
	APIKnownPath  = APIPrefix + "known"
)

// ForgetPath forgets a down workspace.
func ForgetPath(id string) string { return WorkspacePath(id) + "/forget" }

// AckPath acknowledges a workspace's hub death.
func AckPath(id string) string { return WorkspacePath(id) + "/ack" }

// FaviconPath is the icon with a badge of n (a route pattern passes
// ":n"); the plain icon is StaticPath("favicon.svg").
func FaviconPath(n string) string { return "/favicon/" + n }
