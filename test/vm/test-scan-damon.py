#!/usr/bin/env python3
"""vm suite: the DAMON scanner backends ("damon": DAMOS stat scheme tried
regions; "bpf": the damon_aggregated tracepoint through the kscan ring
buffer) through `tierd scan`, one boot of the stock kernel:

  classify  a workload (64 MiB, 16 MiB hot at 20 Hz) in tenant t1: >= 95% of
            the hot bytes in age-0 ranges and >= 95% of the cold bytes in
            ranges of age >= 1, on bytes, for both backends; region count
            and granularity as a TAP comment; bytes/page <= 2
  clean     after every run: nr_kdamonds 0 and no kdamond thread
  sigterm   SIGTERM mid-scan: exit 0, kdamond removed
  exit      every target process exits mid-scan: the kdamond stops by
            itself, tierd removes it while still running (exit 0, no error),
            and creates it again when the tenant has a process again
  rmdir     the tenant cgroup removed mid-scan: exit 0, no error
  sabotage  a real failure after the kdamond exists (someone removes the
            DAMOS schemes tierd reads): exit 1, and the kdamond is removed
  busy      a kdamond the test made itself: both backends exit 1 naming
            the reason, and the test's kdamond is untouched (on, same pid)
  passes    the pass flags ("pass" of each history entry): every scan that
            read regions is a whole pass ("begin" and "end"), exact from
            the second measured period on (classify, foreign); a scan that
            read none has no pass and no bytes: in "exit", the periods after
            the kdamond stopped by itself and the arming period after it
            was created again, after which whole exact passes resume; in
            "rmdir", the periods after the tenant lost its process
  foreign   kdamonds tierd does not own. DAMON_LRU_SORT (built in) made to
            aggregate (watermarks always active, short intervals; proved by
            an unfiltered `tierd trace` and its kdamond_pid): its context is
            exclusive (damon_start(..., true)), so no sysfs kdamond can start
            while it runs: bpf exits 1 and the module is untouched. Then a
            paddr kdamond of the test's own in DAMON sysfs slot 0, tierd's
            in slot 1 (it is given a --sysfs-root view where slot 1 is its
            kdamond 0 and nr_kdamonds reads 0): every range bpf returns
            lies in the workload's address space as DAMON vaddr monitors it
            (its mappings from /proc/PID/maps, gaps other than the two
            largest filled in), i.e. no foreign paddr region leaked through
            the BPF kdamond filter; classification still >= 95%; the
            foreign kdamond runs on untouched

The testbed runs under TCG, whose software TLB is large enough to hold the
whole hot set: an access that hits it never sets the PTE's accessed bit
again after DAMON cleared it (x86 clears young bits without a TLB flush),
and a lone workload on an idle vCPU never switches mm. A "ticker" process
waking every 3 ms on the workload's vCPU switches mm there, as the
constant TLB pressure of real hardware would; without it DAMON sees the
hot set only intermittently.

usage: test-scan-damon.py stock BUILD_DIR"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from passes import describe, history_of, pass_runs  # noqa: E402
from tap import Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')

PERIODS = 8

GUEST = r'''
A=/sys/kernel/mm/damon/admin
CG=/sys/fs/cgroup
sec() { echo "=== BEGIN $1"; cat "$2"; echo; echo "=== END $1"; }
# DAMON's sysfs files may answer EBUSY while tierd's command is in flight
st() { for i in 1 2 3 4 5 6 7 8 9 10; do v=$(cat $A/kdamonds/0/$1 2>/dev/null) && [ -n "$v" ] && { echo $v; return; }; sleep 0.1; done; echo unreadable; }
kthreads() { cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^kdamond'; }
clean() {  # name: DAMON state after tierd
  echo "=== BEGIN clean-$1"; echo "nr_kdamonds $(cat $A/kdamonds/nr_kdamonds)"
  echo "threads $(kthreads)"; echo "=== END clean-$1"; }
start_wl() {  # cgroup size hot report ready -> $wl
  rm -f "$4" "$5"
  numactl --physcpubind=1 sh -c "echo \$\$ > $CG/$1/cgroup.procs; exec workload --size $2 --hot $3 --rate 20 --report $4 --ready $5" &
  wl=$!
  while [ ! -e "$5" ]; do sleep 0.2; done
}
report() {  # pid file name
  rm -f "$2"; kill -USR2 $1; while [ ! -e "$2" ]; do sleep 0.2; done; sec "$3" "$2"; }

mkdir $CG/t1 $CG/t2 $CG/t3
numactl --physcpubind=1 sh -c 'while :; do usleep 3000; done' &
ticker=$!
start_wl t1 64 16 /tmp/r1.json /tmp/ready1; w1=$wl
report $w1 /tmp/r1.json workload

for b in damon bpf; do
  tierd scan --backend $b --cgroup t1 --periods PERIODS --period-ms 1000 --ranges --json >/tmp/o.json 2>/tmp/e.txt
  echo "rc $?" >>/tmp/e.txt
  sec "scan-$b" /tmp/o.json; sec "scan-$b-err" /tmp/e.txt; clean "scan-$b"
done

# (b) SIGTERM mid-scan
tierd scan --backend damon --cgroup t1 --periods 60 --period-ms 1000 --json >/tmp/o.json 2>/tmp/e.txt &
ts=$!
sleep 4
echo "nr_kdamonds $(cat $A/kdamonds/nr_kdamonds) state $(st state)" >/tmp/d.txt
kill -TERM $ts; wait $ts; echo "rc $?" >>/tmp/e.txt
sec sigterm /tmp/o.json; sec sigterm-err /tmp/e.txt; sec sigterm-during /tmp/d.txt; clean sigterm

# (c) every target process exits mid-scan: the kdamond stops by itself
start_wl t2 8 2 /tmp/r2.json /tmp/ready2; w2=$wl
tierd scan --backend damon --cgroup t2 --periods 14 --period-ms 1000 --json >/tmp/o.json 2>/tmp/e.txt &
ts=$!
sleep 4
echo "before nr_kdamonds $(cat $A/kdamonds/nr_kdamonds) state $(st state)" >/tmp/d.txt
kill -TERM $w2; wait $w2
sleep 4
echo "gone nr_kdamonds $(cat $A/kdamonds/nr_kdamonds) threads $(kthreads) tierd_alive $(kill -0 $ts 2>/dev/null && echo 1 || echo 0)" >>/tmp/d.txt
start_wl t2 8 2 /tmp/r2.json /tmp/ready2; w2=$wl
sleep 4
echo "again nr_kdamonds $(cat $A/kdamonds/nr_kdamonds) state $(st state) threads $(kthreads)" >>/tmp/d.txt
wait $ts; echo "rc $?" >>/tmp/e.txt
sec exit /tmp/o.json; sec exit-err /tmp/e.txt; sec exit-during /tmp/d.txt; clean exit
kill -TERM $w2; wait $w2

# the tenant cgroup removed mid-scan
start_wl t3 8 2 /tmp/r3.json /tmp/ready3; w3=$wl
tierd scan --backend bpf --cgroup t3 --periods 8 --period-ms 1000 --json >/tmp/o.json 2>/tmp/e.txt &
ts=$!
sleep 4
echo $w3 > $CG/cgroup.procs
rmdir $CG/t3; echo "rmdir $?" >/tmp/d.txt
wait $ts; echo "rc $?" >>/tmp/e.txt
sec rmdir /tmp/o.json; sec rmdir-err /tmp/e.txt; sec rmdir-during /tmp/d.txt; clean rmdir
kill -TERM $w3; wait $w3

# a real failure after creation: the schemes tierd reads are removed under it
tierd scan --backend damon --cgroup t1 --periods 20 --period-ms 1000 --json >/tmp/o.json 2>/tmp/e.txt &
ts=$!
sleep 4
for i in 1 2 3 4 5 6 7 8 9 10; do echo 0 > $A/kdamonds/0/contexts/0/schemes/nr_schemes && break; sleep 0.1; done
echo "sabotage $?" >/tmp/d.txt
wait $ts; echo "rc $?" >>/tmp/e.txt
sec sabotage /tmp/o.json; sec sabotage-err /tmp/e.txt; sec sabotage-during /tmp/d.txt; clean sabotage

# foreign kdamonds. DAMON_LRU_SORT: aggregating (watermarks always active)
P=/sys/module/damon_lru_sort/parameters
echo 1000 > $P/wmarks_high; echo 999 > $P/wmarks_mid; echo 0 > $P/wmarks_low
echo 1000000 > $P/wmarks_interval; echo 5000 > $P/sample_interval; echo 100000 > $P/aggr_interval
echo Y > $P/enabled; echo "enable $?" >/tmp/d.txt
sleep 1
kp=$(cat $P/kdamond_pid)
echo "pid $kp comm $(cat /proc/$kp/comm 2>/dev/null || echo none) nr_kdamonds $(cat $A/kdamonds/nr_kdamonds)" >>/tmp/d.txt
tierd trace --seconds 3 --json >/tmp/t.json 2>/dev/null; sec foreign-lru-trace /tmp/t.json
tierd scan --backend bpf --cgroup t1 --periods 2 --period-ms 1000 --json >/tmp/o.json 2>/tmp/e.txt
echo "rc $?" >>/tmp/e.txt
sec foreign-lru-scan /tmp/o.json; sec foreign-lru-scan-err /tmp/e.txt
echo "after_enabled $(cat $P/enabled) after_pid $(cat $P/kdamond_pid)" >>/tmp/d.txt
echo "after_comm $(cat /proc/$kp/comm 2>/dev/null || echo none) after_nr_kdamonds $(cat $A/kdamonds/nr_kdamonds)" >>/tmp/d.txt
echo N > $P/enabled; echo "disable $? off_threads $(kthreads)" >>/tmp/d.txt
sec foreign-lru /tmp/d.txt
# a paddr kdamond in sysfs slot 0 while tierd's runs in slot 1
echo 2 > $A/kdamonds/nr_kdamonds
echo 1 > $A/kdamonds/0/contexts/nr_contexts
K=$A/kdamonds/0/contexts/0
echo paddr > $K/operations
echo 5000 > $K/monitoring_attrs/intervals/sample_us; echo 100000 > $K/monitoring_attrs/intervals/aggr_us
echo 1 > $K/targets/nr_targets; echo 1 > $K/targets/0/regions/nr_regions
echo 16777216 > $K/targets/0/regions/0/start; echo 1073741824 > $K/targets/0/regions/0/end
echo on > $A/kdamonds/0/state; echo "on $?" >/tmp/d.txt
fp=$(st pid)
echo "pid $fp comm $(cat /proc/$fp/comm 2>/dev/null || echo none)" >>/tmp/d.txt
tierd trace --seconds 3 --json >/tmp/t.json 2>/dev/null; sec foreign-sys-trace /tmp/t.json
F=/tmp/sysview  # /sys, but DAMON admin = slot 1 as kdamonds/0 and nr_kdamonds 0
mkdir -p $F/kernel/mm/damon/admin/kdamonds
for e in /sys/*; do [ $e = /sys/kernel ] || ln -s $e $F/; done
for e in /sys/kernel/*; do [ $e = /sys/kernel/mm ] || ln -s $e $F/kernel/; done
for e in /sys/kernel/mm/*; do [ $e = /sys/kernel/mm/damon ] || ln -s $e $F/kernel/mm/; done
echo 0 > $F/kernel/mm/damon/admin/kdamonds/nr_kdamonds
ln -s $A/kdamonds/1 $F/kernel/mm/damon/admin/kdamonds/0
tierd --sysfs-root $F scan --backend bpf --cgroup t1 --periods PERIODS --period-ms 1000 --ranges --json >/tmp/o.json 2>/tmp/e.txt
echo "rc $?" >>/tmp/e.txt
cat /proc/$w1/maps >/tmp/m.txt
sec foreign-scan /tmp/o.json; sec foreign-scan-err /tmp/e.txt; sec foreign-maps /tmp/m.txt
echo "after_state $(st state) after_pid $(st pid) after_comm $(cat /proc/$fp/comm 2>/dev/null || echo none)" >>/tmp/d.txt
echo "slot_state $(cat $A/kdamonds/1/state) view_nr $(cat $F/kernel/mm/damon/admin/kdamonds/nr_kdamonds)" >>/tmp/d.txt
sec foreign-sys /tmp/d.txt
for i in 1 2 3 4 5 6 7 8 9 10; do echo off > $A/kdamonds/0/state && break; sleep 0.1; done
for i in 1 2 3 4 5 6 7 8 9 10; do echo 0 > $A/kdamonds/nr_kdamonds && break; sleep 0.1; done
clean foreign

# (d) DAMON busy: a kdamond of the test's own
echo 1 > $A/kdamonds/nr_kdamonds
echo 1 > $A/kdamonds/0/contexts/nr_contexts
echo vaddr > $A/kdamonds/0/contexts/0/operations
echo 1 > $A/kdamonds/0/contexts/0/targets/nr_targets
echo $w1 > $A/kdamonds/0/contexts/0/targets/0/pid_target
echo on > $A/kdamonds/0/state
echo "pid $(st pid) state $(st state)" >/tmp/d.txt
for b in damon bpf; do
  tierd scan --backend $b --cgroup t1 --periods 2 --period-ms 1000 --json >/tmp/o.json 2>/tmp/e.txt
  echo "rc $?" >>/tmp/e.txt
  sec "busy-$b" /tmp/o.json; sec "busy-$b-err" /tmp/e.txt
done
echo "pid $(st pid) state $(st state) nr_kdamonds $(cat $A/kdamonds/nr_kdamonds)" >>/tmp/d.txt
sec busy-during /tmp/d.txt
echo off > $A/kdamonds/0/state; echo 0 > $A/kdamonds/nr_kdamonds
kill -TERM $w1 $ticker
'''.replace('PERIODS', str(PERIODS))

status, out = run_vm(kernel, GUEST, build, timeout=900)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)
MIB = 1 << 20


def kv(text):
    """'a 1 b x' lines -> {a: '1', b: 'x'} (later lines win)."""
    d = {}
    for line in (text or '').splitlines():
        w = line.split()
        for i in range(0, len(w) - 1, 2):
            d[w[i]] = w[i + 1]
    return d


def rc(name):
    return kv(s.get(name + '-err')).get('rc')


def check_clean(name, what):
    c = kv(s.get('clean-' + name))
    t.ok(c.get('nr_kdamonds') == '0' and c.get('threads') == '0',
         f'{what}: DAMON clean afterwards (nr_kdamonds 0, no kdamond thread)', s.get('clean-' + name))


def overlap(a0, a1, b0, b1):
    return max(0, min(a1, b1) - max(a0, b0))


def hot_cold(rs, wl):
    """Bytes of the hot set in age-0 ranges and of the rest of the
    workload's mapping in ranges of age >= 1, with the two totals."""
    base, size = wl['base'], wl['size_bytes']
    hs, he = wl['hot'][0]['start'], wl['hot'][0]['end']
    hot_ok = sum(overlap(r['start'], r['end'], hs, he) for r in rs if r['age'] == 0)
    cold_ok = sum(overlap(r['start'], r['end'], base, base + size) - overlap(r['start'], r['end'], hs, he)
                  for r in rs if r['age'] >= 1)
    return hot_ok, he - hs, cold_ok, size - (he - hs)


