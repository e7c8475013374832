// Swagger UI (/docs/) of the built routeapi in Debian's Chromium, driven by
// playwright-core: the page shows POST /api/route, "Try it out" + "Execute"
// get a 200 from the real route (publishing to a real Inngest dev server),
// POST /api/events shows the event catalogue with its examples and Try it
// out publishes the mixed example,
// and the page loads nothing from outside localhost. The page works under
// its Content-Security-Policy with no violation reported, and another site
// cannot frame it. Run by `make test-browser`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startInngest, startRouteAPI } from "../harness/harness.mjs";

const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
// Flags from the machine notes: no sandbox (root), and no background
// networking, which this machine's closed network would refuse.
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const OUT = process.env.TEST_OUTPUT_DIR || join(process.cwd(), "test-output");
const EVENT = "app/route.requested";

let inngest;
let api;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  inngest = await startInngest();
  api = await startRouteAPI({ inngestURL: inngest.url });
});

after(async () => {
  await api?.stop();
  await inngest?.stop();
});

// withBrowser runs fn with a fresh Chromium profile and a page, recording
// every request the browser made (pages, workers, the docs' own fetches).
async function withBrowser(fn) {
  const profile = mkdtempSync(join(tmpdir(), "routeapi-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 1400 },
  });
  const requests = [];
  context.on("request", (r) => requests.push(r));
  context.setDefaultTimeout(30_000);
  // Every CSP violation the pages report (securitypolicyviolation events),
  // and every console message about the policy.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  const consoleCSP = [];
  context.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) consoleCSP.push(m.text());
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await fn({ context, page, requests, consoleCSP });
    for (const frame of page.frames()) {
      const violations = await frame.evaluate(() => window.__cspViolations ?? []).catch(() => []);
      assert.deepEqual(violations, [], `${frame.url()} reported CSP violations`);
    }
    assert.deepEqual(consoleCSP, [], "the console reported CSP problems");
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function assertOnlyLocal(requests) {
  assert.ok(requests.some((r) => r.url().endsWith("/openapi.json")), "the page did not fetch /openapi.json");
  const outside = requests.map((r) => r.url()).filter((u) => {
    const url = new URL(u);
    if (url.protocol === "data:" || url.protocol === "blob:") return false;
    return !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  });
  assert.deepEqual(outside, [], "the page loaded something from outside localhost");
}

// assertDocsHeaders: the docs page came with its CSP (no 'unsafe-inline',
// no 'unsafe-eval') and may not be framed.
async function assertDocsHeaders(requests) {
  const page = requests.find((r) => new URL(r.url()).pathname === "/docs/" && r.resourceType() === "document");
  assert.ok(page, "no request for /docs/");
  const headers = (await page.response()).headers();
  const csp = headers["content-security-policy"] ?? "";
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-/);
  assert.equal(headers["x-frame-options"], "DENY");
  assert.equal(headers["x-content-type-options"], "nosniff");
}

// tryItOut opens POST /api/route on the loaded docs page, executes it and
// returns the request the browser sent and the status Swagger UI shows.
async function tryItOut(page, requests, screenshot) {
  const op = await openOperation(page, "/api/route", /POST\s+\/api\/route\s+Publish an event for the signed-in user/);
  await op.getByRole("button", { name: "Try it out" }).click();
  const body = op.locator("textarea.body-param__text");
  await body.fill('{\n  "data": {"from": "swagger-ui"}\n}');
  const res = await execute(page, op, "/api/route", requests, screenshot);
  await assertDocsHeaders(requests);
  return res;
}

// openOperation expands the POST operation at path on the loaded docs page,
// after checking its summary line, and returns its block.
async function openOperation(page, path, summaryLine) {
  const op = page.locator(".opblock.opblock-post").filter({ hasText: path });
  const summary = op.locator(".opblock-summary").first();
  assert.match(await summary.innerText(), summaryLine);
  await summary.click();
  return op;
}

// execute clicks Execute in op (Try it out already open) and returns the
// request the browser sent to path and the status and body Swagger UI shows,
// after a screenshot and the check that the page loaded only local things.
async function execute(page, op, path, requests, screenshot) {
  const sent = page.waitForRequest((r) => r.url() === `${api.url}${path}` && r.method() === "POST");
  await op.getByRole("button", { name: "Execute" }).click();
  const request = await sent;
  const status = op.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor();
  const shown = (await status.innerText()).trim();
  const responseBody = (await op.locator(".live-responses-table .response-col_description pre").first().innerText()).trim();
  await page.screenshot({ path: join(OUT, screenshot), fullPage: true });
  assertOnlyLocal(requests);
  return { request, shown, responseBody };
}

test("Swagger UI: Try it out with the session cookie set in the browser gets a 200", async () => {
  await withBrowser(async ({ context, page, requests }) => {
    const token = api.token({ sub: "browser-cookie-user", email: "cookie@example.com" });
    // The real next-auth cookie on routeapi's origin: the browser sends it
    // itself with Swagger UI's same-origin fetch, as for a signed-in user.
    await context.addCookies([{ name: "next-auth.session-token", value: token, url: api.url, httpOnly: true, sameSite: "Lax" }]);
    await page.goto(`${api.url}/docs`); // the redirect to /docs/ as a user would type it
    const { request, shown, responseBody } = await tryItOut(page, requests, "swagger-ui-cookie.png");
    const headers = await request.allHeaders();
    assert.match(headers.cookie ?? "", /next-auth\.session-token=/);
    assert.equal(headers.authorization, undefined);
    // Try it out pre-fills no Idempotency-Key: a shared example key would
    // tie every newcomer's requests to one event (issue 11).
    assert.equal(headers["idempotency-key"], undefined);
    assert.equal(shown, "200", `Swagger UI shows ${shown}: ${responseBody}`);
    const answer = JSON.parse(responseBody);
    assert.equal(answer.success, "true");
    const [event] = await inngest.waitEvent(EVENT, answer.eventId);
    assert.equal(event.data.user.id, "browser-cookie-user");
    assert.deepEqual(event.data.data, { from: "swagger-ui" });
  });
});

