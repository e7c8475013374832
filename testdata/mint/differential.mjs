#!/usr/bin/env node
// differential.mjs: who the REAL next-auth 4.24.15 and @auth/core 0.41.3 see
// signed in, for a corpus of request header sets (testdata/sessions/). The Go
// test api/differential_test.go runs routeapi's full handler on the same sets
// and compares its verdict with these; testdata/sessions/README.md says how.
//
//   node differential.mjs generate  > ../sessions/corpus.json    (mints tokens; run once, check in)
//   node differential.mjs verdicts  < ../sessions/corpus.json > ../sessions/verdicts.json
//
// The clock of both libraries is fixed at the corpus's "now" (Date is replaced
// before any token is minted or decoded), so the checked-in tokens never
// expire and no result depends on the day the test runs.
//
// Readers (how an app gets at the cookies; see the source references below):
//   v4-pages  next-auth getToken with req.cookies as a pages-router API route
//             has it: Next.js parses it with next/dist/compiled/cookie
//             (server/api-utils/get-cookie-parser.js), a copy of the npm
//             package cookie 0.4.1 (checked line by line against Next.js
//             16.4.6), installed here as next-compiled-cookie; req.headers a
//             plain object.
//   v4-app    next-auth getToken with req.cookies an @edge-runtime/cookies
//             RequestCookies (what next/headers' cookies() and NextRequest
//             hold in the App Router and middleware) and req.headers a Headers.
//   v5        @auth/core getToken with req.headers a Headers (it parses the
//             Cookie header with its vendored cookie 1.x).
// For each reader and each of its two cookie names (plain and __Secure-), the
// verdict is {cookie: whether a session cookie value was found (getToken with
// raw: true and no Authorization header), sub: the decoded token's sub or null}.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PINNED = { "next-auth": "4.24.15", "@auth/core": "0.41.3", "@edge-runtime/cookies": "6.0.0", "next-compiled-cookie": "0.4.1" };
const NOW = 1800000000; // 2027-01-15T08:00:00Z: the corpus's clock (seconds)
const V4_SECRET = "differential-v4-secret";
const V5_SECRET = "differential-v5-secret";

// Fix the clock before the libraries read it: jose reads new Date() / Date.now().
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...a) {
    if (a.length === 0) super(NOW * 1000);
    else super(...a);
  }
  static now() {
    return NOW * 1000;
  }
};

const require = createRequire(import.meta.url);
const fromJwt = createRequire(require.resolve("next-auth/jwt"));
const v4jwt = fromJwt("./index.js");
const v4cookie = fromJwt("../core/lib/cookie");
const nextCookie = require("next-compiled-cookie"); // Next.js's compiled cookie (pages router req.cookies)
const authJwtPath = fileURLToPath(import.meta.resolve("@auth/core/jwt"));
const v5jwt = await import("@auth/core/jwt");
const v5cookie = await import(pathToFileURL(join(dirname(authJwtPath), "lib/utils/cookie.js")).href);
const { RequestCookies } = require("@edge-runtime/cookies");
const fromAuth = createRequire(authJwtPath);
const versions = {
  "next-auth": fromJwt("../package.json").version,
  "@auth/core": fromAuth("./package.json").version,
  "@edge-runtime/cookies": require("@edge-runtime/cookies/package.json").version,
  "next-compiled-cookie": require("next-compiled-cookie/package.json").version,
};
for (const [k, v] of Object.entries(PINNED)) {
  if (versions[k] !== v) fail(`expected ${k} ${v}, found ${versions[k]}; run npm ci in testdata/mint`);
}

function fail(msg) {
  process.stderr.write(`differential: ${msg}\n`);
  process.exit(1);
}

const N4 = "next-auth.session-token";
const S4 = "__Secure-" + N4;
const N5 = "authjs.session-token";
const S5 = "__Secure-" + N5;
const NAMES = { "v4-pages": [N4, S4], "v4-app": [N4, S4], v5: [N5, S5] };
const silent = { debug() {}, error() {}, warn() {} };

// ---- verdicts ----------------------------------------------------------

