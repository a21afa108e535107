// Shared by tools/medplum-validate.mjs and tools/fhir-server/server.mjs: reading FHIR NPM package
// tarballs and adapting our snapshots to Medplum 4.5.2's validator. Node built-ins only.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

// Minimal ustar reader (GNU 'L' and pax 'x' long names): file name -> text of each regular file.
export function readTarball(path) {
  const data = gunzipSync(readFileSync(path));
  const files = new Map();
  let offset = 0;
  let longName = null;
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, length) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = null;
    const body = data.subarray(offset + 512, offset + 512 + size);
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
    } else if (type === 'x') {
      const match = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (match) longName = match[1];
    } else if (type === '0' || type === '' || type === '7') {
      files.set(name, body.toString('utf8'));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

// Medplum 4.5.2 counts an extension slice by the fixed `url` among the slice's own child elements, and
// mis-reads slices nested under a slice (it hoists them to the parent). Standard snapshots either lack
// that child or unfold the whole extension under the slice. So, for Medplum only: every extension slice
// that names its extension profile gets exactly one child, `url` fixed to that profile, and nothing
// else; the extension's own content is then checked against the extension's StructureDefinition.
// Nothing is relaxed: cardinality, patterns and invariants are kept.
export function adaptForMedplum(sd) {
  if (sd.type === 'Extension') return sd;
  const out = [];
  let skipUnder = null;
  for (const element of sd.snapshot.element) {
    if (skipUnder && element.id.startsWith(skipUnder)) continue;
    skipUnder = null;
    out.push(element);
    const profile = element.sliceName && element.type?.length === 1 && element.type[0].code === 'Extension'
      ? element.type[0].profile?.[0] : undefined;
    if (profile) {
      skipUnder = `${element.id}.`;
      out.push({ id: `${element.id}.url`, path: `${element.path}.url`, min: 1, max: '1',
        base: { path: 'Extension.url', min: 1, max: '1' }, type: [{ code: 'uri' }], fixedUri: profile.split('|')[0] });
    }
  }
  return { ...sd, snapshot: { element: out } };
}
