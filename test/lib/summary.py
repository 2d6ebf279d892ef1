#!/usr/bin/env python3
"""Prints each test's result with its Check or TAP counts, then, for each
failed test, its first failed checks with their details (what a CI log that
keeps only its tail must still show), then one line
'N passed, N failed, N skipped' over every check of every build given."""
import glob
import json
import os
import re
import sys

passed = failed = skipped = 0
why_failed = []  # (name, lines)


def failure_excerpt(out, err, limit=40):
    """The first 'not ok' lines of a TAP or Check output with the
    detail lines after them, or else the end of its output."""
    lines = out.splitlines()
    keep = []
    for i, line in enumerate(lines):
        if re.match(r'^not ok \d+', line) or re.search(r':[EF]:', line):
            keep.append(line)
            j = i + 1
            while j < len(lines) and lines[j].startswith('#'):
                keep.append(lines[j])
                j += 1
        if len(keep) >= limit:
            break
    if not keep:
        keep = (out + '\n' + err).strip().splitlines()[-limit:]
    return [line[:300] for line in keep[:limit]]


def took(r):
    """' [M:SS]', the test's wall-clock time."""
    d = r.get('duration')
    return f' [{int(d) // 60}:{int(d) % 60:02d}]' if isinstance(d, (int, float)) else ''


def results(build):
    """Every test result of BUILD's test logs (scripts/check writes one per
    suite, testlog-SUITE.json; a plain `meson test` writes testlog.json),
    oldest log first."""
    logs = glob.glob(os.path.join(build, 'meson-logs', 'testlog*.json'))
    for log in sorted(logs, key=os.path.getmtime):
        with open(log) as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


for build in sys.argv[1:]:
    for r in results(build):
        out = r.get('stdout') or ''
        name = f"{build}: {r['name']}"
        m = re.search(r'^\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)', out, re.M)
        tap_skipped = re.findall(r'^ok \d+ .*# SKIP (.*)$', out, re.M)
        tap_ok = len(re.findall(r'^ok \d+', out, re.M)) - len(tap_skipped)
        tap_fail = len(re.findall(r'^not ok \d+', out, re.M))
        tap_skip = re.search(r'^1\.\.0 # SKIP (.*)$', out, re.M)
        if r['result'] == 'SKIP' or tap_skip:
            skipped += 1
            why = tap_skip.group(1) if tap_skip else 'skipped'
            print(f'SKIP {name}{took(r)}: {why}')
            continue
        if m:
            n, f, e = map(int, m.groups())
            p, x = n - f - e, f + e
            detail = m.group(0)
        elif tap_ok or tap_fail or tap_skipped:
            p, x = tap_ok, tap_fail
            skipped += len(tap_skipped)
            detail = f'TAP: {tap_ok} ok, {tap_fail} not ok'
            if tap_skipped:
                detail += f', {len(tap_skipped)} skipped ({"; ".join(sorted(set(tap_skipped)))})'
        else:
            p, x = (1, 0) if r['result'] == 'OK' else (0, 1)
            detail = r['result']
        if r['result'] not in ('OK', 'SKIP') and x == 0:
            x = 1  # crashed or timed out after its last check
        passed += p
        failed += x
        if r['result'] != 'OK':
            why_failed.append((name, failure_excerpt(out, r.get('stderr') or '')))
        print(f"{'PASS' if r['result'] == 'OK' else 'FAIL'} {name}{took(r)}: {detail}"
              f"{'' if r['result'] == 'OK' else ' (' + r['result'] + ')'}")
for name, lines in why_failed:
    print(f'--- why {name} failed:')
    for line in lines:
        print(f'    {line}')
print(f'{passed} passed, {failed} failed, {skipped} skipped')
sys.exit(1 if failed else 0)
