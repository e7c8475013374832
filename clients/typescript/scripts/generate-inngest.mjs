#!/usr/bin/env node
// generate-inngest.mjs writes src/inngest.ts: one inngest 4.x trigger
// (`eventType(name, { schema: staticSchema<…>() })`) per event of the
// catalogue, so that an Inngest function triggered by it has a typed
// `event.data`. `make generate` runs it after openapi-typescript.
//
// The catalogue is read from src/schema.ts (openapi-typescript's output for
// openapi.yaml) with the TypeScript compiler: the members of
// `components["schemas"]["CatalogueEvent"]` (the spec's oneOf, in its order)
// and, for each, the one string literal of its `name` (its enum). Anything
// else (a member that is not a `components["schemas"][…]` reference, a name
// that is not one string literal, a name equal to its schema's name: the
// member is not in the discriminator's mapping, two members with one name) stops the
// script with an error: the catalogue's rules are in openapi.yaml's
// CatalogueEvent description. The output depends on schema.ts only.
//
// Usage: node scripts/generate-inngest.mjs [schema.ts [out.ts]]
// (defaults: src/schema.ts, src/inngest.ts, relative to the package).
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * catalogue reads the catalogue from an openapi-typescript schema.ts.
 * @param {string} schemaPath
 * @returns {{ name: string, schema: string, description: string }[]} in the spec's oneOf order
 */
export function catalogue(schemaPath) {
  const program = ts.createProgram([schemaPath], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022 });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(schemaPath);
  if (!source) throw new Error(`${schemaPath}: cannot read it`);
  const components = source.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === "components");
  if (!components) throw new Error(`${schemaPath}: no "components" interface (is it openapi-typescript's output?)`);
  const schemas = member(components.members, "schemas", schemaPath);
  if (!schemas.type || !ts.isTypeLiteralNode(schemas.type)) throw new Error(`${schemaPath}: components.schemas is not a type literal`);
  const union = member(schemas.type.members, "CatalogueEvent", schemaPath).type;
  const refs = union && ts.isUnionTypeNode(union) ? union.types : union ? [union] : [];
  if (refs.length === 0) throw new Error(`${schemaPath}: components.schemas.CatalogueEvent has no members`);

  const events = [];
  for (const ref of refs) {
    const schema = schemaRefName(ref);
    if (schema === undefined) {
      throw new Error(`${schemaPath}: CatalogueEvent member ${ref.getText(source)} is not a components["schemas"][…] reference (list each event's schema in CatalogueEvent.oneOf)`);
    }
    const decl = member(schemas.type.members, schema, schemaPath);
    const type = checker.getTypeAtLocation(decl);
    const nameProp = checker.getPropertyOfType(type, "name");
    const nameType = nameProp && checker.getTypeOfSymbol(nameProp);
    if (!nameType || !nameType.isStringLiteral()) {
      throw new Error(`${schemaPath}: ${schema}.name is not one string literal (give it an enum with exactly one event name)`);
    }
    // openapi-typescript types a oneOf member that the discriminator's
    // mapping does not list by OpenAPI's implicit discriminator value, the
    // schema's own name, whatever its enum says.
    if (nameType.value === schema) {
      throw new Error(`${schemaPath}: ${schema}.name is typed as "${schema}", its schema's own name: ${schema} is missing from CatalogueEvent's discriminator.mapping in openapi.yaml (add \`<its name enum value>: '#/components/schemas/${schema}'\`, then make generate)`);
    }
    if (!checker.getPropertyOfType(type, "data")) throw new Error(`${schemaPath}: ${schema} has no "data"`);
    const description = ts.getJSDocTags(decl).find((t) => t.tagName.text === "description");
    events.push({
      name: nameType.value,
      schema,
      description: description ? ts.getTextOfJSDocComment(description.comment) ?? "" : "",
    });
  }
  const seen = new Map();
  for (const e of events) {
    if (seen.has(e.name)) throw new Error(`${schemaPath}: the event name ${JSON.stringify(e.name)} is in both ${seen.get(e.name)} and ${e.schema}`);
    seen.set(e.name, e.schema);
  }
  return events;
}

function member(members, name, schemaPath) {
  const m = members.find((x) => x.name && (ts.isIdentifier(x.name) || ts.isStringLiteral(x.name)) && x.name.text === name);
  if (!m || !ts.isPropertySignature(m)) throw new Error(`${schemaPath}: no member ${name}`);
  return m;
}

