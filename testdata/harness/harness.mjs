// Test harness for the Node tests (the TypeScript client tests and the
// Swagger UI browser test): starts the built routeapi binary and a real
// Inngest dev server on loopback ports, as e2e/harness_test.go does for the
// Go tests. routeapi listens on 127.0.0.1:0 and the harness reads the port it
// bound from its "listening" log record; the dev server must be given its
// port, so the harness checks afterwards that the port is the dev server's
// own (Linux /proc) and retries on another port if not. ROUTEAPI_BIN and
// INNGEST_BIN name the binaries (the Makefile sets them); without them the
// tests fail, they never skip.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, readlinkSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, endianness } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";

export function binary(name) {
  const p = process.env[name];
  if (!p) throw new Error(`${name} is not set: run these tests through make (make test-client, make test-browser)`);
  if (!existsSync(p)) throw new Error(`${name}=${p} does not exist (make builds it)`);
  return p;
}

/**
 * A loopback port that was free a moment ago. Closing it and handing the
 * number on is a race (another process may take it first): prefer listening
 * on port 0. Left for the dev server's -p (startInngest verifies it), `next
 * start -p` (testdata/nextjs) and an address that must refuse connections
 * (Node's net cannot hold a port bound without listening; the Go tests use
 * internal/testkit/deadaddr).
 */