def vmas_of(maps_text):
    """/proc/PID/maps -> sorted [(start, end)], without the gate area
    ([vsyscall] is no VMA of the mm)."""
    vmas = []
    for line in (maps_text or '').splitlines():
        w = line.split()
        if not w or w[-1] == '[vsyscall]':
            continue
        a, b = w[0].split('-')
        vmas.append((int(a, 16), int(b, 16)))
    return sorted(vmas)


def damon_vaddr_regions(vmas):
    """The address ranges DAMON vaddr monitors of a process
    (damon_va_three_regions): from the first mapping's start to the last
    one's end, without the two largest gaps between mappings."""
    if len(vmas) < 3:
        return vmas
    gaps = sorted(((vmas[i + 1][0] - vmas[i][1], vmas[i][1], vmas[i + 1][0]) for i in range(len(vmas) - 1)),
                  reverse=True)[:2]
    (_, g1s, g1e), (_, g2s, g2e) = sorted(gaps, key=lambda g: g[1])
    return [(vmas[0][0], g1s), (g1e, g2s), (g2e, vmas[-1][1])]


WHOLE = {'begin', 'end'}


def check_passes(name, j, cgroup):
    """The pass flags of CGROUP in J: well formed, a pass exactly where
    bytes were reported; returns the history as history_of() gives it."""
    seq = history_of(j, cgroup)
    _, _, errors = pass_runs(seq)
    print(f'# {name}: pass flags by period: {describe(seq)}')
    bad = [(p, sorted(f), b) for p, f, b in seq if f and not WHOLE <= f or b > 0 and not f]
    t.ok(seq and not errors and not bad,
         f'{name}: pass flags well formed; every period with bytes is a whole pass, and only those with a pass '
         'have bytes', '\n'.join(errors) + f'\n{bad}')
    return seq


