#!/usr/bin/env python3
"""churn suite: tierd under churn, one boot of the stock kernel (default
1 GiB nodes, kernel.numa_balancing=0 set explicitly). (tierd under
valgrind, which ran after the churn in this boot, is test-valgrind.py:
that part keeps no timing and runs beside other work, the churn alone.)

  churn     tierd (the agent loop, no --backend: auto picks bpf on the stock
            kernel, checked in its JSON; 1 s periods; a configuration file
            sets the scanner's CPU budget to 100% as in test-enforce.py)
            runs while test/helpers/churn works for CHURN seconds (305, at
            least 5 minutes) under /sys/fs/cgroup/churn: 25 mkdirs/s (a
            third nested; half the cgroups annotated as tenants with
            trusted.tierd.class, tier0.max, mode; 1 in 10 annotation values
            invalid), 250 forks/s straight into those cgroups (clone3 with
            CLONE_INTO_CGROUP; each lives 5-60 ms, a quarter touch 64 KiB,
            1 in 50 touch 2 MiB and live 1-3 s; at most 1024 alive: when
            the guest falls behind, forks wait), 10 annotation changes/s on
            live cgroups; plus
            a steady tenant (a 128 MiB workload, 16 MiB hot, tier0.max=32M)
            that tierd keeps enforcing, so its migrations race the exits.
            Asserted:
            - the achieved rates (churn's own counts over its run): >= 20
              mkdirs/s, >= 20 rmdirs/s, >= 200 forks/s (per-minute counts
              printed); no failed operation in churn (children
              exiting non-zero would mean a moved page lost its contents)
            - tierd still running at the end, exit 0 on SIGTERM, periods
              kept coming (>= 50% of the seconds it ran); it moved pages
              during the churn and kept scanning the steady tenant (tracked
              bytes > 0 in at least half the churn periods)
            - RSS flat: VmRSS sampled every 5 s; max over the last 3
              minutes <= max over the first 2 minutes + 1 MiB (RSS_SLACK:
              see there for the measured values)
            - no log line at error level, and none containing "error" at
              all; no warning either. Vanishing cgroups and processes are
              expected: a tenant that disappears gets one info line
              ("tenant X is gone"), a process that exits between the scan
              and the move a debug line; both are counted and printed
            - the steady tenant: tier-0 bytes (memory.numa_stat N0) <= 32
              MiB + 2% at the end, tierd demoted from it, its workload
              intact (checksums of every page)
            - after exit: no bpf_link held by any process, nr_kdamonds 0
              and no kdamond thread

usage: test-churn.py stock BUILD_DIR
(TEST_CHURN_SECONDS=N shortens the churn for development: the rate and RSS
checks then say so; TEST_CHURN_DUMP=FILE writes the guest's whole output,
TEST_CHURN_REPLAY=FILE checks such a dump again without booting)"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import FOLLOW_SH, WORKLOAD_SH, Tap, parse_json, run_vm, sections, unit_bytes  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if kernel != 'stock':
    t.skip_all('the churn test runs on the stock kernel (bpf scanner)')

CHURN = int(os.environ.get('TEST_CHURN_SECONDS', '305'))
FULL = CHURN >= 300
MIB = 1 << 20
# RSS: measured (5.5 min, 8176 mkdirs, 50625 forks, up to 177 tenants a
# period): VmRSS 17456 KiB in all 67 samples, not one page of growth. 1 MiB
# leaves room for a few steps of glibc's heap (it grows by 128 KiB+) and
# still catches a leak of ~128 bytes per vanished cgroup (~8000 of them).
# (When the guest fell behind and the live tenants grew from ~100 to 466,
# RSS followed them, 17 -> 32 MiB: the bound needs a steady churn, which
# churn's cap on live children keeps.)
RSS_SLACK = 1024  # KiB

GUEST = r'''
CG=/sys/fs/cgroup
sysctl -w kernel.numa_balancing=0 > /dev/null
echo "=== BEGIN numa_balancing"; cat /proc/sys/kernel/numa_balancing; echo "=== END numa_balancing"
@WORKLOAD_SH@
numa() { echo "=== BEGIN $2"; cat $CG/$1/memory.numa_stat; echo "=== END $2"; }
@FOLLOW_SH@

# --- churn
start steady --size 128 --hot 16 --rate 20
sw=$w
tierctl --config /nonexistent annotate steady tier0.max=32M
numa steady steady-numa-before
: > /tmp/d.out
tierd --period 1 --json --config /tmp/cfg/tierd.json > /tmp/d.out 2> /tmp/d.err &
D=$!
wl /tmp/d.out 2 120 $D
( while kill -0 $D 2> /dev/null; do
      echo "$(cut -d' ' -f1 /proc/uptime) $(awk '/^VmRSS/ { print $2 }' /proc/$D/status)"
      sleep 5
  done ) > /tmp/rss.txt 2> /dev/null &
R=$!
echo "=== BEGIN churn-start"; cut -d' ' -f1 /proc/uptime; echo "=== END churn-start"
churn --root $CG/churn --seconds @CHURN@ > /tmp/churn.json 2> /tmp/churn.err
echo "=== BEGIN churn-rc"; echo $?; echo "=== END churn-rc"
echo "=== BEGIN churn-end"; cut -d' ' -f1 /proc/uptime; echo "=== END churn-end"
sec churn /tmp/churn.json
sec churn-err /tmp/churn.err
# three more periods for the steady tenant, then its state
n=$(nlines /tmp/d.out); wl /tmp/d.out $((n + 3)) 60 $D
numa steady steady-numa-after
rep $sw steady steady-after
echo "=== BEGIN alive"; kill -0 $D && echo alive; echo "=== END alive"
tierctl status --json > /tmp/st.json 2>&1
sec status /tmp/st.json
echo "=== BEGIN links-before"; for f in /proc/$D/fd/*; do readlink $f; done | grep -c bpf_link; echo "=== END links-before"
kill $R; wait $R 2> /dev/null
sec rss /tmp/rss.txt
kill -TERM $D
wait $D
echo "=== BEGIN term-rc"; echo $?; echo "=== END term-rc"
echo "=== BEGIN links-after"; links; echo "=== END links-after"
echo "=== BEGIN kd-after"; kd; echo "=== END kd-after"
echo "=== BEGIN log-counts"
grep -c '^tierd: error: ' /tmp/d.err; grep -ci 'error' /tmp/d.err; grep -c '^tierd: warning: ' /tmp/d.err
grep -c 'is gone (its cgroup was removed' /tmp/d.err; wc -l < /tmp/d.err
echo "=== END log-counts"
echo "=== BEGIN log-bad"; grep -i 'error\|warning' /tmp/d.err | head -40; echo "=== END log-bad"
echo "=== BEGIN log-head"; head -20 /tmp/d.err; echo "=== END log-head"
echo "=== BEGIN log-tail"; tail -20 /tmp/d.err; echo "=== END log-tail"
reduce /tmp/d.out > /tmp/d.red
sec periods /tmp/d.red
kill -TERM $sw; wait $sw; rmdir $CG/steady
'''.replace('@WORKLOAD_SH@', WORKLOAD_SH).replace('@FOLLOW_SH@', FOLLOW_SH).replace('@CHURN@', str(CHURN))


if os.environ.get('TEST_CHURN_REPLAY'):  # development: check a dumped guest output again
    status, out = 0, open(os.environ['TEST_CHURN_REPLAY']).read()
else:
    # The guest's clock under TCG has once jumped ~35000 s ahead in the
    # middle of a run (the churn "ran" 35134 s in a VM that lived 84 s, and
    # one of tierd's scans "took" as long), which ends the driver's timed
    # loop at once. A guest that reports more seconds than the host saw
    # pass is booted once more, said as a TAP comment.
    for attempt in (1, 2):
        began = time.monotonic()
        status, out = run_vm(kernel, GUEST, build, timeout=CHURN + 1800)
        host_s = time.monotonic() - began
        try:
            guest_s = float(json.loads(sections(out).get('churn') or '{}').get('seconds', 0))
        except (ValueError, AttributeError):
            guest_s = 0
        if attempt == 1 and guest_s > host_s + 60:
            print(f'# the guest clock jumped: the churn reports {guest_s:.0f} s in a VM run of {host_s:.0f} s; '
                  'booting again', flush=True)
            continue
        break
if os.environ.get('TEST_CHURN_DUMP'):
    with open(os.environ['TEST_CHURN_DUMP'], 'w') as f:
        f.write(out)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)
t.eq((s.get('numa_balancing') or '').strip(), '0', 'kernel.numa_balancing is 0')


def num(name, i=0):
    try:
        return int((s.get(name) or '').split()[i])
    except (IndexError, ValueError):
        return None


def periods(name):
    """(period line without tenants, number of tenants, the steady/vgt tenant or {}) per period."""
    out = []
    for line in (s.get(name) or '').splitlines():
        parts = line.split('\t')
        if len(parts) != 3:
            continue
        try:
            out.append((json.loads(parts[0]), int(parts[1]), json.loads(parts[2])))
        except ValueError as e:
            t.ok(False, f'{name}: a period line parses', f'{e}: {line[:500]}')
    return out


def node_bytes(text, node):
    tot = 0
    for line in (text or '').splitlines():
        f = line.split()
        if f and f[0] in ('anon', 'file'):
            for x in f[1:]:
                if x.startswith(f'N{node}='):
                    tot += int(x[len(f'N{node}='):])
    return tot


# --- churn: what the driver achieved
ch = parse_json(t, s.get('churn'), 'churn: the driver\'s report') or {}
t.eq((s.get('churn-rc') or '').strip(), '0', 'churn: the driver exited 0 (every mkdir, rmdir, setxattr, clone3 '
     'worked; no child found a page changed)')
print(f'# churn: {ch.get("seconds")} s: {ch.get("mkdirs")} mkdirs ({ch.get("nested")} nested), {ch.get("rmdirs")} '
      f'rmdirs, {ch.get("annotated")} tenants annotated, {ch.get("xattr_changes")} annotation changes, '
      f'{ch.get("forks")} forks ({ch.get("touching")} touching 64 KiB, {ch.get("long_lived")} 2 MiB for 1-3 s); '
      f'at most {ch.get("max_cgroups")} cgroups and {ch.get("max_procs")} processes alive')
print(f'# churn rates: {ch.get("mkdir_rate")} mkdirs/s, {ch.get("rmdir_rate")} rmdirs/s, {ch.get("fork_rate")} '
      f'forks/s; per minute [mkdirs, forks]: {ch.get("per_minute")}')
if FULL:
    t.ok(ch.get('seconds', 0) >= 300, f'churn: ran {ch.get("seconds")} s (>= 300)')
else:
    t.skip('churn: ran >= 300 s', f'TEST_CHURN_SECONDS={CHURN}')
t.ok(ch.get('mkdir_rate', 0) >= 20, f'churn: {ch.get("mkdir_rate")} cgroups created per second (>= 20)')
t.ok(ch.get('rmdir_rate', 0) >= 20, f'churn: {ch.get("rmdir_rate")} cgroups removed per second (>= 20)')
t.ok(ch.get('fork_rate', 0) >= 200, f'churn: {ch.get("fork_rate")} processes forked (and exited) per second (>= 200)')
t.ok(ch.get('annotated', 0) > 0 and ch.get('xattr_changes', 0) >= 5 * ch.get('seconds', 1) and
     ch.get('nested', 0) > 0, f'churn: {ch.get("annotated")} tenants annotated, {ch.get("xattr_changes")} '
     f'annotation changes on live cgroups (>= 5/s), {ch.get("nested")} nested cgroups')
t.eq(ch.get('left'), 0, 'churn: every cgroup removed at the end')

# --- tierd during the churn
t.eq((s.get('alive') or '').strip(), 'alive', 'tierd: still running after the churn')
t.eq((s.get('term-rc') or '').strip(), '0', 'tierd: exit status 0 on SIGTERM')
pl = periods('periods')
start, end = float(s.get('churn-start') or 0), float(s.get('churn-end') or 0)
t.ok(pl and all(p[0]['backend'] == 'bpf' for p in pl), 'tierd: the default scanner (auto) is bpf on the stock kernel',
     {p[0]['backend'] for p in pl})
tn = [n for _, n, _ in pl]
print(f'# tierd: {len(pl)} periods, tenants per period up to {max(tn) if tn else 0}, scan_ms up to '
      f'{max(p[0]["scan_ms"] for p in pl) if pl else 0:.0f}')
# scans of ~180 tenants with hundreds of short-lived processes take up to
# 3.2 s under TCG (measured), so periods run late: >= 50% of the seconds
t.ok(len(pl) >= 0.5 * (end - start), f'tierd: {len(pl)} periods over the {end - start:.0f} s of churn and after '
     '(>= 50% of the seconds: the 1 s periods kept coming, late when a scan took longer)')
t.ok(max(tn or [0]) >= 20, f'tierd: saw the churn\'s tenants (up to {max(tn or [0])} tenants in a period, >= 20)')
moved = [p[0]['demoted_bytes'] + p[0]['promoted_bytes'] for p in pl]
# the first two periods (before the churn) demote the steady tenant to its limit
print(f'# tierd: bytes moved per period: {moved}')
tracked = [p[2].get('tracked_bytes', 0) for p in pl]
print(f'# steady tenant tracked bytes per period: {[x >> 20 for x in tracked]} MiB')
during = [p for p in pl if start + 2 <= p[0]['time_ms'] / 1000 <= end]
dm = sum(p[0]['demoted_bytes'] + p[0]['promoted_bytes'] for p in during)
dt = sum(1 for p in during if p[2].get('tracked_bytes', 0) > 0)
t.ok(dm > 0, f'tierd: moved pages while the processes churned ({dm / MIB:.1f} MiB in {len(during)} periods): '
     'migrations raced the exits')
t.ok(dt >= len(during) // 2, f'tierd: the steady tenant was scanned (tracked bytes > 0) in {dt} of the '
     f'{len(during)} periods during the churn (>= half)')

# RSS: flat. Samples every 5 s from the start of the churn to its end.
rss = []
for line in (s.get('rss') or '').splitlines():
    f = line.split()
    if len(f) == 2:
        rss.append((float(f[0]) - start, int(f[1])))
first = [kb for ts, kb in rss if ts <= 120]
last = [kb for ts, kb in rss if ts >= (end - start) - 180]
print(f'# RSS (KiB) every 5 s: {[kb for _, kb in rss]}')
if FULL:
    t.ok(len(rss) >= 50, f'RSS: {len(rss)} samples (every 5 s)')
    t.ok(first and last and max(last) <= max(first) + RSS_SLACK,
         f'RSS flat: max over the last 3 minutes {max(last or [0])} KiB <= max over the first 2 minutes '
         f'{max(first or [0])} KiB + {RSS_SLACK} KiB')
else:
    t.skip('RSS flat', f'TEST_CHURN_SECONDS={CHURN}: too short to compare minutes')
# the unit's memory bound (MemoryHigh=, under MemoryMax=) is never reached:
# its peak under churn at most 75% of it, as test-scale.py asks over 20k
# cgroups
high = unit_bytes('MemoryHigh')
peak = max((kb for _, kb in rss), default=0) << 10
t.ok(high and rss and peak <= 0.75 * high, f'RSS: peak {peak >> 20} MiB under churn <= 75% of the unit\'s '
     f'MemoryHigh= ({(high or 0) >> 20} MiB)')

# the log: nothing at error level, not even the word
lc = [int(x) for x in (s.get('log-counts') or '').split()] + [None] * 5
print(f'# log: {lc[4]} lines, {lc[3]} "tenant ... is gone" (info), {lc[2]} warnings, {lc[0]} errors')
t.ok(lc[0] == 0 and lc[1] == 0, 'log: no error-level line and no "error" at all', s.get('log-bad'))
t.ok(lc[2] == 0, 'log: no warning either', s.get('log-bad'))
t.ok((lc[3] or 0) > 0, f'log: the vanished tenants were said once each at info level ({lc[3]} lines)')

# the steady tenant: enforced, intact
na = s.get('steady-numa-after')
t0 = node_bytes(na, 0)
t.ok(t0 <= 32 * MIB * 1.02, f'steady: tier-0 bytes at the end {t0 / MIB:.1f} MiB <= 32 MiB + 2%', na)
dem = pl[-1][2].get('moved', {}).get('total_demoted_bytes', 0) if pl else 0
t.ok(dem >= 64 * MIB, f'steady: tierd demoted {dem / MIB:.1f} MiB from it (>= 64 MiB of its 96 MiB over the limit)')
a = parse_json(t, s.get('steady-after'), 'steady: workload report') or {}
t.ok(a.get('intact') and a.get('bad_pages') == 0, f'steady: workload intact (bad pages {a.get("bad_pages")})')

# leftovers
t.ok((num('links-before', 0) or 0) > 0, f'tierd held {num("links-before")} bpf_link fd(s) before SIGTERM')
t.eq(num('links-after'), 0, 'after exit: no process holds a bpf_link')
t.eq((s.get('kd-after') or '').split(), ['0', '0'], 'after exit: nr_kdamonds 0 and no kdamond thread')

t.done()
