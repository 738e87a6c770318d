// compare.mjs - compares sluice's and the reference's results, case by
// case. A disagreement is "known" when its expression is listed in the
// known-differences file (EXPRESSION<TAB>cause; the causes are those of
// docs/validation.md), else "unexplained". Prints
// "agree A of N known K unexplained U" and writes each disagreement (the
// case, both results and the cause) to the report file.
// Usage: node compare.mjs CASES SLUICE_OUT REFERENCE_OUT REPORT [KNOWN]
import fs from 'node:fs';

const lines = (f) => {
  const l = fs.readFileSync(f, 'utf8').split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
};
const [casesF, mineF, refF, report, knownF] = process.argv.slice(2);
const [cases, mine, ref] = [casesF, mineF, refF].map(lines);
const known = new Map();
if (knownF) {
  for (const l of lines(knownF)) {
    if (l === '' || l.startsWith('#')) continue;
    const t = l.indexOf('\t');
    known.set(l.slice(0, t), l.slice(t + 1));
  }
}
if (cases.length !== mine.length || cases.length !== ref.length) {
  console.log(`line counts differ: ${cases.length} cases, ${mine.length} from sluice, ${ref.length} from the reference`);
  process.exit(1);
}
let agree = 0, nknown = 0, unexplained = 0;
const out = [];
for (let i = 0; i < cases.length; i++) {
  if (mine[i] === ref[i]) { agree++; continue; }
  const expr = cases[i].slice(cases[i].indexOf('\t') + 1);
  const cause = known.get(expr);
  if (cause) nknown++; else unexplained++;
  out.push(`${cases[i]}\n  sluice:    ${mine[i]}\n  reference: ${ref[i]}\n  cause:     ${cause || 'UNEXPLAINED'}`);
}
out.sort((a, b) => (a.includes('UNEXPLAINED') ? 0 : 1) - (b.includes('UNEXPLAINED') ? 0 : 1));
fs.writeFileSync(report, out.join('\n') + (out.length ? '\n' : ''));
console.log(`agree ${agree} of ${cases.length} known ${nknown} unexplained ${unexplained}`);
