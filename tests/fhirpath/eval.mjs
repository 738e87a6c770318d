// eval.mjs - the reference side of sluice's FHIRPath differential test:
// evaluates each "FILE<TAB>EXPRESSION" line of the cases file with the
// fhirpath npm package (HL7's JavaScript FHIRPath engine) and its R4
// model, FILE being %resource and %rootResource, and prints one line per
// case: the result as JSON, or ERROR when the engine throws.
// Usage: node eval.mjs CASES.tsv
import fs from 'node:fs';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

const cache = new Map();
function load(file) {
  if (!cache.has(file)) cache.set(file, JSON.parse(fs.readFileSync(file, 'utf8')));
  return cache.get(file);
}

const out = [];
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (line === '') continue;
  const tab = line.indexOf('\t');
  const file = line.slice(0, tab), expr = line.slice(tab + 1);
  try {
    const res = load(file);
    // async: resolve() is asynchronous there (it may fetch); it resolves
    // inside the resource and its Bundle without a server
    const r = await fhirpath.evaluate(res, expr, { resource: res, rootResource: res }, r4,
      { traceFn: () => {}, async: true }); // trace() would print into the results
    out.push(JSON.stringify(r));
  } catch (e) {
    out.push('ERROR');
  }
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
