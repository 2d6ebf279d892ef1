#!/usr/bin/env python3
"""host suite: bench/report.py, the last step of scripts/bench, on the
results of a real full run (test/fixtures/bench: results.json of the
2026-12-06 run cut to four contenders and every third sample, and that
run's redis.json). Checked: it exits 0 and writes summary.md with the
winners, every scenario's table and the redis section with its ratios;
the residency plots when gnuplot is there (scripts/deps installs it); a
redis result where tierd has the smaller share names tierd as the loser;
a run without redis.json (quick mode) has no redis section.

usage: test-bench-report.py"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402

t = Tap()
FIX = os.path.join(TOP, 'test', 'fixtures', 'bench')
REPORT = os.path.join(TOP, 'bench', 'report.py')


def report(redis=None):
    """report.py on a copy of the fixture, REDIS (a dict) as redis.json
    when given; (returncode, stderr, summary.md's text, files made)."""
    d = tempfile.mkdtemp()
    shutil.copy(os.path.join(FIX, 'results.json'), d)
    if redis is not None:
        with open(os.path.join(d, 'redis.json'), 'w') as f:
            json.dump(redis, f)
    p = subprocess.run([sys.executable, REPORT, d], capture_output=True, text=True, timeout=120)
    try:
        with open(os.path.join(d, 'summary.md')) as f:
            text = f.read()
    except OSError:
        text = ''
    files = sorted(os.listdir(d))
    shutil.rmtree(d)
    return p.returncode, p.stderr, text, files


with open(os.path.join(FIX, 'redis.json')) as f:
    redis = json.load(f)

rc, err, text, files = report(redis)
t.ok(rc == 0, 'report.py on a full run\'s results: exit 0', err)
t.ok('## Winners' in text and all(f'## {s}:' in text for s in ('promote', 'demote', 'phase', 'contend')),
     'summary.md: the winners and every scenario\'s table', text[:2000])
t.ok('## Real application: redis' in text and '| tierd | 6219 | 6219 | 100.00% |' in text
     and 'Ratios, tierd over NUMA balancing: fast share 1.00, GET rate 1.33' in text
     and 'tierd lost' not in text,
     'summary.md: the redis section, both contenders and the ratios', text[text.find('## Real'):][:1500])
if shutil.which('gnuplot'):
    t.ok(all(f'residency-{s}.png' in files for s in ('promote', 'demote', 'phase', 'contend')),
         'gnuplot installed: a residency plot per scenario', files)
else:
    t.skip('a residency plot per scenario', 'no gnuplot here (scripts/deps installs gnuplot-nox)')

lost = json.loads(json.dumps(redis))
lost['tierd'].update(accessed_on_fast=5900, share_on_fast=5900 / 6219)
rc, err, text, _ = report(lost)
t.ok(rc == 0 and '**tierd lost this scenario**: 94.87% of the accessed pages' in text
     and 'failed to move 1376 KiB' in text,
     'a redis result with tierd behind NUMA balancing: tierd named as the loser, with its failed bytes',
     text[text.find('## Real'):][:1500])

rc, err, text, _ = report()
t.ok(rc == 0 and '## Winners' in text and '## Real application' not in text,
     'no redis.json (quick mode): the report without a redis section', err)
t.done()
