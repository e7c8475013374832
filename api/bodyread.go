package api

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// Lingering close. A server that answers before it has read the whole body
// (a 413 for a declared or detected oversize, a 503 overloaded) and then
// closes the connection with body bytes still arriving makes the kernel
// reset the connection: a client still writing its body sees "connection
// reset by peer" (or "broken pipe") instead of the answer. net/http alone
// reads at most 256 KiB after the handler (maxPostHandlerReadBytes) and
// otherwise closes 500 ms after the answer. RFC 9112 §9.6 asks a server to
// keep reading until the client has the answer; nginx does it with
// lingering_close. refuseUnread answers with Connection: close, sends the
// answer at once, then reads and discards up to lingerBytes for at most
// lingerTime before the handler returns and net/http closes the connection.
const (
	// lingerBytes bounds what is discarded after an early answer: more than
	// the largest body a client plausibly sends against a 3 MiB limit.
	lingerBytes = 16 << 20
	// lingerTime bounds how long a connection lingers after an early answer.
	lingerTime = 5 * time.Second
)

// refuseUnread answers p on a request whose body was not read to its end,
// with Connection: close, and lingers so that the answer reaches a client
// still sending the body. With Expect: 100-continue and nothing read yet,
// the answer goes out without a 100 Continue, so the client does not send
// the body at all; the linger then ends as soon as the client closes.
func refuseUnread(w http.ResponseWriter, r *http.Request, p *problemError) {
	rc := http.NewResponseController(w)
	// Read the body after answering (HTTP/1.x): the handler interleaves them.
	_ = rc.EnableFullDuplex()
	if p.header == nil {
		p.header = http.Header{}
	}
	p.header.Set("Connection", "close")
	writeProblem(w, r, p)
	if err := rc.Flush(); err != nil {
		return
	}
	_ = rc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, r.Body, lingerBytes)
}

// bodyReadProblem is the answer to a body that could not be read: 408
// request-timeout when it did not arrive within the server's read timeout
// (RFC 9110 §15.5.9: the client may repeat the request), 400 otherwise (a
// malformed chunked encoding, a client that went away). Either way the
// connection is closed after the answer: what is left of the body on the
// wire cannot be told from a next request.
func bodyReadProblem(err error) *problemError {
	h := http.Header{"Connection": {"close"}}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &problemError{kind: kindRequestTimeout, header: h, err: err,
			detail: "The request body did not arrive in time. Retry the request."}
	}
	return &problemError{kind: kindInvalid, header: h, err: err, detail: "The request body could not be read."}
}
