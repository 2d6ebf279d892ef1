#!/usr/bin/env python3
"""vm suite: tierd's memory over a large cgroup tree, and the walk's bounds
(issue 17, finding 4: about 20 KB per cgroup that anyone creates). One part
of the stock kernel's basics boot (default VM settings).

The guest creates 20,422 cgroups: crowd/g0..g99 with 160 children each,
20 chains crowd/chainN/l0/.../l199 (down to depth 202) and one chain
crowd/over/o0/.../o299 (down to depth 302), past the walk's depth bound
(CGROUP_WALK_MAX_DEPTH, 256: o253 is the last cgroup walked there).
crowd/g0 is a tenant (trusted.tierd.class=batch, tier0.max=16M) with a
process in g0/c0; crowd/over/.../o278 (depth 281) is annotated too.

  tierd     the shipped configuration (config/tierd.json as
            /etc/tierd/tierd.json) with --period 1 (the shipped 10 s would
            make the few periods wanted here take a minute more; the period
            does not change what a walk holds) for 2 periods
  tierctl   `show` of the whole tree, and beside it `explain` of a cgroup
            past the depth bound

Asserted:
  - tierd's peak RSS (VmHWM of /proc/PID/status, read while it runs) and
    tierctl show's (VmHWM polled every 0.2 s until it exits: a lower
    bound of the peak, which it reaches once the tree is resolved, before
    the printing) each at most 75% of the unit's MemoryHigh=
    (systemd/tierd.service.in, read here), so that the bound is never
    reached with this tree: 25% margin
  - tierd ran its periods (>= 2), kept its tenant crowd/g0 in each, is
    alive at the end and exits 0 on SIGTERM
  - the bound: tierd logged exactly one warning about it over its
    periods, naming one subtree deeper than 256, starting at
    crowd/over/o0/o1/...; tierctl show printed the same warning, lists
    crowd/over/.../o253 and nothing below it, and every other cgroup
    created (the 200-deep chains whole); `tierctl explain` of o278 says
    it is past the bounds of the walk (exit 1)
  - no error line in tierd's log

The guest time of each step is printed as a TAP comment.

usage: test-scale.py stock BUILD_DIR
(TEST_SCALE_DUMP=FILE writes the guest's output for TIERD_VM_REPLAY=FILE)"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap, run_vm, sections, unit_bytes  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if kernel != 'stock':
    t.skip_all('one kernel is enough: the walk and the resolution do not depend on it')


HIGH = unit_bytes('MemoryHigh')
MAX = unit_bytes('MemoryMax')
MARGIN = 0.75
DEPTH_BOUND = 256

GUEST = r'''
CG=/sys/fs/cgroup
up() { cut -d' ' -f1 /proc/uptime; }
nlines() { cat $1 2> /dev/null | wc -l; }
wl() {
    e=$(($(cut -d. -f1 /proc/uptime) + $3))
    while [ $(nlines $1) -lt $2 ] && [ $(cut -d. -f1 /proc/uptime) -lt $e ]; do
        ! kill -0 $4 2> /dev/null && break
        sleep 0.5
    done
}
hwm() { awk '/^VmHWM/ { print $2 }' /proc/$1/status 2> /dev/null; }
sec() { echo "=== BEGIN $1"; cat "$2"; echo; echo "=== END $1"; }
path() { seq $2 $3 | sed "s/^/$1/" | tr '\n' '/' | sed 's|/$||'; }

echo "=== BEGIN t-start"; up; echo "=== END t-start"
mkdir $CG/crowd
echo +memory > $CG/crowd/cgroup.subtree_control
i=0
while [ $i -lt 100 ]; do
    mkdir $CG/crowd/g$i
    (cd $CG/crowd/g$i && seq 0 159 | sed 's/^/c/' | xargs mkdir)
    i=$((i + 1))
done
L=$(path l 0 199)
c=0
while [ $c -lt 20 ]; do mkdir -p $CG/crowd/chain$c/$L; c=$((c + 1)); done
mkdir -p $CG/crowd/over/$(path o 0 299)
IN=crowd/over/$(path o 0 253)
DEEP=crowd/over/$(path o 0 278)
sh -c "echo \$\$ > $CG/crowd/g0/c0/cgroup.procs; exec sleep 600" &
SL=$!
tierctl annotate crowd/g0 class=batch tier0.max=16M > /dev/null
tierctl annotate $DEEP class=batch > /dev/null
echo "=== BEGIN t-created"; up; echo "=== END t-created"

tierd --period 1 --json --config /etc/tierd/tierd.json > /tmp/d.out 2> /tmp/d.err &
D=$!
wl /tmp/d.out 2 240 $D
echo "=== BEGIN tierd-hwm"; hwm $D; echo "=== END tierd-hwm"
echo "=== BEGIN alive"; kill -0 $D && echo alive; echo "=== END alive"
kill -TERM $D
wait $D
rc=$?
echo "=== BEGIN term-rc"; echo $rc; echo "=== END term-rc"
echo "=== BEGIN t-tierd"; up; echo "=== END t-tierd"
echo "=== BEGIN period-tenants"
while read -r l; do echo "$l" | grep -o '{"cgroup":"[^"]*"' | tr '\n' ' '; echo; done < /tmp/d.out
echo "=== END period-tenants"
sec d-err /tmp/d.err

# explain beside show: each walks the whole tree, one on each vCPU
( tierctl explain $DEEP > /tmp/x.out 2> /tmp/x.err; echo $? > /tmp/x.rc ) &
X=$!
tierctl show > /tmp/show.txt 2> /tmp/show.err &
S=$!
m=0
while kill -0 $S 2> /dev/null; do x=$(hwm $S); [ -n "$x" ] && m=$x; sleep 0.2; done
wait $S
rc=$?
echo "=== BEGIN show-rc"; echo $rc; echo "=== END show-rc"
echo "=== BEGIN show-hwm"; echo $m; echo "=== END show-hwm"
echo "=== BEGIN t-show"; up; echo "=== END t-show"
sec show-err /tmp/show.err
echo "=== BEGIN show-counts"
wc -l < /tmp/show.txt
grep -c '^crowd/g[0-9]*/c[0-9]* ' /tmp/show.txt
grep -c '^crowd/chain[0-9]*/l0/' /tmp/show.txt
grep -c '^crowd/over/o' /tmp/show.txt
grep -c '/o254' /tmp/show.txt
echo "=== END show-counts"
echo "=== BEGIN show-g0"; grep '^crowd/g0 ' /tmp/show.txt; echo "=== END show-g0"
echo "=== BEGIN show-in"; grep -c "^$IN " /tmp/show.txt; echo "=== END show-in"
wait $X
sec explain-deep-rc /tmp/x.rc
sec explain-deep /tmp/x.err
echo "=== BEGIN t-checks"; up; echo "=== END t-checks"
# removed here, in bulk: the boot's cleanup between parts (a find and an
# rmdir per cgroup) would take a minute over this tree under TCG
kill $SL; wait $SL
i=0
while [ $i -lt 100 ]; do
    (cd $CG/crowd/g$i && seq 0 159 | sed 's/^/c/' | xargs rmdir && cd .. && rmdir g$i)
    i=$((i + 1))
done
c=0
while [ $c -lt 20 ]; do (cd $CG/crowd && rmdir -p chain$c/$L); c=$((c + 1)); done
(cd $CG/crowd && rmdir -p over/$(path o 0 299))
rmdir $CG/crowd
echo "=== BEGIN left"; ls $CG/crowd 2>&1 | head -5; echo "=== END left"
echo "=== BEGIN t-end"; up; echo "=== END t-end"
'''

status, out = run_vm(kernel, GUEST, build, timeout=900, extra=(
    '--add', os.path.join(TOP, 'config', 'tierd.json') + ':/etc/tierd/tierd.json'))
if os.environ.get('TEST_SCALE_DUMP'):  # development: TIERD_VM_REPLAY=FILE checks it again without a boot
    with open(os.environ['TEST_SCALE_DUMP'], 'w') as f:
        json.dump({'status': status, 'out': out}, f)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)


def num(name):
    try:
        return float((s.get(name) or '').split()[0])
    except (IndexError, ValueError):
        return None


def ints(name):
    try:
        return [int(x) for x in (s.get(name) or '').split()]
    except ValueError:
        return []


tm = [num(x) for x in ('t-start', 't-created', 't-tierd', 't-show', 't-checks', 't-end')]
if None not in tm:
    print(f'# guest time: {tm[1] - tm[0]:.1f} s creating the cgroups, {tm[2] - tm[1]:.1f} s of tierd, '
          f'{tm[4] - tm[2]:.1f} s of tierctl show and explain, {tm[5] - tm[4]:.1f} s removing the cgroups; '
          f'{tm[5] - tm[0]:.1f} s in all')

# --- memory against the unit's bound
t.ok(HIGH and MAX and HIGH < MAX, f'the unit sets MemoryHigh= ({HIGH}) below MemoryMax= ({MAX})')
limit = (HIGH or 0) * MARGIN
th, sh = ints('tierd-hwm'), ints('show-hwm')
th = th[0] * 1024 if th else None
sh = sh[0] * 1024 if sh else None
print(f'# peak RSS: tierd {th and th >> 20} MiB, tierctl show {sh and sh >> 20} MiB; '
      f'bound: {MARGIN:.0%} of MemoryHigh {HIGH and HIGH >> 20} MiB = {int(limit) >> 20} MiB')
t.ok(th and th <= limit, f'tierd: peak RSS {th and th >> 20} MiB over 20k cgroups <= {int(limit) >> 20} MiB '
     f'({MARGIN:.0%} of the unit\'s MemoryHigh=)')
t.ok(sh and sh <= limit, f'tierctl show: peak RSS {sh and sh >> 20} MiB over 20k cgroups <= {int(limit) >> 20} MiB')

# --- tierd ran its periods
tenants = [line.split() for line in (s.get('period-tenants') or '').splitlines()]
t.ok(len(tenants) >= 2, f'tierd: {len(tenants)} periods (>= 2)', s.get('d-err'))
t.ok(tenants and all('{"cgroup":"crowd/g0"' in x for x in tenants),
     'tierd: the tenant crowd/g0 in every period', s.get('period-tenants'))
t.eq((s.get('alive') or '').strip(), 'alive', 'tierd: alive after its periods')
t.eq((s.get('term-rc') or '').strip(), '0', 'tierd: exit status 0 on SIGTERM')

# --- the bound: one warning, tierd carries on
err = s.get('d-err') or ''
warn = [line for line in err.splitlines() if "past the walk's bounds" in line]
t.ok(len(warn) == 1, f'tierd: one warning about the walk\'s bounds over all its {len(tenants)} periods ({len(warn)})',
     err[-3000:])
w = warn[0] if warn else ''
t.ok('warning' in w and f'1 subtree(s) deeper than {DEPTH_BOUND}' in w and '(the first: crowd/over/o0/o1/' in w
     and 'carrying on' in w, 'tierd: the warning names the subtree deeper than 256 and says tierd carries on', w)
t.ok(not any(re.search(r'^tierd: error', line) for line in err.splitlines()), 'tierd: no error line', err[-3000:])

t.eq((s.get('show-rc') or '').strip(), '0', 'tierctl show: exit 0')
t.ok("past the walk's bounds" in (s.get('show-err') or ''), 'tierctl show: says the tree is past the bounds',
     s.get('show-err'))
c = ints('show-counts') + [None] * 5
print(f'# tierctl show: {c[0]} lines, {c[1]} crowd/gN/cM, {c[2]} in the chains below l0, {c[3]} in crowd/over')
t.eq(c[1], 16000, 'tierctl show: the 16000 cgroups crowd/gN/cM')
t.eq(c[2], 20 * 199, 'tierctl show: the 20 chains whole (199 cgroups below each l0, down to depth 202)')
t.eq(c[3], DEPTH_BOUND - 2, 'tierctl show: crowd/over/o0 .. o253 (depth 3 .. 256), nothing deeper')
t.eq(c[4], 0, 'tierctl show: nothing at or below o254 (depth 257)')
t.ok(c[0] and c[0] >= 20422 - (300 - 254) + 1, f'tierctl show: {c[0]} lines: every cgroup created but the 46 '
     'past the depth bound')
t.ok('batch' in (s.get('show-g0') or ''), 'tierctl show: crowd/g0 is batch', s.get('show-g0'))
t.eq((s.get('show-in') or '').strip(), '1', 'tierctl show: lists o253 (depth 256)')

# --- explain
t.eq((s.get('explain-deep-rc') or '').strip(), '1', 'tierctl explain of o278 (depth 281): exit 1')
t.ok('past the bounds of the cgroup walk' in (s.get('explain-deep') or ''),
     'tierctl explain of o278: says it is past the bounds of the walk', s.get('explain-deep'))
t.ok('No such file' in (s.get('left') or ''), 'the cgroups are removed at the end', s.get('left'))

t.done()