// schemaRefName returns X for components["schemas"]["X"], else undefined.
function schemaRefName(node) {
  if (!ts.isIndexedAccessTypeNode(node) || !ts.isLiteralTypeNode(node.indexType) || !ts.isStringLiteral(node.indexType.literal)) return undefined;
  const obj = node.objectType;
  if (!ts.isIndexedAccessTypeNode(obj) || !ts.isTypeReferenceNode(obj.objectType) || obj.objectType.typeName.getText() !== "components") return undefined;
  if (!ts.isLiteralTypeNode(obj.indexType) || !ts.isStringLiteral(obj.indexType.literal) || obj.indexType.literal.text !== "schemas") return undefined;
  return node.indexType.literal.text;
}

/**
 * identifier is the export's name for an event schema: OrderPlacedEvent
 * becomes orderPlaced (a trailing "Event" dropped, the first letter lower
 * case).
 * @param {string} schema
 */
export function identifier(schema) {
  const base = schema.endsWith("Event") && schema.length > "Event".length ? schema.slice(0, -"Event".length) : schema;
  const id = base[0].toLowerCase() + base.slice(1);
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(id) || reserved.has(id)) throw new Error(`schema ${schema}: ${id} is not a usable identifier`);
  return id;
}

const reserved = new Set(["catalogueEventTypes", "eventType", "staticSchema", "default"]);

// comment makes a JSDoc block of text lines (no "*/" inside).
function comment(lines, indent = "") {
  return [`${indent}/**`, ...lines.map((l) => `${indent} *${l === "" ? "" : " " + l.replaceAll("*/", "*\\/")}`), `${indent} */`].join("\n");
}

/**
 * render returns the text of src/inngest.ts for a catalogue.
 * @param {{ name: string, schema: string, description: string }[]} events
 */
export function render(events) {
  const ids = new Map();
  for (const e of events) {
    const id = identifier(e.schema);
    if (ids.has(id)) throw new Error(`schemas ${ids.get(id)} and ${e.schema} both make the export ${id}`);
    ids.set(id, e.schema);
  }
  const out = [];
  out.push(`// Code generated by scripts/generate-inngest.mjs from src/schema.ts (openapi.yaml's
// CatalogueEvent) by \`make generate\`. DO NOT EDIT.
//
// The inngest 4.x triggers of the event catalogue: give one to
// \`createFunction({ triggers: [...] })\` and the handler's \`event.data\` is
// \`CatalogueEventData<name>\` (\`event.data.data\` is what the front end sent).
// The schemas are type-only (\`staticSchema\`): routeapi validated every event
// against openapi.yaml before publishing it. Import from
// "@routeapi/client/inngest" (needs the inngest 4.x package).
import { eventType, staticSchema } from "inngest";
import type { EventType, StandardSchemaV1 } from "inngest";
import type { CatalogueEventData, CatalogueEventName } from "./index.js";
`);
  for (const e of events) {
    const doc = e.description === "" ? [] : [...e.description.split("\n").map((l) => l.trim()), ""];
    doc.push(`The trigger of \`${e.name}\` (\`${e.schema}\`): \`event.data.data\` is \`CatalogueData<${JSON.stringify(e.name)}>\`.`);
    out.push(comment(doc));
    out.push(`export const ${identifier(e.schema)} = eventType(${JSON.stringify(e.name)}, {
  schema: staticSchema<CatalogueEventData<${JSON.stringify(e.name)}>>(),
});
`);
  }
  out.push(comment(["Every trigger of the catalogue, by event name. Its type makes a stale", "file (an event missing or extra) a compile error: run `make generate`."]));
  out.push(`export const catalogueEventTypes: {
  readonly [N in CatalogueEventName]: EventType<N, StandardSchemaV1<CatalogueEventData<N>>>;
} = {
${events.map((e) => `  ${JSON.stringify(e.name)}: ${identifier(e.schema)},`).join("\n")}
};
`);
  return out.join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const schemaPath = resolve(process.argv[2] ?? join(root, "src", "schema.ts"));
  const outPath = resolve(process.argv[3] ?? join(root, "src", "inngest.ts"));
  try {
    writeFileSync(outPath, render(catalogue(schemaPath)));
  } catch (err) {
    console.error(`generate-inngest: ${err.message}`);
    process.exit(1);
  }
}