function joined(set) {
  // Node's http joins repeated Cookie headers with "; " before the app sees them.
  return (set.cookie ?? []).map((l) => l.replace(/^[ \t]+|[ \t]+$/g, "")).join("; ");
}

function v4Req(reader, cookieHeader, authorization) {
  if (reader === "v4-pages") {
    const headers = {};
    if (cookieHeader) headers.cookie = cookieHeader;
    if (authorization !== undefined) headers.authorization = authorization;
    return { cookies: cookieHeader ? nextCookie.parse(cookieHeader) : {}, headers };
  }
  const headers = new Headers();
  if (cookieHeader) headers.set("cookie", cookieHeader);
  if (authorization !== undefined) headers.set("authorization", authorization);
  return { cookies: new RequestCookies(headers), headers };
}

async function verdict(reader, name, set, authorization) {
  const cookieHeader = joined(set);
  if (reader === "v5") {
    const mk = (auth) => {
      const headers = new Headers();
      if (cookieHeader) headers.set("cookie", cookieHeader);
      if (auth !== undefined) headers.set("authorization", auth);
      return { headers };
    };
    const raw = await v5jwt.getToken({ req: mk(undefined), cookieName: name, secret: V5_SECRET, raw: true, logger: silent });
    const tok = await v5jwt.getToken({ req: mk(authorization), cookieName: name, secret: V5_SECRET, logger: silent });
    return { cookie: !!raw, sub: tok?.sub ?? null };
  }
  const secureCookie = name.startsWith("__Secure-");
  const raw = await v4jwt.getToken({ req: v4Req(reader, cookieHeader, undefined), cookieName: name, secureCookie, secret: V4_SECRET, raw: true, logger: silent });
  const tok = await v4jwt.getToken({ req: v4Req(reader, cookieHeader, authorization), cookieName: name, secureCookie, secret: V4_SECRET, logger: silent });
  return { cookie: !!raw, sub: tok?.sub ?? null };
}

async function readings(set, authorization) {
  const out = {};
  for (const [reader, names] of Object.entries(NAMES)) {
    out[reader] = {};
    for (const name of names) out[reader][name] = await verdict(reader, name, set, authorization);
  }
  return out;
}

async function verdicts() {
  let data = "";
  for await (const chunk of process.stdin) data += chunk;
  const corpus = JSON.parse(data);
  if (corpus.now !== NOW) fail(`corpus.now is ${corpus.now}, this script's clock is ${NOW}`);
  const entries = [];
  const expand = (str) =>
    str === undefined ? undefined : str.replace(/\{([A-Za-z0-9.]+)\}/g, (_, k) => {
      if (!(k in corpus.tokens)) fail(`unknown token {${k}}`);
      return corpus.tokens[k];
    });
  for (const raw of corpus.entries) {
    const e = { cookie: raw.cookie.map(expand) };
    const v = { id: raw.id, readers: await readings(e, expand(raw.authorization)) };
    if (raw.normalizedAuthorization !== undefined) v.normalizedBearer = await readings(e, expand(raw.normalizedAuthorization));
    entries.push(v);
  }
  process.stdout.write(lines({ versions, now: NOW }, entries));
}

// lines writes head's fields, then "entries" with one entry per line (diffs
// stay readable).
function lines(head, entries) {
  const top = JSON.stringify(head, null, 1).replace(/\n}$/, "");
  return `${top},\n "entries": [\n${entries.map((e) => "  " + JSON.stringify(e)).join(",\n")}\n ]\n}\n`;
}

// ---- corpus ------------------------------------------------------------

async function mintV4(sub, opts = {}) {
  const token = { sub, email: `${sub}@example.com`, name: sub };
  if (opts.pad) token.pad = "x".repeat(opts.pad);
  return v4jwt.encode({ token, secret: V4_SECRET, maxAge: opts.maxAge ?? 30 * 24 * 3600 });
}

async function mintV5(sub, salt, opts = {}) {
  const token = { sub, email: `${sub}@example.com`, name: sub };
  if (opts.pad) token.pad = "x".repeat(opts.pad);
  return v5jwt.encode({ token, secret: V5_SECRET, salt, maxAge: opts.maxAge ?? 30 * 24 * 3600 });
}

