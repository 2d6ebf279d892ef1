#!/usr/bin/env python3
"""vm suite: a real application (issue #16), one boot of the idle kernel.
redis-server 7 (Debian's) in tenant cgroup `redis`, 200k keys of 400 B
(~100 MiB) loaded with one Lua EVAL, then every page of it moved to node 1
(the slow node) with migratepages(8); redis-benchmark then reads a 10% key
subset (GET, `-r 20000`: keys key:000000000000..019999, which the load
wrote first, so their values sit together in the first tenth of each of
jemalloc's size classes) with `-P 8 -c 4`, pipelined so that every page of
the subset is read again within a second or two. redis and redis-benchmark
both run on CPU 1 (TCG's soft TLB: the two switch address spaces all the
time, which flushes it, see test-scan-idle.py; no ticker needed), tierd
and the shells on CPU 0.

  A   tierd with the shipped configuration (/etc/tierd/tierd.json, from
      config/tierd.json: idle_page at cpu_budget 5%, mover auto =
      move_pages, hysteresis 60 s), the cgroup annotated class=latency,
      and `--period 1s` for 60 periods: the shipped 10 s period would make
      those 60 periods ten minutes of TCG per run, and at 5% of a CPU a
      pass over redis's ~110 MiB takes several periods either way, so a
      shorter run would see fewer passes, not the same decisions sooner.
  B   redis-benchmark stopped, redis moved back to node 1 (migratepages),
      the benchmark started again, then the kernel's own tiering:
      kernel.numa_balancing=2 and demotion_enabled=true (in the guest
      only) for as long as A took.

After each run, with redis-benchmark still running, an oracle of the pages
really accessed (test/helpers/idle-oracle): redis's present anonymous
pages that page_idle tracks (on the LRU, by /proc/kpageflags) are marked
idle in /sys/kernel/mm/page_idle/bitmap (PFNs from /proc/PID/pagemap), read
back after 6 s, and move_pages(2) (nodes NULL) says where the accessed
ones are; a few of them are freed meanwhile (jemalloc purges) and count on
neither side. Checks: A has >= 99% of redis's accessed pages on node 0,
and A >= B (both numbers in the check's name). The 99% bar stays where the
issue put it: a run that misses it fails, with its numbers in the TAP
output (the planner is being changed). tierd runs with -v: its debug lines
(every move, every range that backs off) are how a miss is explained.

Moves that fail: tierd's period JSON counts `failed_bytes`, and its stderr
says why once per tenant and reason (move-failed events). After A's
oracle, `idle-oracle move` asks move_pages(2) to move every page of the
mappings tierd samples that is not on node 0 to node 0, and prints the
per-page statuses by mapping with each page's /proc/kpagecount (and the
addresses whose status query already fails). Three runs (2026-12-06):
tierd failed 1336, 2464 and 2284 KiB, all in ranges that then backed off
for the hysteresis window (60 s: once per run), for three reasons:
  -EACCES  file pages of the shared libraries (libc ~770 KiB, libjemalloc
           ~460, libm 80, ld.so, libsystemd: the 1336 KiB of the first run,
           the 1420 KiB seen before). migratepages moved that page cache
           to node 1 with the rest of redis while redis was its only user;
           redis-benchmark, started after, maps the same pages, and
           move_pages(2) without MPOL_MF_MOVE_ALL refuses a page mapped by
           more than one process (the probe: every refused library page
           has mapcount 2, every anonymous page moved). Library text is
           read all the time, so tierd plans it as hot.
  -EFAULT  792 and 868 KiB in the later runs, in ranges of jemalloc's
           anonymous mappings: addresses mapped to the shared zero page
           (read, never written), which cannot move; the probe found 217
           such pages (868 KiB, status EFAULT already at the query).
  -EBUSY   4 KiB in each later run: a page off the LRU for a moment.
None is tierd's to fix (it must not move other processes' pages, nor the
zero page); the file and zero pages are outside the anonymous oracle.

B flips the sched_numa_balancing static key at run time (a code patch
that can race under multi-threaded TCG): a guest that dies of it is booted
once more by run_vm(), and the mode is left at 2 at the end.

scripts/bench (full mode) runs this test as its real-application scenario:
with TEST_REDIS_RESULT=FILE it writes what it measured there (the shares
of accessed pages on node 0, redis-benchmark's GET rate over each run,
tierd's moves and failures), for bench/report.py.

usage: test-redis.py idle BUILD_DIR"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if kernel != 'idle':
    t.skip_all('the oracle (idle page tracking) needs the idle kernel')
# Debian's redis-server is a symlink to redis-check-rdb, which picks its
# role from argv[0] (the guest gets the file under the server's name)
SERVER = os.path.realpath('/usr/bin/redis-server')
TOOLS = ['/usr/bin/redis-cli', '/usr/bin/redis-benchmark']
missing = [p for p in [SERVER] + TOOLS if not os.path.isfile(p)]
if missing:
    t.skip_all(f'redis-server and redis-tools are not installed (no {", ".join(missing)}; '
               'scripts/deps installs them)')

KEYS, VALUE, HOT_KEYS, PERIODS, WAIT = 200000, 400, 20000, 60, 6
GUEST = r'''
CG=/sys/fs/cgroup
sysctl -w kernel.numa_balancing=0 > /dev/null
sysctl -w vm.overcommit_memory=1 > /dev/null
ip link set lo up
sec() { _s=$1; shift; echo "=== BEGIN $_s"; "$@"; echo; echo "=== END $_s"; }
numa() { echo "=== BEGIN $1"; cat $CG/redis/memory.numa_stat; echo "=== END $1"; }
# tierd's output; its stderr without the debug lines (-v), and of those the
# moves and the ranges that back off
out() {
    echo "=== BEGIN $1-rc"; echo $2; echo "=== END $1-rc"
    echo "=== BEGIN $1"; cat /tmp/$1.out; echo "=== END $1"
    echo "=== BEGIN $1-err"; grep -v '^tierd: debug:' /tmp/$1.err | tail -c 6000; echo "=== END $1-err"
    echo "=== BEGIN $1-failed"; grep -E 'could not be moved|move-failed' /tmp/$1.err; echo "=== END $1-failed"
    echo "=== BEGIN $1-moves"; grep -E '^tierd: debug: .*(backs off|(promote|demote) pid)' /tmp/$1.err | tail -n 3000
    echo "=== END $1-moves"
}
bench() {
    numactl -C 1 redis-benchmark -t get -r @HOT@ -l -P 8 -c 4 -q > /tmp/bench-$1.out 2>&1 &
    b=$!
    sleep 3
}
bench_stop() {
    alive=no; kill -0 $b 2> /dev/null && alive=yes
    kill -TERM $b; wait $b
    echo "=== BEGIN bench-$1"; echo "alive $alive"; tr '\r' '\n' < /tmp/bench-$1.out | grep -v '^ *$' | tail -n 2
    echo "=== END bench-$1"
}
oracle() {
    echo "=== BEGIN $1-oracle"; idle-oracle accessed --pid $r --wait @WAIT@; echo "=== END $1-oracle"
}
vmstat() {
    echo "=== BEGIN $1"; grep -E '^(pgpromote|pgdemote|numa_|pgmigrate)' /proc/vmstat; echo "=== END $1"
}

# redis in its cgroup on CPU 1, the keys loaded, then all of it on node 1
mkdir -p $CG/redis
sh -c "echo \$\$ > $CG/redis/cgroup.procs; exec numactl -C 1 redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --protected-mode no --dir /tmp --logfile /tmp/redis.log" &
r=$!
n=0
until redis-cli ping 2> /dev/null | grep -q PONG; do
    sleep 0.2; n=$((n + 1))
    [ $n -lt 300 ] || { echo "redis did not start"; cat /tmp/redis.log; exit 1; }
done
s0=$(date +%s)
sec load redis-cli --raw EVAL "for i = 0, @KEYS@ - 1 do redis.call('SET', string.format('key:%012d', i), string.rep('x', @VALUE@)) end return redis.call('DBSIZE')" 0
s1=$(date +%s)
sec load-s echo $((s1 - s0))
sec mem sh -c 'redis-cli info memory | grep -E "^used_memory(_rss)?:"'
migratepages $r 0 1
numa A-start

# A: tierd, the shipped configuration, --period 1s (see the docstring)
bench A
tierctl annotate redis class=latency
a0=$(date +%s)
tierd -v --period 1s --periods @PERIODS@ --json --control-socket '' > /tmp/A.out 2> /tmp/A.err
rc=$?
a1=$(date +%s)
out A $rc
sec A-s echo $((a1 - a0))
numa A-numa
sec A-maps cat /proc/$r/maps
oracle A
# what move_pages(2) answers for every page of redis not on node 0
sec A-move idle-oracle move --pid $r --node 0
bench_stop A

# B: back on node 1, the kernel's NUMA-balancing tiering for as long
migratepages $r 0 1
numa B-start
bench B
vmstat B-vmstat0
sysctl -w kernel.numa_balancing=2 > /dev/null
echo true > /sys/kernel/mm/numa/demotion_enabled
sleep $((a1 - a0))
numa B-numa
oracle B
vmstat B-vmstat1
# (left on: each change of the mode is a static key flip, a code patch that
# can race under multi-threaded TCG)
bench_stop B
sec dbsize redis-cli --raw dbsize
sec stats sh -c 'redis-cli info stats | grep -E "^keyspace_(hits|misses):"'
redis-cli shutdown nosave > /dev/null 2>&1
wait $r
'''
for k, v in {'KEYS': KEYS, 'VALUE': VALUE, 'HOT': HOT_KEYS, 'PERIODS': PERIODS, 'WAIT': WAIT}.items():
    GUEST = GUEST.replace(f'@{k}@', str(v))

MIB = 1 << 20
PAGE = 4096
t_vm = time.monotonic()
status, out = run_vm(kernel, GUEST, build, timeout=1200, extra=(
    '--add', os.path.join(TOP, 'config', 'tierd.json') + ':/etc/tierd/tierd.json',
    '--add', SERVER + ':/usr/bin/redis-server',
    *[x for p in TOOLS for x in ('--add', f'{p}:{p}')]))
print(f'# the VM run took {time.monotonic() - t_vm:.0f} s')
sys.stderr.write(out)  # the guest's output, for the test log
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)


def numa_anon(name):
    """The redis cgroup's anonymous bytes by node (memory.numa_stat)."""
    for ln in (s.get(name) or '').splitlines():
        f = ln.split()
        if f and f[0] == 'anon':
            return {int(kv[1:].split('=')[0]): int(kv.split('=')[1]) for kv in f[1:]}
    return {}


