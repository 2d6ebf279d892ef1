#!/usr/bin/env python3
"""bench/report.py: turns bench/results/results.json (test/bench/tiering-bench)
into summary.md and PNG plots (gnuplot) in the same folder.

  residency-SCENARIO.png  the goal tenant's hot-set share on the fast node
                          over time, one line per contender
  micro.png               move_pages(2) MiB/s by batch size, with the memcpy
                          bandwidths between the nodes as reference lines

usage: bench/report.py [RESULTS_DIR] (default: bench/results next to this file)
Without gnuplot the summary is still written and says the plots are missing."""
import json
import os
import shutil
import subprocess
import sys

GOAL_CG = {'promote': 'pro', 'demote': 'dem', 'phase': 'pha', 'contend': 'lat'}
TITLE = {
    'promote': 'promotion: hot set starts on the slow node',
    'demote': 'demotion: tenant over tier0.max',
    'phase': 'phase change: the hot set moves halfway',
    'contend': 'contention: latency vs batch, fast node too small',
}
MIB = 1 << 20


def fmt(v, unit='', nd=2):
    if v is None:
        return '-'
    if isinstance(v, float):
        return f'{v:.{nd}f}{unit}'
    return f'{v}{unit}'


def plots(res, out):
    """Writes the data files and runs gnuplot; returns the PNG names made."""
    gp = shutil.which('gnuplot')
    if not gp:
        return []
    made = []
    for s in GOAL_CG:
        lines = []
        for c, v in res['contenders'].items():
            r = v['scenarios'].get(s, {})
            ser = (r.get('series') or {}).get(GOAL_CG[s])
            if not ser:
                continue
            dat = os.path.join(out, f'residency-{s}-{c}.dat')
            with open(dat, 'w') as f:
                for p in ser:
                    if p['hot_fast'] is not None:
                        f.write(f"{p['t_s']} {100 * p['hot_fast']:.2f}\n")
            lines.append(f"'{dat}' using 1:2 with linespoints title '{c}'")
        if not lines:
            continue
        png = f'residency-{s}.png'
        marks = [v['scenarios'][s].get('phase_change_s') for v in res['contenders'].values()]
        marks = [x for x in marks if x is not None]
        arrow = (f"set arrow from {sum(marks) / len(marks):.1f},0 to {sum(marks) / len(marks):.1f},100 nohead dt 2\n"
                 f"set label 'hot set moves' at {sum(marks) / len(marks):.1f},102 center\n") if marks else ''
        script = (f"set terminal pngcairo size 800,480 noenhanced\nset output '{os.path.join(out, png)}'\n"
                  f"set title \"{TITLE[s]} ({res['unit_mib']} MiB hot)\"\n"
                  "set xlabel 'seconds'\nset ylabel 'hot set on the fast node (%)'\n"
"set yrange [0:105]\nset key bottom right\nset grid\n" + arrow +
                  "plot " + ', '.join(lines) + "\n")
        if subprocess.run([gp], input=script, text=True).returncode == 0:
            made.append(png)
    m = res.get('micro')
    if m and 'move_pages' in m:
        dat = os.path.join(out, 'micro.dat')
        with open(dat, 'w') as f:
            for x in m['move_pages']:
                f.write(f"{x['batch']} {x['to_slow_mib_s']} {x['to_fast_mib_s']}\n")
        mc = m['memcpy_mib_s']
        script = (f"set terminal pngcairo size 800,480 noenhanced\nset output '{os.path.join(out, 'micro.png')}'\n"
                  "set title 'move_pages(2) throughput by batch size vs memcpy between the nodes'\n"
                  "set xlabel 'pages per move_pages call'\nset ylabel 'MiB/s'\nset logscale x 2\n"
                  "set logscale y 10\nset key outside right\nset grid\n"
                  f"plot '{dat}' using 1:2 with linespoints title 'move_pages fast to slow', "
                  f"'{dat}' using 1:3 with linespoints title 'move_pages slow to fast', "
                  f"{mc['slow_to_fast']} title 'memcpy slow to fast', {mc['fast_to_slow']} title 'memcpy fast to slow', "
                  f"{mc['fast_to_fast']} title 'memcpy fast to fast'\n")
        if subprocess.run([gp], input=script, text=True).returncode == 0:
            made.append('micro.png')
    return made


HELD_WHY = {
    'no_candidates': 'the scanner named no pages to move',
    'limit': 'the tenant is at its tier0.max: promotions wait for room on its fast tier',
    'hysteresis': 'the pages moved recently (hysteresis)',
    'headroom': "the fast node's free memory is at the headroom",
    'quota': "the tenant's class rate quota",
    'budget': 'the global migration budget',
    'contention': 'a higher class wanted the room',
    'low': 'tier0.low protection',
}