def check_exact_passes(name, j, cgroup):
    """A steady workload: every measured period a whole pass, exact from
    the second (the first data scan may come before its processes' second
    aggregation: damon_target_settled())."""
    seq = check_passes(name, j, cgroup)
    t.ok(seq and all(WHOLE <= f for _, f, _ in seq) and all('exact' in f for p, f, _ in seq if p >= 2),
         f'{name}: every measured period a whole pass, exact from period 2', describe(seq))


wl = parse_json(t, s.get('workload'), 'workload report')
for b in ('damon', 'bpf'):
    err = s.get(f'scan-{b}-err', '')
    t.eq(rc(f'scan-{b}'), '0', f'{b}: tierd scan exits 0')
    j = parse_json(t, s.get(f'scan-{b}'), f'{b}: scan JSON')
    check_clean(f'scan-{b}', f'{b}: normal exit')
    if not j or not wl:
        continue
    t.eq((j['backend'], j['periods']), (b, PERIODS), f'{b}: backend and measured periods')
    ten = j['tenants'][0]
    base, size = wl['base'], wl['size_bytes']
    hs, he = wl['hot'][0]['start'], wl['hot'][0]['end']
    rs = [r for r in ten.get('ranges', []) if r['kind'] == 'vaddr' and r['pid'] == wl['pid']]
    hot_ok, _, cold_ok, cold_len = hot_cold(rs, wl)
    covered = sum(overlap(r['start'], r['end'], base, base + size) for r in rs)
    inmap = sorted(overlap(r['start'], r['end'], base, base + size) for r in rs
                   if overlap(r['start'], r['end'], base, base + size))
    allsz = sorted(r['end'] - r['start'] for r in rs)
    print(f'# {b}: {len(rs)} ranges for the workload ({len(inmap)} over its 64 MiB mapping); '
          f'in the mapping smallest {inmap[0] // 1024 if inmap else 0} KiB, median '
          f'{inmap[len(inmap) // 2] // 1024 if inmap else 0} KiB, largest {inmap[-1] // 1024 if inmap else 0} KiB; '
          f'all ranges median {allsz[len(allsz) // 2] // 1024 if allsz else 0} KiB')
    print(f'# {b}: hot bytes at age 0: {100.0 * hot_ok / (he - hs):.1f}%, cold bytes at age >= 1: '
          f'{100.0 * cold_ok / cold_len:.1f}%, mapping covered {100.0 * covered / size:.1f}%; '
          f'history hot MiB ' + ' '.join(f"{h['tenants'][0]['hot_bytes'] / MIB:.1f}" for h in j['history']))
    t.ok(hot_ok >= 0.95 * (he - hs), f'{b}: >= 95% of the hot bytes are in age-0 ranges',
         f'{hot_ok} of {he - hs}')
    t.ok(cold_ok >= 0.95 * cold_len, f'{b}: >= 95% of the cold bytes are in ranges of age >= 1',
         f'{cold_ok} of {cold_len}')
    # A region that straddles an end of the mapping can have all of its
    # samples outside it, on pages that are not resident (a gap, another
    # mapping's untouched part): node -1, "not known". Its part inside the
    # mapping is under half a sample chunk (1/16 of a region of at most a
    # few MiB), so at most 2 x 128 KiB for the two ends.
    known = [r for r in rs if overlap(r['start'], r['end'], base, base + size) and r['node'] >= 0]
    unknown = sum(overlap(r['start'], r['end'], base, base + size) for r in rs if r['node'] < 0)
    nodes, tiers = {r['node'] for r in known}, {r['tier'] for r in known}
    print(f'# {b}: {unknown // 1024} KiB of the mapping in ranges whose samples were all non-resident')
    t.ok((nodes, tiers) == ({0}, {0}) and unknown <= 256 * 1024,
         f'{b}: the workload mapping is placed on node 0, tier 0 (move_pages samples; <= 256 KiB at its ends unknown)',
         f'nodes {nodes}, tiers {tiers}, {unknown} bytes unknown')
    hot_heat = ten['hot_bytes']
    t.ok(hot_heat >= (he - hs) * 0.95 and ten['tracked_bytes'] >= size,
         f'{b}: heat summary: hot >= 95% of 16 MiB, tracked >= the 64 MiB mapping',
         f"hot {hot_heat}, tracked {ten['tracked_bytes']}")
    m = j['memory']
    print(f"# {b}: memory {m['bytes']} bytes for {m['pages']} pages = {m['bytes_per_page']:.4f} bytes/page")
    t.ok(0 < m['bytes_per_page'] <= 2, f'{b}: tracking state <= 2 bytes per page', json.dumps(m))
    t.ok('error' not in err.lower(), f'{b}: nothing on stderr says error', err)
    check_exact_passes(b, j, 't1')

