#!/usr/bin/env python3
"""host suite: `tierd probe` on this single-node host runs, reports one node
and no lower tier, and changes nothing (checked with strace: no file opened
for writing, no write outside stdout/stderr, no xattr, bpf or mount call)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import Tap  # noqa: E402

tierd = sys.argv[1]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root: the probe reads pagemap PFNs and kernel BTF as root')
if not shutil.which('strace'):
    t.bail('strace is not installed (scripts/check installs it)')

GLOBALS = ['/proc/sys/kernel/numa_balancing', '/sys/kernel/mm/numa/demotion_enabled',
           '/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds', '/sys/kernel/mm/lru_gen/enabled',
           '/sys/kernel/mm/transparent_hugepage/enabled']


def snapshot():
    snap = {}
    for p in GLOBALS:
        try:
            with open(p) as f:
                snap[p] = f.read()
        except OSError as e:
            snap[p] = f'<{e.errno}>'
    return snap


before = snapshot()
with tempfile.TemporaryDirectory() as d:
    log = os.path.join(d, 'strace.log')
    p = subprocess.run(['strace', '-f', '-qq', '-o', log, '-e',
                        'trace=open,openat,openat2,creat,write,writev,pwrite64,truncate,ftruncate,'
                        'mkdir,mkdirat,unlink,unlinkat,rename,renameat,renameat2,setxattr,lsetxattr,'
                        'fsetxattr,removexattr,lremovexattr,fremovexattr,bpf,mount,umount2,perf_event_open',
                        tierd, 'probe', '--json'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       # LeakSanitizer cannot run under ptrace; the other runs below keep it.
                       env=dict(os.environ, ASAN_OPTIONS=os.environ.get('ASAN_OPTIONS', '') + ':detect_leaks=0'))
    with open(log) as f:
        calls = f.read().splitlines()
after = snapshot()

t.eq(p.returncode, 0, 'tierd probe --json exits 0')
try:
    j = json.loads(p.stdout)
except ValueError as e:
    t.ok(False, 'probe output is JSON', str(e))
    t.done()

t.eq(len(j['nodes']), 1, 'one NUMA node reported')
t.eq(len(j['tiers']), 1, 'one tier: no lower tier')
t.ok(all(n['tier'] == 0 for n in j['nodes']), 'every node in tier 0', j['nodes'])
t.ok(j['nodes'][0]['has_cpus'] and j['nodes'][0]['total_bytes'] > 0, 'node 0 has CPUs and memory', j['nodes'][0])
t.ok(j['kernel'] == os.uname().release, 'kernel release matches uname', j['kernel'])
want = {'idle_page', 'damon', 'damos_migrate', 'lru_gen', 'bpf', 'move_pages'}
t.eq(set(j['backends']), want, 'every backend reported')
for name, b in j['backends'].items():
    t.ok(isinstance(b['usable'], bool) and (b['usable'] or b.get('reason')),
         f'backend {name}: usable flag, and a reason when unusable', b)
t.ok(not j['backends']['move_pages']['usable'] and 'one memory tier' in j['backends']['move_pages']['reason'],
     'move_pages unusable on one tier, and says so', j['backends']['move_pages'])
t.ok(j['move_pages']['syscall'], 'move_pages(2) itself answered the query')

bad = []
for c in calls:
    body = c.split(' ', 1)[1] if ' ' in c else c
    if any(body.startswith(s + '(') for s in ('open', 'openat', 'openat2')):
        if any(flag in body for flag in ('O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_TRUNC')):
            bad.append(c)
    elif body.startswith(('write(', 'writev(', 'pwrite64(')):
        fd = body.split('(', 1)[1].split(',', 1)[0]
        if fd not in ('1', '2'):
            bad.append(c)
    elif body.split('(', 1)[0] in ('creat', 'truncate', 'ftruncate', 'mkdir', 'mkdirat', 'unlink', 'unlinkat',
                                   'rename', 'renameat', 'renameat2', 'setxattr', 'lsetxattr', 'fsetxattr',
                                   'removexattr', 'lremovexattr', 'fremovexattr', 'bpf', 'mount', 'umount2',
                                   'perf_event_open'):
        bad.append(c)
t.ok(len(calls) > 0, 'strace saw the probe run', 'empty strace log')
t.ok(not bad, 'probe opened nothing for writing and wrote only to stdout/stderr', '\n'.join(bad[:20]))
t.eq(after, before, 'global mm tunables unchanged')

# Human report and error handling.
h = subprocess.run([tierd, 'probe'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
t.ok(h.returncode == 0 and 'backends' in h.stdout and 'tier 0' in h.stdout, 'human report prints tiers and backends',
     h.stdout + h.stderr)
e = subprocess.run([tierd, 'probe', '--json', '--sysfs-root', '/nonexistent'], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True)
try:
    ej = json.loads(e.stdout)
except ValueError:
    ej = {}
t.ok(e.returncode == 0 and 'topology_error' in ej and ej['nodes'] == [],
     'unreadable sysfs: probe still runs, reports the topology error as JSON', e.stdout + e.stderr)
u = subprocess.run([tierd, 'probe', '--bogus'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
t.ok(u.returncode == 2 and 'bogus' in u.stderr, 'unknown option: exit 2 and names it', u.stderr)

# The BPF collector loads and attaches on the host kernel (read-only tracing).
tr = subprocess.run([tierd, 'trace', '--seconds', '0.5', '--json'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True)
try:
    tj = json.loads(tr.stdout)
except ValueError:
    tj = {}
t.ok(tr.returncode == 0 and tj.get('attached', {}).get('migrate') is True,
     'BPF skeleton loads and attaches to migrate:mm_migrate_pages on the host', tr.stdout + tr.stderr)
t.done()
