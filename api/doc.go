// Package api is routeapi's HTTP adapter: it implements the interface
// generated from openapi.yaml (gen.StrictServerInterface), mounts the
// kin-openapi validator in front of it and turns every error into one
// application/problem+json answer.
//
// A request passes these steps in this order (the file of each in
// brackets); NewServer and routes (server.go) put them together.
//
// Every request, first to last:
//   - noSniff (httpsem.go);
//   - requestID, then accessLog: one response-writer wrapper for the
//     access log line and Deps.Requests (the metrics), then recoverer
//     (log.go); the request state they share is in reqstate.go;
//   - limitHeaders, 431 (httpsem.go);
//   - cross-origin protection (net/http's, set up in server.go);
//   - headAsGet (httpsem.go);
//   - chi's routing: 404 and 405 (problem.go, httpsem.go), /openapi.* and
//     /docs (docs.go), /metrics (Deps.Extra, mounted by cmd/routeapi), the
//     operations.
//
// Then gen's wrapper binds the operation's header parameters: a header
// sent more than once (two Idempotency-Key headers) is a 400 through
// ErrorHandlerFunc (server.go), before any per-operation middleware, so it
// comes before 401, 413 and 415. A header's pattern and length are the
// validator's (below).
//
// Every operation of the contract, in gen's per-operation middlewares
// (bodyMiddlewares):
//   - dropUndeclaredBody for operations without a body (undeclaredbody.go);
//   - admit, the in-flight byte budget (admission.go);
//   - contentCoding, 415 (contentcoding.go);
//   - limitBody, 413 and 408 (bodyread.go);
//   - fenceBody, the bodies of POST /api/route and POST /api/events only
//     (routebody.go);
//   - the validator, with HEAD shown as GET (validate.go, httpsem.go);
//     a POST /api/route or POST /api/events request whose body the fence
//     took is validated first by quickValidation (validatequick.go), and
//     only one it does not take goes through the full validator;
//     a body the fence found breaking a rule of what Inngest keeps gets
//     that rule's 400 rather than the validator's findings about it
//     (validationProblem);
//   - oneJSONValue (onejson.go).
//
// Then the strict handler: withCredential (credential.go: the credential
// of every operation the contract secures) and the operation. PostRoute
// (route.go) reads the settings once per request
// (settingsFor, reqstate.go), identifies the caller (identity.go), applies
// the rate limit (ratelimit.go), takes data from the fence (routeData,
// routebody.go), builds the event and publishes it, through the
// Idempotency-Key store when a key is sent (idempotency.go). SendEvents
// (events.go, eventbody.go) does the same for a batch of catalogue events:
// their data from the union as sent (sentEvents), the fence's verdict
// (checkSentData), events.disabled, each event's size, one key for the
// batch, Publisher.PublishAll. GetHealthz
// and GetReadyz are in readiness.go. Every error becomes its problem in
// one place, toProblem and writeProblem (problem.go).
package api
