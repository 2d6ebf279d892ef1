#!/usr/bin/env python3
"""vm suite: the movers of migrate/ through test/helpers/mover-cli, one boot
of the stock kernel (kernel.numa_balancing=0 set explicitly, so no move
is the kernel's own):

  cold      move_pages: a workload (64 MiB, 16 MiB hot) on node 0; its cold
            range moved to node 1 in batches of 256: the workload's own
            report shows all 12288 cold pages on node 1, all 4096 hot pages
            still on node 0, memory intact; the mover's counts agree
            (moved 12288 pages, nothing failed); a second run finds every
            page "already" there and moves nothing
  thp       a --thp workload (64 MiB) on node 0 moved whole to node 1: moved
            in 2 MiB units (thp_moved * 512 = pages moved, >= 90% of the
            mapping in THPs), few calls; the report shows every page on
            node 1, intact; AnonHugePages of the process before and after
            as a TAP comment (migration keeps THPs whole)
  exit      the mover paced (batches of 64 pages, 2 ms apart) on a 256 MiB
            workload killed 1 s into the move: exit 0, no error, "exited"
            true, part of it moved
  reclaim   a tenant (64 MiB workload, node 0): demotion_enabled=true, then
            memory.reclaim of 32 MiB: >= 16 MiB moved to node 1 by the
            numa_stat diff, node 1 grew by as much, the workload sees its
            pages on node 1, intact. demotion_enabled=false (set by the test
            inside the VM; tierd never writes it): the same request moves
            nothing to node 1 (< 1 MiB); what happened instead (EAGAIN,
            bytes freed) is a TAP comment
  damos     a tenant whose workload (64 MiB, 16 MiB hot at 50 Hz) is bound
            to node 1; the tenant's migrate_hot scheme (target node 0,
            16 MiB/s quota; filters: the tenant's memcg, and pages not
            young dropped, regions in node 0's physical ranges (from
            zoneinfo) skipped; after a 1 s window of the check scheme alone,
            whose filters drop every page after the young check; the
            polls read no page) promotes >= 95% of the hot pages to node 0
            within 40 s (time as a TAP comment); promote sz_applied >= 90%
            of the hot bytes moved and at most the tenant's anon + file
            growth on node 0 (memory.numa_stat) + 1 MiB; >= 90% of the cold pages stay on node 1 (selective);
            memory intact; nr_kdamonds 0 and no kdamond thread after
            mover-cli exits (SIGTERM)
  damos-cold a tenant's workload (64 MiB, 16 MiB hot) on node 0 and a
            migrate_cold scheme only (target node 1, 128 MiB/s, regions
            with 0-2 of 20 samples accessed for >= 2 s; filters: the
            tenant's memcg, young pages dropped, node 1's ranges
            skipped): >= 4096 of the 12288 cold pages demoted within 30 s
            (see the check), >= 95% of the hot pages stay on node 0,
            sz_applied counts demotions and never more than moved (it can
            fall short: read while the kdamond still runs); kdamond
            removed after --duration

usage: test-movers.py stock BUILD_DIR"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')

MIB = 1 << 20

GUEST = r'''
A=/sys/kernel/mm/damon/admin
CG=/sys/fs/cgroup
DE=/sys/kernel/mm/numa/demotion_enabled
echo 0 > /proc/sys/kernel/numa_balancing
sec() { echo "=== BEGIN $1"; cat "$2"; echo; echo "=== END $1"; }
val() { echo "=== BEGIN $1"; echo "$2"; echo "=== END $1"; }
report() {  # pid file name
  rm -f "$2"; kill -USR2 $1; while [ ! -e "$2" ]; do sleep 0.2; done; sec "$3" "$2"; }
wait_ready() { while [ ! -e "$1" ]; do sleep 0.2; done; }
# filters N: scheme N's filters, one per line: type, matching (and the
# range of an addr filter)
filters() {
  for f in $A/kdamonds/0/contexts/0/schemes/$1/filters/[0-9]*; do
    if [ "$(cat $f/type)" = addr ]; then echo "addr $(cat $f/matching) $(cat $f/addr_start) $(cat $f/addr_end)"
    else echo "$(cat $f/type) $(cat $f/matching)"; fi
  done
}
echo "=== BEGIN zoneinfo"; cat /proc/zoneinfo; echo "=== END zoneinfo"
thp() { grep AnonHugePages /proc/$1/smaps_rollup | tr -s ' ' | cut -d' ' -f2; }
val numa_balancing "$(cat /proc/sys/kernel/numa_balancing)"
val thp_enabled "$(cat /sys/kernel/mm/transparent_hugepage/enabled)"

# ---- cold: move_pages of the cold range
workload --size 64 --hot 16 --node 0 --report /tmp/c.json --ready /tmp/c.rdy &
w=$!; wait_ready /tmp/c.rdy
report $w /tmp/c.json cold-before
mover-cli move-pages --pid $w --node 1 --report /tmp/c.json --part cold --batch 256 > /tmp/o; echo "rc $?" >> /tmp/o
sec cold-move /tmp/o
report $w /tmp/c.json cold-after
mover-cli move-pages --pid $w --node 1 --report /tmp/c.json --part cold --batch 256 > /tmp/o
sec cold-again /tmp/o
kill -TERM $w; wait $w

# ---- thp: a THP workload moved whole
workload --size 64 --hot 16 --node 0 --thp --report /tmp/t.json --ready /tmp/t.rdy &
w=$!; wait_ready /tmp/t.rdy
report $w /tmp/t.json thp-before
val thp-anon-before "$(thp $w)"
mover-cli move-pages --pid $w --node 1 --report /tmp/t.json --part all > /tmp/o; echo "rc $?" >> /tmp/o
sec thp-move /tmp/o
val thp-anon-after "$(thp $w)"
report $w /tmp/t.json thp-after
kill -TERM $w; wait $w

# ---- exit: the process exits mid-move
workload --size 256 --hot 16 --node 0 --report /tmp/e.json --ready /tmp/e.rdy &
w=$!; wait_ready /tmp/e.rdy
report $w /tmp/e.json exit-before
mover-cli move-pages --pid $w --node 1 --report /tmp/e.json --part all --batch 64 --pause-us 2000 > /tmp/o &
m=$!
sleep 1
kill -KILL $w
wait $m; echo "rc $?" >> /tmp/o
sec exit-move /tmp/o
wait $w

# ---- reclaim: demotion through memory.reclaim
mkdir $CG/rt
sh -c "echo \$\$ > $CG/rt/cgroup.procs; exec workload --size 64 --hot 16 --report /tmp/r.json --ready /tmp/r.rdy" &
w=$!; wait_ready /tmp/r.rdy
report $w /tmp/r.json reclaim-before
val demotion-initial "$(cat $DE)"
echo true > $DE
mover-cli reclaim --cgroup rt --bytes 32M > /tmp/o; echo "rc $?" >> /tmp/o
sec reclaim-on /tmp/o
report $w /tmp/r.json reclaim-on-after
echo false > $DE
mover-cli reclaim --cgroup rt --bytes 32M > /tmp/o; echo "rc $?" >> /tmp/o
sec reclaim-off /tmp/o
report $w /tmp/r.json reclaim-off-after
kill -TERM $w; wait $w

# ---- damos: migrate_hot promotes a hot set placed on node 1
val damos-nr-before "$(cat $A/kdamonds/nr_kdamonds)"
mkdir $CG/dt
numactl --physcpubind=1 sh -c 'while :; do usleep 3000; done' &
ticker=$!
numactl --physcpubind=1 sh -c "echo \$\$ > $CG/dt/cgroup.procs; exec workload --size 64 --hot 16 --rate 50 --node 1 --report /tmp/d.json --ready /tmp/d.rdy" &
w=$!; wait_ready /tmp/d.rdy
report $w /tmp/d.json damos-before
sec damos-numa-before $CG/dt/memory.numa_stat
rm -f /tmp/damos.rdy
mover-cli damos --cgroup dt --fast-node 0 --slow-node 1 --promote-rate 16M --check-ms 1000 --duration 120 --ready /tmp/damos.rdy > /tmp/damos.json 2> /tmp/damos.err &
m=$!
wait_ready_t() { i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done; }
wait_ready_t /tmp/damos.rdy
t0=$(cut -d' ' -f1 /proc/uptime)
echo "=== BEGIN hot-filters"
filters 0
echo "=== END hot-filters"
echo "=== BEGIN check-filters"
filters 1
echo "=== END check-filters"
i=0
# polls with SIGURG: a report without the pattern check, which would read
# (make young) every cold page
while [ $i -lt 20 ]; do
  sleep 2
  rm -f /tmp/d.json; kill -URG $w; while [ ! -e /tmp/d.json ]; do sleep 0.2; done
  h0=$(sed -n 's/.*"hot_pages_by_node":{[^}]*"0":\([0-9]*\).*/\1/p' /tmp/d.json)
  echo "# damos poll $i: t=$(cut -d' ' -f1 /proc/uptime) hot on node 0: ${h0:-0}"
  [ "${h0:-0}" -ge 3892 ] && break
  i=$((i+1))
done
val damos-seconds "$t0 $(cut -d' ' -f1 /proc/uptime)"
# the mover stopped first: the full report's pattern check reads (makes
# young) every cold page, and a running migrate_hot would take them
kill -TERM $m; wait $m; echo "rc $?" >> /tmp/damos.json
report $w /tmp/d.json damos-after
sec damos-numa-after $CG/dt/memory.numa_stat
sec damos-run /tmp/damos.json
sec damos-stderr /tmp/damos.err
val damos-nr-after "$(cat $A/kdamonds/nr_kdamonds)"
val damos-threads "$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^kdamond')"
kill -TERM $w; wait $w

# ---- damos-cold: migrate_cold demotes the cold pages of a tenant on node 0
mkdir $CG/ct
numactl --physcpubind=1 sh -c "echo \$\$ > $CG/ct/cgroup.procs; exec workload --size 64 --hot 16 --rate 50 --node 0 --report /tmp/k.json --ready /tmp/k.rdy" &
w=$!; wait_ready /tmp/k.rdy
mover-cli damos --cgroup ct --fast-node 0 --slow-node 1 --promote-rate 0 --demote-rate 128M --cold-age-ms 2000 --duration 30 --ready /tmp/cold.rdy > /tmp/o &
mc=$!
wait_ready_t /tmp/cold.rdy
echo "=== BEGIN cold-filters"
filters 0
echo "=== END cold-filters"
P=$A/kdamonds/0/contexts/0/schemes/0/access_pattern
val cold-pattern "$(cat $P/nr_accesses/min) $(cat $P/nr_accesses/max) $(cat $P/age/min)"
wait $mc; echo "rc $?" >> /tmp/o
sec cold-run /tmp/o
report $w /tmp/k.json cold-damos-after
val cold-nr-after "$(cat $A/kdamonds/nr_kdamonds)"
kill -TERM $w; wait $w
kill $ticker
echo "=== BEGIN done"; echo ok; echo "=== END done"
'''


def rc_and_json(text, what):
    """mover-cli output followed by 'rc N': (rc, parsed JSON)."""
    lines = (text or '').strip().splitlines()
    rc = None
    if lines and lines[-1].startswith('rc '):
        rc = int(lines[-1].split()[1])
        lines = lines[:-1]
    return rc, parse_json(t, '\n'.join(lines), what)


def node_ranges(zoneinfo, nid):
    """Node NID's physical address ranges from zoneinfo text: its populated
    zones' [start_pfn, start_pfn + spanned) pages, adjacent ones joined (no
    zone of another node overlaps them in the testbed)."""
    spans, cur, spanned = [], None, 0
    for ln in (zoneinfo or '').splitlines():
        f = ln.split()
        if ln.startswith('Node '):
            cur, spanned = int(f[1].rstrip(',')), 0
        elif f[:1] == ['spanned']:
            spanned = int(f[1])
        elif f[:1] == ['start_pfn:'] and cur == nid and spanned:
            spans.append([int(f[1]) * 4096, (int(f[1]) + spanned) * 4096])
    spans.sort()
    out = []
    for a, b in spans:
        if out and out[-1][1] == a:
            out[-1][1] = b
        else:
            out.append([a, b])
    return [f'addr Y {a} {b}' for a, b in out]


def n0_lru(text):
    """A memory.numa_stat's anon + file bytes on node 0."""
    total = 0
    for ln in (text or '').splitlines():
        f = ln.split()
        if f[:1] in (['anon'], ['file']):
            total += sum(int(x[3:]) for x in f[1:] if x.startswith('N0='))
    return total


