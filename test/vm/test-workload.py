#!/usr/bin/env python3
"""vm suite: the workload helper itself, one boot: its hot range and
placement report, move_pages status after migratepages, the phase change,
and the integrity check.

usage: test-workload.py stock|idle BUILD_DIR"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')

GUEST = r'''
workload --size 32 --hot 8 --hot-offset 4 --node 1 --report /tmp/r.json --ready /tmp/ready &
w=$!
while [ ! -e /tmp/ready ]; do sleep 0.2; done
rep() { rm -f /tmp/r.json; kill -USR2 $w; while [ ! -e /tmp/r.json ]; do sleep 0.2; done; echo "=== BEGIN $1"; cat /tmp/r.json; echo; echo "=== END $1"; }
rep bound
migratepages $w 1 0
rep moved
kill -USR1 $w
sleep 0.5
rep phase
kill -TERM $w
wait $w
rc=$?
echo "=== BEGIN exit"; echo $rc; echo "=== END exit"
'''

status, out = run_vm(kernel, GUEST, build, timeout=300)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)
MIB = 1 << 20
b = parse_json(t, s.get('bound'), 'first report')
if b:
    h = b['hot'][0]
    t.eq((h['start'] - b['base'], h['end'] - h['start']), (4 * MIB, 8 * MIB), 'hot range: 8 MiB at offset 4 MiB')
    t.eq(b['hot_pages_by_node'].get('1'), 2048, '--node 1: all 2048 hot pages on node 1')
    t.eq(b['cold_pages_by_node'].get('1'), 6144, '--node 1: all 6144 cold pages on node 1')
    t.eq((b['intact'], b['phase'], b['size_bytes']), (True, 0, 32 * MIB), 'memory intact, phase 0, 32 MiB')
m = parse_json(t, s.get('moved'), 'report after migratepages')
if m:
    t.eq((m['hot_pages_by_node'].get('0'), m['cold_pages_by_node'].get('0')), (2048, 6144),
         'move_pages status query sees every page on node 0 after migratepages')
    t.eq(m['intact'], True, 'memory intact after migration')
p = parse_json(t, s.get('phase'), 'report after SIGUSR1')
if p:
    h = p['hot'][0]
    t.eq((p['phase'], h['start'] - p['base'], h['end'] - h['start']), (1, 12 * MIB, 8 * MIB),
         'SIGUSR1 moves the hot set to the next 8 MiB')
t.eq((s.get('exit') or '').strip(), '0', 'SIGTERM: exit 0')
t.done()
