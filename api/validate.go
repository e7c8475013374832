package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/mail"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	nethttpmiddleware "github.com/oapi-codegen/nethttp-middleware"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/session"
)

// validator returns the kin-openapi request validator for spec. It checks
// content type, parameters, body schema and the presence of a credential
// before any of our code runs; the session itself is resolved later, in the
// handler. A request that quickValidation finds valid goes through
// without the full validation, which would take it too (the middleware's
// Skipper); every other one gets the full validation and its answer.
func validator(spec *openapi3.T, cookieNames []string) func(http.Handler) http.Handler {
	var quick *quickValidation // nil (no request skips) until built below
	full, opts := fullValidator(spec, cookieNames, func(r *http.Request) bool { return quick.valid(r) })
	// Built after fullValidator, which drops spec's servers (DoNotValidateServers):
	// both routers match on paths only.
	if q, err := newQuickValidation(spec, opts); err == nil {
		quick = q
	}
	return full
}

// fullValidator is kin-openapi's request validator for spec
// (nethttpmiddleware), every error an answer (validationProblem), and its
// options. A request for which skip (if not nil) is true is not validated.
func fullValidator(spec *openapi3.T, cookieNames []string, skip nethttpmiddleware.Skipper) (func(http.Handler) http.Handler, openapi3filter.Options) {
	opts := openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			return credentialPresent(in, cookieNames)
		},
		SchemaValidationOptions: schemaOptions(),
	}
	return nethttpmiddleware.OapiRequestValidatorWithOptions(spec, &nethttpmiddleware.Options{
		// The spec's servers entry is documentation; match on paths only.
		DoNotValidateServers:  true,
		SilenceServersWarning: true,
		// Keep the body exactly as sent (json.RawMessage data reaches the event unchanged).
		DiscardValidatedValue: true,
		Options:               opts,
		Skipper:               skip,
		ErrorHandlerWithOpts: func(_ context.Context, err error, w http.ResponseWriter, r *http.Request, _ nethttpmiddleware.ErrorHandlerOpts) {
			writeProblem(w, r, validationProblem(r.Context(), err))
		},
	}), opts
}

// schemaOptions are the validator's schema options: no schema or value in
// error messages, and the string formats of stringFormats. The formats go
// in as one map (WithStringFormatValidators, a copy of stringFormats that
// nothing else holds), which kin-openapi uses as it is: one
// WithStringFormatValidator per format made it build a new map at every
// validation of a value. Every validation shares that map, which
// kin-openapi only reads: no option after these may add a format with
// WithStringFormatValidator, which would write into it.
func schemaOptions() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.DisableSchemaErrorDetails(),
		openapi3.WithStringFormatValidators(maps.Clone(stringFormats)),
	}
}

