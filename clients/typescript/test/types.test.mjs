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
// events-usage.ts, send-events.ts and catalogue-functions.ts cover sendEvents
// and the generated triggers (@routeapi/client/inngest, src/inngest.ts).
test("usage.ts, events-usage.ts and the README's snippets compile", async () => {
  const { code, out } = await typecheck(
    "test/types/usage.ts",
    "test/types/inngest-function.ts",
    "test/types/events-usage.ts",
    "test/types/send-events.ts",
    "test/types/catalogue-functions.ts",
    "test/types/readme-typed-events-send.ts",
    "test/types/readme-typed-events-function.ts",
  );
  assert.equal(code, 0, out);
});

// Each README section's one ```ts block is a file tsc checks above.
for (const [heading, file] of [
  ["Typing Inngest functions", "inngest-function.ts"],
  ["Typed events: sendEvents", "send-events.ts"],
  ["Typed events: Inngest functions", "catalogue-functions.ts"],
]) {
  test(`the README's '${heading}' snippet is test/types/${file}`, async () => {
    const { readFile } = await import("node:fs/promises");
    const readme = await readFile(join(root, "README.md"), "utf8");
    const text = await readFile(join(root, "test", "types", file), "utf8");
    const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
    assert.ok(section, `README.md has no '## ${heading}' section`);
    const blocks = [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
    assert.equal(blocks.length, 1, `expected exactly one \`\`\`ts block in '${heading}'`);
    assert.equal(blocks[0], text, `copy test/types/${file} into the README's snippet (or the other way round)`);
  });
}

// The repository README's "Typed events" section: each of its two ```ts
// blocks is a file tsc checks above.
for (const [heading, file] of [
  ["In the front end", "readme-typed-events-send.ts"],
  ["In Inngest functions", "readme-typed-events-function.ts"],
]) {
  test(`the repository README's 'Typed events: ${heading}' snippet is test/types/${file}`, async () => {
    const { readFile } = await import("node:fs/promises");
    const readme = await readFile(join(root, "..", "..", "README.md"), "utf8");
    const text = await readFile(join(root, "test", "types", file), "utf8");
    const typed = readme.split(/^## /m).find((s) => s.startsWith("Typed events\n"));
    assert.ok(typed, "README.md has no '## Typed events' section");
    const section = typed.split(/^### /m).find((s) => s.startsWith(`${heading}\n`));
    assert.ok(section, `README.md's 'Typed events' has no '### ${heading}'`);
    const blocks = [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
    assert.equal(blocks.length, 1, `expected exactly one \`\`\`ts block in '${heading}'`);
    assert.equal(blocks[0], text, `copy test/types/${file} into the README's snippet (or the other way round)`);
  });
}

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
  // sendEvents: the catalogue's names and each name's data schema.
  ["events-wrong-name.ts", /^test\/types\/events-wrong-name\.ts\(7,\d+\): error TS2820: Type '"shop\/order\.cancelled"' is not assignable to type '"shop\/order\.placed" \| "app\/feedback\.submitted"'/],
  ["events-wrong-data.ts", /^test\/types\/events-wrong-data\.ts\(6,\d+\): error TS2322: Type '\{ name: "shop\/order\.placed"; data: \{ rating: number;/],
  ["events-no-data.ts", /^test\/types\/events-no-data\.ts\(5,\d+\): error TS2322: Type '\{ name: "app\/feedback\.submitted"; \}' is not assignable/],
  ["events-missing-required.ts", /^test\/types\/events-missing-required\.ts\(6,\d+\): error TS2322: Type '\{ orderId: string; total: number;/, /Property 'currency' is missing in type/],
  ["events-wrong-enum.ts", /^test\/types\/events-wrong-enum\.ts\(6,\d+\): error TS2322: Type '"JPY"' is not assignable to type '"EUR" \| "USD" \| "GBP"'\.$/],
  ["events-wrong-nested-enum.ts", /^test\/types\/events-wrong-nested-enum\.ts\(6,\d+\): error TS2322: Type '"complaint"' is not assignable to type '"bug" \| "idea" \| "praise"'\.$/],
  ["events-wrong-type.ts", /^test\/types\/events-wrong-type\.ts\(6,\d+\): error TS2322: Type 'string' is not assignable to type 'number'\.$/],
  ["events-extra-property.ts", /^test\/types\/events-extra-property\.ts\(7,\d+\): error TS2353: Object literal may only specify known properties, and 'discount' does not exist/],
  // The generated inngest triggers type event.data.data by the event's name.
  ["events-inngest-missing-field.ts", /^test\/types\/events-inngest-missing-field\.ts\(9,\d+\): error TS2339: Property 'rating' does not exist on type '\{ orderId: string;/],
];
let failRun;

for (const [file, expected, detail] of mustFail) {
  test(`${file} does not compile`, async () => {
    failRun ??= typecheck(...mustFail.map(([f]) => `test/types/${f}`));
    const { code, out } = await failRun;
    assert.notEqual(code, 0, `tsc accepted the must-fail files:\n${out}`);
    const errors = out.split("\n").filter((l) => l.startsWith(`test/types/${file}(`));
    assert.equal(errors.length, 1, `expected exactly one error in ${file}:\n${out}`);
    assert.match(errors[0], expected);
    if (detail) assert.match(out, detail);
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

// The generated inngest triggers (src/inngest.ts, scripts/generate-inngest.mjs).
test("src/inngest.ts is what the generator makes of src/schema.ts, every time", async () => {
  const { readFile } = await import("node:fs/promises");
  const { catalogue, render } = await import("../scripts/generate-inngest.mjs");
  const events = catalogue(join(root, "src", "schema.ts"));
  assert.deepEqual(events.map((e) => [e.name, e.schema]), [
    ["shop/order.placed", "OrderPlacedEvent"],
    ["app/feedback.submitted", "FeedbackSubmittedEvent"],
  ]);
  const text = render(events);
  assert.equal(render(catalogue(join(root, "src", "schema.ts"))), text);
  assert.equal(await readFile(join(root, "src", "inngest.ts"), "utf8"), text, "run `make generate`");
});

test("the generator refuses a catalogue it cannot type", async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
  const { catalogue, render } = await import("../scripts/generate-inngest.mjs");
  const dir = mkdtempSync(join(root, ".test-build-"));
  try {
    const schema = (catalogueType, members) => `export interface components {\n  schemas: {\n    CatalogueEvent: ${catalogueType};\n${members}  };\n}\n`;
    const cases = [
      ["a member that is not a schema reference", schema(`{ name: "a/b"; data: {} }`, ""), /is not a components\["schemas"\]\[…\] reference/],
      ["a name that is not one literal", schema(`components["schemas"]["AEvent"]`, `    AEvent: { name: "a/b" | "a/c"; data: {} };\n`), /AEvent\.name is not one string literal/],
      ["a name that is a string", schema(`components["schemas"]["AEvent"]`, `    AEvent: { name: string; data: {} };\n`), /AEvent\.name is not one string literal/],
      ["a member the discriminator's mapping does not list (typed by its schema's name)", schema(`components["schemas"]["AEvent"]`, `    AEvent: { name: "AEvent"; data: {} };\n`), /AEvent is missing from CatalogueEvent's discriminator\.mapping/],
      ["no data", schema(`components["schemas"]["AEvent"]`, `    AEvent: { name: "a/b" };\n`), /AEvent has no "data"/],
      ["one name twice", schema(`components["schemas"]["AEvent"] | components["schemas"]["BEvent"]`, `    AEvent: { name: "a/b"; data: {} };\n    BEvent: { name: "a/b"; data: {} };\n`), /"a\/b" is in both AEvent and BEvent/],
      ["two schemas making one export", schema(`components["schemas"]["AEvent"] | components["schemas"]["A"]`, `    AEvent: { name: "a/b"; data: {} };\n    A: { name: "a/c"; data: {} };\n`), /both make the export a/],
    ];
    for (const [what, text, error] of cases) {
      const file = join(dir, "schema.ts");
      writeFileSync(file, text);
      assert.throws(() => render(catalogue(file)), error, what);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The README's recipe on a throwaway event: add its schemas to a copy of
// openapi.yaml, list it in CatalogueEvent's oneOf and mapping, regenerate
// (openapi-typescript, then the generator): sendEvents takes it, its trigger
// types a function, and a wrong member is a compile error.
test("adding an event to openapi.yaml and regenerating types it on both ends", async () => {
  const { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, copyFileSync } = await import("node:fs");
  const dir = mkdtempSync(join(root, ".test-build-"));
  try {
    let spec = readFileSync(join(root, "..", "..", "openapi.yaml"), "utf8");
    const edit = (anchor, insert) => {
      assert.equal(spec.split(anchor).length, 2, `openapi.yaml has not exactly one ${JSON.stringify(anchor)}`);
      spec = spec.replace(anchor, insert(anchor));
    };
    edit("        - $ref: '#/components/schemas/FeedbackSubmittedEvent'\n", (a) => a + "        - $ref: '#/components/schemas/ProfileChangedEvent'\n");
    edit("          app/feedback.submitted: '#/components/schemas/FeedbackSubmittedEvent'\n", (a) => a + "          app/profile.changed: '#/components/schemas/ProfileChangedEvent'\n");
    edit("    CatalogueEventData:\n", (a) => `    ProfileChangedEvent:
      type: object
      required: [name, data]
      additionalProperties: false
      properties:
        name:
          type: string
          enum: [app/profile.changed]
        data:
          $ref: '#/components/schemas/ProfileChangedData'
    ProfileChangedData:
      type: object
      required: [fields]
      additionalProperties: false
      properties:
        fields:
          type: array
          items:
            type: string
            enum: [displayName, avatar]
        locale:
          type: string
${a}`);
    mkdirSync(join(dir, "src"));
    mkdirSync(join(dir, "test"));
    writeFileSync(join(dir, "openapi.yaml"), spec);
    copyFileSync(join(root, "src", "index.ts"), join(dir, "src", "index.ts"));
    const run = (args) => new Promise((resolve) => {
      execFile(process.execPath, args, { cwd: root, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: stdout + stderr }));
    });
    const gen = await run([join(root, "node_modules", "openapi-typescript", "bin", "cli.js"), join(dir, "openapi.yaml"), "-o", join(dir, "src", "schema.ts")]);
    assert.equal(gen.code, 0, gen.out);
    const inngestGen = await run([join(root, "scripts", "generate-inngest.mjs"), join(dir, "src", "schema.ts"), join(dir, "src", "inngest.ts")]);
    assert.equal(inngestGen.code, 0, inngestGen.out);
    const generated = readFileSync(join(dir, "src", "inngest.ts"), "utf8");
    assert.match(generated, /export const profileChanged = eventType\("app\/profile\.changed", \{\n  schema: staticSchema<CatalogueEventData<"app\/profile\.changed">>\(\),\n\}\);/);
    assert.match(generated, /  "app\/profile\.changed": profileChanged,\n/);

    const header = `import { Inngest } from "inngest";
import { createRouteClient } from "../src/index.js";
import { profileChanged } from "../src/inngest.js";
const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });
`;
    writeFileSync(join(dir, "test", "ok.ts"), `${header}
export const sent = client.sendEvents([{ name: "app/profile.changed", data: { fields: ["avatar"], locale: "de" } }]);
export const fn = new Inngest({ id: "t" }).createFunction({ id: "p", triggers: [profileChanged] }, async ({ event }) => {
  const fields: ("displayName" | "avatar")[] = event.data.data.fields;
  return fields.length + (event.data.data.locale ?? "").length;
});
`);
    writeFileSync(join(dir, "test", "wrong-enum.ts"), `${header}
export const sent = client.sendEvents([{ name: "app/profile.changed", data: { fields: ["email"] } }]);
`);
    writeFileSync(join(dir, "test", "wrong-field.ts"), `${header}
export const fn = new Inngest({ id: "t" }).createFunction({ id: "p", triggers: [profileChanged] }, async ({ event }) => event.data.data.rating);
`);
    const ok = await typecheck(join(dir, "test", "ok.ts"));
    assert.equal(ok.code, 0, ok.out);
    const wrong = await typecheck(join(dir, "test", "wrong-enum.ts"), join(dir, "test", "wrong-field.ts"));
    assert.equal(wrong.out.split("\n").filter((l) => / error TS/.test(l)).length, 2, wrong.out);
    assert.match(wrong.out, /wrong-enum\.ts\(6,\d+\): error TS2322: Type '"email"' is not assignable to type '"displayName" \| "avatar"'/);
    assert.match(wrong.out, /wrong-field\.ts\(6,\d+\): error TS2339: Property 'rating' does not exist on type '\{ fields: \("displayName" \| "avatar"\)\[\]; locale\?: string/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
