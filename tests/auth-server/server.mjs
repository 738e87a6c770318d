// server.mjs - the peers of sluice's auth tests (test code, not shipped),
// all on 127.0.0.1, their ports written as JSON to the file argv[2]:
//   oidc: oidc-provider 9 (an independent OAuth 2.0 / OpenID server) as
//         the token endpoint, at /token, with clients
//           cc-client    client_credentials, client_secret_basic
//           cc-short     the same, tokens living 3 s
//           rs-client    private_key_jwt, RS384, its public key inline
//           es-client    private_key_jwt, ES384, its public key inline
//   api:  a resource server: a Bearer token is looked up in the provider
//         (200 with {client, scope}, else 401), STATIC_TOKEN is accepted
//         as client "static"; /basic wants HTTP Basic with BASIC_USER and
//         BASIC_PASS; /revoke-after revokes the token it accepts; GET /stats answers {tokens: number issued,
//         assertion: the last client assertion's header and claims}
//   sigv4: recomputes the AWS Signature V4 of each request with
//         @smithy/signature-v4 and answers 200, or 403 when it differs
//         or when x-amz-content-sha256 is not the body's hash
//   mtls: node:https asking for a client certificate signed by the test
//         CA; 200 with the certificate's CN
//   google: a Google-style token endpoint at /token (RFC 7523 2.1, grant
//         type jwt-bearer): the assertion is verified with jose (RS256,
//         GOOGLE_PUB, iss GOOGLE_EMAIL, aud this URL, kid GOOGLE_KID, at
//         most an hour) and a token of client google-sa is minted by the
//         provider above; 400 invalid_grant otherwise
//   fhir: a front for the cloud flavours of sluice's fhir-store target,
//         forwarding to the FHIR server FHIR_UPSTREAM once the request is
//         authorised: /azure/... wants a provider token whose scope is
//         this front's /azure/.default (the FHIR service's audience),
//         /v1/projects/.../fhirStores/S/fhir/... a token of google-sa,
//         /datastore/ID/r4/... a SigV4 signature verified as above; 401
//         or 403 otherwise. GET /stats on it: {forwarded, refused}
// Environment: RS_PUB, ES_PUB (PEM public keys of the JWT clients),
// CC_SECRET, STATIC_TOKEN, BASIC_USER, BASIC_PASS, AWS_AKID, AWS_SECRET, AWS_REGION, AWS_TOKEN (optional),
// TLS_CA, TLS_CERT, TLS_KEY (PEM files for the mTLS server); for the
// cloud front: FHIR_UPSTREAM, GOOGLE_PUB, GOOGLE_EMAIL, GOOGLE_KID.
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { importSPKI, jwtVerify, decodeProtectedHeader } from 'jose';

const env = process.env;
const listen = (srv) => new Promise((ok) => srv.listen(0, '127.0.0.1', () => ok(srv.address().port)));
const body = (req) => new Promise((ok) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => ok(Buffer.concat(parts)));
});
const jwk = (file, alg) => ({ ...createPublicKey(readFileSync(file)).export({ format: 'jwk' }), alg, kid: `${alg}-key`, use: 'sig' });

// --- the token endpoint --------------------------------------------------
const oidcSrv = createServer();
const oidcPort = await listen(oidcSrv);
const issuer = `http://127.0.0.1:${oidcPort}`;
const scope = 'system/Patient.rs system/Observation.rs';
const jwtClient = (id, alg, file) => ({
  client_id: id, grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
  token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: alg,
  jwks: { keys: [jwk(file, alg)] }, scope,
});
const ccClient = (id) => ({
  client_id: id, client_secret: env.CC_SECRET, grant_types: ['client_credentials'],
  redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', scope,
});
// the cloud front listens first: Azure's scope names its URL
const fhirSrv = createServer();
const fhirPort = await listen(fhirSrv);
const azureScope = `http://127.0.0.1:${fhirPort}/azure/.default`;
const googleScope = 'https://www.googleapis.com/auth/cloud-healthcare';
const provider = new Provider(issuer, {
  clients: [ccClient('cc-client'), ccClient('cc-short'),
    jwtClient('rs-client', 'RS384', env.RS_PUB), jwtClient('es-client', 'ES384', env.ES_PUB),
    { ...ccClient('azure-client'), scope: `${scope} ${azureScope}` },
    { ...ccClient('google-sa'), scope: googleScope }],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  enabledJWA: { clientAuthSigningAlgValues: ['RS384', 'ES384'] },
  scopes: ['openid', ...scope.split(' '), azureScope, googleScope],
  ttl: { ClientCredentials: (ctx, token, client) => (client.clientId === 'cc-short' ? 3 : 600) },
  routes: { token: '/token' },
});
let tokens = 0;
let assertion = null;
const part = (s) => JSON.parse(Buffer.from(s, 'base64url').toString());
provider.on('grant.success', (ctx) => {
  tokens += 1;
  const a = ctx.oidc.params.client_assertion;
  if (a) assertion = { header: part(a.split('.')[0]), claims: part(a.split('.')[1]), type: ctx.oidc.params.client_assertion_type };
});
provider.on('grant.error', (ctx, err) => console.error(`grant.error: ${err.message} ${err.error_description || ''}`));
oidcSrv.on('request', provider.callback());
// the same provider over TLS, with the test CA's server certificate
const tlsOpts = { cert: readFileSync(env.TLS_CERT), key: readFileSync(env.TLS_KEY) };
const oidcTlsPort = await listen(createTlsServer(tlsOpts, provider.callback()));

