#!/usr/bin/env python3
"""vm suite: `scripts/bench --quick` end to end on a tiny size (U = 4 MiB,
20 s per scenario: tierd's first period alone, loading the bpf backend
under TCG on a loaded host, took over 8 s), so that the harness does not rot. Checks that
it exits 0 and that its results carry every measure for every contender and
scenario, that every contender was really active (kernel-nb: NUMA hint
faults and promotions in a measured window that starts with the hot set on
node 1, numa_balancing 2 in each;
kernel-damos: scheme regions applied; tierd: periods run, exit 0), that
tierd with the damon and bpf backends follows the phase scenario's new hot
set (the planner's self-swap),
that the unmanaged contender moved nothing, that DAMON was torn down after
every scenario, that the workloads are intact, and that the summary and the
plots were written. Placement quality otherwise is scripts/bench's to
report: 20 s is too short for more.

usage: test-bench.py BUILD_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402

build = sys.argv[1]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
QUICK = ['unmanaged', 'kernel-nb', 'kernel-damos', 'tierd-damon', 'tierd-bpf', 'tierd-lru_gen']
# three of the four scenarios: demote (a tenant over tier0.max: what the
# byte-only lru_gen backend moves), phase (a tenant at its limit trades its
# old hot set for a new one, so it promotes and demotes) and contend (two
# tenants share the fast node); promote's paths are phase's, and the four
# took 650 s of a 45-minute CI run
SCEN = ['demote', 'phase', 'contend']
# tierd with move_pages (the auto mover) and an address backend: the share of
# the new hot set on node 0 at the end of the phase scenario (measured: see
# RESULTS.md, "Tiering")
PHASE_MIN = {'tierd-damon': 0.9, 'tierd-bpf': 0.9}

out = tempfile.mkdtemp(prefix='tierd-bench-')
try:
    p = subprocess.run([os.path.join(TOP, 'scripts', 'bench'), '--quick', '--no-build', '--build', build,
                        '--out', out, '--unit', '4', '--duration', '20',
                        '--scenarios', ','.join(SCEN)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1700)
    if not t.ok(p.returncode == 0, 'scripts/bench --quick exits 0', p.stdout[-4000:]):
        print('\n'.join('# ' + ln for ln in p.stdout[-1500:].splitlines()))
    try:
        with open(os.path.join(out, 'results.json')) as f:
            res = json.load(f)
    except (OSError, ValueError) as e:
        t.ok(False, 'results.json is written and valid JSON', str(e))
        t.done()
    t.eq(sorted(res['contenders']), sorted(QUICK), 'every quick-mode contender has results')
    for k in ('machine', 'vm', 'boots', 'unit_mib', 'duration_s', 'winners', 'micro',
              'scan_cpu_ms_per_gib_period'):
        t.ok(k in res, f'results carry {k}')
    kernels = {b.get('guest_kernel') for b in res['boots']}
    t.ok(all(kernels) and all(b['status'] == 0 for b in res['boots']),
         f'every boot ran to the end and reported its kernel ({kernels})', res['boots'])
    for c in QUICK:
        sc = res['contenders'].get(c, {}).get('scenarios', {})
        for s in SCEN:
            r = sc.get(s, {'error': 'missing'})
            if not t.ok('error' not in r, f'{c} {s}: ran', r.get('error')):
                continue
            need = ['time_to_goal_s', 'goal_held_at_end', 'final_hot_fast', 'migrated_bytes', 'must_move_bytes',
                    'migrated_over_must', 'modeled_throughput_vs_all_fast', 'counters', 'series', 'active']
            if s in ('demote', 'phase'):
                need.append('limit_violations')
            miss = [k for k in need if k not in r]
            n = min(len(v) for v in r['series'].values()) if r['series'] else 0
            t.ok(not miss and n >= 3, f'{c} {s}: every measure, {n} samples per tenant (>= 3)', f'missing {miss}')
            t.ok(r['intact'] is True, f'{c} {s}: the workloads are intact after the run', r['intact'])
            ka = r.get('kdamonds_after')
            t.ok(ka == {'nr_kdamonds': 0, 'threads': 0} and 'leftover_kdamonds_before' not in r,
                 f'{c} {s}: no kdamond before or after the scenario', (ka, r.get('leftover_kdamonds_before')))
            k = r['counters']
            if c == 'unmanaged':
                # pgmigrate_success also counts compaction (kcompactd after
                # kswapd reclaimed for a higher-order allocation, seen once:
                # 512 pages, one pageblock): allowed only when a compaction
                # counter moved too; no tiering counter may move at all
                tiering = {n: k.get(n) for n in ('pgpromote_success', 'pgdemote_kswapd', 'pgdemote_direct',
                                                 'pgdemote_khugepaged', 'numa_pages_migrated')}
                compaction = {n: k.get(n) for n in ('compact_isolated', 'compact_stall', 'compact_daemon_wake')}
                t.ok(not any(tiering.values()) and
                     (k.get('pgmigrate_success') == 0 or any(compaction.values())),
                     f'{c} {s}: nothing migrated (pgmigrate_success 0 or compaction\'s)',
                     {'pgmigrate_success': k.get('pgmigrate_success'), **tiering, **compaction})
            elif c == 'kernel-damos':
                d = r.get('damos') or []
                t.ok(len(d) == 2 and all('kdamond_cpu_s' in x for x in d),
                     f'{c} {s}: both schemes\' stats and kdamond CPU recorded', d)
            elif c.startswith('tierd-'):
                td = r.get('tierd') or {}
                t.ok(td.get('exit') == '0' and td.get('periods', 0) >= 2,
                     f'{c} {s}: tierd ran {td.get("periods")} periods and exited 0', td.get('errors'))
                t.ok(all(td.get(x) is not None for x in ('user_s', 'system_s', 'max_rss_kib', 'cpu_ms_per_gib_period')),
                     f'{c} {s}: tierd CPU user {td.get("user_s")} s, system {td.get("system_s")} s, '
                     f'peak RSS {td.get("max_rss_kib")} KiB, {td.get("cpu_ms_per_gib_period")} ms/GiB/period')
        # the contender was active at least where it had something to move
        if c == 'kernel-nb':
            # active in the measured windows themselves (the counters are
            # their deltas): numa_balancing 2 in every window, and hint
            # faults and promotions in at least one of the windows whose
            # hot set starts on node 1. Not in each: one CI run's promote
            # window (20 s, numa_balancing set from 0 to 2 at its start)
            # saw no PTE update at all while phase and contend did, the
            # kernel behaviour the issue describes; the summary marks such
            # a window inactive.
            kns = {s: sc.get(s, {}).get('kernel_nb') or {} for s in SCEN if s in ('promote', 'phase', 'contend')}
            t.ok(all(kn.get('numa_balancing_in_window') == 2 for kn in kns.values()),
                 f'{c}: numa_balancing 2 in every measured window', kns)
            act = [s for s, kn in kns.items() if kn.get('numa_hint_faults', 0) > 0 and kn.get('pgpromote_success', 0) > 0]
            t.ok(len(act) > 0, f'{c}: NUMA balancing active (hint faults and promotions) in {", ".join(act) or "no"} '
                 f'window(s): ' + '; '.join(f'{s} {kn.get("numa_hint_faults")} faults, {kn.get("pgpromote_success")} '
                                            f'promoted' for s, kn in kns.items()), kns)
        elif c == 'kernel-damos':
            na = sum(d['nr_applied'] for x in sc.values() for d in x.get('damos') or [])
            t.ok(na > 0, f'{c}: the DAMOS schemes were applied ({na} regions over the scenarios)')
        elif c.startswith('tierd-'):
            if c in PHASE_MIN:
                # the planner's self-swap: at its tier0.max, the tenant
                # trades its old (now cold) hot set for the new one
                ph = sc.get('phase', {})
                fin = (ph.get('final_hot_fast') or {}).get('pha')
                t.ok(fin is not None and fin >= PHASE_MIN[c],
                     f'{c}: phase: {fin} of the new hot set on node 0 at the end (>= {PHASE_MIN[c]})',
                     (ph.get('tierd') or {}).get('held_last_period'))
            mv = sum((x.get('tierd') or {}).get('promoted_bytes', 0) + (x.get('tierd') or {}).get('demoted_bytes', 0)
                     for x in sc.values())
            t.ok(mv > 0, f'{c}: tierd moved {mv >> 20} MiB over the scenarios')
    for s in SCEN:
        w = res['winners'].get(s)
        t.ok(w and w.get('contender') in QUICK, f'winner of {s}: {w}')
    m = res.get('micro') or {}
    mp = m.get('move_pages') or []
    t.ok(len(mp) == 4 and all(x['to_slow_mib_s'] > 0 and x['to_fast_mib_s'] > 0 for x in mp) and
         all(v > 0 for v in (m.get('memcpy_mib_s') or {'x': 0}).values()),
         'microbenchmark: move_pages by 4 batch sizes both ways and memcpy between the nodes', m)
    try:
        with open(os.path.join(out, 'summary.md')) as f:
            md = f.read()
    except OSError as e:
        md = ''
        t.ok(False, 'summary.md is written', str(e))
    if md:
        k0 = next(iter(kernels))
        t.ok(k0 in md and 'machine:' in md and 'VM:' in md and '## Winners' in md and
             all(f'| {s} | {res["winners"][s]["contender"]} |' in md for s in SCEN),
             'summary.md states the machine, kernel, VM sizes and the winner of every scenario')
    if shutil.which('gnuplot'):
        pngs = [f'residency-{s}.png' for s in SCEN] + ['micro.png']
        miss = [x for x in pngs if not os.path.exists(os.path.join(out, x)) or
                os.path.getsize(os.path.join(out, x)) == 0]
        t.ok(not miss, 'the plots are written (residency per scenario, micro)', miss)
    else:
        t.skip('the plots are written', 'gnuplot is not installed (scripts/deps installs gnuplot-nox)')
finally:
    shutil.rmtree(out, ignore_errors=True)
t.done()