// chunks splits a token the way the library sets it (its SessionStore).
function chunks(token, name, v5) {
  const store = v5
    ? new v5cookie.SessionStore({ name, options: {} }, {}, silent)
    : new v4cookie.SessionStore({ name, options: {} }, { cookies: {} }, silent);
  return store.chunk(token, {}).map(({ name: n, value }) => [n, value]);
}

async function generate() {
  // Tokens are minted once and stored in corpus.tokens; header sets refer to
  // them as {name} (chunks as {name.0}, {name.1}, …; percent-encoded as
  // {name.pct}), which keeps the corpus readable and small.
  const tokens = {
    alice: await mintV4("alice"),
    ivan: await mintV4("ivan"),
    carol: await mintV4("carol", { pad: 6000 }),
    dora: await mintV4("dora"),
    expired: await mintV4("expired", { maxAge: -3600 }),
    alice5: await mintV5("alice5", N5),
    ivan5: await mintV5("ivan5", N5),
    carol5: await mintV5("carol5", N5, { pad: 6000 }),
    dora5s: await mintV5("dora5s", S5),
  };
  const t = Object.fromEntries(Object.keys(tokens).map((k) => [k, `{${k}}`]));
  const chunkRefs = (k, cookieName, isV5) =>
    chunks(tokens[k], cookieName, isV5).map(([n, v], i) => {
      tokens[`${k}.${i}`] = v;
      return [n, `{${k}.${i}}`];
    });
  const c4 = chunkRefs("carol", N4, false);
  const c5 = chunkRefs("carol5", N5, true);
  if (c4.length !== 3 || c5.length !== 3) fail(`expected 3 chunks, got ${c4.length} and ${c5.length}`);
  const kv = (pairs) => pairs.map(([n, v]) => `${n}=${v}`).join("; ");
  // pct: the token with "." (and its first letter) percent-encoded.
  const pct = (ref) => {
    const k = ref.slice(1, -1);
    tokens[`${k}.pct`] = tokens[k].replaceAll(".", "%2E").replace(/^e/, "%65");
    return `{${k}.pct}`;
  };
  const entries = [];
  const add = (id, cookie, authorization, extra = {}) => {
    const e = { id, cookie: cookie == null ? [] : Array.isArray(cookie) ? cookie : [cookie] };
    if (authorization !== undefined) e.authorization = authorization;
    Object.assign(e, extra);
    entries.push(e);
  };
  const bearer = (tok) => `Bearer ${tok}`;

  // One session, each name.
  add("v4 plain", `${N4}=${t.alice}`);
  add("v4 __Secure-", `${S4}=${t.dora}`);
  add("v5 plain", `${N5}=${t.alice5}`);
  add("v5 __Secure-", `${S5}=${t.dora5s}`);
  add("v4 chunked", kv(c4));
  add("v5 chunked", kv(c5));
  add("v4 chunked, reversed", kv([...c4].reverse()));
  add("v5 chunked, reversed", kv([...c5].reverse()));
  add("nothing", null);
  add("unrelated cookies", "theme=dark; next-auth.csrf-token=abc");
  add("v4 expired", `${N4}=${t.expired}`);
  add("v4 garbage", `${N4}=not-a-token`);
  add("v5 token under the __Secure- name (salt mismatch)", `${S5}=${t.alice5}`);

  // Empty values (a sign-out leaves "name=").
  for (const [n, tok, who] of [[N4, t.ivan, "v4"], [N5, t.ivan5, "v5"], [S4, t.ivan, "v4 __Secure-"], [S5, t.ivan5, "v5 __Secure-"]]) {
    add(`empty ${who} cookie`, `${n}=`);
    add(`empty ${who} cookie + bearer`, `${n}=`, bearer(tok));
    add(`empty ${who} cookie with spaces + bearer`, `${n}=  `, bearer(tok));
    add(`empty quoted ${who} cookie + bearer`, `${n}=""`, bearer(tok));
  }
  add("empty v4 and v5 cookies + v4 bearer", `${N4}=; ${N5}=`, bearer(t.ivan));
  add("empty v4 chunks + bearer", `${N4}.0=; ${N4}.1=`, bearer(t.ivan));

  // The same name twice: same value, different values, one empty.
  add("v4 twice, same value", `${N4}=${t.alice}; ${N4}=${t.alice}`);
  add("v4 twice, different values", `${N4}=${t.alice}; ${N4}=${t.ivan}`, undefined, { duplicates: [N4] });
  add("v4 twice, different values, two Cookie lines", [`${N4}=${t.alice}`, `${N4}=${t.ivan}`], undefined, { duplicates: [N4] });
  add("v4 twice, empty first", `${N4}=; ${N4}=${t.ivan}`, undefined, { duplicates: [N4] });
  add("v4 twice, empty last", `${N4}=${t.alice}; ${N4}=`, undefined, { duplicates: [N4] });
  add("v5 twice, same value", `${N5}=${t.alice5}; ${N5}=${t.alice5}`);
  add("v5 twice, different values", `${N5}=${t.alice5}; ${N5}=${t.ivan5}`, undefined, { duplicates: [N5] });
  add("v4 chunk 0 twice, same value", kv([c4[0], c4[0], c4[1], c4[2]]));
  add("v4 chunk 1 twice, different values", kv([c4[0], c4[1], [c4[1][0], "xyz"], c4[2]]), undefined, { duplicates: [`${N4}.1`] });
  add("v4 twice, different values + bearer", `${N4}=${t.alice}; ${N4}=${t.ivan}`, bearer(t.dora), { duplicates: [N4] });
  add("__Secure- v4 twice, different values beside plain", `${N4}=${t.alice}; ${S4}=${t.ivan}; ${S4}=${t.dora}`, undefined, { duplicates: [S4] });

  // Chunk gaps and odd chunk names.
  add("v4 chunk gap (.0 .2)", kv([c4[0], c4[2]]));
  add("v4 chunk 0 missing", kv([c4[1], c4[2]]));
  add("v4 chunk 2 missing", kv([c4[0], c4[1]]));
  add("v5 chunk gap (.0 .2)", kv([c5[0], c5[2]]));
  add("v4 chunks + empty extra chunk", kv([...c4, [`${N4}.3`, ""]]));
  add("v4 whole token as chunk .0", `${N4}.0=${t.alice}`);
  add("v4 whole token as chunk .5", `${N4}.5=${t.alice}`);
  add("v5 whole token as chunk .0", `${N5}.0=${t.alice5}`);
  add("v4 token under a name that only starts like it", `${N4}x=${t.alice}`);
  add("v4 token under name.foo", `${N4}.foo=${t.alice}`);
  add("v4 plain + unrelated name.foo", `${N4}=${t.alice}; ${N4}.foo=bar`);
  add("v4 chunks with a gap + bearer", kv([c4[0], c4[2]]), bearer(t.ivan));

  // Chunks beside a plain cookie.
  add("v4 plain + chunks", `${N4}=${t.alice}; ${kv(c4)}`);
  add("v4 chunks + plain", `${kv(c4)}; ${N4}=${t.alice}`);
  add("v5 plain + chunks", `${N5}=${t.alice5}; ${kv(c5)}`);
  add("v4 empty plain + chunks", `${N4}=; ${kv(c4)}`);
  add("v4 chunks + empty plain", `${kv(c4)}; ${N4}=`);
  add("v4 empty plain between chunks", kv([c4[0], [N4, ""], c4[1], c4[2]]));
  add("v5 empty plain + chunks", `${N5}=; ${kv(c5)}`);

  // v4 and v5 names together; __Secure- and plain together.
  add("v4 + v5", `${N4}=${t.alice}; ${N5}=${t.ivan5}`);
  add("v5 + v4", `${N5}=${t.ivan5}; ${N4}=${t.alice}`);
  add("empty v5 + v4", `${N5}=; ${N4}=${t.alice}`);
  add("v4 chunks + v5", `${kv(c4)}; ${N5}=${t.alice5}`);
  add("plain v4 + __Secure- v4", `${N4}=${t.alice}; ${S4}=${t.dora}`);
  add("__Secure- v4 + plain v4", `${S4}=${t.dora}; ${N4}=${t.alice}`);
  add("plain v5 + __Secure- v5", `${N5}=${t.alice5}; ${S5}=${t.dora5s}`);
  add("all four names", `${S5}=${t.dora5s}; ${S4}=${t.dora}; ${N5}=${t.alice5}; ${N4}=${t.alice}`);
  add("__Secure- v4 + bearer v4", `${S4}=${t.dora}`, bearer(t.ivan));

  // Several Cookie lines.
  add("two Cookie lines", ["theme=dark", `${N4}=${t.alice}`]);
  add("chunks over three Cookie lines", c4.map(([n, v]) => `${n}=${v}`));
  add("v5 and v4 on two lines", [`${N5}=${t.alice5}`, `${N4}=${t.ivan}`]);

  // Quoted and percent-encoded values.
  add("v4 quoted", `${N4}="${t.alice}"`);
  add("v5 quoted", `${N5}="${t.alice5}"`);
  add("v4 quoted + bearer", `${N4}="${t.alice}"`, bearer(t.ivan));
  add("v4 percent-encoded", `${N4}=${pct(t.alice)}`);
  add("v5 percent-encoded", `${N5}=${pct(t.alice5)}`);
  add("v4 bad percent-encoding", `${N4}=${t.alice}%ZZ`);
  add("v4 bad percent-encoding + bearer", `${N4}=%E0%A4%A`, bearer(t.ivan));
  add("v4 lone quote", `${N4}="`, bearer(t.ivan));

  // Odd whitespace.
  add("spaces around name and value", `theme=dark;   ${N4} =  ${t.alice}  ; x=y`);
  add("no space after ;", `theme=dark;${N4}=${t.alice}`);
  add("tab before name", `theme=dark;\t${N4}=${t.alice}`);
  add("tab before name + bearer", `theme=dark;\t${N4}=${t.alice}`, bearer(t.ivan));
  add("space before =", `${N4} =${t.alice}`);
  add("trailing ;", `${N4}=${t.alice};`);
  add("pair without =", `flag; ${N4}=${t.alice}`);
  add("v5 spaces around value", `${N5}= ${t.alice5} `);

  // Authorization: Bearer.
  add("bearer v4", undefined, bearer(t.alice));
  add("bearer v5", undefined, bearer(t.alice5));
  add("bearer v5 __Secure- salt", undefined, bearer(t.dora5s));
  add("bearer chunked-size v4", undefined, bearer(t.carol));
  add("lowercase bearer", undefined, `bearer ${t.alice}`, { normalizedAuthorization: bearer(t.alice) });
  add("uppercase BEARER", undefined, `BEARER ${t.alice}`, { normalizedAuthorization: bearer(t.alice) });
  add("bearer, two spaces", undefined, `Bearer  ${t.alice}`, { normalizedAuthorization: bearer(t.alice) });
  add("bearer, tab", undefined, `Bearer\t${t.alice}`, { normalizedAuthorization: bearer(t.alice) });
  add("bearer, trailing word", undefined, `Bearer ${t.alice} extra`);
  add("bearer percent-encoded", undefined, bearer(pct(t.alice)));
  add("bearer bad percent-encoding", undefined, bearer(`${t.alice}%ZZ`));
  add("bearer empty", undefined, "Bearer ");
  add("bearer garbage", undefined, bearer("not-a-token"));
  add("bearer expired", undefined, bearer(t.expired));
  add("basic scheme", undefined, "Basic YWxpY2U6cHc=");
  add("lowercase bearer + empty cookie", `${N4}=`, `bearer ${t.ivan}`, { normalizedAuthorization: bearer(t.ivan) });

  // Cookie and bearer together.
  add("v4 cookie + bearer of another user", `${N4}=${t.alice}`, bearer(t.ivan));
  add("v4 cookie + same bearer", `${N4}=${t.alice}`, bearer(t.alice));
  add("v5 cookie + bearer of another user", `${N5}=${t.alice5}`, bearer(t.ivan5));
  add("garbage cookie + valid bearer", `${N4}=not-a-token`, bearer(t.ivan));
  add("expired cookie + valid bearer", `${N4}=${t.expired}`, bearer(t.ivan));
  add("unrelated cookie + bearer", "theme=dark", bearer(t.ivan));
  add("v5 cookie + v4 bearer", `${N5}=${t.alice5}`, bearer(t.ivan));

  // Chunk names as SessionStore orders them: by parseInt of the name's last
  // "."-separated part, so ".00", ".+1", ".1e1" and ".x.2" are chunks too,
  // and a name whose last part is no number compares equal to every other.
  add("v4 chunks named .00 .01 .02", kv(c4.map(([n, v], i) => [`${N4}.0${i}`, v])));
  add("v4 chunks named .0 .+1 .2", kv(c4.map(([n, v], i) => [i === 1 ? `${N4}.+1` : n, v])));
  add("v4 chunks named .0 .1e0 .2e0", kv(c4.map(([n, v], i) => [i === 0 ? n : `${N4}.${i}e0`, v])));
  add("v4 chunks named .a.0 .b.1 .c.2", kv(c4.map(([n, v], i) => [`${N4}.${"abc"[i]}.${i}`, v])));
  add("v4 chunks named .0 .1 .-1 (reversed order)", kv([[`${N4}.1`, c4[2][1]], [`${N4}.0`, c4[1][1]], [`${N4}.-1`, c4[0][1]]]));
  add("v4 chunks .0 and .00 the same chunk twice", kv([c4[0], [`${N4}.00`, c4[0][1]], c4[1], c4[2]]));
  add("v4 plain holding chunk 0 + chunks .1 .2", kv([[N4, c4[0][1]], c4[1], c4[2]]));
  add("v4 chunks .1 .2 + plain holding chunk 0", kv([c4[1], c4[2], [N4, c4[0][1]]]));
  add("v5 chunks named .00 .01 .02", kv(c5.map(([n, v], i) => [`${N5}.0${i}`, v])));
  add("v5 plain holding chunk 0 + chunks .1 .2", kv([[N5, c5[0][1]], c5[1], c5[2]]));

  // Where Next.js's pages-router parser (cookie 0.4.1: String.prototype.trim,
  // a leading quote strips the first and the last character) and the others
  // part. Header bytes reach Node as latin1, so "\u00a0" is the byte 0xA0.
  add("open quote + %, + bearer", `${N4}="%`, bearer(t.ivan));
  add("open quote + one char, + bearer", `${N4}="x`, bearer(t.ivan));
  add("open quote, token, one stray char", `${N4}="${t.alice}x`);
  add("open quote, token, one stray char + bearer", `${N4}="${t.alice}x`, bearer(t.ivan));
  add("no-break spaces around the value", `${N4}=\u00a0${t.alice}\u00a0`);
  add("no-break space alone + bearer", `${N4}=\u00a0`, bearer(t.ivan));
  add("no-break space before the name", `theme=dark; \u00a0${N4}=${t.alice}`);
  add("v5 no-break spaces around the value", `${N5}=\u00a0${t.alice5}\u00a0`);
  add("v5 open quote + one char, + bearer", `${N5}="x`, bearer(t.ivan5));

  // Odd pairs around the session cookie.
  add("= in another cookie's value", `theme=a=b=c; ${N4}=${t.alice}`);
  // Characters outside base64url in a token: next-auth v4's jose decodes with
  // Node's Buffer, which skips them; routeapi does not (README divergence
  // "strict base64url"), and the Go test models entries marked nonCanonicalBase64.
  add("= after the token", `${N4}=${t.alice}=`, undefined, { nonCanonicalBase64: true });
  add("v5 = after the token", `${N5}=${t.alice5}=`, undefined, { nonCanonicalBase64: true });
  add("space inside the value", `${N4}=${t.alice} x`);
  add("quoted value with a space", `${N4}="${t.alice} "`);
  add("empty name before", `=x; ${N4}=${t.alice}`);
  add("empty pair before", `=; ${N4}=${t.alice}`);
  add("double ;;", `theme=dark;; ${N4}=${t.alice}`);
  add("leading ;", `; ${N4}=${t.alice}`);
  add("tab before =", `${N4}\t=${t.alice}`);
  add("tab after =", `${N4}=\t${t.alice}`);
  add("name in another case beside the session", `Next-Auth.session-token=${t.ivan}; ${N4}=${t.alice}`);
  add("name in another case only", `Next-Auth.session-token=${t.ivan}`, bearer(t.alice));
  add("encoded ; in another cookie", `theme=a%3Bb; ${N4}=${t.alice}`);
  add("percent-encoded name", `next-auth%2Esession-token=${t.ivan}; ${N4}=${t.alice}`);
  add("v4 plain + v4 __Secure- of another user, v5 + v5 __Secure-", `${N4}=${t.alice}; ${S4}=${t.ivan}; ${N5}=${t.ivan5}; ${S5}=${t.dora5s}`);
  add("bearer with extra words", undefined, `Bearer ${t.alice} ${t.ivan}`);
  add("bearer with the token twice after a comma", undefined, `Bearer ${t.alice}, Bearer ${t.ivan}`, { nonCanonicalBase64: true });
  add("Basic then bearer", undefined, `Basic YWxpY2U6cHc= Bearer ${t.alice}`);
  add("bearer without space", undefined, `Bearer${t.alice}`);

  // Generated: every ordered pair of these cookie fragments, without and
  // with a bearer token of another user.
  const fragments = [
    ["v4 alice", `${N4}=${t.alice}`],
    ["v4 ivan", `${N4}=${t.ivan}`],
    ["v4 empty", `${N4}=`],
    ["v4 quoted alice", `${N4}="${t.alice}"`],
    ["v4 chunks", kv(c4)],
    ["v4 chunk .1 only", kv([c4[1]])],
    ["v4 alice as .0", `${N4}.0=${t.alice}`],
    ["v4 garbage", `${N4}=garbage`],
    ["v4 percent-encoded alice", `${N4}=${pct(t.alice)}`],
    ["v5 alice", `${N5}=${t.alice5}`],
    ["v5 empty", `${N5}=`],
    ["__Secure- v4 dora", `${S4}=${t.dora}`],
    ["__Secure- v5 dora", `${S5}=${t.dora5s}`],
    ["theme", "theme=dark"],
  ];
  // Two single-cookie fragments of one name whose values differ as the
  // libraries decode them (%XX decoded when it decodes; quotes kept).
  const dupName = (a, b) => {
    if (a.includes(";") || b.includes(";")) return undefined;
    const [na, va] = a.split(/=(.*)/s);
    const [nb, vb] = b.split(/=(.*)/s);
    const value = (v) => {
      const x = v.replace(/\{([A-Za-z0-9.]+)\}/g, (_, k) => tokens[k]);
      try {
        return decodeURIComponent(x);
      } catch {
        return x;
      }
    };
    return na === nb && value(va) !== value(vb) ? [na] : undefined;
  };
  for (const [ai, a] of fragments) {
    for (const [bi, b] of fragments) {
      if (ai === bi) continue;
      const dups = dupName(a, b);
      const extra = dups ? { duplicates: dups } : {};
      add(`pair: ${ai} + ${bi}`, `${a}; ${b}`, undefined, extra);
      add(`pair: ${ai} + ${bi} + bearer ivan5/ivan`, `${a}; ${b}`, bearer(bi.startsWith("v5") || ai.startsWith("v5") ? t.ivan5 : t.ivan), extra);
    }
  }

  manyChunks(tokens, t, add);

  const ids = new Set();
  for (const e of entries) {
    if (ids.has(e.id)) fail(`duplicate id ${e.id}`);
    ids.add(e.id);
  }
  process.stdout.write(lines({
    comment: "Generated by testdata/mint/differential.mjs generate; see testdata/sessions/README.md.",
    versions, now: NOW, v4Secret: V4_SECRET, v5Secret: V5_SECRET, tokens,
  }, entries));
}