// --- the resource server -------------------------------------------------
const api = createServer(async (req, res) => {
  await body(req);
  if (req.url === '/stats') {
    res.end(JSON.stringify({ tokens, assertion }));
    return;
  }
  if (req.url === '/basic') {
    const want = `Basic ${Buffer.from(`${env.BASIC_USER}:${env.BASIC_PASS}`).toString('base64')}`;
    res.writeHead(req.headers.authorization === want ? 200 : 401);
    res.end(req.headers.authorization === want ? JSON.stringify({ user: env.BASIC_USER }) : '');
    return;
  }
  if (env.STATIC_TOKEN && req.headers.authorization === `Bearer ${env.STATIC_TOKEN}`) {
    res.end(JSON.stringify({ client: 'static' }));
    return;
  }
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  const t = m ? await provider.ClientCredentials.find(m[1]) : undefined;
  if (!t) {
    res.writeHead(401, { 'www-authenticate': 'Bearer' });
    res.end();
    return;
  }
  // /revoke-after: the token is accepted once, then revoked (a token
  // that dies before its expiry, as after a server restart)
  if (req.url.startsWith('/revoke-after')) await t.destroy();
  res.end(JSON.stringify({ client: t.clientId, scope: t.scope }));
});
const apiPort = await listen(api);

// --- SigV4 ---------------------------------------------------------------
// why the request's signature is wrong ('' when it verifies), for a
// server on port
const sigv4Why = async (req, data, port) => {
  const [, , region, service] = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(req.headers.authorization || '') || [];
  const signed = (/SignedHeaders=([^,]+)/.exec(req.headers.authorization || '') || [])[1];
  const amzDate = req.headers['x-amz-date'];
  let why = '';
  if (!signed || !amzDate) why = 'no SigV4 Authorization or x-amz-date';
  else if (region !== env.AWS_REGION || service !== 'healthlake') why = `scope ${region}/${service}`;
  else if (req.headers['x-amz-content-sha256']
           && req.headers['x-amz-content-sha256'] !== createHash('sha256').update(data).digest('hex')) why = 'x-amz-content-sha256 is not the body hash';
  else if (env.AWS_TOKEN && req.headers['x-amz-security-token'] !== env.AWS_TOKEN) why = 'no or wrong x-amz-security-token';
  if (!why) {
    const u = new URL(req.url, 'http://x');
    const headers = {};
    for (const h of signed.split(';')) headers[h] = req.headers[h];
    const query = {};
    // a repeated name is a list, which the signer sorts by value
    for (const [k, v] of u.searchParams) query[k] = k in query ? [].concat(query[k], v) : v;
    const signer = new SignatureV4({
      service, region, sha256: Sha256, applyChecksum: false, uriEscapePath: true,
      credentials: { accessKeyId: env.AWS_AKID, secretAccessKey: env.AWS_SECRET, sessionToken: env.AWS_TOKEN || undefined },
    });
    const d = amzDate;
    const when = new Date(Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(9, 11), +d.slice(11, 13), +d.slice(13, 15)));
    const expect = await signer.sign({
      method: req.method, protocol: 'http:', hostname: '127.0.0.1', port,
      path: u.pathname, query, headers, body: data.length ? data : undefined,
    }, { signingDate: when, unsignableHeaders: new Set(), signableHeaders: new Set(signed.split(';')) });
    const want = /Signature=([0-9a-f]+)/.exec(expect.headers.authorization)[1];
    const got = (/Signature=([0-9a-f]+)/.exec(req.headers.authorization) || [])[1];
    if (want !== got) why = `signature differs (signed headers ${signed})`;
  }
  return why;
};
const sigv4 = createServer(async (req, res) => {
  const data = await body(req);
  const why = await sigv4Why(req, data, sigv4Port);
  const signed = (/SignedHeaders=([^,]+)/.exec(req.headers.authorization || '') || [])[1];
  if (why) console.error(`sigv4: ${why}`);
  res.writeHead(why ? 403 : 200);
  res.end(why ? '' : JSON.stringify({ signed: signed.split(';') }));
});
const sigv4Port = await listen(sigv4);

