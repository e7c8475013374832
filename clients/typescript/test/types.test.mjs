// Type-level tests: `tsc --noEmit` must accept test/types/usage.ts and must
// reject each must-fail file with the one expected error, at its line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const flags = ["--noEmit", "--strict", "--target", "ES2022", "--module", "NodeNext", "--moduleResolution", "NodeNext", "--lib", "ES2022,DOM"];

function typecheck(...files) {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, ...flags, ...files], { cwd: root, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, out: stdout + stderr });
    });
  });
}

// One tsc run for the files that must compile. inngest-function.ts is the
// README's "Typing Inngest functions" snippet against the pinned inngest 4.x
// devDependency; it imports "@routeapi/client" by name, which resolves to this
// package's own dist/ (built by `make test-client` before the tests).
test("usage.ts and the README's inngest snippet compile", async () => {
  const { code, out } = await typecheck("test/types/usage.ts", "test/types/inngest-function.ts");
  assert.equal(code, 0, out);
});

test("the README's 'Typing Inngest functions' snippet is test/types/inngest-function.ts", async () => {
  const { readFile } = await import("node:fs/promises");
  const readme = await readFile(join(root, "README.md"), "utf8");
  const file = await readFile(join(root, "test", "types", "inngest-function.ts"), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith("Typing Inngest functions"));
  assert.ok(section, "README.md has no '## Typing Inngest functions' section");
  const blocks = [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  assert.equal(blocks.length, 1, "expected exactly one ```ts block in 'Typing Inngest functions'");
  assert.equal(blocks[0], file, "copy test/types/inngest-function.ts into the README's snippet (or the other way round)");
});

test("inngest is pinned to an exact 4.x version", async () => {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  assert.match(pkg.devDependencies.inngest ?? "", /^4\.\d+\.\d+$/);
});

// One tsc run for the must-fail files (each run takes seconds); each file
// must have exactly its one expected error.
const mustFail = [
  ["missing-data.ts", /^test\/types\/missing-data\.ts\(5,\d+\): error TS2554: Expected 1-2 arguments, but got 0\.$/],
  ["missing-data-body.ts", /^test\/types\/missing-data-body\.ts\(4,\d+\): error TS2741: Property 'data' is missing/],
  ["null-data.ts", /^test\/types\/null-data\.ts\(5,\d+\): error TS2345: Argument of type 'null' is not assignable/],
  ["data-without-ok.ts", /^test\/types\/data-without-ok\.ts\(5,\d+\): error TS2339: Property 'data' does not exist on type 'PostRouteResult'\.$/],
  ["inngest-old-event.ts", /^test\/types\/inngest-old-event\.ts\(10,\d+\): error TS2339: Property 'appId' does not exist on type/],
];
let failRun;

for (const [file, expected] of mustFail) {
  test(`${file} does not compile`, async () => {
    failRun ??= typecheck(...mustFail.map(([f]) => `test/types/${f}`));
    const { code, out } = await failRun;
    assert.notEqual(code, 0, `tsc accepted the must-fail files:\n${out}`);
    const errors = out.split("\n").filter((l) => l.startsWith(`test/types/${file}(`));
    assert.equal(errors.length, 1, `expected exactly one error in ${file}:\n${out}`);
    assert.match(errors[0], expected);
  });
}

test("the package version is the contract's info.version", async () => {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  const spec = await readFile(join(root, "..", "..", "openapi.yaml"), "utf8");
  const m = /^info:\n(?:[ ].*\n)*?[ ]{2}version:\s*['"]?([^'"\s]+)/m.exec(spec);
  assert.ok(m, "openapi.yaml has no info.version");
  assert.equal(pkg.version, m[1], "bump clients/typescript/package.json with info.version");
});
