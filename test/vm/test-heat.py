#!/usr/bin/env python3
"""vm suite: decisions from the whole picture (the heat model), one boot of
the idle kernel (idle page tracking: the scanner paced by the CPU budget),
tierd with the shipped configuration (scanner auto = idle_page, cpu_budget
5%) and the issue's `--period 1s` (the shipped 10 s would stretch the
minutes a pass over these tenants takes at 5% into tens of minutes). A
pass over each tenant takes several periods at that budget, as on a large
host:

  lat   one tenant, class latency, tier0.max=40M, 128 MiB on node 0 with a
        24 MiB hot set in the middle, 30 periods: tier-0 bytes at most
        40 MiB + 5%, at least 95% of the hot set still on node 0, and some
        period held a demotion as unscanned (the plan did not take accessed
        pages before the pass over the tenant ended)
  pc    page cache: one tenant, tier0.max=64M, that wrote a 96 MiB tmpfs
        file it never maps, and a 64 MiB anonymous workload with a 16 MiB
        hot set, all on node 0, 25 periods. demotion_enabled is set true
        (the operator's switch: only then may memory.reclaim, the byte
        mover, demote the pages no address scanner sees; tierd does not use
        it otherwise): tier-0 bytes at most 64 MiB + 5%, at least 95% of
        the hot set on node 0, and most of what left node 0 is the file's
  con   contention, twice (batch started and given first, then latency
        first): fast node left with ~150 MiB free by a filler outside the
        tenants (room for one hot set and part of the other, after tierd's
        headroom); latency and batch, 160 MiB each with a 96 MiB hot set,
        both on node 1. After 45 periods latency has at least 95% of its hot
        set on node 0, and batch some of its own but not all (the room
        latency left: the tier was contended)

The workloads run on CPU 1 next to a ticker (TCG's soft TLB, see
test-scan-idle.py).

usage: test-heat.py idle BUILD_DIR"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import SHIPPED_SH, TOP, WORKLOAD_SH, Tap, agent_lines, numa_field, parse_json, run_vm, sections, tenant_of  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if kernel != 'idle':
    t.skip_all('the paced scanner (idle page tracking) needs the idle kernel')

# Measured: lat met its limit by period 12-15, pc by period 2, con's batch
# got its share by period 17-22 (once latency's pass was done, batch's
# unscanned bytes made it the pending tenant: before that rule it waited
# for the starvation rule's turns and got it by period 63-66); about twice
# that each
LAT_PERIODS, PC_PERIODS, CON_PERIODS = 30, 25, 45
GUEST = r'''
CG=/sys/fs/cgroup
sysctl -w kernel.numa_balancing=0 > /dev/null
@WORKLOAD_SH@
# the shipped configuration; --period 1s (see the docstring)
@SHIPPED_SH@
stop() { kill -TERM $1; wait $1; rmdir $CG/$2; }
numactl -C 1 sh -c 'while :; do sleep 0.05; done' &

# 1. a latency tenant's hot set and its limit
start lat --size 128 --hot 24 --hot-offset 52 --rate 20
tierctl annotate lat class=latency tier0.max=40M
agent lat --periods @LAT@
numa lat lat-numa
rep $w lat lat-after
stop $w lat

# 2. page cache no process maps, next to an anonymous hot set
DE=/sys/kernel/mm/numa/demotion_enabled
de0=$(cat $DE)
echo true > $DE
mkdir -p /mnt/pc $CG/pc
mount -t tmpfs -o size=256m none /mnt/pc
sh -c "echo \$\$ > $CG/pc/cgroup.procs; exec numactl -m 0 dd if=/dev/zero of=/mnt/pc/f bs=1M count=96 2>/dev/null"
start pc --size 64 --hot 16 --hot-offset 24 --rate 20
tierctl annotate pc tier0.max=64M
numa pc pc-numa-before
agent pc --periods @PC@
numa pc pc-numa
rep $w pc pc-after
rm -f /mnt/pc/f
stop $w pc
umount /mnt/pc
echo $de0 > $DE

# 3. contention, batch first then latency first
f=$(awk '/MemFree/ {print int($4 / 1024)}' /sys/devices/system/node/node0/meminfo)
fill=$((f - 150))
numactl -C 1 workload --size $fill --hot 0 --rate 1 --ready /tmp/fill.ready &
fw=$!
while [ ! -e /tmp/fill.ready ]; do sleep 0.2; done
for order in bl lb; do
    if [ $order = bl ]; then
        start cb --size 160 --hot 96 --rate 20 --node 1; wb=$w
        tierctl annotate cb class=batch
        start cl --size 160 --hot 96 --rate 20 --node 1; wl=$w
        tierctl annotate cl class=latency
    else
        start cl --size 160 --hot 96 --rate 20 --node 1; wl=$w
        tierctl annotate cl class=latency
        start cb --size 160 --hot 96 --rate 20 --node 1; wb=$w
        tierctl annotate cb class=batch
    fi
    agent con-$order --periods @CON@
    rep $wl cl con-$order-lat
    rep $wb cb con-$order-bat
    stop $wl cl
    stop $wb cb
done
kill -TERM $fw; wait $fw
'''.replace('@WORKLOAD_SH@', WORKLOAD_SH).replace('@SHIPPED_SH@', SHIPPED_SH).replace('@LAT@', str(LAT_PERIODS)) \
    .replace('@PC@', str(PC_PERIODS)).replace('@CON@', str(CON_PERIODS))

MIB = 1 << 20
PAGE = 4096
status, out = run_vm(kernel, GUEST, build, timeout=900, extra=(
    '--fast', '512M', '--add', os.path.join(TOP, 'config', 'tierd.json') + ':/etc/tierd/tierd.json'))
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)


def agent(name):
    return agent_lines(t, s, name)




def hot_on(rep, node):
    return rep['hot_pages_by_node'].get(str(node), 0)


def hot_pages(rep):
    return sum(h['end'] - h['start'] for h in rep['hot']) // PAGE


def numa_node0(text):
    b = 0
    for ln in (text or '').splitlines():
        f = ln.split()
        if f and f[0] in ('anon', 'file'):
            b += int(next((kv.split('=')[1] for kv in f[1:] if kv.startswith('N0=')), 0))
    return b


# --- 1. lat
lines = agent('lat')
held = [tenant_of(ln, 'lat')['plan']['held_demote'].get('unscanned', 0) for ln in lines if tenant_of(ln, 'lat')]
scanned = [tenant_of(ln, 'lat')['tracked_bytes'] >> 20 for ln in lines if tenant_of(ln, 'lat')]
print(f'# lat: MiB scanned per period {scanned}')
t.ok(any(h > 0 for h in held), 'lat: a demotion was held as unscanned while the pass was incomplete',
     held)
# the sizes are those of a large host: a pass over the tenant takes several
# periods at the default budget (the first period only arms the scanner)
covered = [ln['period'] for ln in lines if (tenant_of(ln, 'lat') or {}).get('covered', [False])[0]]
t.ok(covered and covered[0] >= 5, f'lat: tier 0 first covered in period {covered[0] if covered else None} '
     '(>= 5: a pass took several periods)', scanned)
a = parse_json(t, s.get('lat-after'), 'lat: workload report')
t0 = numa_node0(s.get('lat-numa'))
t.ok(t0 <= 40 * MIB * 1.05, f'lat: tier-0 bytes {t0 / MIB:.1f} MiB <= 40 MiB + 5%', s.get('lat-numa'))
if a:
    hp = hot_pages(a)
    t.ok(hot_on(a, 0) >= 0.95 * hp, f'lat: {hot_on(a, 0)} of {hp} hot pages on node 0 (>= 95%)',
         a['hot_pages_by_node'])

# --- 2. pc


lines = agent('pc')
before, after = s.get('pc-numa-before'), s.get('pc-numa')
f0 = numa_field(before, 'file', 0)
t.ok(f0 >= 90 * MIB and numa_field(before, 'file_mapped', 0) < MIB,
     f'pc: {f0 / MIB:.1f} MiB of unmapped file pages on node 0 at the start', before)
t0 = numa_node0(after)
t.ok(t0 <= 64 * MIB * 1.05, f'pc: tier-0 bytes {t0 / MIB:.1f} MiB <= 64 MiB + 5%', after)
moved_file = numa_field(after, 'file', 1) - numa_field(before, 'file', 1)
moved_anon = numa_field(after, 'anon', 1) - numa_field(before, 'anon', 1)
# the anonymous pages outside the hot set are 48 MiB: a limit 96 MiB below
# the usage is met only with the file's pages
t.ok(moved_file >= 48 * MIB, f'pc: {moved_file / MIB:.1f} MiB of file pages and {moved_anon / MIB:.1f} MiB of '
     'anonymous ones demoted (file >= 48 MiB)', after)
a = parse_json(t, s.get('pc-after'), 'pc: workload report')
if a:
    hp = hot_pages(a)
    t.ok(hot_on(a, 0) >= 0.95 * hp, f'pc: {hot_on(a, 0)} of {hp} hot pages on node 0 (>= 95%)',
         a['hot_pages_by_node'])
last = tenant_of(lines[-1], 'pc') if lines else None
t.ok(last is not None and last.get('tier_file_bytes', [0])[0] <= f0,
     f'pc: the period JSON carries file bytes per tier ({(last or {}).get("tier_file_bytes")})', last)

# --- 3. contention, both orders
for order in ('bl', 'lb'):
    agent(f'con-{order}')
    la = parse_json(t, s.get(f'con-{order}-lat'), f'con-{order}: latency report')
    ba = parse_json(t, s.get(f'con-{order}-bat'), f'con-{order}: batch report')
    if la and ba:
        hp = hot_pages(la)
        t.ok(hot_on(la, 0) >= 0.95 * hp, f'con-{order}: latency has {hot_on(la, 0)} of {hp} hot pages on node 0 '
             '(>= 95%)', la['hot_pages_by_node'])
        bp = hot_pages(ba)
        t.ok(0 < hot_on(ba, 0) < 0.9 * bp, f'con-{order}: batch has the rest: {hot_on(ba, 0)} of {bp} hot pages '
             'on node 0 (some, under 90%: the tier was contended)', ba['hot_pages_by_node'])
t.done()
