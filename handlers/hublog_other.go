//go:build !unix

package handlers

// openNonblock is 0 where files have no non-blocking open; such platforms
// have no FIFOs in the file system either.
const openNonblock = 0