def node(counts, n):
    return (counts or {}).get(str(n), 0)


status, out = run_vm(kernel, GUEST, build, timeout=900)
for line in out.splitlines():
    if line.startswith('# damos poll'):
        print(line)
s = sections(out)
if not t.ok(status == 0 and 'done' in s, f'{kernel}: VM booted and the guest script ran',
            f'status {status}\n{out[-4000:]}'):
    t.done()
t.eq(s.get('numa_balancing', '').strip(), '0', 'kernel.numa_balancing is 0 in the guest')

# ---- cold
b = parse_json(t, s.get('cold-before'), 'cold: report before')
rc, mv = rc_and_json(s.get('cold-move'), 'cold: mover-cli move-pages')
a = parse_json(t, s.get('cold-after'), 'cold: report after')
if b and mv and a:
    t.eq((node(b['hot_pages_by_node'], 0), node(b['cold_pages_by_node'], 0)), (4096, 12288),
         'cold: before, every page on node 0')
    t.eq(rc, 0, 'cold: mover-cli exit 0')
    t.eq((mv['pages']['moved'], mv['bytes_moved'], mv['bytes_failed'], mv['exited']),
         (12288, 48 * MIB, 0, False), 'cold: 12288 pages (48 MiB) moved, nothing failed')
    t.ok(mv['batches'] == 48 and mv['calls'] == 96,
         'cold: 48 batches of 256, a status query and a move each',
         f"batches {mv['batches']} calls {mv['calls']}")
    t.eq((node(a['cold_pages_by_node'], 1), node(a['hot_pages_by_node'], 0)), (12288, 4096),
         'cold: after, the workload sees its 12288 cold pages on node 1 and 4096 hot on node 0')
    t.eq(a['intact'], True, 'cold: workload memory intact')
    print(f"# cold: moved 48 MiB in {mv['seconds']:.3f} s")