// manyChunks adds the sets of a session token in twelve chunks, more
// session cookies than routeapi's jar searches one by one (jarLinear, 8):
// carol's and carol5's tokens cut into twelve pieces ({carol.m0} …
// {carol.m11}), which getToken joins as it joins the library's own chunks.
// Duplicates sit on both sides of the eighth and ninth names. It only uses
// tokens already minted, so `node differential.mjs many` can add these sets
// to a corpus without minting its tokens again.
function manyChunks(tokens, t, add) {
  const kv = (pairs) => pairs.map(([n, v]) => `${n}=${v}`).join("; ");
  const pieces = (k, name) => {
    const tok = tokens[k];
    const size = Math.ceil(tok.length / 12);
    return Array.from({ length: 12 }, (_, i) => {
      tokens[`${k}.m${i}`] = tok.slice(i * size, (i + 1) * size);
      return [`${name}.${i}`, `{${k}.m${i}}`];
    });
  };
  const m4 = pieces("carol", N4);
  const m5 = pieces("carol5", N5);
  add("v4 twelve chunks", kv(m4));
  add("v4 twelve chunks, reversed", kv([...m4].reverse()));
  add("v5 twelve chunks", kv(m5));
  add("v5 twelve chunks, reversed", kv([...m5].reverse()));
  add("v4 twelve chunks, chunk 7 twice, same value", kv([...m4.slice(0, 8), m4[7], ...m4.slice(8)]));
  add("v4 twelve chunks, chunk 8 twice, same value", kv([...m4.slice(0, 9), m4[8], ...m4.slice(9)]));
  add("v4 twelve chunks, chunk 7 twice, different values", kv([...m4.slice(0, 8), [m4[7][0], "xyz"], ...m4.slice(8)]), undefined, { duplicates: [`${N4}.7`] });
  add("v4 twelve chunks, chunk 8 twice, different values", kv([...m4.slice(0, 9), [m4[8][0], "xyz"], ...m4.slice(9)]), undefined, { duplicates: [`${N4}.8`] });
  add("v4 twelve chunks, chunk 11 twice, different values, last", kv([...m4, [m4[11][0], "xyz"]]), undefined, { duplicates: [`${N4}.11`] });
  add("v5 twelve chunks, chunk 9 twice, different values", kv([...m5.slice(0, 10), [m5[9][0], "xyz"], ...m5.slice(10)]), undefined, { duplicates: [`${N5}.9`] });
  add("v4 twelve chunks + empty .12", kv([...m4, [`${N4}.12`, ""]]));
  add("v5 twelve chunks, chunk 10 empty", kv(m5.map(([n, v], i) => [n, i === 10 ? "" : v])));
  add("v4 twelve chunks + plain of another user", `${kv(m4)}; ${N4}=${t.ivan}`);
  add("v4 twelve chunks over twelve Cookie lines", m4.map(([n, v]) => `${n}=${v}`));
  add("v4 twelve chunks + bearer", kv(m4), `Bearer ${t.ivan}`);
  add("v4 twelve chunks, chunk 9 missing", kv([...m4.slice(0, 9), ...m4.slice(10)]));
}

// many adds manyChunks' sets to the corpus on stdin (its tokens kept).
async function many() {
  let data = "";
  for await (const chunk of process.stdin) data += chunk;
  const corpus = JSON.parse(data);
  const { tokens, entries } = corpus;
  if (entries.some((e) => e.id === "v4 twelve chunks")) fail("the corpus has the twelve-chunk sets already");
  const t = Object.fromEntries(Object.keys(tokens).map((k) => [k, `{${k}}`]));
  const add = (id, cookie, authorization, extra = {}) => {
    const e = { id, cookie: cookie == null ? [] : Array.isArray(cookie) ? cookie : [cookie] };
    if (authorization !== undefined) e.authorization = authorization;
    Object.assign(e, extra);
    entries.push(e);
  };
  manyChunks(tokens, t, add);
  delete corpus.entries;
  process.stdout.write(lines(corpus, entries));
}

const mode = process.argv[2];
if (mode === "generate") await generate().catch((e) => fail(e.stack));
else if (mode === "verdicts") await verdicts().catch((e) => fail(e.stack));
else if (mode === "many") await many().catch((e) => fail(e.stack));
else fail("usage: node differential.mjs generate|verdicts|many");
