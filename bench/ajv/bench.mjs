// The ajv side of `cargo run --release -p ovsr-bench --bin engines`.
//
// Usage: node bench.mjs MANIFEST.json
// The manifest (written by the Rust binary) lists the cases, their referenced documents
// and the workloads. "probe" compiles each case once, timing it, and answers each of its
// documents; "bench" times each workload's validation for several rounds.
// Output: one JSON object on stdout.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Ajv = require("ajv").default;
const Ajv2019 = require("ajv/dist/2019").default;
const Ajv2020 = require("ajv/dist/2020").default;
const AjvDraft04 = require("ajv-draft-04").default;
const addFormats = require("ajv-formats").default;
const draft06 = require("ajv/dist/refs/json-schema-draft-06.json");

const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
const cache = new Map();
const readJson = (path) => {
  if (!cache.has(path)) cache.set(path, JSON.parse(readFileSync(path, "utf8")));
  return cache.get(path);
};

// A new instance for a draft and error mode. Building one (metaschemas, formats) costs
// about 25 ms, more than compiling most schemas.
function newAjv(draft, allErrors) {
  // Formats are annotations, as in the Rust engines' default options.
  const options = { strict: false, allErrors, validateFormats: false, logger: false };
  let ajv;
  if (draft === "draft-04") ajv = new AjvDraft04(options);
  else if (draft === "draft-06") {
    ajv = new Ajv(options);
    ajv.addMetaSchema(draft06);
  } else if (draft === "draft-07") ajv = new Ajv(options);
  else if (draft === "2019-09") ajv = new Ajv2019(options);
  else ajv = new Ajv2020(options);
  addFormats(ajv);
  return ajv;
}

// The draft a schema declares; the registry's default (2020-12) when it declares none.
function draftOf(schema) {
  const declared = typeof schema === "object" && schema !== null ? schema.$schema ?? "" : "";
  return ["draft-04", "draft-06", "draft-07", "2019-09"].find((d) => declared.includes(d));
}

// For compiling: one instance per draft and error mode, as a service would keep them.
const instances = new Map();
function sharedAjv(schema, allErrors) {
  const draft = draftOf(schema);
  const key = `${draft}/${allErrors}`;
  if (!instances.has(key)) instances.set(key, newAjv(draft, allErrors));
  return instances.get(key);
}

// For timing validation: an instance of its own per schema, untouched afterwards, which
// measured faster than validators of a shared instance.
function compileAlone(testCase, allErrors) {
  const schema = readJson(testCase.schema);
  const ajv = newAjv(draftOf(schema), allErrors);
  for (const reference of testCase.references) {
    if (reference.url !== testCase.url) ajv.addSchema(readJson(reference.path), reference.url);
  }
  ajv.addSchema(schema, testCase.url);
  return ajv.getSchema(testCase.url);
}

// Compiles a case with its references, runs its first call (V8 compiles ajv's generated
// code then, which can take longer than the rest), and leaves the instance as it was, so
// every case compiles its references afresh, as the Rust engines do.
function compileCase(testCase, allErrors) {
  const schema = readJson(testCase.schema);
  const ajv = sharedAjv(schema, allErrors);
  const before = new Set([...Object.keys(ajv.schemas), ...Object.keys(ajv.refs)]);
  const added = [schema];
  try {
    for (const reference of testCase.references) {
      if (reference.url === testCase.url) continue;
      const document = readJson(reference.path);
      ajv.addSchema(document, reference.url);
      added.push(document);
    }
    ajv.addSchema(schema, testCase.url);
    const validate = ajv.getSchema(testCase.url);
    if (!validate) throw new Error(`no schema compiled at ${testCase.url}`);
    validate(readJson(testCase.documents[0]));
    return validate;
  } finally {
    for (const table of [ajv.schemas, ajv.refs]) {
      for (const key of Object.keys(table)) if (!before.has(key)) delete table[key];
    }
    for (const document of added) ajv._cache.delete(document);
  }
}

function probe() {
  const cases = {};
  for (const testCase of manifest.cases) {
    const started = process.hrtime.bigint();
    try {
      const validate = compileCase(testCase, false);
      const compile_ms = Number(process.hrtime.bigint() - started) / 1e6;
      const valid = testCase.documents.map((path) => validate(readJson(path)) === true);
      cases[testCase.id] = { compiled: true, compile_ms, valid };
    } catch (error) {
      cases[testCase.id] = { compiled: false, error: String(error.message ?? error) };
    }
  }
  return { cases };
}

function docsPerSecond(pairs, budgetMs) {
  const started = process.hrtime.bigint();
  const budget = BigInt(budgetMs) * 1_000_000n;
  let validated = 0;
  let sink = 0;
  while (process.hrtime.bigint() - started < budget) {
    for (const [validate, document] of pairs) sink += validate(document) ? 1 : 0;
    validated += pairs.length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink < 0) console.error(sink);
  return validated / seconds;
}

function bench() {
  const byId = new Map(manifest.cases.map((testCase) => [testCase.id, testCase]));
  const pairsFor = (entries, allErrors) =>
    entries.flatMap(([id, documents]) => {
      const testCase = byId.get(id);
      const validate = compileAlone(testCase, allErrors);
      return documents.map((n) => [validate, readJson(testCase.documents[n])]);
    });
  const pairs = new Map();
  const workloads = {};
  for (const workload of manifest.workloads) {
    const both = [pairsFor(workload.entries, false), pairsFor(workload.entries, true)];
    // Untimed warm-up: first calls compile code, and V8 optimises hot functions later.
    for (const list of both) docsPerSecond(list, manifest.round_ms);
    pairs.set(workload.workload, both);
    workloads[workload.workload] = { flag_docs_per_sec: [], all_errors_docs_per_sec: [] };
  }
  for (let round = 0; round < manifest.rounds; round++) {
    for (const workload of manifest.workloads) {
      const samples = workloads[workload.workload];
      const [first, all] = pairs.get(workload.workload);
      samples.flag_docs_per_sec.push(docsPerSecond(first, manifest.round_ms));
      samples.all_errors_docs_per_sec.push(docsPerSecond(all, manifest.round_ms));
    }
  }
  return { node: process.version, ajv: require("ajv/package.json").version, workloads };
}

const result = manifest.mode === "probe" ? probe() : bench();
process.stdout.write(JSON.stringify(result));