# (b) SIGTERM
d = kv(s.get('sigterm-during'))
t.ok((d.get('nr_kdamonds'), d.get('state')) == ('1', 'on'), "sigterm: tierd's kdamond ran during the scan",
     s.get('sigterm-during'))
t.eq(rc('sigterm'), '0', 'sigterm: SIGTERM mid-scan exits 0')
j = parse_json(t, s.get('sigterm'), 'sigterm: JSON')
if j:
    t.ok(j.get('interrupted') is True, 'sigterm: the JSON says interrupted')
check_clean('sigterm', 'sigterm')

# (c) every target process exits
txt = s.get('exit-during', '')
lines = {ln.split()[0]: kv(' '.join(ln.split()[1:])) for ln in txt.splitlines() if ln.strip()}
t.eq(lines.get('before', {}).get('state'), 'on', 'exit: kdamond on while the tenant has a process')
g = lines.get('gone', {})
t.ok(g.get('nr_kdamonds') == '0' and g.get('threads') == '0' and g.get('tierd_alive') == '1',
     'exit: all targets exited -> kdamond stopped by itself and tierd removed it, tierd still running', txt)
a = lines.get('again', {})
t.ok(a.get('nr_kdamonds') == '1' and a.get('state') == 'on' and a.get('threads') == '1',
     'exit: a new process in the tenant -> tierd creates its kdamond again', txt)