def loss_notes(res):
    """A note for every scenario tierd lost (every backend), and for every
    tierd backend that missed a goal another one met: where it ended, and
    what its planner held back in its last period."""
    notes = []
    for s, w in res['winners'].items():
        if not w:
            continue
        lost = not w['contender'].startswith('tierd-')
        tds = {c: v['scenarios'][s] for c, v in res['contenders'].items()
               if c.startswith('tierd-') and 'error' not in v['scenarios'][s] and
               (lost or not v['scenarios'][s]['goal_held_at_end'])}
        if not tds:
            continue
        why = []
        for c, r in sorted(tds.items()):
            fin = r['final_hot_fast'].get(GOAL_CG[s])
            held = []
            for cg, h in (r.get('tierd') or {}).get('held_last_period', {}).items():
                for d, rs in h.items():
                    if d in ('promote', 'demote'):
                        for reason, b in rs.items():
                            held.append(f"{cg}: {b / MIB:.1f} MiB of {d}s held ({HELD_WHY.get(reason, reason)})")
                if 'limit' in (h.get('promote') or {}) and not h.get('planned_demote_bytes'):
                    held.append(f'{cg}: no demotion of its colder fast pages planned to make that room')
            lv = r.get('limit_violations')
            extra = f", over tier0.max at the end by {lv['max_excess_bytes'] / MIB:.1f} MiB" if lv and lv['over_at_end'] else ''
            why.append(f"{c} ended at {fin * 100 if fin is not None else 0:.0f}%{extra}"
                       f"{'; ' + '; '.join(held) if held else ''}")
        if lost:
            notes.append(f"- **tierd loses {s}** to {w['contender']}: " + ' / '.join(why))
        else:
            notes.append(f"- {s}, won by {w['contender']}: missed by " + ' / '.join(why))
    return notes