export async function freePort() {
  const srv = createServer();
  await new Promise((resolve, reject) => srv.listen(0, "127.0.0.1", resolve).on("error", reject));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Polls ok every 50 ms until it returns true or timeoutMs passes. */
export async function waitFor(what, timeoutMs, ok) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ok()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

/**
 * The addr of the first "listening" record in a log/slog JSON log, or "".
 * (internal/testkit/listenaddr.FromLog is the Go twin, which also reads the
 * text format.)
 */
export function listeningLogAddr(logs) {
  for (const line of logs.split("\n")) {
    try {
      const r = JSON.parse(line);
      if (r?.msg === "listening" && typeof r.addr === "string" && r.addr) return r.addr;
    } catch {
      // not a JSON line
    }
  }
  return "";
}

/**
 * The listening TCP sockets (IPv4 and IPv6) process pid holds, as
 * "host:port" strings, read from Linux /proc as
 * internal/testkit/listenaddr.Listening does: the socket inodes of
 * /proc/<pid>/fd, matched against the rows of /proc/<pid>/net/tcp{,6} in
 * state 0A (TCP_LISTEN). The kernel prints each 32-bit word of the address as
 * a native integer (%08X), so each word is written back in this host's byte
 * order (os.endianness()); the port is a plain number. Throws off Linux or
 * when the process is gone.
 */
export function listeningSockets(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const out = [];
  for (const table of ["tcp", "tcp6"]) {
    let text;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch (err) {
      if (table === "tcp6" && err.code === "ENOENT") continue;
      throw err;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A" || !inodes.has(f[9])) continue;
      const [hexIP, hexPort] = f[1].split(":");
      const bytes = Buffer.alloc(hexIP.length / 2);
      for (let i = 0; i < hexIP.length; i += 8) {
        const w = parseInt(hexIP.slice(i, i + 8), 16);
        if (endianness() === "LE") bytes.writeUInt32LE(w, i / 2);
        else bytes.writeUInt32BE(w, i / 2);
      }
      const port = parseInt(hexPort, 16);
      if (bytes.length === 4) {
        out.push(`${[...bytes].join(".")}:${port}`);
      } else {
        const groups = [];
        for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
        out.push(`${new URL(`http://[${groups.join(":")}]/`).host}:${port}`); // URL compresses it: [::1]
      }
    }
  }
  return out;
}

class Child {
  constructor(name, bin, args, opts) {
    this.name = name;
    this.logs = "";
    this.stderrHead = ""; // the first 64 KiB of stderr, where the "listening" record is
    this.exited = false;
    this.proc = spawn(bin, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (b) => { this.logs = (this.logs + b).slice(-64 * 1024); };
    this.proc.stdout.on("data", keep);
    this.proc.stderr.on("data", keep);
    this.proc.stderr.on("data", (b) => {
      if (this.stderrHead.length < 64 * 1024) this.stderrHead += b;
    });
    this.done = new Promise((resolve) => this.proc.on("exit", (code, signal) => {
      this.exited = true;
      resolve({ code, signal });
    }));
  }

  /**
   * Polls url until it answers 200; fails when the process exits first. Each
   * probe gives up after 2 s, so a server that accepts and never answers
   * cannot hold the poll past timeoutMs.
   */
  async waitReady(url, timeoutMs) {
    await waitFor(`${this.name} to answer ${url}`, timeoutMs, async () => {
      if (this.exited) throw new Error(`${this.name} exited:\n${this.logs}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        return res.status === 200;
      } catch {
        return false;
      }
    });
  }

  /**
   * The address the process listens on (it was started on port 0): the
   * "listening" record on its stderr or, when its log level hides that, its
   * one listening socket (Linux /proc); both are tried on each poll.
   */
  async boundAddr(timeoutMs) {
    let addr = "";
    await waitFor(`${this.name} to listen`, timeoutMs, () => {
      addr = listeningLogAddr(this.stderrHead);
      if (!addr && !this.exited) {
        try {
          const socks = listeningSockets(this.proc.pid);
          if (socks.length === 1) addr = socks[0];
        } catch {
          // not Linux, or the process is gone: the log is the only source
        }
      }
      if (!addr && this.exited) throw new Error(`${this.name} exited before listening:\n${this.logs}`);
      return addr !== "";
    });
    return addr;
  }

  /** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. */
  async stop() {
    if (this.exited) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    await this.done;
    clearTimeout(timer);
  }
}

/**
 * A real Inngest dev server in an empty temp directory and HOME. `inngest
 * dev` must be told its port before it binds it (v1.0.0 takes -p 0 but never
 * reports the port it bound and holds other listeners too), so the port is
 * picked free; once /health answers, the harness checks that the dev server
 * process itself listens there (another process may have taken the port in
 * between and answered; without Linux /proc the answer is accepted
 * unchecked). If not, or if the server exited, it is stopped and
 * started on a new port, up to 3 times; any other failure (a dev server that
 * runs but does not answer within 60 s) fails at once, as
 * e2e/harness_test.go does.
 */
export async function startInngest() {
  const errors = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await tryInngest();
    } catch (err) {
      if (!(err instanceof PortLost)) throw err;
      errors.push(err.message);
    }
  }
  throw new Error(`the Inngest dev server did not start on a port of its own in 3 attempts:\n${errors.join("\n")}`);
}

/**
 * PortLost is a failed attempt of startInngest that another port may cure:
 * the dev server exited (its bind failed, or another failure) or the port
 * that answered is not its own.
 */
class PortLost extends Error {}

async function tryInngest() {
  const bin = binary("INNGEST_BIN");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "routeapi-inngest-"));
  // Its own working directory and HOME: it reads inngest.* config files
  // upwards from its directory and writes ~/.config/inngest/state.
  const child = new Child("inngest dev", bin,
    ["dev", "--no-discovery", "--no-poll", "--host", "127.0.0.1", "-p", String(port)],
    { cwd: dir, env: { HOME: dir, PATH: process.env.PATH } });
  const url = `http://127.0.0.1:${port}`;
  const inngest = {
    url,
    child,
    /** Events named name that the dev server received, newest first. */
    async events(name) {
      const res = await fetch(`${url}/v1/events?limit=50&name=${encodeURIComponent(name)}`);
      if (res.status !== 200) throw new Error(`list events: HTTP ${res.status}`);
      return (await res.json()).data ?? [];
    },
    /** Waits until the dev server lists an event named name with id. */
    async waitEvent(name, id, count = 1) {
      let found = [];
      await waitFor(`${count} event(s) ${name} with id ${id}`, 15_000, async () => {
        found = (await inngest.events(name)).filter((e) => e.id === id);
        return found.length >= count;
      });
      return found;
    },
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await child.waitReady(`${url}/health`, 60_000);
    let sockets;
    try {
      sockets = listeningSockets(child.proc.pid);
    } catch (err) {
      if (child.exited) throw new PortLost(`inngest dev exited after answering /health:\n${child.logs}`);
      // No /proc to read (not Linux; the Go twin's listenaddr.ErrUnsupported):
      // the /health answer from a child still running is taken as the dev
      // server's, as before the port check existed.
      sockets = null;
    }
    if (sockets !== null && !sockets.includes(`127.0.0.1:${port}`)) {
      throw new PortLost(`port ${port} answered /health but is not the dev server's`);
    }
  } catch (err) {
    // Retried on another port only when the child exited (waitReady throws
    // then) or the port is not its own; read before stop() ends the child.
    const lost = err instanceof PortLost || child.exited;
    await inngest.stop();
    const msg = `on port ${port}: ${err.message}`;
    throw lost ? new PortLost(msg) : new Error(msg);
  }
  return inngest;
}

// settingsYAML writes a settings file with the Inngest dev server's event
// size limit (3 MiB), under which maxBodyBytes fits. disabledEvents, when
// given, is events.disabled (catalogue names switched off).
export function settingsYAML({ event = "app/route.requested", enabled = true, maxBodyBytes = 262144, rateLimit, disabledEvents } = {}) {
  const limit = rateLimit ? `  rateLimit: {requests: ${rateLimit.requests}, per: ${rateLimit.per}}\n` : "";
  const events = disabledEvents ? `events:\n  disabled: ${JSON.stringify(disabledEvents)}\n` : "";
  return `inngest:\n  maxEventBytes: 3145728\nroute:\n  enabled: ${enabled}\n  event: ${event}\n  maxBodyBytes: ${maxBodyBytes}\n${limit}${events}public:\n  appName: node-tests\n`;
}

/**
 * The built routeapi on 127.0.0.1:0 (the port it bound is read back from its
 * "listening" log record), with its own settings file and
 * a random NEXTAUTH_SECRET, publishing to inngestURL. env is added last.
 */
export async function startRouteAPI({ inngestURL, settings = settingsYAML(), env = {} }) {
  const bin = binary("ROUTEAPI_BIN");
  const dir = mkdtempSync(join(tmpdir(), "routeapi-node-"));
  const settingsPath = join(dir, "settings.yaml");
  writeFileSync(settingsPath, settings);
  const secret = `node-test-secret-${randomBytes(16).toString("hex")}`;
  const vars = {
    PATH: process.env.PATH,
    HOME: dir,
    ROUTEAPI_ADDR: "127.0.0.1:0", // the kernel picks the port; boundAddr reads it back
    ROUTEAPI_SETTINGS: settingsPath,
    NEXTAUTH_SECRET: secret,
    INNGEST_DEV: "1",
    INNGEST_BASE_URL: inngestURL,
    ...env,
  };
  const child = new Child("routeapi", bin, ["serve"], { cwd: dir, env: vars });
  const api = {
    url: "",
    child,
    settingsPath,
    /**
     * A session token for this server's secret, minted by `routeapi token`
     * (the same next-auth v4 JWE the Next.js app issues; e2e/ checks the
     * decoding against tokens minted by next-auth itself).
     */
    token({ sub = "client-user", email = "client@example.com", name = "Client User", ttl = "1h" } = {}) {
      return execFileSync(bin, ["token", "--raw", "--sub", sub, "--email", email, "--name", name, "--ttl", ttl],
        { env: { PATH: process.env.PATH, NEXTAUTH_SECRET: secret }, encoding: "utf8" }).trim();
    },
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    api.url = `http://${await child.boundAddr(20_000)}`;
    await child.waitReady(`${api.url}/healthz`, 20_000);
  } catch (err) {
    await api.stop();
    throw err;
  }
  return api;
}
