package api

import (
	"bytes"
	"errors"
	"fmt"
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
	return &problemError{kind: kindInvalid, header: h, err: err, detail: detailBodyUnreadable}
}

// limitBody reads the whole body up front, refusing more than limitOf(r) bytes
// with 413, so that the validator and the handler work on a body of known
// size.
func limitBody(limitOf func(*http.Request) int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := limitOf(r)
			tooLarge := &problemError{kind: kindTooLarge, detail: fmt.Sprintf("The request body is larger than %d bytes.", limit)}
			if r.ContentLength > limit {
				refuseUnread(w, r, tooLarge) // declared: nothing read (bodyread.go)
				return
			}
			data, err := readBody(r.Body, r.ContentLength, limit)
			if err != nil {
				writeProblem(w, r, bodyReadProblem(err)) // 408 for a timeout, else 400
				return
			}
			if int64(len(data)) > limit {
				refuseUnread(w, r, tooLarge) // detected: the rest is still arriving
				return
			}
			_ = r.Body.Close()
			r, st := withState(r)
			st.body, st.hasBody = data, true
			setBody(r, data)
			next.ServeHTTP(w, r)
		})
	}
}

// readBody reads at most limit+1 bytes of body into one buffer sized by
// the Content-Length hint when it is sent (-1 otherwise), so a body of the
// announced size is read without growing or copying the buffer. (Neither
// io.ReadAll nor bytes.Buffer.ReadFrom does that: ReadFrom wants 512 free
// bytes before every read and doubles a buffer of exactly the right size.)
func readBody(body io.Reader, hint, limit int64) ([]byte, error) {
	size := int64(512)
	if hint >= 0 {
		size = min(hint, limit) + 1
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(body, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, fmt.Errorf("read request body: %w", err)
		}
	}
}

// bytesBody is a request body read from memory.
type bytesBody struct{ bytes.Reader }

func (*bytesBody) Close() error { return nil }

// setBody makes data r's body (for Body and GetBody, which kin-openapi reads).
func setBody(r *http.Request, data []byte) {
	b := &bytesBody{}
	b.Reset(data)
	r.Body = b
	r.ContentLength = int64(len(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}
