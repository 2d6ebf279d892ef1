#!/usr/bin/env python3
"""vm suite: cgroup_walk() (cgroup/walk.c) on a real kernel, through
test/helpers/cgroup-dump; one boot of the two-tier testbed per kernel runs
every scenario: nested cgroups, 64 MiB held bound to node 1, a frozen
cgroup, the lighter walks, and cgroups created and removed while walks run.

usage: test-walk.py stock|idle BUILD_DIR"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if not os.path.exists(os.path.join(build, 'test', 'helpers', 'cgroup-dump')):
    t.skip_all(f'no test/helpers/cgroup-dump in {build} (built with -Dtests=true)')

MIB = 1 << 20
GUEST = r'''
cg=/sys/fs/cgroup/t
mkdir -p $cg/a/b/c $cg/hold $cg/frz $cg/churn
echo +memory > $cg/cgroup.subtree_control
echo +memory > $cg/a/cgroup.subtree_control
echo +memory > $cg/a/b/cgroup.subtree_control
chown 1000:2000 $cg/a/b

# 64 MiB held by a shell bound to node 1, in t/hold
sh -c 'echo $$ > /sys/fs/cgroup/t/hold/cgroup.procs
       exec numactl --membind=1 sh -c "x=\$(yes abcdefgh | head -c 67108864); echo ready > /tmp/ready; sleep 60; echo \${#x} > /dev/null"' &
holder=$!
# a sleeping process in t/frz, frozen
sh -c 'echo $$ > /sys/fs/cgroup/t/frz/cgroup.procs; exec sleep 60' &
frozen=$!
while [ ! -e /tmp/ready ]; do sleep 0.2; done
while [ -z "$(cat $cg/frz/cgroup.procs)" ]; do sleep 0.1; done
echo 1 > $cg/frz/cgroup.freeze
while ! grep -q '^frozen 1' $cg/frz/cgroup.events; do sleep 0.1; done

echo "=== BEGIN pids"; echo $holder $frozen; echo "=== END pids"
echo "=== BEGIN dirs"; find /sys/fs/cgroup -type d | wc -l; echo "=== END dirs"
echo "=== BEGIN current"; cat $cg/hold/memory.current; echo "=== END current"
echo "=== BEGIN dump"; cgroup-dump 2>/tmp/dump.err; echo "=== END dump"
echo "=== BEGIN dump-err"; cat /tmp/dump.err; echo "=== END dump-err"
echo "=== BEGIN light"; cgroup-dump --no-pids --no-numa --path t/hold; echo "=== END light"

# walks while another process creates and removes cgroups
(
        i=0
        while [ ! -e /tmp/stop ]; do
                j=0
                while [ $j -lt 20 ]; do mkdir $cg/churn/c$i-$j; j=$((j + 1)); done
                j=0
                while [ $j -lt 20 ]; do rmdir $cg/churn/c$i-$j; j=$((j + 1)); done
                i=$((i + 1))
        done
        echo $i > /tmp/rounds
) &
churn=$!
echo "=== BEGIN loop"; cgroup-dump --loop 300 2>/tmp/loop.err; echo "=== END loop"
echo "=== BEGIN loop-light"; cgroup-dump --loop 300 --no-pids --no-numa 2>>/tmp/loop.err; echo "=== END loop-light"
touch /tmp/stop; wait $churn
echo "=== BEGIN loop-err"; cat /tmp/loop.err; echo "=== END loop-err"
echo "=== BEGIN rounds"; cat /tmp/rounds; echo "=== END rounds"
echo 0 > $cg/frz/cgroup.freeze
kill $holder $frozen
'''

status, out = run_vm(kernel, GUEST, build, timeout=400)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)
holder, frozen_pid = (int(x) for x in s.get('pids', '0 0').split())
j = parse_json(t, s.get('dump'), 'cgroup-dump')
if j is None:
    t.done()
t.eq(s.get('dump-err', '').strip(), '', f'{kernel}: the walk said nothing on stderr')
cgs = j['cgroups']
by = {c['path']: c for c in cgs}
index = {c['path']: i for i, c in enumerate(cgs)}

# the tree
t.eq(j['mount'], '/sys/fs/cgroup', f'{kernel}: walked the cgroup2 mount')
t.eq(len(cgs), int(s.get('dirs', '0').strip()), f'{kernel}: one cgroup per directory of cgroupfs')
t.eq((j['vanished'], j['failed']), (0, 0), f'{kernel}: nothing vanished or failed in a quiet walk')
root = cgs[0]
t.ok(root['path'] == '' and root['depth'] == 0 and root['parent'] == -1, f'{kernel}: the root comes first', root)
t.ok(not root['has_memory'] and root['memory_current'] is None and root['numa'] is None and root['stat'] is None,
     f'{kernel}: the root is listed without usage', root)
t.ok(1 in root['pids'], f'{kernel}: init is in the root cgroup.procs', root['pids'][:10])
want = {'t': (1, ''), 't/a': (2, 't'), 't/a/b': (3, 't/a'), 't/a/b/c': (4, 't/a/b')}
got = {p: (by[p]['depth'], by[p]['parent_path']) for p in want if p in by}
t.eq(got, want, f'{kernel}: nested cgroups with their depth and parent')
t.ok(all(index[c['parent_path']] < i for i, c in enumerate(cgs) if c['parent'] >= 0) and
     all(cgs[c['parent']]['path'] == c['parent_path'] for c in cgs if c['parent'] >= 0),
     f'{kernel}: pre-order, parent indexes right')
t.ok(all(c['subtree_end'] > i and all(cgs[k]['path'].startswith(c['path']) for k in range(i + 1, c['subtree_end']))
         for i, c in enumerate(cgs)), f'{kernel}: subtree ranges hold descendants only')
t.ok(by['t/a/b/c']['has_memory'] and by['t/a/b/c']['memory_current'] is not None,
     f'{kernel}: memory controller seen down to t/a/b/c', by['t/a/b/c'])
t.eq((by['t/a/b']['uid'], by['t/a/b']['gid']), (1000, 2000), f'{kernel}: directory owner of t/a/b')
t.eq(len({c['id'] for c in cgs}), len(cgs), f'{kernel}: cgroup ids are distinct')

# 64 MiB bound to node 1
h = by.get('t/hold', {})
t.eq(j['n_tiers'], 2, f'{kernel}: two tiers summed')
anon1 = int((h.get('numa') or {}).get('anon', {}).get('1', 0))
tier1 = (h.get('tiers') or {}).get('anon', [0, 0])[1]
t.ok(abs(anon1 - 64 * MIB) <= 64 * MIB * 0.05, f'{kernel}: node 1 anon of t/hold within 5% of 64 MiB ({anon1})', h.get('numa'))
t.ok(abs(tier1 - 64 * MIB) <= 64 * MIB * 0.05, f'{kernel}: tier 1 anon of t/hold within 5% of 64 MiB ({tier1})', h.get('tiers'))
t.ok(h.get('tiers', {}).get('anon', [1 << 40])[0] < 4 * MIB, f'{kernel}: next to nothing on tier 0', h.get('tiers'))
cur, cat_cur = h.get('memory_current') or 0, int(s.get('current', '0').strip() or 0)
t.ok(64 * MIB <= cur <= 96 * MIB and abs(cur - cat_cur) <= 4 * MIB,
     f'{kernel}: memory.current sane ({cur}, cat said {cat_cur})', h)
st = h.get('stat') or {}
t.ok(abs(st.get('anon', 0) - sum((h.get('numa') or {}).get('anon', {}).values())) <= 1 * MIB,
     f'{kernel}: memory.stat anon matches the per-node sum', st)
t.eq(sorted(st), sorted(['anon', 'file', 'shmem', 'file_mapped', 'active_anon', 'inactive_anon', 'active_file',
                         'inactive_file', 'pgpromote_success', 'pgdemote_kswapd', 'pgdemote_direct',
                         'pgdemote_khugepaged']), f'{kernel}: every memory.stat field read')
t.ok(holder in (h.get('pids') or []), f'{kernel}: the holder {holder} is in t/hold', h.get('pids'))
t.ok(h.get('populated') and by['t']['populated'] and not by['t/a']['populated'],
     f'{kernel}: populated follows the processes', (h.get('events'), by['t']['events'], by['t/a']['events']))
f = by.get('t/frz', {})
t.ok((f.get('events') or {}).get('frozen') and f.get('pids') == [frozen_pid],
     f'{kernel}: frozen cgroup with its process', f)

light = parse_json(t, s.get('light'), 'cgroup-dump --no-pids --no-numa --path t/hold')
if light is not None:
    t.ok(light['pids'] is None and light['numa'] is None and light['tiers'] is None and
         light['memory_current'] and light['stat'], f'{kernel}: lighter walk skips pids and numa_stat only', light)

# walks during creation and removal
for name in ('loop', 'loop-light'):
    lp = parse_json(t, s.get(name), f'cgroup-dump {name}')
    if lp is not None:
        t.ok(lp['walks'] == 300 and lp['errors'] == 0 and lp['failed'] == 0,
             f'{kernel}: {name}: 300 walks during cgroup removal, no error', lp)
        t.ok(lp['min_cgroups'] < lp['max_cgroups'],
             f'{kernel}: {name}: the walks saw cgroups come and go ({lp["min_cgroups"]}..{lp["max_cgroups"]}, '
             f'{lp["vanished"]} vanished mid-walk)', lp)
t.eq(s.get('loop-err', '').strip(), '', f'{kernel}: nothing on stderr during the loops')
print(f'# churn rounds: {s.get("rounds", "?").strip()}')
t.done()