// --- mutual TLS ----------------------------------------------------------
const mtls = createTlsServer({
  ca: readFileSync(env.TLS_CA), cert: readFileSync(env.TLS_CERT), key: readFileSync(env.TLS_KEY),
  requestCert: true, rejectUnauthorized: true,
}, (req, res) => {
  res.end(JSON.stringify({ cn: req.socket.getPeerCertificate().subject.CN }));
});
const mtlsPort = await listen(mtls);

// --- Google's token endpoint ---------------------------------------------
const googleSrv = createServer();
const googlePort = await listen(googleSrv);
const googleGrants = [];
googleSrv.on('request', async (req, res) => {
  const form = new URLSearchParams((await body(req)).toString());
  const fail = (why) => {
    console.error(`google: ${why}`);
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_grant', error_description: why }));
  };
  if (req.method !== 'POST' || req.url !== '/token') return fail('not POST /token');
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return fail('grant_type');
  const jwt = form.get('assertion') || '';
  try {
    const header = decodeProtectedHeader(jwt);
    const { payload } = await jwtVerify(jwt, await importSPKI(readFileSync(env.GOOGLE_PUB, 'utf8'), 'RS256'), {
      algorithms: ['RS256'], issuer: env.GOOGLE_EMAIL, audience: `http://127.0.0.1:${googlePort}/token`,
      requiredClaims: ['iat', 'exp', 'scope'], maxTokenAge: '1h',
    });
    if (header.kid !== env.GOOGLE_KID) return fail('kid');
    if (payload.exp - payload.iat > 3600) return fail('exp more than an hour after iat');
    if (payload.scope !== googleScope) return fail(`scope ${payload.scope}`);
    const token = new provider.ClientCredentials({ client: await provider.Client.find('google-sa'), scope: googleScope });
    const value = await token.save();
    googleGrants.push({ header, claims: payload });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: value, token_type: 'Bearer', expires_in: token.expiration }));
  } catch (err) {
    fail(err.code || err.message);
  }
});

// --- the cloud front -----------------------------------------------------
const stats = { forwarded: 0, refused: 0, google: googleGrants };
const googlePath = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/datasets\/[^/]+\/fhirStores\/[^/]+\/fhir(?=\/|$)/;
const awsPath = /^\/datastore\/[^/]+\/r4(?=\/|$)/;
fhirSrv.on('request', async (req, res) => {
  const data = await body(req);
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/stats') {
    res.end(JSON.stringify(stats));
    return;
  }
  const bearer = async (want) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
    const t = m ? await provider.ClientCredentials.find(m[1]) : undefined;
    return t && want(t) ? '' : 'no token, or not one for this server';
  };
  let rest, why;
  if (u.pathname.startsWith('/azure/') || u.pathname === '/azure') {
    rest = u.pathname.slice(6);
    why = await bearer((t) => (t.scope || '').split(' ').includes(azureScope));
  } else if (googlePath.test(u.pathname)) {
    rest = u.pathname.replace(googlePath, '');
    why = await bearer((t) => t.clientId === 'google-sa');
  } else if (awsPath.test(u.pathname)) {
    rest = u.pathname.replace(awsPath, '');
    why = await sigv4Why(req, data, fhirPort);
  } else {
    why = 'no such store';
  }
  if (why) {
    console.error(`fhir front: ${why}`);
    stats.refused += 1;
    res.writeHead(awsPath.test(u.pathname) ? 403 : 401, { 'www-authenticate': 'Bearer' });
    res.end();
    return;
  }
  stats.forwarded += 1;
  const up = await fetch(`${env.FHIR_UPSTREAM}${rest || '/'}${u.search}`, {
    method: req.method, body: data.length ? data : undefined,
    headers: { 'content-type': req.headers['content-type'] || 'application/fhir+json' },
  });
  res.writeHead(up.status, { 'content-type': up.headers.get('content-type') || 'application/fhir+json' });
  res.end(Buffer.from(await up.arrayBuffer()));
});

writeFileSync(process.argv[2] + '.tmp', JSON.stringify({ oidc: oidcPort, oidcTls: oidcTlsPort, api: apiPort, sigv4: sigv4Port, mtls: mtlsPort, google: googlePort, fhir: fhirPort }));
import('node:fs').then((fs) => fs.renameSync(process.argv[2] + '.tmp', process.argv[2]));
