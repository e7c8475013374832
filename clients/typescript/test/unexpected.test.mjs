// What postRoute and sendEvents make of answers that are not routeapi's: something in front
// of routeapi (a captive portal, a misrouted proxy or rewrite) answering
// instead. A tiny HTTP server on 127.0.0.1 plays that part; each request says
// which answer it wants in its path. Run by `make test-client` after `tsc`
// has built dist/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createRouteClient, UNEXPECTED_RESPONSE } from "../dist/index.js";

const EVENT_ID = "3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c";
const ok200 = { success: "true", ids: ["01JD2Q7T9XK4M8V6ZB3N5R1C2F"], eventId: EVENT_ID };
const ok202 = { success: "true", ids: [], eventId: EVENT_ID, queued: true };
const json = "application/json";

// name -> [status, headers, body (string, or a value sent as JSON), chunked]
const answers = {
  "html-200": [200, { "content-type": "text/html; charset=utf-8" }, "<!doctype html><title>Sign in to Wi-Fi</title>"],
  "empty-200": [200, { "content-type": json, "content-length": "0" }, ""],
  "empty-200-chunked": [200, { "content-type": json }, "", true],
  "empty-200-no-type": [200, { "content-length": "0" }, ""],
  "missing-eventId": [200, { "content-type": json }, { success: "true", ids: ["x"] }],
  "missing-success": [200, { "content-type": json }, { ids: ["x"], eventId: EVENT_ID }],
  "success-not-string": [200, { "content-type": json }, { ...ok200, success: true }],
  "ids-not-array": [200, { "content-type": json }, { ...ok200, ids: "x" }],
  "ids-not-strings": [200, { "content-type": json }, { ...ok200, ids: [1] }],
  "eventId-number": [200, { "content-type": json }, { ...ok200, eventId: 42 }],
  "json-null": [200, { "content-type": json }, "null"],
  "json-array": [200, { "content-type": json }, [ok200]],
  "json-string": [200, { "content-type": json }, '"true"'],
  "original-route": [200, { "content-type": json }, { success: "true" }],
  "not-json": [200, { "content-type": json }, "{\"success\":"],
  "text-plain-200": [200, { "content-type": "text/plain" }, ok200],
  "no-content-type-200": [200, {}, ok200],
  "problem-json-200": [200, { "content-type": "application/problem+json" }, ok200],
  "queued-missing": [202, { "content-type": json }, { success: "true", ids: [], eventId: EVENT_ID }],
  "queued-with-ids": [202, { "content-type": json }, { ...ok202, ids: ["x"] }],
  "queued-false": [202, { "content-type": json }, { ...ok202, queued: false }],
  "status-201": [201, { "content-type": json }, ok200],
  "status-204": [204, {}, ""],
  // The contract's bodies, with what an additive change may bring.
  "ok-200": [200, { "content-type": "application/json; charset=utf-8", "x-request-id": "req-1" }, { ...ok200, extra: 1 }],
  "ok-202": [202, { "content-type": "Application/JSON", "x-request-id": "req-2" }, ok202],
  "html-502": [502, { "content-type": "text/html" }, "<html>Bad Gateway</html>"],
};