// stringFormats are the string formats routeapi checks beyond kin-openapi's
// own (openapi3.SchemaStringFormats: date, date-time, byte), which knows
// the rest of the formats of OpenAPI and JSON Schema but checks none, and
// date-time, which kin-openapi checks too loosely. They
// are given per validator (openapi3.WithStringFormatValidator), not put in
// kin-openapi's global map. A string format in the contract's request
// bodies with no validator fails TestRequestFormatsChecked.
var stringFormats = map[string]openapi3.StringFormatValidator{
	// email: an addr-spec (RFC 5322 §3.4.1) in ASCII and nothing else:
	// net/mail parses it, and the address it finds must be the whole string
	// (no display name, no angle brackets, no comments, no white space).
	// ASCII, as JSON Schema's "email" (RFC 5321's Mailbox; "idn-email" is
	// the format for RFC 6531 addresses): net/mail also takes RFC 6532's
	// UTF-8, which would let "ada\u00a0@example.com" (a no-break space) or a
	// zero-width space in the domain pass as an address. Narrower than the
	// RFC, as net/mail is: a quoted local part ("a b"@example.com) and an
	// IPv6 domain literal are refused; an IPv4 literal (ada@[192.0.2.1]) and
	// a domain without a dot (ada@localhost) are taken.
	"email": openapi3.NewCallbackValidator(func(v string) error {
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v || !isASCII(v) {
			return errors.New("not an email address (local-part@domain, ASCII)")
		}
		return nil
	}),
	// date-time: kin-openapi's check (RFC 3339 §5.6's date-time, upper-case
	// T and Z, a real calendar day), and a leap second (second 60) only at
	// 23:59 UTC, the end of a UTC day (RFC 3339 §5.7; ajv-formats' rule):
	// kin-openapi takes :60 in any minute, which is no instant at all.
	"date-time": openapi3.NewCallbackValidator(func(v string) error {
		if err := kinDateTime.Validate(v); err != nil {
			return err
		}
		if !leapSecondAtDayEnd(v) {
			return errors.New("a leap second (second 60) is only at 23:59 UTC")
		}
		return nil
	}),
	// uuid: the string form of RFC 9562 §4 (8-4-4-4-12 hexadecimal
	// digits), whatever the version, as JSON Schema's "uuid" format.
	"uuid": openapi3.NewRegexpFormatValidator(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`),
}

// kinDateTime is kin-openapi's own date-time check, which stringFormats'
// date-time extends.
var kinDateTime = openapi3.SchemaStringFormats["date-time"]

// leapSecondAtDayEnd reports whether v, a date-time kin-openapi's pattern
// took ("2016-12-31T23:59:60Z", "…T18:59:60-05:00"), is not a leap second
// or is one at 23:59 UTC. The pattern fixes the positions: hour, minute and
// second at 11, 14 and 17; the offset is Z or its last six bytes (±hh:mm).
func leapSecondAtDayEnd(v string) bool {
	if len(v) < 20 || v[17:19] != "60" {
		return true
	}
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	minute := num(v[11:13])*60 + num(v[14:16])
	if z := v[len(v)-1]; z != 'Z' {
		off := v[len(v)-6:]
		shift := num(off[1:3])*60 + num(off[4:6])
		if off[0] == '+' {
			shift = -shift
		}
		minute += shift
	}
	return (minute%1440+1440)%1440 == 23*60+59
}

// isASCII reports whether s holds only ASCII characters.
func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// checksStringFormat reports whether the validator checks the string format name.
func checksStringFormat(name string) bool {
	_, ours := stringFormats[name]
	_, kins := openapi3.SchemaStringFormats[name]
	return ours || kins
}

// credentialPresent is the validator's AuthenticationFunc: it only checks that
// the scheme's credential is there. Whether it is valid is the handler's job,
// where a 401 can say why.
func credentialPresent(in *openapi3filter.AuthenticationInput, cookieNames []string) error {
	r := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "sessionCookie":
		if session.HasCookie(r, cookieNames) {
			return nil
		}
		return errors.New("no session cookie")
	case "bearerAuth":
		if session.HasBearer(r) {
			return nil
		}
		return errors.New("no bearer token")
	case "apiToken":
		if tok, ok := session.BearerToken(r); ok && apitoken.Is(tok) {
			return nil
		}
		return errors.New("no API token")
	}
	return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
}

// validationProblem turns the validator's error into one problem: 401 when no
// credential was sent, 415 for a body that is not JSON by its content type,
// 400 with field errors otherwise.
//
// A body that fenceBody found breaking a rule of what Inngest keeps
// unchanged gets that rule's 400, and the validator's findings about the
// body only where they are not about the offending member: the validator
// sees the body as encoding/json decodes it, which is what such a body is
// not there. Of a member sent twice it sees the last value only
// (`"rating":4,"rating":9` would be "at most 5", not the duplicate); a
// number beyond float64 is "cannot convert json.Number to float64". A 401,
// a 415 and a parameter error stay as the validator says.
func validationProblem(ctx context.Context, err error) *problemError {
	var f validationFindings
	for _, e := range flatten(err) {
		f.add(e)
	}
	p := f.problem(err)
	st := stateFrom(ctx)
	if st == nil || st.route == nil || st.route.problem == nil || p.kind != kindInvalid || len(f.params) > 0 {
		return p
	}
	fenced := acceptanceProblem(st.route.problem, "")
	fenced.err = fmt.Errorf("%w (validator: %w)", fenced.err, err)
	at := fenced.fields[0].Pointer
	others := 0
	for _, fe := range f.fields {
		if fe.Pointer == at || strings.HasPrefix(fe.Pointer, at+"/") {
			continue
		}
		fenced.fields = append(fenced.fields, fe)
		others++
	}
	if others > 0 {
		sort.SliceStable(fenced.fields, func(i, j int) bool { return pointerLess(fenced.fields[i].Pointer, fenced.fields[j].Pointer) })
		fenced.fields = fenced.fields[:min(len(fenced.fields), maxFieldErrors)]
		fenced.detail += fmt.Sprintf(" The body also does not match the schema in %d other places; errors[] lists them (at most %d in all).", others, maxFieldErrors)
	}
	return fenced
}

// validationFindings sorts the single errors of one validation failure by
// what they say about the request.
type validationFindings struct {
	security   bool     // no credential for any security scheme
	mediaType  string   // the body's Content-Type is not one the operation takes
	notJSON    bool     // the body does not decode as JSON
	noBody     bool     // a required body is missing
	params     []string // parameter errors, "in name: reason"
	fields     []gen.FieldError
	unexpected []error
}

// add sorts one of the validator's errors into f.
func (f *validationFindings) add(e error) {
	var secErr *openapi3filter.SecurityRequirementsError
	var reqErr *openapi3filter.RequestError
	switch {
	case errors.As(e, &secErr):
		f.security = true
	case errors.As(e, &reqErr) && reqErr.Parameter != nil:
		f.params = append(f.params, fmt.Sprintf("%s %s: %s", reqErr.Parameter.In, reqErr.Parameter.Name, reason(reqErr)))
	case errors.As(e, &reqErr) && reqErr.RequestBody != nil:
		f.addBody(reqErr)
	default:
		f.unexpected = append(f.unexpected, e)
	}
}

// addBody sorts an error about the request body into f.
func (f *validationFindings) addBody(reqErr *openapi3filter.RequestError) {
	switch {
	case reqErr.Err == nil && strings.HasPrefix(reqErr.Reason, "header Content-Type has unexpected value"):
		f.mediaType = reqErr.Reason
	case errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired):
		f.noBody = true
	case reqErr.Reason == "failed to decode request body":
		f.notJSON = true
	default:
		f.fields = append(f.fields, schemaFields(reqErr.Err)...)
	}
}

// problem is the one answer to f, the first that applies in order: no
// credential, wrong media type, no body, not JSON, contract mismatches,
// anything unexpected. err (the validator's whole error) is only logged.
func (f *validationFindings) problem(err error) *problemError {
	switch {
	case f.security:
		return &problemError{kind: kindUnauthenticated, err: err,
			detail: detailNoCredential}
	case f.mediaType != "":
		return &problemError{kind: kindUnsupportedMedia, err: err,
			detail: "Send the body as application/json."}
	case f.noBody:
		return &problemError{kind: kindInvalid, err: err, detail: "A JSON body is required."}
	case f.notJSON:
		return &problemError{kind: kindInvalid, err: err, detail: detailNotJSON}
	case len(f.fields) > 0 || len(f.params) > 0:
		return contractProblem(err, f.fields, f.params)
	case len(f.unexpected) > 0:
		return &problemError{kind: kindInternal, err: err, detail: detailInternal}
	}
	return &problemError{kind: kindInvalid, err: err, detail: "The request does not match the API contract."}
}

// contractProblem is the 400 for a request whose body fields or parameters
// break the contract: at most maxFieldErrors field errors, the parameter
// errors in the detail.
func contractProblem(err error, fields []gen.FieldError, params []string) *problemError {
	detail := "The request does not match the API contract."
	if len(fields) > 0 {
		detail = "The request body does not match the schema."
	}
	if n := len(fields); n > maxFieldErrors {
		// Bounded: one field error per unknown member made a 1.7 MB
		// body of 150 000 members a 10 MB answer.
		fields = fields[:maxFieldErrors]
		detail = fmt.Sprintf("The request body does not match the schema in %d places; the first %d are listed.", n, maxFieldErrors)
	}
	if len(params) > 0 {
		detail += " " + strings.Join(params, "; ") + "."
	}
	return &problemError{kind: kindInvalid, err: err, detail: detail, fields: fields}
}

// maxFieldErrors bounds the errors[] of one problem.
const maxFieldErrors = 20

// flatten unpacks kin-openapi's MultiError (nested or not) into single
// errors. Only a MultiError itself is unpacked, not one wrapped inside
// another error (a RequestError wraps its schema errors that way).
func flatten(err error) []error {
	if me, ok := err.(openapi3.MultiError); ok { //nolint:errorlint // the wrapper itself, on purpose
		var out []error
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// schemaFields turns schema errors into field errors with JSON pointers, in
// document order (array indexes compared as numbers), each at most once.
//
// kin-openapi reports a value that matches no schema of a oneOf as one error
// at the value ("value doesn't match any schema from \"oneOf\""), with the
// errors of the schemas it tried in its Origin; with a discriminator it
// tries only the schema the discriminator names, so those errors are
// exactly the event's own (each with its full path). schemaFields reports
// those in its place. A discriminator that names no schema is reported at
// the discriminator's member (discriminatorField).
func schemaFields(err error) []gen.FieldError {
	var out []gen.FieldError
	seen := map[gen.FieldError]bool{}
	for _, se := range schemaErrors(err) {
		f := schemaField(se)
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return pointerLess(out[i].Pointer, out[j].Pointer) })
	return out
}

// schemaErrors is every single schema error in err, a oneOf's replaced by
// the errors of the schemas it tried (see schemaFields).
func schemaErrors(err error) []*openapi3.SchemaError {
	var out []*openapi3.SchemaError
	for _, e := range flatten(err) {
		var se *openapi3.SchemaError
		if !errors.As(e, &se) {
			continue
		}
		var inner openapi3.MultiError
		if se.SchemaField == "oneOf" && se.Origin != nil && errors.As(se.Origin, &inner) {
			if nested := schemaErrors(inner); len(nested) > 0 {
				out = append(out, nested...)
				continue
			}
		}
		out = append(out, se)
	}
	return out
}

// schemaField is one schema error as a field error: the pointer of the
// offending member, and the validator's reason (which never shows the value).
func schemaField(se *openapi3.SchemaError) gen.FieldError {
	path := se.JSONPointer()
	switch se.SchemaField {
	case "discriminator":
		return discriminatorField(se, path)
	case "uniqueItems":
		// kin-openapi reports the array; point at the first item equal to an earlier one.
		if i := firstDuplicate(se.Value); i >= 0 {
			path = append(path, strconv.Itoa(i))
		}
	default:
		// kin-openapi reports an unknown property at its parent object; point at the property.
		var name string
		if _, err := fmt.Sscanf(se.Reason, "property %q is unsupported", &name); err == nil {
			path = append(path, name)
		}
	}
	return gen.FieldError{Pointer: pointer(path), Detail: se.Reason}
}

// discriminatorField is the field error for a oneOf whose discriminator
// member is missing, not a string, or names no schema of its mapping
// (kin-openapi reports it at the object, with SchemaField "discriminator"):
// it points at the member, and its detail lists the names the mapping has
// (for sendEvents, the catalogue's event names).
func discriminatorField(se *openapi3.SchemaError, path []string) gen.FieldError {
	if se.Schema == nil || se.Schema.Discriminator == nil { // kin-openapi sets both for this field; keep its reason otherwise
		return gen.FieldError{Pointer: pointer(path), Detail: se.Reason}
	}
	d := se.Schema.Discriminator
	names := slices.Sorted(maps.Keys(d.Mapping))
	known := strings.Join(names, ", ")
	detail := fmt.Sprintf("the event %s must be a string; the catalogue has %s", d.PropertyName, known)
	v, isString := se.Value.(string)
	switch {
	case strings.HasPrefix(se.Reason, "input does not contain"): // kin-openapi's reason for a missing member
		detail = fmt.Sprintf("the event %s is missing; the catalogue has %s", d.PropertyName, known)
	case isString:
		if len(v) > maxEchoedName {
			v = strings.ToValidUTF8(v[:maxEchoedName], "") + "…"
		}
		detail = fmt.Sprintf("unknown event %s %q; the catalogue has %s", d.PropertyName, v, known)
	}
	return gen.FieldError{Pointer: pointer(append(path, d.PropertyName)), Detail: detail}
}

// maxEchoedName bounds how much of an unknown discriminator value a detail repeats.
const maxEchoedName = 100

// firstDuplicate is the index of the first item of value (a decoded JSON
// array) equal to an earlier one, or -1.
func firstDuplicate(value any) int {
	items, ok := value.([]any)
	if !ok {
		return -1
	}
	for i := 1; i < len(items); i++ {
		for j := range i {
			if reflect.DeepEqual(items[i], items[j]) {
				return i
			}
		}
	}
	return -1
}

// pointerLess orders JSON pointers in document order for arrays: segment by
// segment, array indexes (decimal numbers) as numbers, names as strings.
func pointerLess(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		x, errX := strconv.Atoi(as[i])
		y, errY := strconv.Atoi(bs[i])
		if errX == nil && errY == nil {
			return x < y
		}
		return as[i] < bs[i]
	}
	return len(as) < len(bs)
}

// pointer renders path as an RFC 6901 JSON pointer ("" is the whole document).
func pointer(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return b.String()
}

// reason is a parameter error's reason without the schema dump.
func reason(e *openapi3filter.RequestError) string {
	var se *openapi3.SchemaError
	if errors.As(e.Err, &se) {
		return se.Reason
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Reason
}