def on_slow(name, what):
    a = numa_anon(name)
    tot = sum(a.values())
    t.ok(tot > 64 * MIB and a.get(1, 0) >= 0.95 * tot,
         f'{what}: {a.get(1, 0) / MIB:.1f} of {tot / MIB:.1f} MiB of redis\'s anonymous memory on node 1 (>= 95%)',
         s.get(name))


def share(o):
    """Of the accessed pages still mapped when asked where they are (an
    absent one was freed, by jemalloc's purging, between the two), the
    share on node 0, how many on node 0, and how many in all."""
    acc = o['accessed_by_node']
    n = sum(v for k, v in acc.items() if k.isdigit()) + acc.get('error', 0)
    return (acc.get('0', 0) / n if n else 0.0), acc.get('0', 0), n


# --- the application
dbsize = (s.get('load') or '').strip()
t.eq(dbsize, str(KEYS), f'redis: {KEYS} keys loaded by one EVAL')
print(f'# redis: load took {(s.get("load-s") or "?").strip()} s; {" ".join((s.get("mem") or "").split())}')
on_slow('A-start', 'A start')

# --- A: tierd
rc = (s.get('A-rc') or '').strip()
err = s.get('A-err') or ''
t.ok(rc == '0' and 'error' not in err.lower(), 'A: tierd exit 0, no error on stderr (but -v\'s debug lines)',
     f'rc {rc!r}\n{err[-2000:]}')