t.eq(rc('exit'), '0', 'exit: tierd scan exits 0')
t.ok('error' not in s.get('exit-err', '').lower(), 'exit: no error on stderr', s.get('exit-err'))
check_clean('exit', 'exit')
j = parse_json(t, s.get('exit'), 'exit: JSON')
if j:
    seq = check_passes('exit', j, 't2')
    flags = [f for _, f, _ in seq]
    # whole passes, then none (stopped, no process, the arming scan of the new kdamond), then whole ones again
    first_gap = next((i for i, f in enumerate(flags) if not f), None)
    resumed = next((i for i in range(first_gap or 0, len(flags)) if flags[i]), None) if first_gap else None
    t.ok(first_gap is not None and first_gap > 0 and resumed is not None and resumed - first_gap >= 2,
         'exit: whole passes while the process ran, then no pass for 2 or more periods (the kdamond stopped by itself, '
         'then the arming scan of the new one)', describe(seq))
    t.ok(resumed is not None and all(WHOLE <= f for f in flags[resumed:]) and 'exact' in flags[-1],
         'exit: whole passes again once the new kdamond ran a period, the last one exact', describe(seq))

# the cgroup removed
t.eq(kv(s.get('rmdir-during')).get('rmdir'), '0', 'rmdir: the tenant cgroup was removed mid-scan')
t.eq(rc('rmdir'), '0', 'rmdir: tierd scan exits 0')
t.ok('error' not in s.get('rmdir-err', '').lower(), 'rmdir: no error on stderr', s.get('rmdir-err'))
check_clean('rmdir', 'rmdir')
j = parse_json(t, s.get('rmdir'), 'rmdir: JSON')
if j:
    seq = check_passes('rmdir', j, 't3')
    t.ok(seq and any(f for _, f, _ in seq) and not seq[-1][1],
         'rmdir: whole passes while the tenant had its process, none once it had no process left', describe(seq))

