// Validates an AsyncAPI document with the AsyncAPI Initiative's own parser (its JSON
// Schemas and rules): prints every diagnostic, exits 1 if any is an error.
//   node deploy/schema-check/asyncapi.mjs docs/asyncapi.yaml
import { Parser, fromFile } from '@asyncapi/parser';

const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, process.argv[2]).parse();
let errors = 0;
for (const diagnostic of diagnostics) {
  const error = diagnostic.severity === 0;  // 0 error, 1 warning, 2 information, 3 hint
  errors += error ? 1 : 0;
  console.log(JSON.stringify({ error, code: diagnostic.code, message: diagnostic.message,
                               path: diagnostic.path }));
}
if (!document || errors) process.exit(1);
console.log(JSON.stringify({ parsed: true, version: document.version() }));
