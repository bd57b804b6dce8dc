// Command boneyard serves a dashboard of this host's bones workspaces on
// localhost.
package main

import "fmt"

var version = "dev"

func main() { fmt.Println("boneyard", version) }