# a real failure after creation
t.eq(kv(s.get('sabotage-during')).get('sabotage'), '0', 'sabotage: the schemes were removed mid-scan')
t.ok(rc('sabotage') == '1', 'sabotage: tierd scan fails with exit 1', s.get('sabotage-err'))
t.ok('tried regions' in s.get('sabotage-err', ''), 'sabotage: the message names what failed', s.get('sabotage-err'))
j = parse_json(t, s.get('sabotage'), 'sabotage: JSON error')
if j:
    t.ok('error' in j, 'sabotage: {"error": ...} on stdout')
check_clean('sabotage', 'sabotage: failure after creation')

# foreign kdamonds: DAMON_LRU_SORT
d = kv(s.get('foreign-lru'))
t.ok(d.get('enable') == '0' and d.get('comm', '').startswith('kdamond') and d.get('nr_kdamonds') == '0',
     'foreign: DAMON_LRU_SORT enabled; its kdamond_pid is a live kdamond thread, DAMON sysfs has none',
     s.get('foreign-lru'))
tr = parse_json(t, s.get('foreign-lru-trace'), 'foreign: DAMON_LRU_SORT trace JSON')
if tr:
    t.ok(tr['damon']['regions'] > 0, 'foreign: an unfiltered `tierd trace` sees DAMON_LRU_SORT aggregate regions',
         json.dumps(tr['damon']))
    print(f"# foreign: DAMON_LRU_SORT alone: {tr['damon']['regions']} regions in 3 s (unfiltered trace)")
