#!/usr/bin/env python3
"""Prints the wall-clock time of each step of scripts/check (a table from
its TIMES file: one 'LABEL<TAB>SECONDS<TAB>STATUS' line per step, in the
order they ended; a step that ran beside others says so in its label), the
whole run's wall-clock time, and the slowest tests of the builds given (from
their test logs, as test/lib/summary.py reads them), so that a CI log shows
where its minutes went.

usage: times.py TIMES WALL_SECONDS BUILD..."""
import glob
import json
import os
import sys


def mmss(s):
    s = int(round(s))
    return f'{s // 60}:{s % 60:02d}'


def main():
    steps = []
    with open(sys.argv[1]) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) == 3:
                steps.append((parts[0], int(parts[1]), int(parts[2])))
    total = int(sys.argv[2])
    width = max([len(x) for x, _, _ in steps] + [len('the whole run (wall clock)')])
    print(f'{"step":<{width}}  {"time":>6}  {"share":>5}  result')
    for label, secs, rc in steps:
        share = f'{100 * secs / total:.0f}%' if total else '-'
        print(f'{label:<{width}}  {mmss(secs):>6}  {share:>5}  {"ok" if rc == 0 else "FAILED"}')
    print(f'{"the whole run (wall clock)":<{width}}  {mmss(total):>6}')

    tests = []
    for build in sys.argv[3:]:
        for log in glob.glob(os.path.join(build, 'meson-logs', 'testlog*.json')):
            with open(log) as f:
                for line in f:
                    if line.strip():
                        r = json.loads(line)
                        if isinstance(r.get('duration'), (int, float)):
                            tests.append((r['duration'], f'{build}: {r["name"]}'))
    tests.sort(reverse=True)
    if tests:
        print('\nslowest tests:')
        tw = max(len(n) for _, n in tests[:12])
        for d, n in tests[:12]:
            print(f'  {n:<{tw}}  {mmss(d):>6}')


if __name__ == '__main__':
    main()