_, ag = rc_and_json(s.get('cold-again'), 'cold: second move')
if ag:
    t.eq((ag['pages']['already'], ag['pages']['moved']), (12288, 0),
         'cold: a second move finds all 12288 pages already on node 1 and moves none')

# ---- thp
b = parse_json(t, s.get('thp-before'), 'thp: report before')
rc, mv = rc_and_json(s.get('thp-move'), 'thp: mover-cli move-pages')
a = parse_json(t, s.get('thp-after'), 'thp: report after')
print(f"# thp: AnonHugePages of the workload before {s.get('thp-anon-before', '?').strip()} kB, "
      f"after {s.get('thp-anon-after', '?').strip()} kB")
if b and mv and a:
    t.eq(rc, 0, 'thp: mover-cli exit 0')
    moved = mv['pages']['moved']
    t.eq(moved, 16384, 'thp: all 16384 pages moved')
    t.ok(mv['thp_moved'] >= 29, 'thp: >= 90% of the mapping moved as THPs (>= 29 of 32)',
         f"thp_moved {mv['thp_moved']}")
    t.ok(mv['pages']['busy'] == 0 and mv['bytes_failed'] == 0,
         'thp: no -EBUSY from tail pages (only heads are passed)', f"{mv['pages']}")
    t.ok(mv['calls'] <= 4, 'thp: the THP heads fit one batch (a query and a move)', f"calls {mv['calls']}")
    t.eq((node(a['hot_pages_by_node'], 1) + node(a['cold_pages_by_node'], 1), a['intact']), (16384, True),
         'thp: the workload sees all its pages on node 1, intact')
    print(f"# thp: {mv['thp_moved']} THPs, {moved} pages moved in {mv['calls']} calls, {mv['seconds']:.3f} s")