t.eq(rc('foreign-lru-scan'), '1', 'foreign: bpf exits 1 while DAMON_LRU_SORT runs (exclusive DAMON context: '
     'no other kdamond can start)')
print('# foreign: ' + ' | '.join(ln for ln in s.get('foreign-lru-scan-err', '').splitlines() if ln.strip()))
t.ok('damon_lru_sort is enabled' in s.get('foreign-lru-scan-err', ''),
     'foreign: the refusal names DAMON_LRU_SORT as the exclusive user', s.get('foreign-lru-scan-err'))
t.ok(d.get('after_enabled') == 'Y' and d.get('after_pid') == d.get('pid') and d.get('after_comm') == d.get('comm')
     and d.get('after_nr_kdamonds') == '0',
     'foreign: DAMON_LRU_SORT untouched (enabled, same kdamond) and tierd left no kdamond directory',
     s.get('foreign-lru'))
t.ok(d.get('disable') == '0' and d.get('off_threads') == '0',
     'foreign: DAMON_LRU_SORT disabled, no kdamond thread left', s.get('foreign-lru'))

# foreign kdamonds: a paddr kdamond in DAMON sysfs slot 0, tierd's in slot 1
d = kv(s.get('foreign-sys'))
t.ok(d.get('on') == '0' and d.get('comm', '').startswith('kdamond'),
     "foreign: the test's paddr kdamond is on and its pid is a live kdamond thread", s.get('foreign-sys'))