def summary(res, pngs, out):
    L = []
    m = res['machine']
    kernels = sorted({b.get('guest_kernel') or b['kernel'] for b in res['boots']})
    L.append(f"# tierd tiering benchmark ({res['mode']} mode, {res['date']})\n")
    L.append(f"- machine: {m['host']}, {m['cpus']} CPUs ({m['cpu_model']}), host kernel {m['host_kernel']}")
    L.append(f"- VM: qemu TCG, 2 vCPUs on node 0; node 0 (fast) {res['vm']['fast_node']}, node 1 (slow, "
             f"CPU-less) {res['vm']['slow_node']}; HMAT latencies {res['vm']['hmat_latency']['fast']} / "
             f"{res['vm']['hmat_latency']['slow']}")
    L.append(f"- guest kernel(s): {', '.join(kernels)}")
    L.append(f"- U = {res['unit_mib']} MiB hot set; {res['duration_s']} s per scenario, a sample every "
             f"{res['sample_s']} s (plus the time a sample takes)")
    if res.get('tierd_config'):
        L.append(f"- tierd's configuration (tierd-* contenders, `--period 1`): "
                 f"`{json.dumps(res['tierd_config'], separators=(', ', ': '))}`")
    for b in res['boots']:
        L.append(f"- boot: {b['kernel']} kernel, numa_balancing {b['numa_balancing_at_boot']} at boot, "
                 f"status {b['status']}: {', '.join(b['contenders'])}")
    L.append('')
    L.append('Every number comes from this one run. Under TCG both nodes are the same host memory, so the '
             'access throughput is *modeled* from the HMAT latencies (1 for an all-fast hot set, 1/3 for an '
             'all-slow one); the memcpy microbenchmark below shows that the emulated nodes do not differ.\n')
    L.append('## Winners\n')
    L.append('| scenario | winner | why |')
    L.append('| --- | --- | --- |')
    # the scenarios run (tiering-bench --scenarios can pick a subset)
    ran = [s for s in GOAL_CG if any(s in v['scenarios'] for v in res['contenders'].values())]
    for s in ran:
        w = res['winners'].get(s) or {}
        L.append(f"| {s} | {w.get('contender', '-')} | {w.get('why', '-')} |")
    L.append('')
    notes = loss_notes(res)
    if notes:
        L.extend(notes)
        L.append('')
    for s in ran:
        L.append(f'## {s}: {TITLE[s]}\n')
        first = next((v['scenarios'][s] for v in res['contenders'].values() if 'goal' in v['scenarios'][s]), None)
        if first:
            L.append(f"Goal: {first['goal']}; bytes that had to move: {first['must_move_bytes'] // MIB} MiB.\n")
        L.append('| contender | active | time to goal (s) | held at end | final hot on fast | migrated / needed '
                 '| limit: s over (max excess MiB) | modeled throughput | tierd CPU user+sys s | tierd peak RSS MiB '
                 '| activity counters |')
        L.append('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
        for c, v in res['contenders'].items():
            r = v['scenarios'][s]
            if 'error' in r:
                L.append(f"| {c} | {r['error']} | | | | | | | | | |")
                continue
            lv = r.get('limit_violations')
            lim = f"{lv['seconds_over']} ({lv['max_excess_bytes'] / MIB:.1f})" if lv else '-'
            fin = ', '.join(f"{cg} {fmt(x * 100 if x is not None else None, '%', 0)}"
                            for cg, x in r['final_hot_fast'].items())
            tp = ', '.join(f'{cg} {fmt(x)}' for cg, x in r['modeled_throughput_vs_all_fast'].items())
            t = r.get('tierd')
            cpu = f"{fmt(t['user_s'])} + {fmt(t['system_s'])}" if t else '-'
            rss = fmt(t['max_rss_kib'] / 1024, '', 1) if t and t['max_rss_kib'] else '-'
            k = r['counters']
            act = [f"migrated {k['pgmigrate_success']} pages" if 'pgmigrate_success' in k
                   else 'no migration counters in /proc/vmstat (this kernel)']
            if t and 'pgmigrate_success' not in k:
                act.append(f"tierd moved {(t['promoted_bytes'] + t['demoted_bytes']) / MIB:.1f} MiB")
            if k.get('numa_hint_faults'):
                act.append(f"hint faults {k['numa_hint_faults']}")
            if k.get('pgpromote_success'):
                act.append(f"promoted {k['pgpromote_success']}")
            dem = k.get('pgdemote_kswapd', 0) + k.get('pgdemote_direct', 0)
            if dem:
                act.append(f'reclaim-demoted {dem}')
            for d in r.get('damos') or []:
                act.append(f"{d['action']} applied {d['sz_applied'] / MIB:.1f} MiB ({d['nr_applied']} regions), "
                           f"kdamond {d['kdamond_cpu_s']} s")
            if t:
                act.append(f"tierd {t['periods']} periods, exit {t['exit']}")
                if t['errors']:
                    act.append('stderr: ' + '; '.join(e[:120] for e in t['errors'][:2]))
            if r.get('leftover_kdamonds_before'):
                act.append(f"{r['leftover_kdamonds_before']} kdamonds left on before (result may be tainted)")
            active = {True: 'yes', False: '**no**', None: 'n/a'}[r['active']]
            L.append(f"| {c} | {active} | {fmt(r['time_to_goal_s'])} | {'yes' if r['goal_held_at_end'] else 'no'} "
                     f"| {fin} | {fmt(r['migrated_over_must'])} | {lim} | {tp} | {cpu} | {rss} | {'; '.join(act)} |")
        if f'residency-{s}.png' in pngs:
            L.append(f'\n![{s}](residency-{s}.png)')
        L.append('')
    L.append('## Scan CPU per GiB tracked per period (tierd, mean over the scenarios)\n')
    L.append('| backend | ms CPU / GiB / period |')
    L.append('| --- | --- |')
    for b, x in res.get('scan_cpu_ms_per_gib_period', {}).items():
        L.append(f'| {b} | {fmt(x, "", 1)} |')
    L.append('\n(includes planning and moving; test/bench/scan-bench measures sampling alone.)\n')
    try:
        with open(os.path.join(out, 'scan.json')) as f:
            scan = json.load(f)
    except (OSError, ValueError):
        scan = None
    if scan:
        L.append(f"### Sampling alone (test/bench/scan-bench: {scan['size_mib']} MiB, {scan['hot_mib']} MiB hot, "
                 f"{scan['periods']} x {scan['period_ms']} ms)\n")
        L.append('| kernel | backend | tierd ms/GiB/period (user + sys) | kdamond ms/GiB/period | bytes/page | relative |')
        L.append('| --- | --- | --- | --- | --- | --- |')
        for kn, kv in scan['kernels'].items():
            for row in kv['backends']:
                if 'unavailable' in row:
                    L.append(f"| {kn} | {row['backend']} | unavailable: {row['unavailable']} | | | |")
                    continue
                L.append(f"| {kn} | {row['backend']} | {row['cpu_ms_per_gib_period']} ({row['user_ms_per_gib_period']} + "
                         f"{row['system_ms_per_gib_period']}) | {fmt(row['kdamond_ms_per_gib_period'])} | "
                         f"{row['bytes_per_page']} | {row.get('relative_cpu', '-')} |")
        L.append('')
    L.extend(redis_section(out))
    m = res.get('micro')
    if m and 'move_pages' in m:
        L.append(f"## move_pages microbenchmark ({m['size_bytes'] // MIB} MiB)\n")
        L.append('| pages per call | fast to slow MiB/s | slow to fast MiB/s | failed pages |')
        L.append('| --- | --- | --- | --- |')
        for x in m['move_pages']:
            L.append(f"| {x['batch']} | {x['to_slow_mib_s']} | {x['to_fast_mib_s']} | {x['failed_pages']} |")
        mc = m['memcpy_mib_s']
        L.append(f"\nmemcpy MiB/s: fast to fast {mc['fast_to_fast']}, slow to fast {mc['slow_to_fast']}, "
                 f"fast to slow {mc['fast_to_slow']}.")
        if 'micro.png' in pngs:
            L.append('\n![micro](micro.png)')
    if not pngs:
        L.append('\n(no plots: gnuplot is not installed; scripts/deps installs gnuplot-nox)')
    return '\n'.join(L) + '\n'


def redis_section(out):
    """The real application (scripts/bench runs test/vm/test-redis.py):
    tierd and NUMA balancing side by side, the ratios, and who lost and
    why. Nothing when the run had no such scenario (quick mode)."""
    try:
        with open(os.path.join(out, 'redis.json')) as f:
            r = json.load(f)
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as e:
        return ['## Real application: redis\n', f'No result: {out}/redis.json: {e} (see redis.tap).', '']
    L = ['## Real application: redis\n',
         f"redis-server with {r['keys']} keys of {r['value_bytes']} B, all of it moved to the slow node, then "
         f"redis-benchmark reading {r['hot_keys']} of them for {r['run_s']} s under each contender "
         f"(tierd: the shipped configuration, `--period 1s`, {r['periods']} periods). Fast share: of the pages "
         'redis really accessed (idle page oracle, after the run), those on the fast node. '
         'test/vm/test-redis.py; its TAP output is redis.tap.\n',
         '| contender | accessed pages | on fast | fast share | GET requests/s | moved (MiB) | failed (KiB) |',
         '| --- | --- | --- | --- | --- | --- | --- |']
    sides = (('tierd', r.get('tierd') or {}), ('numa_balancing=2', r.get('numa_balancing') or {}))
    for name, x in sides:
        if 'error' in x:
            L.append(f"| {name} | {x['error']} | | | | | |")
            continue
        moved = fmt(((x.get('promoted_bytes') or 0) + (x.get('demoted_bytes') or 0)) / MIB, '', 1) \
            if 'promoted_bytes' in x else '-'
        failed = str((x['failed_bytes'] or 0) >> 10) if 'failed_bytes' in x else '-'
        L.append(f"| {name} | {x['accessed_pages']} | {x['accessed_on_fast']} | {fmt(x['share_on_fast'] * 100, '%')} "
                 f"| {fmt(x.get('get_rps'), '', 0)} | {moved} | {failed} |")
    a, b = sides[0][1], sides[1][1]
    if 'share_on_fast' in a and 'share_on_fast' in b:
        L.append('')
        share = a['share_on_fast'] / b['share_on_fast'] if b['share_on_fast'] else None
        rps = a['get_rps'] / b['get_rps'] if a.get('get_rps') and b.get('get_rps') else None
        L.append(f"Ratios, tierd over NUMA balancing: fast share {fmt(share)}, GET rate {fmt(rps)} "
                 '(the GET rate is the emulator\'s: both nodes are the same host memory under TCG, so it shows the '
                 'cost of the contenders\' own work, not the tiers\').')
        if a['share_on_fast'] < b['share_on_fast']:
            L.append(f"\n**tierd lost this scenario**: {fmt(a['share_on_fast'] * 100, '%')} of the accessed pages on "
                     f"the fast node against {fmt(b['share_on_fast'] * 100, '%')}; tierd failed to move "
                     f"{(a.get('failed_bytes') or 0) >> 10} KiB (redis.tap lists every refused page by reason).")
    L.append('')
    return L


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
    try:
        with open(os.path.join(out, 'results.json')) as f:
            res = json.load(f)
    except (OSError, ValueError) as e:
        print(f'report: cannot read {out}/results.json: {e}', file=sys.stderr)
        return 1
    pngs = plots(res, out)
    with open(os.path.join(out, 'summary.md'), 'w') as f:
        f.write(summary(res, pngs, out))
    print(f'report: wrote {out}/summary.md and {len(pngs)} plot(s)', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