test("Swagger UI: Authorize with the token as bearerAuth, then Try it out gets a 200", async () => {
  await withBrowser(async ({ page, requests }) => {
    const token = api.token({ sub: "browser-bearer-user", email: "bearer@example.com" });
    await page.goto(`${api.url}/docs/`);
    await page.locator(".scheme-container .authorize").click();
    const bearer = page.locator(".auth-container").filter({ hasText: "bearerAuth" });
    await bearer.locator("input").fill(token);
    await bearer.locator("button.authorize").click();
    await bearer.locator("button.btn-done").click();
    const { request, shown, responseBody } = await tryItOut(page, requests, "swagger-ui-bearer.png");
    const headers = await request.allHeaders();
    assert.equal(headers.authorization, `Bearer ${token}`);
    assert.equal(headers.cookie, undefined);
    assert.equal(shown, "200", `Swagger UI shows ${shown}: ${responseBody}`);
    const [event] = await inngest.waitEvent(EVENT, JSON.parse(responseBody).eventId);
    assert.equal(event.data.user.id, "browser-bearer-user");
  });
});

test("Swagger UI: POST /api/events shows the event catalogue with its examples, and Try it out publishes a mixed batch", async () => {
  await withBrowser(async ({ context, page, requests }) => {
    const token = api.token({ sub: "browser-events-user", email: "events@example.com" });
    await context.addCookies([{ name: "next-auth.session-token", value: token, url: api.url, httpOnly: true, sameSite: "Lax" }]);
    await page.goto(`${api.url}/docs/`);
    const op = await openOperation(page, "/api/events", /POST\s+\/api\/events\s+Publish a batch of typed events/);
    // The request body's named examples: one per catalogue event, and a mixed batch.
    const examples = op.locator(".opblock-section-request-body .examples-select select").first();
    await examples.waitFor();
    const options = (await examples.locator("option").allInnerTexts()).map((t) => t.trim());
    for (const summaryText of ["One order placed", "Feedback submitted", "Two kinds of events in one batch"]) {
      assert.ok(options.includes(summaryText), `the examples offer ${JSON.stringify(options)}, not ${summaryText}`);
    }
    // Each event's example shows that event, as the contract writes it.
    for (const [label, name] of [["One order placed", "shop/order.placed"], ["Feedback submitted", "app/feedback.submitted"]]) {
      await examples.selectOption({ label });
      const shown = op.locator(".opblock-section-request-body .highlight-code, .opblock-section-request-body pre").first();
      await shown.waitFor();
      assert.match(await shown.innerText(), new RegExp(`"name":\\s*"${name.replace(".", "\\.")}"`), `the ${label} example does not show ${name}`);
    }
    await examples.selectOption({ label: "Two kinds of events in one batch" });
    await op.getByRole("button", { name: "Try it out" }).click();
    const { request, shown, responseBody } = await execute(page, op, "/api/events", requests, "swagger-ui-events.png");
    assert.equal(shown, "200", `Swagger UI shows ${shown}: ${responseBody}`);
    const sentBody = JSON.parse(request.postData());
    assert.deepEqual(sentBody.events.map((e) => e.name), ["shop/order.placed", "app/feedback.submitted"]);
    const answer = JSON.parse(responseBody);
    assert.equal(answer.eventIds.length, 2);
    for (const [i, ev] of sentBody.events.entries()) {
      const [event] = await inngest.waitEvent(ev.name, answer.eventIds[i]);
      assert.deepEqual(event.data.data, ev.data);
      assert.equal(event.data.user.id, "browser-events-user");
    }
  });
});

test("Swagger UI: another site cannot frame the console", async () => {
  // A page on another origin (another loopback port) frames /docs/.
  const framer = createServer((_, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`<!DOCTYPE html><iframe src="${api.url}/docs/" width="800" height="600"></iframe>`);
  });
  await new Promise((resolve) => framer.listen(0, "127.0.0.1", resolve));
  try {
    await withBrowser(async ({ page, consoleCSP }) => {
      const refused = page.waitForEvent("requestfailed", (r) => r.url() === `${api.url}/docs/`);
      await page.goto(`http://127.0.0.1:${framer.address().port}/`);
      assert.equal((await refused).failure()?.errorText, "net::ERR_BLOCKED_BY_RESPONSE");
      const frame = page.frames().find((f) => f !== page.mainFrame());
      assert.ok(frame, "no iframe");
      assert.equal(await frame.locator("#swagger-ui").count(), 0, `the framed console rendered (frame URL ${frame.url()})`);
      // The refusal is the expected CSP report; nothing else may be.
      const framing = consoleCSP.filter((m) => m.includes("frame-ancestors 'none'"));
      assert.ok(framing.length > 0, `no frame-ancestors refusal reported: ${consoleCSP}`);
      consoleCSP.splice(0, consoleCSP.length, ...consoleCSP.filter((m) => !framing.includes(m)));
    });
  } finally {
    framer.close();
  }
});