tr = parse_json(t, s.get('foreign-sys-trace'), 'foreign: paddr kdamond trace JSON')
if tr:
    t.ok(tr['damon']['regions'] > 0, 'foreign: an unfiltered `tierd trace` sees the paddr kdamond aggregate regions',
         json.dumps(tr['damon']))
    print(f"# foreign: paddr kdamond alone: {tr['damon']['regions']} regions in 3 s (unfiltered trace)")
t.eq(rc('foreign-scan'), '0', 'foreign: bpf exits 0 with a foreign kdamond running')
j = parse_json(t, s.get('foreign-scan'), 'foreign: scan JSON')
if j and wl:
    rs = j['tenants'][0].get('ranges', [])
    vmas = vmas_of(s.get('foreign-maps'))
    mine = damon_vaddr_regions(vmas)

    def inside(r, spans):
        return any(a <= r['start'] and r['end'] <= b for a, b in spans)

    bad = [r for r in rs if r['kind'] != 'vaddr' or r['pid'] != wl['pid'] or not inside(r, mine)]
    in_vma = sum(1 for r in rs if inside(r, vmas))
    print(f'# foreign: {len(rs)} ranges, {in_vma} of them inside one mapping; DAMON vaddr regions of pid '
          f"{wl['pid']}: " + ', '.join(f'{a:#x}-{b:#x}' for a, b in mine))
    t.ok(len(rs) > 0 and not bad, "foreign: every range is the workload's, inside its address space as DAMON vaddr "
         'monitors it (no foreign paddr region leaked)',
         f'{len(bad)} of {len(rs)} outside, e.g.\n' + '\n'.join(
             f"{r['kind']} pid {r['pid']} {r['start']:#x}-{r['end']:#x} age {r['age']} nr_accesses {r['nr_accesses']}"
             for r in bad[:8]))
    hot_ok, hot_len, cold_ok, cold_len = hot_cold([r for r in rs if r['kind'] == 'vaddr' and r['pid'] == wl['pid']],
                                                  wl)
    print(f'# foreign: hot bytes at age 0: {100.0 * hot_ok / hot_len:.1f}%, cold bytes at age >= 1: '
          f'{100.0 * cold_ok / cold_len:.1f}%; history hot MiB '
          + ' '.join(f"{h['tenants'][0]['hot_bytes'] / MIB:.1f}" for h in j['history']))
    t.ok(hot_ok >= 0.95 * hot_len and cold_ok >= 0.95 * cold_len,
         'foreign: >= 95% of the hot bytes at age 0 and of the cold bytes at age >= 1',
         f'hot {hot_ok} of {hot_len}, cold {cold_ok} of {cold_len}')
    check_exact_passes('foreign', j, 't1')
t.ok(d.get('after_state') == 'on' and d.get('after_pid') == d.get('pid') and d.get('after_comm') == d.get('comm'),
     'foreign: the foreign kdamond still runs afterwards (on, same pid)', s.get('foreign-sys'))
t.ok(d.get('slot_state') == 'off' and d.get('view_nr') == '0',
     "foreign: tierd stopped and removed its own kdamond (slot 1 off, its view's nr_kdamonds 0)",
     s.get('foreign-sys'))
check_clean('foreign', 'foreign: after the test stopped its kdamond')

# (d) busy
txt = s.get('busy-during', '').splitlines()
before, after = kv(txt[0] if txt else ''), kv(txt[1] if len(txt) > 1 else '')
for b in ('damon', 'bpf'):
    e = s.get(f'busy-{b}-err', '')
    t.eq(rc(f'busy-{b}'), '1', f'busy: {b} exits 1 when DAMON is in use by someone else')
    t.ok('in use by someone else' in e, f'busy: {b} says why', e)
t.ok(before.get('state') == 'on' and after.get('state') == 'on' and before.get('pid') == after.get('pid')
     and after.get('nr_kdamonds') == '1',
     "busy: the test's own kdamond is untouched (still on, same pid)", '\n'.join(txt))
t.done()
