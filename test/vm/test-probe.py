#!/usr/bin/env python3
"""vm suite: one boot of the two-tier testbed per kernel; inside it, the probe
(JSON and human), and the BPF collector watching a real migration.

usage: test-probe.py stock|idle BUILD_DIR"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')

# 20 MB held by a shell variable, moved node 0 -> node 1 with migratepages
# while `tierd trace` listens: the kernel reports MR_SYSCALL migrations.
GUEST = r'''
echo "=== BEGIN probe-json"; tierd probe --json; echo "=== END probe-json"
echo "=== BEGIN probe-text"; tierd probe; echo "=== END probe-text"
echo "=== BEGIN numa-balancing"; cat /proc/sys/kernel/numa_balancing; echo "=== END numa-balancing"
sh -c 'x=$(yes abcdefgh | head -c 20000000); echo ready > /tmp/ready; sleep 30; echo ${#x} > /dev/null' &
holder=$!
while [ ! -e /tmp/ready ]; do sleep 0.2; done
tierd trace --seconds 5 --json > /tmp/trace.json &
tracer=$!
sleep 2
migratepages $holder 0 1
echo "=== BEGIN node1-pages"; grep -c . /proc/$holder/numa_maps >/dev/null; awk '{for(i=1;i<=NF;i++) if ($i ~ /^N1=/) {split($i,a,"="); s+=a[2]}} END {print s+0}' /proc/$holder/numa_maps; echo "=== END node1-pages"
wait $tracer
echo "=== BEGIN trace-json"; cat /tmp/trace.json; echo "=== END trace-json"
kill $holder
'''

status, out = run_vm(kernel, GUEST, build, timeout=300)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)
j = parse_json(t, s.get('probe-json'), 'probe --json')
if j is None:
    t.done()

nodes = {n['id']: n for n in j['nodes']}
t.eq(sorted(nodes), [0, 1], f'{kernel}: two NUMA nodes')
t.ok(nodes[0]['has_cpus'] and not nodes[1]['has_cpus'], f'{kernel}: node 0 has the CPUs, node 1 none', nodes)
t.eq(len(j['tiers']), 2, f'{kernel}: two tiers')
t.eq((nodes[0]['tier'], nodes[1]['tier']), (0, 1), f'{kernel}: node 1 is in the lower tier')
t.eq(j['tier_source'], 'memory_tiering', f'{kernel}: tiers come from the kernel memory_tiering')
t.ok(j['tiers'][0]['kernel_tier'] < j['tiers'][1]['kernel_tier'], f'{kernel}: kernel tier ids ordered', j['tiers'])
t.eq(j['numa_balancing'], 0, f'{kernel}: numa_balancing 0 as the testbed sets it')
t.eq(j['cgroup']['mount'], '/sys/fs/cgroup', f'{kernel}: cgroup2 mount found')
t.eq(j['cgroup']['memory_controller'], True, f'{kernel}: memory controller present')
t.eq((j['cgroup']['xattr_user'], j['cgroup']['xattr_trusted']), (True, True), f'{kernel}: cgroupfs takes user. and trusted. xattrs')
t.ok({'migrate_hot', 'migrate_cold'} <= set(j['damon']['actions']), f'{kernel}: DAMOS offers migrate_hot and migrate_cold', j['damon'])
t.ok({'vaddr', 'paddr'} <= set(j['damon']['operations']), f'{kernel}: DAMON vaddr and paddr operations', j['damon'])
t.ok('memcg' in j['damon']['filters'], f'{kernel}: DAMOS memcg filter offered', j['damon'])
b = j['backends']
for name in ('damon', 'damos_migrate', 'lru_gen', 'bpf', 'move_pages'):
    t.ok(b[name]['usable'], f'{kernel}: backend {name} usable', b[name])
if kernel == 'stock':
    t.ok(not b['idle_page']['usable'] and 'CONFIG_IDLE_PAGE_TRACKING' in b['idle_page']['reason'],
         'stock: idle page tracking not usable, reason names CONFIG_IDLE_PAGE_TRACKING', b['idle_page'])
else:
    t.ok(b['idle_page']['usable'], 'idle: idle page tracking usable', b['idle_page'])
    t.ok(all(j['idle_page_tracking'].values()), 'idle: bitmap, pagemap PFNs, kpageflags, kpagecgroup', j['idle_page_tracking'])

text = s.get('probe-text', '')
t.ok('tier 1' in text and 'backends' in text and 'cpu-less' in text, f'{kernel}: human report shows tiers and backends', text)

moved = int((s.get('node1-pages') or '0').strip() or 0)
t.ok(moved >= 4000, f'{kernel}: migratepages moved the holder to node 1 ({moved} pages)', s.get('node1-pages'))
tr = parse_json(t, s.get('trace-json'), 'trace --json')
if tr is not None:
    sc = tr['migrations'].get('syscall', {})
    t.ok(tr['attached']['migrate'] and tr['attached']['damon'], f'{kernel}: BPF programs attached', tr['attached'])
    t.ok(sc.get('succeeded', 0) >= 4000,
         f'{kernel}: BPF counted the syscall migrations ({sc.get("succeeded", 0)} pages)', tr)
t.done()