# ---- exit
rc, mv = rc_and_json(s.get('exit-move'), 'exit: mover-cli move-pages')
if mv:
    t.eq(rc, 0, 'exit: the process killed mid-move: mover-cli exit 0, no error')
    t.ok('error' not in mv and mv.get('exited') is True, 'exit: reported as exited, not as an error', f'{mv}')
    t.ok(0 < mv.get('bytes_moved', 0) < 256 * MIB, 'exit: part of the 256 MiB moved before the exit',
         f"bytes_moved {mv.get('bytes_moved')}")
    print(f"# exit: {mv.get('bytes_moved', 0) / MIB:.1f} MiB moved in {mv.get('batches')} batches before the exit")

# ---- reclaim
print(f"# reclaim: demotion_enabled at boot: {s.get('demotion-initial', '?').strip()}")
rc, on = rc_and_json(s.get('reclaim-on'), 'reclaim: demotion on')
a = parse_json(t, s.get('reclaim-on-after'), 'reclaim: report after demotion')
if on and a:
    t.eq((rc, on['demotion_enabled']), (0, 1), 'reclaim: exit 0, demotion_enabled read as true')
    t.ok(on['moved_bytes'] >= 16 * MIB, 'reclaim: >= 16 MiB of the tenant moved (numa_stat diff)',
         f"moved {on['moved_bytes']} delta {on['delta']}")
    t.ok(on['delta'].get('1', 0) >= 16 * MIB, 'reclaim: node 1 grew by >= 16 MiB', f"delta {on['delta']}")
    on1 = node(a['hot_pages_by_node'], 1) + node(a['cold_pages_by_node'], 1)
    t.ok(on1 * 4096 >= 16 * MIB and a['intact'], 'reclaim: the workload sees >= 16 MiB on node 1, intact',
         f"{on1} pages on node 1, intact {a['intact']}")
    print(f"# reclaim (demotion on): asked 32 MiB, partial (EAGAIN) {on['partial']}, moved "
          f"{on['moved_bytes'] / MIB:.1f} MiB, freed {on['freed_bytes'] / MIB:.1f} MiB, delta {on['delta']}, "
          f"{on['seconds']:.2f} s; workload: {on1} pages on node 1 "
          f"(hot {node(a['hot_pages_by_node'], 1)}, cold {node(a['cold_pages_by_node'], 1)})")
