// Package static embeds the dashboard's CSS, icon, script and the vendored,
// version-pinned htmx files, so the binary needs no other file and no
// network.
package static

import "embed"

// FS holds every asset, served under /static/.
//
//go:embed style.css favicon.svg app.js notify.js vendor
var FS embed.FS
