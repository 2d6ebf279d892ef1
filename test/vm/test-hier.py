#!/usr/bin/env python3
"""vm suite: nested tenants share their parent's limit and protection
(issue 17, finding 2), a part of the idle kernel's 512 MiB boot: tierd with
the shipped configuration (scanner auto = idle_page at its 5% CPU budget)
and `--period 1s`, as test-heat.py runs it (the shipped 10 s would stretch
the periods the scanner needs to find the cold pages into minutes).

  hier  a parent cgroup with trusted.tierd tier0.max=64M tier0.low=30M and
        no processes of its own; three children, each annotated
        mode=enforce tier0.low=30M (so each is a tenant, and each gets the
        parent's 64M as its own tier0.max: the tighter of its own and its
        parent's). Each runs a 48 MiB workload (8 MiB hot) on node 0: the
        subtree starts with 144 MiB on tier 0, each child under its own
        64 MiB. Before tierd: `tierctl explain --json` names the parent as
        each child's ancestor tenant, the parent holds 3 nested tenants, and
        each child's share of the 30 MiB protection is a third of it (equal
        claims). After @PERIODS@ periods: the parent's memory.numa_stat
        (the whole subtree) has at most 64 MiB + 5% on node 0; at least 90%
        of every child's hot set is still on node 0 (the limit took the
        coldest pages across the subtree); the last period's JSON reports
        the children's tier0.low as their share, not 30 MiB.

Before the fix each child was planned alone against its own 64 MiB: the
subtree kept its 144 MiB, and the parent's over-max demotion was held as
no_candidates (its processes exclude the children's).

The workloads run on CPU 1 next to a ticker (TCG's soft TLB, see
test-scan-idle.py).

usage: test-hier.py idle BUILD_DIR"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, WORKLOAD_SH, Tap, json_lines, parse_json, run_vm, sections, tenant_of  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if kernel != 'idle':
    t.skip_all('the paced scanner (idle page tracking) needs the idle kernel')

PERIODS = 40
KIDS = ('a', 'b', 'c')
GUEST = r'''
CG=/sys/fs/cgroup
sysctl -w kernel.numa_balancing=0 > /dev/null
@WORKLOAD_SH@
numactl -C 1 sh -c 'while :; do sleep 0.05; done' &
mkdir -p $CG/hier /tmp/hier
echo +memory > $CG/hier/cgroup.subtree_control
tierctl annotate hier tier0.max=64M tier0.low=30M
ws=
for k in a b c; do
    start hier/$k --size 48 --hot 8 --hot-offset 20 --rate 20
    ws="$ws $w"
    tierctl annotate hier/$k mode=enforce tier0.low=30M
done
for k in a b c; do
    echo "=== BEGIN explain-$k"; tierctl --json explain hier/$k; echo "=== END explain-$k"
done
echo "=== BEGIN explain-hier"; tierctl --json explain hier; echo "=== END explain-hier"
echo "=== BEGIN numa-before"; cat $CG/hier/memory.numa_stat; echo "=== END numa-before"
# the shipped configuration; --period 1s (see the docstring)
s0=$(cut -d' ' -f1 /proc/uptime)
tierd --period 1s --json --control-socket '' --periods @PERIODS@ > /tmp/hier.out 2> /tmp/hier.err
rc=$?
echo "=== BEGIN secs"; echo $s0 $(cut -d' ' -f1 /proc/uptime); echo "=== END secs"
echo "=== BEGIN rc"; echo $rc; echo "=== END rc"
echo "=== BEGIN out"; cat /tmp/hier.out; echo "=== END out"
echo "=== BEGIN err"; tail -c 3000 /tmp/hier.err; echo "=== END err"
echo "=== BEGIN numa-after"; cat $CG/hier/memory.numa_stat; echo "=== END numa-after"
set -- $ws
for k in a b c; do rep $1 hier/$k rep-$k; shift; done
for x in $ws; do kill -TERM $x; wait $x; done
rmdir $CG/hier/a $CG/hier/b $CG/hier/c $CG/hier
'''.replace('@WORKLOAD_SH@', WORKLOAD_SH).replace('@PERIODS@', str(PERIODS))

MIB = 1 << 20
PAGE = 4096
status, out = run_vm(kernel, GUEST, build, timeout=600, extra=(
    '--fast', '512M', '--add', os.path.join(TOP, 'config', 'tierd.json') + ':/etc/tierd/tierd.json'))
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)


def node0(text):
    b = 0
    for ln in (text or '').splitlines():
        f = ln.split()
        if f and f[0] in ('anon', 'file'):
            b += int(next((kv.split('=')[1] for kv in f[1:] if kv.startswith('N0=')), 0))
    return b


# --- before tierd: the hierarchy as tierctl explains it
for k in KIDS:
    e = parse_json(t, s.get(f'explain-{k}'), f'explain hier/{k}: JSON')
    ten = (e or {}).get('tenant') or {}
    t.eq(ten.get('ancestor_tenants'), ['hier'], f'explain hier/{k}: nested under tenant hier')
    low = (ten.get('shared_low_bytes') or [None])[0]
    # three equal claims of 30 MiB on 30 MiB (the parent's own processes
    # claim the few pages its cgroup holds itself)
    t.ok(low is not None and 9.9 * MIB <= low <= 10 * MIB,
         f'explain hier/{k}: its share of tier0.low is {low / MIB if low else low} MiB (a third of 30 MiB)', ten)
e = parse_json(t, s.get('explain-hier'), 'explain hier: JSON')
t.eq(((e or {}).get('tenant') or {}).get('nested_tenants'), 3, 'explain hier: 3 tenants nested under it')
before = node0(s.get('numa-before'))
t.ok(before >= 140 * MIB, f'the subtree starts with {before / MIB:.1f} MiB on node 0 (>= 140)', s.get('numa-before'))

# --- tierd
rc, err = (s.get('rc') or '').strip(), s.get('err') or ''
t.ok(rc == '0' and 'error' not in err.lower(), 'tierd exit 0, no error on stderr', f'rc {rc!r}\n{err[-2000:]}')
try:
    a, b = (float(x) for x in (s.get('secs') or '').split())
    print(f'# tierd ran {b - a:.1f} s of guest time for {PERIODS} periods')
except ValueError:
    pass
lines = json_lines(s.get('out'))
t0 = [((tenant_of(ln, 'hier') or {}).get('tier_bytes') or [0])[0] >> 20 for ln in lines]
print(f'# the subtree\'s tier-0 MiB per period (memory.numa_stat): {t0}')
after = node0(s.get('numa-after'))
t.ok(after <= 64 * MIB * 1.05, f'the subtree\'s tier-0 bytes {after / MIB:.1f} MiB <= 64 MiB + 5% with the '
     'workloads running', s.get('numa-after'))
last = lines[-1] if lines else {}
for k in KIDS:
    x = tenant_of(last, f'hier/{k}') or {}
    low = (x.get('tier_low') or [None])[0]
    t.ok(low is not None and low < 30 * MIB, f'hier/{k}: the period JSON reports its shared tier0.low '
         f'({low / MIB if low is not None else None} MiB < 30)', x)
    r = parse_json(t, s.get(f'rep-{k}'), f'hier/{k}: workload report')
    if r:
        hp = sum(h['end'] - h['start'] for h in r['hot']) // PAGE
        on0 = r['hot_pages_by_node'].get('0', 0)
        t.ok(on0 >= 0.9 * hp, f'hier/{k}: {on0} of {hp} hot pages on node 0 (>= 90%: the coldest pages went)',
             r['hot_pages_by_node'])
t.done()
