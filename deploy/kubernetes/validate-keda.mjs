// JavaScript, not Rust: KEDA's schemas are published as an npm package of validators only.
// KEDA's resources against the validators of @kubernetes-models/keda (generated from KEDA's Go
// API types: types, enums and required fields; unknown fields are not reported). Called by
// validate.py: node validate-keda.mjs NODE_MODULES < [{"where": ..., "doc": {...}}, ...]
// Prints {"passed": [where, ...], "errors": [[where, message], ...]}; exits 1 on any error.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules] = process.argv.slice(2);
const keda = await import(
  pathToFileURL(join(modules, "@kubernetes-models/keda/keda.sh/v1alpha1/index.js")).href
);
const resources = JSON.parse(readFileSync(0, "utf8"));
const result = { passed: [], errors: [] };
for (const { where, doc } of resources) {
  const Model = keda[doc.kind];
  if (doc.apiVersion !== "keda.sh/v1alpha1" || typeof Model !== "function") {
    result.errors.push([where, `no KEDA model for ${doc.apiVersion} ${doc.kind}`]);
    continue;
  }
  try {
    new Model(doc).validate();
    result.passed.push(where);
  } catch (e) {
    result.errors.push([where, e.message]);
  }
}
console.log(JSON.stringify(result));
process.exit(result.errors.length ? 1 : 0);
