package templates

// The dashboard's URL paths, built here for the routes, the components and
// the handlers alike. A route registers a pattern by passing the Echo
// parameter as the argument, e.g. WorkspacePath(":id").

const (
	DashboardPath = "/"
	RegisterPath  = "/workspaces" // POST: register a workspace
	EventsPath    = "/events"     // the SSE stream of a page
	TitlePath     = "/title"      // a page's current title, for hidden tabs
	HealthPath    = "/healthz"
	MetricsPath   = "/metrics" // Prometheus exposition
	LoginPath     = "/login"   // POST: the token, for a session
	StaticPrefix  = "/static/"
	APIPrefix     = "/api/"

	CleanupPath = "/cleanup" // GET: the cleanup preview; POST: run it

	APIWorkspacesPath = APIPrefix + "workspaces"
	APIProcessesPath  = APIPrefix + "processes"
	APICleanupPath    = APIPrefix + "cleanup"
)

// WorkspacePath is a workspace's detail page.
func WorkspacePath(id string) string { return RegisterPath + "/" + id }

// RemovePath removes a workspace's registry entry.
func RemovePath(id string) string { return WorkspacePath(id) + "/remove" }

// ReapPath reaps a workspace's hub.
func ReapPath(id string) string { return WorkspacePath(id) + "/reap" }

// ReapProcessPath reaps a process-only orphan hub.
func ReapProcessPath(pid string) string { return "/processes/" + pid + "/reap" }

// StaticPath is an embedded asset.
func StaticPath(name string) string { return StaticPrefix + name }

// StartPath starts a workspace's hub.
func StartPath(id string) string { return WorkspacePath(id) + "/start" }

// StopPath stops a workspace's hub.
func StopPath(id string) string { return WorkspacePath(id) + "/stop" }

// RestartPath restarts a workspace's hub.
func RestartPath(id string) string { return WorkspacePath(id) + "/restart" }

// The hub log console's paths.
const (
	LogsPath    = "/logs" // every hub's log, merged
	APILogsPath = APIPrefix + "logs"
)

// WorkspaceLogPath is a workspace's hub log console.
func WorkspaceLogPath(id string) string { return WorkspacePath(id) + "/log" }

// WorkspaceLogFilePath downloads one of a workspace's log files (hub.log,
// hub.log.1, …) as it is.
func WorkspaceLogFilePath(id, name string) string { return WorkspaceLogPath(id) + "/files/" + name }

// APIWorkspaceLogPath is a workspace's hub log as JSON.
func APIWorkspaceLogPath(id string) string { return APIWorkspacesPath + "/" + id + "/log" }