// sendEvents with a batch of two events: its answers (same shape as above).
const batch = [
  { name: "shop/order.placed", data: { orderId: "ord_1", currency: "EUR", total: 1, items: [{ sku: "s", quantity: 1, unitPrice: 1 }] } },
  { name: "app/feedback.submitted", data: { rating: 5, page: { path: "/" } } },
];
const EVENT_IDS = ["5b0f8c3e2a1d4f6e8b9c0d1e2f3a4b5c", "7c1e9d4f3b2a5e6f7a8b9c0d1e2f3a4b"];
const batch200 = { success: "true", eventIds: EVENT_IDS, ids: ["01JD2Q7T9XK4M8V6ZB3N5R1C2F", "01JD2Q7T9XK4M8V6ZB3N5R1C2G"] };
const batch202 = { success: "true", eventIds: EVENT_IDS, ids: [], queued: true };
const batchAnswers = {
  "batch-html-200": [200, { "content-type": "text/html" }, "<!doctype html><title>Sign in to Wi-Fi</title>"],
  "batch-route-200": [200, { "content-type": json }, ok200], // POST /api/route's answer, not this operation's
  "batch-missing-eventIds": [200, { "content-type": json }, { success: "true", ids: batch200.ids }],
  "batch-missing-ids": [200, { "content-type": json }, { success: "true", eventIds: EVENT_IDS }],
  "batch-eventIds-fewer": [200, { "content-type": json }, { ...batch200, eventIds: EVENT_IDS.slice(1) }],
  "batch-eventIds-more": [200, { "content-type": json }, { ...batch200, eventIds: [...EVENT_IDS, "x"] }],
  "batch-eventIds-not-strings": [200, { "content-type": json }, { ...batch200, eventIds: [1, 2] }],
  "batch-success-not-string": [200, { "content-type": json }, { ...batch200, success: true }],
  "batch-queued-missing": [202, { "content-type": json }, { success: "true", eventIds: EVENT_IDS, ids: [] }],
  "batch-queued-with-ids": [202, { "content-type": json }, { ...batch202, ids: ["x"] }],
  "batch-queued-eventIds-fewer": [202, { "content-type": json }, { ...batch202, eventIds: [EVENT_IDS[0]] }],
  "batch-status-201": [201, { "content-type": json }, batch200],
  "batch-ok-200": [200, { "content-type": "application/json; charset=utf-8", "x-request-id": "req-3" }, { ...batch200, extra: 1 }],
  "batch-ok-202": [202, { "content-type": json, "x-request-id": "req-4" }, batch202],
};
Object.assign(answers, batchAnswers);

let server;
let baseUrl;
// The last request the server received: method, path, headers, body.
let lastRequest;

