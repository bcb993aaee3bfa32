package sim

import _ "embed"

// DemoYAML is the built-in demo scenario that `hazgate sim` runs.
//
//go:embed demo.yaml
var DemoYAML []byte