lines = []
for ln in (s.get('A') or '').splitlines():
    try:
        x = json.loads(ln)
    except ValueError:
        continue
    if isinstance(x, dict) and 'tenants' in x:
        lines.append(x)
ten = [x for ln in lines for x in ln['tenants'] if x['cgroup'] == 'redis']
t.ok(len(lines) == PERIODS and len(ten) == PERIODS and all(x['class'] == 'latency' for x in ten),
     f'A: {len(lines)} periods, redis a latency tenant in {len(ten)} (want {PERIODS})')
failed = [x['moved']['failed_bytes'] >> 10 for x in ten]
promoted = sum(x['moved']['promoted_bytes'] for x in ten)
demoted = sum(x['moved']['demoted_bytes'] for x in ten)
print(f'# A: {(s.get("A-s") or "?").strip()} s for {PERIODS} periods; promoted {promoted / MIB:.1f} MiB, '
      f'demoted {demoted / MIB:.1f} MiB; failed KiB per period (non-zero): '
      f'{[(i, f) for i, f in enumerate(failed) if f]}; total failed {sum(failed)} KiB')
print(f'# A: hot MiB every 5th period {[x["hot_bytes"] >> 20 for x in ten[::5]]}')
for n in ('A-start', 'A-numa', 'B-start', 'B-numa'):
    print(f'# {n}: redis anonymous MiB by node ' +
          ', '.join(f'N{k} {v / MIB:.1f}' for k, v in sorted(numa_anon(n).items())))
