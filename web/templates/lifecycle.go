package templates

// Retry is an action a failure offers instead of what failed, e.g. "Stop
// anyway" after bones refused a stop for live swarm slots.
type Retry struct {
	Label   string // the button's text
	Path    string // where the form posts
	Confirm string // the browser's confirmation question
	Fields  []Field
}

// BonesNote says which bones CLI starts and stops hubs, or why none does.
type BonesNote struct {
	Path    string // its absolute path; "" when there is none
	Problem string // why there is none, and what to do
}

// What the hub lifecycle actions do, said the same way in the browser's
// confirmation dialog and on the confirmation page shown without
// JavaScript.
const (
	StartEffect      = "Runs bones hub start --detach in its directory, which returns once the hub answers."
	StopEffect       = "Runs bones hub stop there: SIGTERM, then SIGKILL after 2 s; the hub removes its own entry."
	RestartEffect    = "Stops it with bones hub stop (boneyard reaps it if that cannot end it), then runs bones hub start --detach."
	ForceStopEffect  = "Runs bones hub stop --force: the live swarm slots lose their hub."
	CleanupRunEffect = "Each ticked item is checked again first: one whose state changed since this preview is refused, not acted on."
)