rc, off = rc_and_json(s.get('reclaim-off'), 'reclaim: demotion off')
a2 = parse_json(t, s.get('reclaim-off-after'), 'reclaim: report after demotion off')
if off and a2:
    t.eq((rc, off['demotion_enabled']), (0, 0), 'reclaim: exit 0, demotion_enabled read as false')
    t.ok(off['delta'].get('1', 0) < MIB, 'reclaim: demotion off: nothing arrives on node 1 (< 1 MiB)',
         f"delta {off['delta']}")
    t.eq(a2['intact'], True, 'reclaim: workload intact after reclaim without demotion')
    print(f"# reclaim (demotion off): asked 32 MiB, partial (EAGAIN) {off['partial']}, moved "
          f"{off['moved_bytes'] / MIB:.1f} MiB, freed {off['freed_bytes'] / MIB:.1f} MiB, delta {off['delta']}, "
          f"{off['seconds']:.2f} s")

# ---- damos
t.eq(s.get('damos-nr-before', '').strip(), '0', 'damos: no kdamond before')
b = parse_json(t, s.get('damos-before'), 'damos: report before')
a = parse_json(t, s.get('damos-after'), 'damos: report after')
rc, run = rc_and_json(s.get('damos-run'), 'damos: mover-cli damos')
if s.get('damos-stderr', '').strip():
    print('# damos stderr: ' + s['damos-stderr'].strip().replace('\n', '\n# '))
if b and a and run:
    t.eq(node(b['hot_pages_by_node'], 1), 4096, 'damos: before, the 4096 hot pages on node 1')
    hot0 = node(a['hot_pages_by_node'], 0)
    secs = s.get('damos-seconds', '0 0').split()
    took = float(secs[1]) - float(secs[0]) if len(secs) == 2 else -1
    print(f'# damos: {hot0} of 4096 hot pages on node 0 after {took:.1f} s')
    t.ok(hot0 >= 3892, 'damos: >= 95% of the hot pages promoted to node 0 by migrate_hot within 40 s',
         f'{hot0} hot pages on node 0 after {took:.1f} s')
    t.eq(rc, 0, 'damos: mover-cli exit 0 after SIGTERM')
    ten = (run.get('tenants') or [{}])[0]
    pro = ten.get('promote') or {}
    on0 = (hot0 + node(a['cold_pages_by_node'], 0)) * 4096
    sz = pro.get('sz_applied', 0)
    print(f"# damos: promote stats {pro}; demote stats {ten.get('demote')}; workload bytes on node 0: {on0}")
    t.ok(sz >= hot0 * 4096 * 9 // 10, 'damos: sz_applied counts the promoted hot bytes (>= 90%)',
         f'sz_applied {sz}, hot bytes on node 0 {hot0 * 4096}')
    g0 = n0_lru(s.get('damos-numa-after')) - n0_lru(s.get('damos-numa-before'))
    print(f'# damos: the tenant\'s anon+file bytes on node 0 (memory.numa_stat) grew by {g0}')
    t.ok(sz <= g0 + MIB, 'damos: sz_applied is at most what the tenant gained on node 0 by memory.numa_stat '
         '(anon + file, +1 MiB)', f'sz_applied {sz}, numa_stat N0 growth {g0}, workload bytes on node 0 {on0}')
    cold1 = node(a['cold_pages_by_node'], 1)
    print(f"# damos: cold pages: {cold1} of 12288 still on node 1, {node(a['cold_pages_by_node'], 0)} promoted")
    # 12288 in two runs since the check window; 6329 without it (the
    # first check of a page never checked reads young)
    t.ok(cold1 >= 12288 * 9 // 10, 'damos: migrate_hot is selective: >= 90% of the cold pages stay on node 1',
         f'{cold1} of 12288 cold pages on node 1')
    t.eq(a['intact'], True, 'damos: workload memory intact')