print(f'# A: tier bytes (MiB) at the end {[b >> 20 for b in ten[-1]["tier_bytes"]] if ten else None}')
for ln in (s.get('A-failed') or '').splitlines():
    print(f'# A: tierd said: {ln.strip()}')
maps = []
for ln in (s.get('A-maps') or '').splitlines():
    f = ln.split(None, 5)
    if len(f) >= 5 and '-' in f[0]:
        lo, hi = (int(x, 16) for x in f[0].split('-'))
        maps.append((lo, hi, f[5] if len(f) > 5 else '[anon]'))


def mapping(addr):
    return next((m[2] for m in maps if m[0] <= addr < m[1]), '?')


# tierd -v: every move (promote/demote, bytes moved of wanted) and every
# range that backs off for the hysteresis window (refused or absent pages)
moves, backoff = [], []
for ln in (s.get('A-moves') or '').splitlines():
    m = re.search(r'(promote|demote) pid \d+ (0x[0-9a-f]+)-(0x[0-9a-f]+) to node (\d+) \((\w+)\): '
                  r'(\d+) of (\d+) bytes', ln)
    if m:
        moves.append((m[1], int(m[2], 16), int(m[3], 16), int(m[6]), int(m[7])))
    m = re.search(r'pid \d+ (0x[0-9a-f]+)-(0x[0-9a-f]+) backs off for (\d+) ms', ln)
    if m:
        backoff.append((int(m[1], 16), int(m[2], 16)))
for d in ('promote', 'demote'):
    x = [mv for mv in moves if mv[0] == d]
    short = [mv for mv in x if mv[3] < mv[4]]
    print(f'# A: {len(x)} {d} moves, {sum(mv[3] for mv in x) / MIB:.1f} of {sum(mv[4] for mv in x) / MIB:.1f} '
          f'MiB moved; {len(short)} moved less than wanted')
by_map = {}
for lo, hi in backoff:
    k = mapping(lo)
    by_map[k] = (by_map.get(k, (0, 0))[0] + 1, by_map.get(k, (0, 0))[1] + (hi - lo))
print(f'# A: {len(backoff)} ranges backed off for the hysteresis window: ' +
      '; '.join(f'{n} in {k} ({b >> 10} KiB)' for k, (n, b) in sorted(by_map.items(), key=lambda x: -x[1][1])))
a = parse_json(t, s.get('A-oracle'), 'A: oracle')
mv = parse_json(t, s.get('A-move'), 'A: move_pages probe')
if mv:
    print(f'# A: move probe: {mv["present_pages"]} present pages, {mv["on_node"]} on node 0, '
          f'{mv["tried_pages"]} tried, {mv["moved_pages"]} moved, {mv["failed_pages"]} failed '
          f'({mv["failed_pages"] * 4} KiB)')
    for f in sorted(mv['failed'], key=lambda f: -f['pages']):
        print(f'# A:   {f["pages"] * 4:6d} KiB {f["status"]:12s} {f["kind"]:4s} at {f.get("at", "move"):5s} '
              f'mapcount<={f["mapcount_max"]} {f["mapping"]}')
    anon_fail = sum(f['pages'] for f in mv['failed'] if f['kind'] == 'anon' and f.get('at') != 'query')
    zero = sum(f['pages'] for f in mv['failed'] if f['status'] == 'EFAULT' and f.get('at') == 'query')
    t.ok(anon_fail == 0, f'A: move_pages(2) moved every anonymous page of redis off node 1 '
         f'({anon_fail} failed; {mv["failed_pages"] - anon_fail - zero} file pages and {zero} zero-page '
         'mappings refused)', mv['failed'])
