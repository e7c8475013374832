// The README's "Typing Inngest functions" snippet (test/types/inngest-function.ts,
// compiled here by tsc), and its "Typed events: Inngest functions" snippet
// (test/types/catalogue-functions.ts), each run as an app served by inngest 4.x against the real
// Inngest dev server v1.0.0 that `make run` uses: routeapi publishes an event
// and the function's run completes with what it read from the event. With
// INNGEST_DEV set the snippet turns checkpointing off, which is what the
// README tells people to do against this dev server. Run by `make test-client`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRouteClient } from "../dist/index.js";
import { startInngest, startRouteAPI, waitFor } from "../../../testdata/harness/harness.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const EVENT = "app/route.requested";

let inngest;
let api;
let app;
let outDir;
let snippet;
let catalogueApp;
let catalogueSnippet;

// compile writes test/types/inngest-function.js under outDir (inside this
// package, so that "inngest" resolves from its node_modules).
function compile() {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const flags = ["--strict", "--target", "ES2022", "--module", "NodeNext", "--moduleResolution", "NodeNext", "--lib", "ES2022,DOM", "--rootDir", ".", "--outDir", outDir];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [tsc, ...flags, "test/types/inngest-function.ts", "test/types/catalogue-functions.ts"], { cwd: root, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tsc: ${stdout}${stderr}`));
      else resolve();
    });
  });
}

before(async () => {
  inngest = await startInngest();
  api = await startRouteAPI({ inngestURL: inngest.url });
  outDir = mkdtempSync(join(root, ".test-build-"));
  await compile();
  // The SDK reads INNGEST_DEV when the client is made (at import): dev mode,
  // against this dev server; the snippet turns checkpointing off with it.
  process.env.INNGEST_DEV = inngest.url;
  snippet = await import(pathToFileURL(join(outDir, "test", "types", "inngest-function.js")).href);
  const { serve } = await import("inngest/node");
  const handler = serve({ client: snippet.inngest, functions: [snippet.onRoute] });
  app = createServer(handler);
  await new Promise((resolve, reject) => app.listen(0, "127.0.0.1", resolve).on("error", reject));
  const { port } = app.address();
  // Sync the app: a PUT makes the SDK register its functions with the dev server.
  const res = await fetch(`http://127.0.0.1:${port}/api/inngest`, { method: "PUT" });
  assert.equal(res.status, 200, await res.text());

  // The "Typed events: Inngest functions" snippet: an app of its own.
  catalogueSnippet = await import(pathToFileURL(join(outDir, "test", "types", "catalogue-functions.js")).href);
  catalogueApp = createServer(serve({ client: catalogueSnippet.inngest, functions: [catalogueSnippet.onOrderPlaced, catalogueSnippet.onFeedbackSubmitted] }));
  await new Promise((resolve, reject) => catalogueApp.listen(0, "127.0.0.1", resolve).on("error", reject));
  const sync = await fetch(`http://127.0.0.1:${catalogueApp.address().port}/api/inngest`, { method: "PUT" });
  assert.equal(sync.status, 200, await sync.text());
});

after(async () => {
  if (app) await new Promise((resolve) => { app.closeAllConnections(); app.close(resolve); });
  if (catalogueApp) await new Promise((resolve) => { catalogueApp.closeAllConnections(); catalogueApp.close(resolve); });
  await api?.stop();
  await inngest?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

test("the snippet's client has checkpointing off under INNGEST_DEV", () => {
  assert.equal(snippet.inngest.options.checkpointing, false);
});

// completedRun waits until the dev server's runs of an event are all
// finished, and returns the one run.
async function completedRun(event) {
  let runs = [];
  await waitFor(`a completed run of ${event.internal_id}`, 60_000, async () => {
    const r = await fetch(`${inngest.url}/v1/events/${event.internal_id}/runs`);
    runs = (await r.json()).data ?? [];
    return runs.length > 0 && runs.every((run) => ["Completed", "Failed", "Cancelled"].includes(run.status));
  }).catch((err) => {
    throw new Error(`${err.message}; runs: ${JSON.stringify(runs)}`);
  });
  assert.equal(runs.length, 1, JSON.stringify(runs));
  assert.equal(runs[0].status, "Completed", JSON.stringify(runs));
  return runs[0];
}

test("a typed batch sent with sendEvents runs each catalogue event's function (the generated triggers) to completion", async () => {
  const token = api.token({ sub: "fn-batch-user" });
  const client = createRouteClient({ baseUrl: api.url, headers: { cookie: `next-auth.session-token=${token}` } });
  const order = { orderId: "ord_fnbatch", currency: "GBP", total: 7, items: [{ sku: "a", quantity: 2, unitPrice: 1 }, { sku: "b", quantity: 5, unitPrice: 1 }] };
  const feedback = { rating: 5, page: { path: "/thanks" }, tags: ["praise"] };
  const res = await client.sendEvents([
    { name: "shop/order.placed", data: order },
    { name: "app/feedback.submitted", data: feedback },
  ]);
  assert.equal(res.ok, true, JSON.stringify(res.problem));
  const [orderEvent] = await inngest.waitEvent("shop/order.placed", res.data.eventIds[0]);
  const [feedbackEvent] = await inngest.waitEvent("app/feedback.submitted", res.data.eventIds[1]);
  assert.deepEqual((await completedRun(orderEvent)).output, {
    orderId: "ord_fnbatch",
    currency: "GBP",
    units: 7,
    coupon: null,
    userId: "fn-batch-user",
  });
  assert.deepEqual((await completedRun(feedbackEvent)).output, {
    rating: 5,
    path: "/thanks",
    praise: true,
    requestId: res.requestId,
  });
});

test("routeapi's event runs the README's function to completion on the dev server v1.0.0", async () => {
  const token = api.token({ sub: "fn-user", email: "fn@example.com", name: "Fn User" });
  const client = createRouteClient({ baseUrl: api.url, headers: { cookie: `next-auth.session-token=${token}` } });
  const data = { orderId: "ord_fn", n: 1 };
  const res = await client.postRoute(data);
  assert.equal(res.ok, true, JSON.stringify(res.problem));
  const [event] = await inngest.waitEvent(EVENT, res.data.eventId);
  assert.deepEqual((await completedRun(event)).output, {
    userId: "fn-user",
    payload: data,
    requestId: res.requestId,
    settings: { appName: "node-tests" },
  });
});
