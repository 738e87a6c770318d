#!/usr/bin/env python3
"""cases.py - HL7's validator test cases (../shared/corpora/fhir-validator-
cases, the Java reference validator's outcomes) run through `sluice
validate`: prints verdict agreement and error-count agreement in percent,
for every case (JSON and XML inputs),
and with -v every disagreement with its case id, the expected and the
found error counts.

usage: cases.py SLUICE CORPUS_DIR [-v] [--min-verdict P] [--min-count P]
                [--known FILE]
Exits 1 when a figure is under its minimum (none by default), and with
--known FILE (lines CASE-ID<TAB>cause) when a verdict disagreement is not
listed in FILE or a case listed there now agrees."""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('-')]
    verbose = '-v' in sys.argv
    mins = {}
    known = None
    for k in ('--min-verdict', '--min-count', '--known'):
        if k in sys.argv:
            val = sys.argv[sys.argv.index(k) + 1]
            args.remove(val)
            if k == '--known':
                known = {}
                for line in open(val):
                    if line.strip() and not line.startswith('#'):
                        cid, _, why = line.rstrip('\n').partition('\t')
                        known[cid] = why
            else:
                mins[k] = float(val)
    sluice, corpus = args[0], args[1]
    cases = json.load(open(os.path.join(corpus, 'cases.json')))['cases']
    tmp = tempfile.mkdtemp(prefix='sluice-vcases.')
    n = verdict = count = xml = 0
    fr = fa = 0
    rows = []
    unlisted = []
    stale = []
    try:
        for c in cases:
            if c['format'] != 'json':
                xml += 1
            ig = os.path.join(tmp, 'ig')
            shutil.rmtree(ig, ignore_errors=True)
            os.mkdir(ig)
            for i, s in enumerate(c.get('supporting', [])):
                ext = os.path.splitext(s)[1]
                if ext in ('.json', '.xml'):
                    shutil.copy(os.path.join(corpus, s),
                                os.path.join(ig, '%03d%s' % (i, ext)))
            # HL7's validator makes an extension it has no definition
            # for an error
            cmd = [sluice, '--jobs', '1', 'validate', '--ig', ig,
                   '--unknown-extensions', 'error']
            if c.get('settings', {}).get('allow-comments'):
                cmd.append('--allow-comments')
            if c.get('settings', {}).get('security-checks'):
                cmd.append('--security-checks')
            if c.get('settings', {}).get('examples') is False:
                cmd.append('--no-example-urls')
            if c['mode'] == 'profile' and c.get('profiles'):
                p = c['profiles'][0]
                cmd += ['--profile', os.path.join(corpus, p)]
            cmd.append(os.path.join(corpus, c['input']))
            r = subprocess.run(cmd, capture_output=True, text=True)
            errors = 0
            if r.returncode in (0, 3):
                for line in r.stdout.splitlines():
                    oo = json.loads(line)
                    errors += sum(1 for i in oo['issue']
                                  if i['severity'] in ('error', 'fatal'))
            else:
                errors = -1
            n += 1
            exp = c['expected']['errorCount']
            ok_v = (errors == 0) == (exp == 0)
            verdict += ok_v
            count += errors == exp
            if known is not None:
                if not ok_v and c['id'] not in known:
                    unlisted.append(c['id'])
                if ok_v and c['id'] in known:
                    stale.append(c['id'])
            if not ok_v:
                if exp == 0:
                    fr += 1
                else:
                    fa += 1
            if verbose and (not ok_v or errors != exp):
                msgs = []
                for line in r.stdout.splitlines():
                    for i in json.loads(line)['issue']:
                        if i['severity'] in ('error', 'fatal'):
                            msgs.append('%s %s' % (
                                (i.get('expression') or [''])[0],
                                i.get('details', {}).get('text',
                                                         i.get('diagnostics'))))
                exps = ['%s %s' % (m.get('expression'), m.get('text'))
                        for m in c['expected']['messages']
                        if m['severity'] in ('error', 'fatal')]
                rows.append('%s %s expected %d found %d\n  sluice: %s\n  java: %s'
                            % ('VERDICT' if not ok_v else 'count', c['id'],
                               exp, errors, '\n          '.join(msgs[:6]),
                               '\n          '.join(exps[:6])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in rows:
        print('# ' + r.replace('\n', '\n# '))
    pv = 100.0 * verdict / n if n else 0
    pc = 100.0 * count / n if n else 0
    for cid in unlisted:
        print('# NOT LISTED: %s: a verdict disagreement not in the known '
              'differences' % cid)
    for cid in stale:
        print('# NOW AGREES: %s: remove it from the known differences' % cid)
    if known is not None:
        print('# known differences: %d listed, %d not listed, %d now agree'
              % (len(known), len(unlisted), len(stale)))
    print('# cases: %d (%d with XML input); verdict agreement %.1f%% (%d '
          'false rejects, %d false accepts); error-count agreement %.1f%%'
          % (n, xml, pv, fr, fa, pc))
    bad = bool(unlisted) or bool(stale) or \
          ('--min-verdict' in mins and pv < mins['--min-verdict']) or \
          ('--min-count' in mins and pc < mins['--min-count'])
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