t.eq((s.get('damos-nr-after', '').strip(), s.get('damos-threads', '').strip()), ('0', '0'),
     'damos: after mover-cli exits, nr_kdamonds 0 and no kdamond thread')

on0, on1 = node_ranges(s.get('zoneinfo'), 0), node_ranges(s.get('zoneinfo'), 1)
print(f'# node 0: {on0}; node 1: {on1}')
t.eq((s.get('hot-filters') or '').split('\n'), ['memcg N', 'young N'] + on0,
     "damos: the migrate_hot scheme's filters: the tenant's memcg only, pages not young dropped, "
     "regions on node 0 (its target) skipped")
t.eq((s.get('check-filters') or '').split('\n'), ['memcg N', 'young N', 'anon Y', 'anon N'],
     "damos: the check scheme's filters: the tenant's memcg, young, then every page dropped")

# ---- damos-cold
t.eq((s.get('cold-filters') or '').split('\n'), ['memcg N', 'young Y'] + on1,
     "damos-cold: the migrate_cold scheme's filters: the tenant's memcg only, young pages dropped, regions on "
     "node 1 (its target) skipped")
# the defaults: 20 samples (20 ms) per aggregation (400 ms), so at most 2 accessed (a tenth,
# DAMON's merge threshold: regions holding a few hot pages among cold ones qualify, the young
# filter keeps their hot pages); --cold-age-ms 2000 is 5 aggregations
t.eq((s.get('cold-pattern') or '').strip(), '0 2 5',
     'damos-cold: migrate_cold takes regions with 0-2 of 20 samples accessed, for 5 aggregations or more')
rc, run = rc_and_json(s.get('cold-run'), 'damos-cold: mover-cli damos')
a = parse_json(t, s.get('cold-damos-after'), 'damos-cold: report after')
if run and a:
    t.eq(rc, 0, 'damos-cold: mover-cli exit 0 after --duration')
    ten = (run.get('tenants') or [{}])[0]
    dem = ten.get('demote') or {}
    t.ok(ten.get('promote') is None and dem, 'damos-cold: a migrate_cold scheme only (promote rate 0)', f'{ten}')
    cold1, hot0 = node(a['cold_pages_by_node'], 1), node(a['hot_pages_by_node'], 0)
    on1 = (cold1 + node(a['hot_pages_by_node'], 1)) * 4096
    print(f"# damos-cold: {cold1} of 12288 cold pages demoted to node 1 in 30 s, {hot0} of 4096 hot stay on node 0; "
          f"demote stats {dem}")
    # The quota is charged by the region bytes tried, other cgroups' pages
    # included (sz_tried ~3 GB for 45-50 MB applied): with 16 MiB/s it
    # was the limit, and 1381-10355 of 12288 were demoted in 30 s; with
    # 128 MiB/s 11031-12274 in three runs. A third as the bound (DAMON's
    # paddr regions converge at a varying pace under TCG).
    t.ok(cold1 >= 4096, 'damos-cold: >= 4096 cold pages (16 MiB) demoted to node 1 within 30 s',
         f'{cold1} of 12288')
    t.ok(hot0 >= 3892, 'damos-cold: >= 95% of the hot pages stay on node 0', f'{hot0} of 4096')
    sz = dem.get('sz_applied', 0)
    # The last stats are read while the kdamond still runs, and it keeps
    # demoting until damos_close() turns it off: sz_applied can fall short
    # of what moved (seen: 13.2 MB of 23.2 MB), never exceed it. Open in
    # issue #5's notes; bounded from above only, the ratio printed.
    print(f'# damos-cold: sz_applied {sz} for {on1} workload bytes on node 1 ({100 * sz / max(on1, 1):.0f}%)')
    t.ok(0 < sz <= on1 + 8 * MIB,
         'damos-cold: sz_applied counts demotions and never more than the workload has on node 1 (+8 MiB other tenant memory)',
         f'sz_applied {sz}, workload bytes on node 1 {on1}')
    t.eq(a['intact'], True, 'damos-cold: workload memory intact')
t.eq(s.get('cold-nr-after', '').strip(), '0', 'damos-cold: nr_kdamonds 0 after mover-cli exits')
t.done()
