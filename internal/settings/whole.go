package settings

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// wholeNumber reads the count at key: a YAML integer (tag !!int: decimal,
// 0x…, 0o…, with underscores), nil when the key is left out (a zero Node) or null. yaml.v3
// itself would decode a float into an int64 by dropping its fraction,
// silently (262144.9 as 262144, 1e3 as 1000); a count must be written as
// the whole number it is.
func wholeNumber(key string, n *yaml.Node) (*int64, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil { // *anchor: the anchored value
		n = n.Alias
	}
	if n.Kind == 0 || n.ShortTag() == "!!null" {
		return nil, nil
	}
	var v int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		return nil, fmt.Errorf("settings: %s: want a whole number (line %d), got %.40q", key, n.Line, n.Value)
	}
	return &v, nil
}