bench = s.get('bench-A') or ''
t.ok('alive yes' in bench, 'A: redis-benchmark ran through the run and the oracle', bench)
print(f'# A: redis-benchmark: {" ".join(bench.split()[2:])[:200]}')
fa = None
if a:
    fa, a0, an = share(a)
    print(f'# A: oracle: {a["anon_pages"]} anonymous pages ({a["untracked_pages"]} untracked), '
          f'{an} accessed in {a["wait_s"]} s, by node {a["accessed_by_node"]}; all by node {a["anon_by_node"]}')
    for r in a.get('accessed_elsewhere', [])[:16]:
        bo = sum(1 for lo, hi in backoff if lo < r[1] and r[0] < hi)
        print(f'# A:   accessed, not on node 0: {r[2]} pages in {r[0]:#x}-{r[1]:#x} {r[3]}'
              f'{f" (in {bo} backed-off ranges)" if bo else ""}')
    t.ok(an >= 1000, f'A: the oracle saw {an} accessed pages (>= 1000: the 10% subset is hot)', a)
    t.ok(fa >= 0.99, f'A: tierd: {a0} of {an} accessed pages on node 0 ({100 * fa:.2f}%, want >= 99%; '
         f'{a["accessed_by_node"].get("absent", 0)} freed before the query)',
         a['accessed_by_node'])

# --- B: NUMA balancing's tiering
on_slow('B-start', 'B start')
b = parse_json(t, s.get('B-oracle'), 'B: oracle')
bench = s.get('bench-B') or ''
t.ok('alive yes' in bench, 'B: redis-benchmark ran through the run and the oracle', bench)
print(f'# B: redis-benchmark: {" ".join(bench.split()[2:])[:200]}')


def vm(name):
    return {ln.split()[0]: int(ln.split()[1]) for ln in (s.get(name) or '').splitlines() if len(ln.split()) == 2}


v0, v1 = vm('B-vmstat0'), vm('B-vmstat1')
print('# B: vmstat deltas ' + ', '.join(f'{k} {v1[k] - v0.get(k, 0)}' for k in sorted(v1)
                                       if v1[k] != v0.get(k, 0)))
if b:
    fb, b0, bn = share(b)
    print(f'# B: oracle: {b["anon_pages"]} anonymous pages ({b["untracked_pages"]} untracked), '
          f'{bn} accessed in {b["wait_s"]} s, by node {b["accessed_by_node"]}; all by node {b["anon_by_node"]}')
    for r in b.get('accessed_elsewhere', [])[:8]:
        print(f'# B:   accessed, not on node 0: {r[2]} pages in {r[0]:#x}-{r[1]:#x} {r[3]}')
    t.ok(bn >= 1000, f'B: the oracle saw {bn} accessed pages (>= 1000)', b)
    if fa is not None:
        t.ok(fa >= fb, f'A >= B: tierd {100 * fa:.2f}% of accessed pages on node 0, NUMA balancing '
             f'{100 * fb:.2f}%', f'A {a["accessed_by_node"]}\nB {b["accessed_by_node"]}')
t.eq((s.get('dbsize') or '').strip(), str(KEYS), 'redis: every key still there at the end')


def rate(name):
    """redis-benchmark's overall GET rate (requests/s) of a run, None when
    it printed none."""
    m = re.findall(r'rps=[\d.]+ \(overall: ([\d.]+)\)', s.get(f'bench-{name}') or '')
    return float(m[-1]) if m else None


if os.environ.get('TEST_REDIS_RESULT'):
    def side(o, rps):
        if not o:
            return {'error': 'no oracle output'}
        f, on0, n = share(o)
        return {'accessed_pages': n, 'accessed_on_fast': on0, 'share_on_fast': round(f, 4),
                'get_rps': rps, 'anon_pages': o['anon_pages']}
    res = {'keys': KEYS, 'value_bytes': VALUE, 'hot_keys': HOT_KEYS, 'periods': PERIODS,
           'run_s': int((s.get('A-s') or '0').strip() or 0),
           'tierd': {**side(a, rate('A')), 'promoted_bytes': promoted, 'demoted_bytes': demoted,
                     'failed_bytes': sum(failed) << 10},
           'numa_balancing': side(b, rate('B'))}
    with open(os.environ['TEST_REDIS_RESULT'], 'w') as fh:
        json.dump(res, fh, indent=1)
st = dict(ln.strip().split(':', 1) for ln in (s.get('stats') or '').splitlines() if ':' in ln)
t.ok(int(st.get('keyspace_hits', 0)) > 0 and st.get('keyspace_misses') == '0',
     f'redis: the benchmark read loaded keys only ({st.get("keyspace_hits")} hits, '
     f'{st.get("keyspace_misses")} misses)', s.get('stats'))
t.done()
