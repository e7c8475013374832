package rawjson

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// numberRule applies RuleNumberRange and RuleNumberPrecision to tok, a
// valid JSON number: it returns "" when the float64 Inngest decodes tok to
// (encoding/json into any) has exactly tok's value, else the rule broken and
// what to tell the caller.
//
// "Exactly tok's value" compares decimal values, not spellings: 1.0, 1 and
// 1e0 are one number, as is -0 (kept as -0 by float64 and encoding/json).
// Every number JavaScript's JSON.stringify or encoding/json writes passes, as
// they write the shortest decimal that reads back as the same float64.
func numberRule(tok []byte) (Rule, string) {
	if len(tok) <= 15 && !hasExponent(tok) {
		// At most 15 significant digits between 1e-13 and 1e15: float64
		// keeps every such decimal (DBL_DIG is 15).
		return "", ""
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil { // the only error for valid syntax: out of range (±Inf)
		return RuleNumberRange, fmt.Sprintf("The number %s is out of range: Inngest decodes numbers as 64-bit floats (IEEE 754 binary64, at most about 1.8e308) and refuses the event.", short(tok))
	}
	var buf [32]byte
	back := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	if sameDecimal(tok, back) {
		return "", ""
	}
	return RuleNumberPrecision, fmt.Sprintf("The number %s would reach Inngest as %s: Inngest decodes numbers as 64-bit floats (IEEE 754 binary64: integers up to 2^53 and about 15 significant digits are exact). Send more digits than that as a string.", short(tok), jsonFloat(f))
}

// jsonFloat writes f as encoding/json (and JavaScript) write a float64.
func jsonFloat(f float64) string {
	b, _ := json.Marshal(f) // finite here: cannot fail
	return string(b)
}

func hasExponent(tok []byte) bool {
	for _, c := range tok {
		if c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}

// short is tok for a message, cut to 40 bytes.
func short(tok []byte) string {
	if len(tok) > 40 {
		return string(tok[:37]) + "..."
	}
	return string(tok)
}

// decimal is a number's value as 0.digits × 10^exp (digits without leading
// or trailing zeros; none for zero) and its sign.
type decimal struct {
	neg    bool
	digits []byte
	exp    int64
}

// expCap bounds exponents while parsing: beyond it a number is out of
// float64's range anyway (and ParseFloat said so, or made it 0).
const expCap = 1 << 40

// parseDecimal reads a valid JSON number (or strconv's 'e' format).
func parseDecimal(tok []byte) decimal {
	var d decimal
	i := 0
	if tok[0] == '-' {
		d.neg = true
		i++
	}
	var point int64 // digits before the decimal point, counted in d.digits
	seenPoint := false
	leading := true
	for ; i < len(tok); i++ {
		c := tok[i]
		if c == '.' {
			seenPoint = true
			continue
		}
		if !digit(c) {
			break
		}
		if leading && c == '0' {
			if seenPoint {
				point--
			}
			continue
		}
		leading = false
		d.digits = append(d.digits, c)
		if !seenPoint {
			point++
		}
	}
	var exp int64
	if i < len(tok) { // 'e' or 'E'
		i++
		neg := false
		if tok[i] == '+' || tok[i] == '-' {
			neg = tok[i] == '-'
			i++
		}
		for ; i < len(tok); i++ {
			if exp < expCap {
				exp = exp*10 + int64(tok[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	for len(d.digits) > 0 && d.digits[len(d.digits)-1] == '0' {
		d.digits = d.digits[:len(d.digits)-1]
	}
	d.exp = point + exp
	if len(d.digits) == 0 {
		d.exp = 0
	}
	return d
}

// sameDecimal reports whether two number texts have the same value (and sign).
func sameDecimal(a, b []byte) bool {
	x, y := parseDecimal(a), parseDecimal(b)
	return x.neg == y.neg && x.exp == y.exp && string(x.digits) == string(y.digits)
}