before(async () => {
  server = createServer((req, res) => {
    const name = new URL(req.url, "http://x").searchParams.get("answer");
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      lastRequest = { method: req.method, path: new URL(req.url, "http://x").pathname, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      if (name === "hang-up") {
        req.socket.destroy();
        return;
      }
      const [status, headers, body, chunked] = answers[name];
      const text = typeof body === "string" ? body : JSON.stringify(body);
      res.writeHead(status, headers);
      if (chunked) res.flushHeaders();
      res.end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => server.close(resolve)));

// post sends one postRoute; the path stays /api/route and the fetch adds the
// answer's name as a query parameter.
function post(name) {
  const client = createRouteClient({
    baseUrl,
    fetch: (request) => {
      const url = new URL(request.url);
      url.searchParams.set("answer", name);
      return fetch(new Request(url, request));
    },
  });
  return client.postRoute({ orderId: "ord_123" });
}

// sendBatch sends the two-event batch through sendEvents, the same way.
function sendBatch(name, options) {
  const client = createRouteClient({
    baseUrl,
    fetch: (request) => {
      const url = new URL(request.url);
      url.searchParams.set("answer", name);
      return fetch(new Request(url, request));
    },
  });
  return client.sendEvents(batch, options);
}

const unexpected = Object.keys(answers).filter((n) => !n.startsWith("ok-") && n !== "html-502" && !n.startsWith("batch-"));
const unexpectedBatch = Object.keys(batchAnswers).filter((n) => !n.startsWith("batch-ok-"));

for (const name of unexpected) {
  test(`a 2xx that is not the contract's success body is a failure: ${name}`, async () => {
    const [status] = answers[name];
    const res = await post(name); // must resolve, never reject
    assert.equal(res.ok, false, `resolved ok: ${JSON.stringify(res.data)}`);
    assert.equal(res.status, status);
    assert.equal(res.problem.type, UNEXPECTED_RESPONSE);
    assert.equal(res.problem.type, "urn:routeapi:problem:unexpected-response");
    assert.equal(res.problem.status, status);
    assert.equal(res.problem.title, "Unexpected response");
    assert.match(res.problem.detail, new RegExp(`^HTTP ${status} with `));
    assert.equal("data" in res, false);
    assert.equal(res.response.status, status);
  });
}

test("the contract's 200 body, with a charset and a member added later, is a success", async () => {
  const res = await post("ok-200");
  assert.equal(res.ok, true, JSON.stringify(res.problem));
  assert.equal(res.status, 200);
  assert.equal(res.data.eventId, EVENT_ID);
  assert.deepEqual(res.data.ids, ok200.ids);
  assert.equal(res.requestId, "req-1");
});

test("the contract's 202 body is a success", async () => {
  const res = await post("ok-202");
  assert.equal(res.ok, true, JSON.stringify(res.problem));
  assert.equal(res.status, 202);
  assert.equal(res.data.queued, true);
  assert.equal(res.data.eventId, EVENT_ID);
  assert.equal(res.requestId, "req-2");
});

test("an error status that is not a problem document is an about:blank problem", async () => {
  const res = await post("html-502");
  assert.equal(res.ok, false);
  assert.equal(res.status, 502);
  assert.equal(res.problem.type, "about:blank");
  assert.equal(res.problem.status, 502);
  assert.equal(res.problem.detail, "<html>Bad Gateway</html>");
});

test("no HTTP answer (the connection closed) rejects", async () => {
  await assert.rejects(post("hang-up"), TypeError);
});

for (const name of unexpectedBatch) {
  test(`sendEvents: a 2xx that is not the contract's success body for the batch is a failure: ${name}`, async () => {
    const [status] = answers[name];
    const res = await sendBatch(name);
    assert.equal(res.ok, false, `resolved ok: ${JSON.stringify(res.data)}`);
    assert.equal(res.status, status);
    assert.equal(res.problem.type, UNEXPECTED_RESPONSE);
    assert.equal(res.problem.status, status);
    assert.match(res.problem.detail, new RegExp(`^HTTP ${status} with `));
    assert.equal("data" in res, false);
  });
}

test("sendEvents posts {events} to /api/events with the Idempotency-Key; the contract's 200 is a success", async () => {
  const res = await sendBatch("batch-ok-200", { idempotencyKey: "batch-key-1", headers: { "x-extra": "1" } });
  assert.equal(res.ok, true, JSON.stringify(res.problem));
  assert.equal(res.status, 200);
  assert.deepEqual(res.data.eventIds, EVENT_IDS);
  assert.deepEqual(res.data.ids, batch200.ids);
  assert.equal(res.requestId, "req-3");
  assert.equal(lastRequest.method, "POST");
  assert.equal(lastRequest.path, "/api/events");
  assert.equal(lastRequest.headers["idempotency-key"], "batch-key-1");
  assert.equal(lastRequest.headers["x-extra"], "1");
  assert.match(lastRequest.headers["content-type"], /^application\/json/);
  assert.deepEqual(JSON.parse(lastRequest.body), { events: batch });
});

test("sendEvents: the contract's 202 body is a success, without a key no Idempotency-Key", async () => {
  const res = await sendBatch("batch-ok-202");
  assert.equal(res.ok, true, JSON.stringify(res.problem));
  assert.equal(res.status, 202);
  assert.equal(res.data.queued, true);
  assert.deepEqual(res.data.eventIds, EVENT_IDS);
  assert.deepEqual(res.data.ids, []);
  assert.equal(lastRequest.headers["idempotency-key"], undefined);
});

test("sendEvents: an error status that is not a problem document is an about:blank problem", async () => {
  const res = await sendBatch("html-502");
  assert.equal(res.ok, false);
  assert.equal(res.status, 502);
  assert.equal(res.problem.type, "about:blank");
});

test("sendEvents: no HTTP answer rejects", async () => {
  await assert.rejects(sendBatch("hang-up"), TypeError);
});
