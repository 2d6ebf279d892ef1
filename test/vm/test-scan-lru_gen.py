#!/usr/bin/env python3
"""vm suite: the MGLRU scanner backend (scanner/lru_gen.c) through
`tierd scan --backend lru_gen`, one boot of the stock kernel:

  disabled  MGLRU switched off: exit 1, the message names the switch
  main      workload --size 64 --hot 16 --rate 20 in t1 (node 0) and
            workload --size 32 --hot 8 --rate 20 --node 1 in t2, both
            tenants in one scan of 3 periods of 1 s
  vanish    t3 and t4 scanned for 4 periods while t4's process exits
            (after ~1.5 s) and t3's process exits and t3 is removed (~2.5 s)
  passes    the pass flags ("pass" of each history entry): after the
            arming period 0, every period is a whole byte-only pass of
            each tenant ("begin", "end", "byte_only"), exact in "main";
            in "vanish", t4 (its cgroup stays) keeps whole passes to the
            end, t3 has them while its cgroup exists, and a period without
            a pass reports no bytes

The measure: MGLRU has no addresses, so accuracy is on bytes. hot_bytes
(age 0) of the last period must lie in [95%, 105%] of the workload's hot
size plus 1 MiB (the process's stack, binary and libc pages, which it also
touches), and cold_bytes must be at least 95% of its cold size (SIZE - HOT).

A testbed artifact, and what the test does about it: MGLRU's aging clears
accessed bits without flushing the TLB (by design, as on real hardware,
where the TLB holds far fewer translations than a 16 MiB hot set). Under
qemu TCG the software TLB holds all 4096 hot translations and is flushed
only when the vCPU switches address spaces; a workload alternating only
with the idle task (lazy TLB, no CR3 write) keeps hitting its TLB, the
accessed bits stay clear, and whole periods read as cold (seen: t1 hot 0
in 2 of 5 periods on an otherwise idle guest). So "main" runs a light
process churn (two loops spawning a process every 50 ms) as a busy host
would, which makes the vCPUs switch address spaces.

usage: test-scan-lru_gen.py stock BUILD_DIR"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from passes import describe, history_of, pass_runs  # noqa: E402
from tap import Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if kernel != 'stock':
    t.skip_all(f'the lru_gen scan test runs on the stock kernel, not {kernel}')
for prog in ('tierd', os.path.join('test', 'helpers', 'workload')):
    if not os.path.exists(os.path.join(build, prog)):
        t.skip_all(f'no {prog} in {build} (built with -Dtests=true)')

MIB = 1 << 20
SLACK = 1 * MIB

GUEST = r'''
cg=/sys/fs/cgroup
show() { echo "=== BEGIN $1"; cat /tmp/$1; echo; echo "=== END $1"; }
sc() { # NAME ARGS...: tierd scan with the lru_gen backend; NAME.out/.err/.rc
        n=$1; shift
        tierd scan --backend lru_gen "$@" --json > /tmp/$n.out 2> /tmp/$n.err
        echo $? > /tmp/$n.rc
}
start() { # CGROUP NAME WORKLOAD-ARGS...: workload in CGROUP, ready at /tmp/NAME.ready
        c=$1 n=$2; shift 2
        sh -c "echo \$\$ > $cg/$c/cgroup.procs; exec workload $* --report /tmp/$n.json --ready /tmp/$n.ready" &
}
ready() { while [ ! -e /tmp/$1.ready ]; do sleep 0.2; done; }
report() { # PID NAME: the workload's report into /tmp/NAME.json
        rm -f /tmp/$2.json; kill -USR2 $1; while [ ! -e /tmp/$2.json ]; do sleep 0.2; done
}
mkdir $cg/t0 $cg/t1 $cg/t2 $cg/t3 $cg/t4

# disabled: the switch off
echo n > /sys/kernel/mm/lru_gen/enabled
sc disabled --cgroup t0 --periods 1 --period-ms 200
for f in disabled.out disabled.err disabled.rc; do show $f; done
echo y > /sys/kernel/mm/lru_gen/enabled
cat /sys/kernel/mm/lru_gen/enabled > /tmp/enabled; show enabled

# main: t1 on node 0, t2 bound to node 1
start t1 w1 --size 64 --hot 16 --rate 20; w1=$!
start t2 w2 --size 32 --hot 8 --rate 20 --node 1; w2=$!
ready w1; ready w2
churn() { while [ ! -e /tmp/stop-churn ]; do cat /proc/loadavg > /dev/null; sleep 0.05; done; }
churn & c1=$!
churn & c2=$!
sc main --cgroup t1 --cgroup t2 --periods 3 --period-ms 1000
report $w1 w1; report $w2 w2
for f in main.out main.err main.rc w1.json w2.json; do show $f; done
cat /sys/kernel/debug/lru_gen > /tmp/lru_gen; show lru_gen
touch /tmp/stop-churn; wait $c1; wait $c2
kill -TERM $w1 $w2; wait $w1; wait $w2

# vanish: t4's process exits, t3 is removed, while the scan runs
start t3 w3 --size 16 --hot 4 --rate 20; w3=$!
start t4 w4 --size 16 --hot 4 --rate 20; w4=$!
ready w3; ready w4
sc vanish -v --cgroup t3 --cgroup t4 --periods 4 --period-ms 1000 &
s=$!
sleep 1.5
kill -TERM $w4; wait $w4
sleep 1
kill -TERM $w3; wait $w3
rmdir $cg/t3 && echo removed > /tmp/rmdir || echo "rmdir failed" > /tmp/rmdir
wait $s
for f in rmdir vanish.out vanish.err vanish.rc; do show $f; done
'''

status, out = run_vm(kernel, GUEST, build, timeout=600)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)


def tenant(doc, name):
    for x in (doc or {}).get('tenants', []):
        if x['cgroup'] == name:
            return x
    return None


def tier_bytes(x, tier, age=None):
    return sum(c['bytes'] for c in x['heat'] if c['tier'] == tier and (age is None or c['age'] == age))


def mib(b):
    return f'{b / MIB:.2f} MiB'


WHOLE = {'begin', 'end', 'byte_only'}


def check_passes(name, doc, cgroup):
    """CGROUP's pass flags in DOC: well formed, every one a whole byte-only
    pass or none, and no bytes without a pass; returns the history."""
    seq = history_of(doc, cgroup)
    _, _, errors = pass_runs(seq)
    bad = [(p, sorted(f), b) for p, f, b in seq if f and f - {'exact'} != WHOLE or b > 0 and not f]
    print(f'# {name}: pass flags by period: {describe(seq)}')
    t.ok(seq and not errors and not bad, f'{name}: each period a whole byte-only pass or none, no bytes without one',
         '\n'.join(errors) + f'\n{bad}')
    return seq


# disabled
err = s.get('disabled.err', '')
t.eq(s.get('disabled.rc', '').strip(), '1', 'MGLRU disabled: tierd scan exits 1')
t.ok('/sys/kernel/mm/lru_gen/enabled' in err and 'echo y' in err,
     'MGLRU disabled: the message names the switch and how the operator enables it', err)
d = parse_json(t, s.get('disabled.out'), 'disabled: --json output')
t.ok(d is not None and 'error' in d, 'MGLRU disabled: {"error": ...} on stdout', s.get('disabled.out'))
t.ok(s.get('enabled', '').strip() not in ('', '0x0000'), 'the test enabled MGLRU again', s.get('enabled'))

# main
t.eq(s.get('main.rc', '').strip(), '0', 'main: tierd scan exits 0')
t.ok('error' not in s.get('main.err', '').lower(), 'main: nothing about an error on stderr', s.get('main.err'))
m = parse_json(t, s.get('main.out'), 'main: --json output')
w1 = parse_json(t, s.get('w1.json'), 'workload t1 report')
w2 = parse_json(t, s.get('w2.json'), 'workload t2 report')
if m and w1 and w2:
    t.eq((m['backend'], m['periods']), ('lru_gen', 3), 'main: backend lru_gen, 3 measured periods')
    for h in m['history']:
        print('# period %d (%.1f ms): %s' % (h['period'], h['scan_ms'], ', '.join(
            f"{x['cgroup']} hot {mib(x['hot_bytes'])} cold {mib(x['cold_bytes'])} tracked {mib(x['tracked_bytes'])}"
            for x in h['tenants'])))
    print(f"# memory: {m['memory']}; cpu: {m['cpu']}")
    for name, w, tier in (('t1', w1, 0), ('t2', w2, 1)):
        x = tenant(m, name)
        if not t.ok(x is not None, f'main: {name} reported'):
            continue
        hot = sum(r['end'] - r['start'] for r in w['hot'])
        cold = w['size_bytes'] - hot
        print(f'# {name}: workload hot {mib(hot)}, cold {mib(cold)}; measured hot {mib(x["hot_bytes"])} '
              f'({100 * x["hot_bytes"] / hot:.1f}%), cold {mib(x["cold_bytes"])} '
              f'({100 * x["cold_bytes"] / cold:.1f}%), tracked {mib(x["tracked_bytes"])}; heat {x["heat"]}')
        t.ok(0.95 * hot <= x['hot_bytes'] <= 1.05 * hot + SLACK,
             f'{name}: hot_bytes within [95%, 105%] of the {mib(hot)} hot set (+1 MiB)',
             f'hot_bytes {x["hot_bytes"]}, hot set {hot}')
        t.ok(x['cold_bytes'] >= 0.95 * cold, f'{name}: cold_bytes at least 95% of the {mib(cold)} cold set',
             f'cold_bytes {x["cold_bytes"]}, cold set {cold}')
        t.eq(x['tracked_bytes'], x['hot_bytes'] + x['cold_bytes'], f'{name}: tracked_bytes is the sum of the heat')
        t.ok(tier_bytes(x, tier) >= 0.95 * w['size_bytes'],
             f'{name}: at least 95% of its {mib(w["size_bytes"])} reported on tier {tier}',
             f'tier {tier}: {tier_bytes(x, tier)}')
        t.ok(tier_bytes(x, tier, 0) >= 0.95 * hot, f'{name}: its hot set is age-0 bytes of tier {tier}',
             f'tier {tier} age 0: {tier_bytes(x, tier, 0)}')
        t.ok(not x['candidates']['cold'] and not x['candidates']['hot'],
             f'{name}: no candidates (MGLRU has no addresses)')
        seq = check_passes(f'main {name}', m, name)
        t.ok(len(seq) == 3 and all(f == WHOLE | {'exact'} for _, f, _ in seq),
             f'main {name}: every measured period a whole exact byte-only pass', describe(seq))
    t.ok(m['memory']['pages'] > 0 and m['memory']['bytes'] > 0,
         'main: memory() reports the bytes held and the pages covered', m['memory'])

# vanish
t.eq(s.get('rmdir', '').strip(), 'removed', 'vanish: t3 was removed during the scan')
t.eq(s.get('vanish.rc', '').strip(), '0', 'vanish: tierd scan exits 0 although t3 went away and t4 emptied')
t.ok('error' not in s.get('vanish.err', '').lower(),
     'vanish: nothing about an error on stderr (with -v: debug lines only)', s.get('vanish.err'))
for line in s.get('vanish.err', '').splitlines():
    if 'lru_gen' in line or 'gone' in line:
        print(f'# stderr: {line}')
v = parse_json(t, s.get('vanish.out'), 'vanish: --json output')
if v:
    t.eq(v['periods'], 4, 'vanish: all 4 periods ran')
    for h in v['history']:
        print('# period %d: %s' % (h['period'], ', '.join(
            f"{x['cgroup']} hot {mib(x['hot_bytes'])} cold {mib(x['cold_bytes'])} tracked {mib(x['tracked_bytes'])}"
            for x in h['tenants'])))
    for name in ('t3', 't4'):
        x = tenant(v, name)
        t.ok(x is not None and x['tracked_bytes'] < 1 * MIB,
             f'vanish: {name} ends with (almost) nothing tracked', x)
    first = v['history'][0]['tenants'] if v['history'] else []
    t.ok(any(x['cgroup'] == 't3' and x['tracked_bytes'] >= 15 * MIB for x in first),
         'vanish: t3 was measured (16 MiB) before it went away', first)
    seq = check_passes('vanish t4', v, 't4')
    t.ok(len(seq) == 4 and all(WHOLE <= f for _, f, _ in seq),
         'vanish: t4 (its process gone, its cgroup there) has a whole pass every period', describe(seq))
    seq = check_passes('vanish t3', v, 't3')
    t.ok(seq and WHOLE <= seq[0][1], 'vanish: t3 had a whole pass while it existed', describe(seq))
t.done()
