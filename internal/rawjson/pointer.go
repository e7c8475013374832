package rawjson

import (
	"strconv"
	"strings"
)

// pointerAt returns the JSON pointer (RFC 6901) of the value, or member
// name, that starts at offset off of data (valid JSON), in one pass up to off.
func pointerAt(data []byte, off int) string {
	type frame struct {
		object  bool
		wantKey bool
		key     string
		index   int
	}
	var stack []frame
	build := func() string {
		var b strings.Builder
		for _, f := range stack {
			b.WriteByte('/')
			if f.object {
				b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(f.key))
			} else {
				b.WriteString(strconv.Itoa(f.index))
			}
		}
		return b.String()
	}
	s := scanner{data: data}
	for i := s.space(0); i < len(data); i = s.space(i) {
		if top := len(stack) - 1; data[i] == '"' && top >= 0 && stack[top].object && stack[top].wantKey {
			end, _, _ := s.str(i)
			stack[top].key = string(unquote(data[i:end]))
			stack[top].wantKey = false
			if off < end { // in the name itself: the member's pointer
				return build()
			}
			i = end
			continue
		}
		if i >= off {
			return build()
		}
		switch data[i] {
		case '{':
			stack = append(stack, frame{object: true, wantKey: true})
			i++
		case '[':
			stack = append(stack, frame{})
			i++
		case '}', ']':
			stack = stack[:len(stack)-1]
			i++
		case ',':
			if top := &stack[len(stack)-1]; top.object {
				top.wantKey = true
			} else {
				top.index++
			}
			i++
		case ':':
			i++
		case '"':
			end, _, _ := s.str(i)
			i = end
		default:
			end, _ := s.value(i, 0)
			i = end
		}
	}
	return build()
}
