// bench.mjs - the reference side of tests/bench/fhirpath.sh: the same
// cases with the fhirpath npm package (R4 model), each expression compiled
// once (fhirpath.compile), every case evaluated ROUNDS times; prints
// "N evaluations, M items, S s" (the processor time of the evaluations
// alone), as
// tests/tools/fhirpath_bench does. A case that throws counts as one.
// Usage: node bench.mjs CASES [ROUNDS]
import fs from 'node:fs';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

const rounds = Number(process.argv[3] || 1);
const files = new Map(), compiled = new Map(), cases = [];
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
  const tab = line.indexOf('\t');
  if (tab < 0) continue;
  const file = line.slice(0, tab), expr = line.slice(tab + 1);
  if (!files.has(file)) files.set(file, JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!compiled.has(expr)) {
    try { compiled.set(expr, fhirpath.compile(expr, r4, { traceFn: () => {} })); }
    catch { compiled.set(expr, null); }
  }
  if (compiled.get(expr)) cases.push([files.get(file), compiled.get(expr)]);
}
let evals = 0, items = 0;
const t0 = process.cpuUsage();
for (let r = 0; r < rounds; r++) {
  for (const [res, fn] of cases) {
    try { items += fn(res, { resource: res, rootResource: res }).length; } catch { /* counted */ }
    evals++;
  }
}
const u = process.cpuUsage(t0), s = (u.user + u.system) / 1e6;
console.log(`${evals} evaluations, ${items} items, ${s.toFixed(3)} s`);
