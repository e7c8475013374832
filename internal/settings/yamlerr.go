package settings

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is a problem with one key of the settings file: its dotted
// path (route.maxBodyBytes, apiTokens[0].sha256) and, when known, the line
// it is on.
type FieldError struct {
	// Line is the 1-based line of the key in the file; 0 when unknown.
	Line int
	// Path is the key's dotted path from the top of the file.
	Path string
	// Msg says what is wrong, in the file's terms.
	Msg string
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Path, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// fieldErr returns a FieldError for path without a line (Parse adds it).
func fieldErr(path, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// located is a node of the document with its dotted path and the Go type it
// decodes into (nil where anything goes, e.g. under public).
type located struct {
	path string
	node *yaml.Node
	typ  reflect.Type
	key  *yaml.Node // the key node of a mapping value; nil for list items and the root
}

// shape walks the document along the Go type t (the yaml tags of file) and
// returns every node with its path, plus a FieldError for each unknown key.
// yaml.v3's own KnownFields error names the key but prints the whole Go
// struct type; this names the key's path, its line and the keys allowed.
func shape(doc *yaml.Node, t reflect.Type) ([]located, []error) {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	var w shapeWalk
	w.walk(root, nil, "", t)
	return w.nodes, w.errs
}

// shapeWalk collects what shape finds, depth first.
type shapeWalk struct {
	nodes []located
	errs  []error
}

// walk records n at path and descends into it along t.
func (w *shapeWalk) walk(n, key *yaml.Node, path string, t reflect.Type) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	w.nodes = append(w.nodes, located{path: path, node: n, typ: t, key: key})
	if t != nil {
		w.descend(n, path, t)
	}
}

// descend walks the children of n: the fields of a struct, the items of a
// slice, the values of a map (under which anything goes). A node whose kind
// does not fit t has no children here; decoding reports it.
func (w *shapeWalk) descend(n *yaml.Node, path string, t reflect.Type) {
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		w.walkStruct(n, path, t)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			w.walk(item, nil, path+"["+strconv.Itoa(i)+"]", t.Elem())
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.walk(n.Content[i+1], n.Content[i], joinPath(path, n.Content[i].Value), nil)
		}
	}
}

// walkStruct descends into the keys of mapping n that struct t has, and
// records a FieldError for each key it does not.
func (w *shapeWalk) walkStruct(n *yaml.Node, path string, t reflect.Type) {
	fields, names := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		child := joinPath(path, k.Value)
		ft, ok := fields[k.Value]
		if !ok {
			w.errs = append(w.errs, &FieldError{Line: k.Line, Path: child, Msg: unknownKeyMsg(k.Value, path, names)})
			continue
		}
		w.walk(v, k, child, ft)
	}
}

// yamlFields maps struct t's yaml keys to their Go types, and lists the
// keys in the struct's order.
func yamlFields(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = t.Field(i).Type
			names = append(names, name)
		}
	}
	return fields, names
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// unknownKeyMsg says a key is unknown, suggests the nearest known one and
// lists the keys allowed where it is.
func unknownKeyMsg(key, parent string, known []string) string {
	where := "at the top level"
	if parent != "" {
		where = "under " + parent
	}
	msg := "unknown key"
	best, bestDist := "", 3 // suggest only close misspellings
	lkey := strings.ToLower(key)
	for _, k := range known {
		lk := strings.ToLower(k)
		d := editDistance(lkey, lk)
		if len(lkey) >= 3 && strings.HasPrefix(lk, lkey) {
			d = min(d, 1) // a key cut short
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	return fmt.Sprintf("%s; the keys %s are %s", msg, where, strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// typeErrLine matches one of yaml.v3's TypeError lines:
// "line 3: cannot unmarshal !!str `maybe` into bool".
var typeErrLine = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")

// typeErrors rewrites yaml.v3's type errors (which name Go types) as
// FieldErrors naming the key, its line and the kind of value wanted.
func typeErrors(te *yaml.TypeError, nodes []located) []error {
	var errs []error
	for _, line := range te.Errors {
		errs = append(errs, typeError(line, nodes))
	}
	return errs
}

// typeError rewrites one of yaml.v3's type error lines; a line it does not
// recognise is kept as it is.
func typeError(line string, nodes []located) error {
	m := typeErrLine.FindStringSubmatch(line)
	if m == nil {
		return errors.New(line)
	}
	ln, _ := strconv.Atoi(m[1])
	tag, got, goType := m[2], m[3], m[4]
	at := nodeOnLine(nodes, ln, tag, got)
	if at == nil {
		return fmt.Errorf("line %d: want %s", ln, wantKind(nil, goType))
	}
	msg := "want " + wantKind(at.typ, goType)
	switch {
	case got != "":
		msg += fmt.Sprintf(", got %q", got)
	case tag == "map":
		msg += ", got a mapping"
	case tag == "seq":
		msg += ", got a list"
	}
	keyLine := at.node.Line
	if at.key != nil {
		keyLine = at.key.Line
	}
	return &FieldError{Line: keyLine, Path: at.path, Msg: msg}
}

// nodeOnLine finds the node a type error on line ln is about: the value
// yaml.v3 quotes (got), else a node of the kind it names (tag); the last
// match is the innermost on the line. Nil when none fits.
func nodeOnLine(nodes []located, ln int, tag, got string) *located {
	var at *located
	for i := range nodes {
		n := &nodes[i]
		if n.node.Line != ln || n.typ == nil || n.path == "" {
			continue
		}
		if (got != "" && quotes(got, n.node.Value)) || (got == "" && n.node.Tag == "!!"+tag) {
			at = n
		}
	}
	return at
}

// quotes reports whether got is how yaml.v3 quotes value in a type error:
// the value itself, or for one longer than 10 bytes its first 7 and "..."
// (yaml.v3 decode.go, terror).
func quotes(got, value string) bool {
	if len(value) > 10 {
		return got == value[:7]+"..."
	}
	return got == value
}

// wantKind names the kind of YAML value t decodes from.
func wantKind(t reflect.Type, goType string) string {
	if t == nil {
		return "a different kind of value (" + goType + ")"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "a mapping (key: value)"
	case reflect.Slice:
		return "a list"
	}
	return "a " + t.Kind().String()
}

// locate adds the line of its path to a FieldError that has none.
func locate(err error, nodes []located) error {
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line > 0 {
		return err
	}
	if i := slices.IndexFunc(nodes, func(n located) bool { return n.path == fe.Path }); i >= 0 {
		n := nodes[i]
		fe.Line = n.node.Line
		if n.key != nil {
			fe.Line = n.key.Line
		}
	}
	return err
}

// syntaxError cleans yaml.v3's syntax error ("yaml: line 3: did not find
// expected key") into "parse settings: line 3: did not find expected key".
func syntaxError(err error) error {
	return fmt.Errorf("parse settings: %s", strings.TrimPrefix(err.Error(), "yaml: "))
}
