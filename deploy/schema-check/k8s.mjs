// Validates custom resources against the JSON schemas the npm packages of
// kubernetes-models publish for each operator (package.json pins them):
//   @kubernetes-models/cloudnative-pg 1.0.0       CloudNativePG v1.29.0's CRDs
//   @kubernetes-models/prometheus-operator 5.0.1  prometheus-operator v0.90.1's CRDs
//   @kubernetes-models/external-secrets 2.0.0     External Secrets' v1 API types
//
//   node deploy/schema-check/k8s.mjs < resources.json
//
// Input: a JSON array of resources. Output: a JSON array, one entry per resource,
// {apiVersion, kind, name, errors, unknown}: `errors` are the schema's complaints (a
// wrong type, a missing required field, a value outside an enum), `unknown` the fields
// the schema does not know. The API server drops unknown fields of a custom resource
// without a word (or refuses them with strict field validation), so a typo would be
// lost silently: we find them by watching which properties the compiled validator
// reads (a field it never looks at is not in the schema; a map it enumerates is free).
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

const SCHEMAS = {
  "postgresql.cnpg.io/v1 Cluster": ["@kubernetes-models/cloudnative-pg", "PostgresqlCnpgIoV1Cluster.js"],
  "postgresql.cnpg.io/v1 Database": ["@kubernetes-models/cloudnative-pg", "PostgresqlCnpgIoV1Database.js"],
  "monitoring.coreos.com/v1 ServiceMonitor": ["@kubernetes-models/prometheus-operator", "MonitoringCoreosComV1ServiceMonitor.js"],
  "monitoring.coreos.com/v1 PrometheusRule": ["@kubernetes-models/prometheus-operator", "MonitoringCoreosComV1PrometheusRule.js"],
  "monitoring.coreos.com/v1 PodMonitor": ["@kubernetes-models/prometheus-operator", "MonitoringCoreosComV1PodMonitor.js"],
  "external-secrets.io/v1 ExternalSecret": ["@kubernetes-models/external-secrets",
    "ComGithubExternalSecretsExternalSecretsApisExternalsecretsV1ExternalSecret.js"],
};

async function validator(apiVersion, kind) {
  const entry = SCHEMAS[`${apiVersion} ${kind}`];
  if (!entry) return null;
  const [pkg, file] = entry;
  const dir = path.dirname(require.resolve(`${pkg}/package.json`));
  return (await import(pathToFileURL(path.join(dir, "_schemas", file)).href)).validate;
}

// A copy of `value` whose objects record which of their keys were read.
function watched(value, where, objects) {
  if (value === null || typeof value !== "object") return value;
  const read = new Set();
  if (!Array.isArray(value)) objects.push({ where, value, read });
  const copy = Array.isArray(value)
    ? value.map((item, i) => watched(item, `${where}/${i}`, objects))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, watched(v, `${where}/${k}`, objects)]));
  const note = (key) => { if (typeof key === "string") read.add(key); };
  return new Proxy(copy, {
    get(target, key, receiver) { note(key); return Reflect.get(target, key, receiver); },
    has(target, key) { note(key); return Reflect.has(target, key); },
    getOwnPropertyDescriptor(target, key) { note(key); return Reflect.getOwnPropertyDescriptor(target, key); },
    ownKeys(target) { Reflect.ownKeys(target).forEach(note); return Reflect.ownKeys(target); },
  });
}

async function check(resource) {
  const { apiVersion, kind } = resource;
  const name = resource.metadata?.name;
  const validate = await validator(apiVersion, kind);
  if (!validate) return { apiVersion, kind, name, errors: [`no schema for ${apiVersion} ${kind}`], unknown: [] };
  const objects = [];
  const valid = validate(watched(resource, "", objects));
  const errors = valid ? [] : (validate.errors || []).map((e) => `${e.instancePath || "/"} ${e.message || e.keyword} ${JSON.stringify(e.params)}`);
  const unknown = [];
  for (const { where, value, read } of objects) {
    for (const key of Object.keys(value)) {
      if (!read.has(key)) unknown.push(`${where}/${key}`);
    }
  }
  return { apiVersion, kind, name, errors, unknown };
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const resources = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = [];
for (const resource of resources) results.push(await check(resource));
process.stdout.write(JSON.stringify(results));
