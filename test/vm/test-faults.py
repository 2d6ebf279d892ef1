#!/usr/bin/env python3
"""vm suite: faults, one boot of the stock kernel (DAMON, BTF, the damon
tracepoints; no page_idle, so auto prefers bpf), kernel.numa_balancing=0
set explicitly, a 1 GiB fast node 0. Every daemon run uses 1 s periods
and a configuration file that gives the scanner 100% of one CPU (see
test-enforce.py).

  unm   pages that cannot move: a tenant (tier0.max=8M) whose process
        (test/helpers/pinner) has 96 MiB of cold pages: 16 MiB mlocked,
        16 MiB pinned as io_uring fixed buffers (FOLL_LONGTERM), 64 MiB
        plain; 10 periods with the bpf scanner and the move_pages mover.
        tierd exits 0; the plain pages went to node 1 (>= 90%); the
        pinned ones stayed on node 0 (all of them) and were counted as
        failed (failed_bytes > 0); the mlocked ones: the kernel migrates
        mlocked pages (move_pages(2) isolates unevictable pages too), so
        they are expected on node 1 like the plain ones (checked: >= 90%);
        no retry loop: from period 3 on <= 2 MiB fail per period
        and the whole run <= 2x the pinned bytes (without the backoff
        tierd retried 8 MiB of the pinned pages, what is over tier0.max,
        every period: 88 MiB failed in 10 periods), and no range that
        backed off (-v: its debug line) is tried again (no later move of
        that process overlaps it); the failure reason
        ("busy") is logged once for the tenant at info level; no
        error-level line
  race  processes exiting during move_pages: 64 MiB workloads in a
        tenant with tier0.max=8M (mover.batch_pages 16), one after another, each SIGKILLed when
        tierd is seen inside move_pages(2) migrating (/proc/PID/syscall:
        279 with a nodes array, not a status query), while tierd
        runs 12 periods (-v): tierd exits 0 after 12 periods, no
        error-level line, at least one kill landed inside move_pages and
        at least one move saw its process exit (debug line) and went on
  busy  someone else's kdamond (nr_kdamonds 1, running on a vaddr target)
        and a forged record in /run/tierd/kdamond naming a dead tierd and
        another kdamond pid: tierd with scanner auto degrades from bpf
        (and damon, which needs the same) to lru_gen with exactly one
        warning naming the reason ("in use by someone else"), no error
        line; the other kdamond is untouched (still on, same pid, still
        one); --backend damon exits 1 saying why
  nobpf a BPF failure the probe cannot see: bpf(2) fails with EPERM
        (seccomp, test/helpers/fault-tools nobpf): auto degrades from bpf
        to damon with exactly one warning naming the reason, no error
        line; --backend bpf exits 1 with an error naming BPF
  notp  a kernel missing a tracepoint: a copy of the kernel's BTF with
        btf_trace_damon_aggregated renamed, bind-mounted over
        /sys/kernel/btf/vmlinux (the probe and libbpf read that file):
        the probe reports the tracepoint absent; auto passes over bpf (the
        probe rules it out), uses damon and says why exactly once (info),
        no warning or error line; --backend bpf exits 1 with an error
        naming damon:damon_aggregated
  kill  kill -9 in the middle of migrations: a 256 MiB cold workload,
        tier0.max=16M with demote.rate=32M, tierd with the damon scanner
        (so a kdamond exists) and the move_pages mover is SIGKILLed while
        it is inside move_pages(2) (/proc/PID/syscall reads 279) after
        some pages reached node 1. The
        kill left its kdamonds (nr_kdamonds 3: the scanner's vaddr one, the
        paddr one of unmapped pages and the one it leaves off for their
        DAMOS schemes; a kdamond thread) and the record
        naming the dead tierd; the workload's checksums are intact;
        the restarted tierd (8 periods) says once that it removes the
        kdamond left by that pid, runs with its own kdamonds (nr_kdamonds 3,
        another pid, its own record), demotes again (moved bytes > 0, the
        tenant's node-1 bytes grew), exits 0; after it nr_kdamonds is 0, no
        kdamond thread, no record; checksums intact
  dkill the same for the DAMOS mover's kdamond (mover.backend damos,
        scanner lru_gen: one tierd kdamond at a time): tierd is SIGKILLed
        once the mover's kdamond runs and a period passed; the kill left
        that kdamond (nr_kdamonds 1, a kdamond thread) and a record naming
        the dead tierd with user=mover; the restarted tierd (6 periods)
        says once that it removes the DAMOS mover's kdamond left by that
        pid, no error line, runs its own (one, on, another pid, a record
        naming it with user=mover), exits 0; after it nr_kdamonds 0, no
        kdamond thread, no record
  perr  a period that fails does not stop tierd: with the damon scanner
        and a tenant, tierd's kdamonds are stopped and removed behind its
        back (state off, nr_kdamonds 0) after two periods; the next scan fails
        (its kdamond's files are gone). tierd says so in one warning
        (TIERD_EVENT period_failed), keeps running, starts a kdamond of its
        own again, says once that a period ran again, and runs its 8
        working periods: exit 0, no error line; nr_kdamonds 0 after it

usage: test-faults.py stock BUILD_DIR
(TEST_FAULTS_DUMP=FILE also writes the guest's whole output to FILE)"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import WORKLOAD_SH, Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if kernel != 'stock':
    t.skip_all(f'the fault scenarios need the stock kernel (DAMON, BTF, no page_idle), not {kernel}')
MIB = 1 << 20
PAGE = 4096

GUEST = r'''
CG=/sys/fs/cgroup
A=/sys/kernel/mm/damon/admin/kdamonds
sysctl -w kernel.numa_balancing=0 > /dev/null
echo "=== BEGIN numa_balancing"; cat /proc/sys/kernel/numa_balancing; echo "=== END numa_balancing"
@WORKLOAD_SH@
numa() { echo "=== BEGIN $2"; cat $CG/$1/memory.numa_stat; echo "=== END $2"; }
out() {
    echo "=== BEGIN $1-rc"; echo $2; echo "=== END $1-rc"
    echo "=== BEGIN $1"; cat /tmp/$1.out; echo "=== END $1"
    echo "=== BEGIN $1-err"; tail -c 20000 /tmp/$1.err; echo "=== END $1-err"
}
# agent NAME ARGS...: tierd's JSON lines, stderr and status as sections
agent() { n=$1; shift; "$@" > /tmp/$n.out 2> /tmp/$n.err; out $n $?; }
kd() {
    echo "=== BEGIN $1"
    echo "nr $(cat $A/nr_kdamonds)"
    # state and pid answer EBUSY while a command (tried regions) runs
    if [ -e $A/0/state ]; then
        for f in state pid; do
            v=; n=0
            while [ -z "$v" ] && [ $n -lt 100 ]; do v=$(cat $A/0/$f 2>/dev/null) || sleep 0.05; n=$((n + 1)); done
            echo "$f $v"
        done
    fi
    echo "threads $(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^kdamond')"
    [ -e /run/tierd/kdamond ] && echo "record $(cat /run/tierd/kdamond)"
    echo "=== END $1"
}
mkdir -p /tmp/cfg
echo '{ "scanner": { "cpu_budget": "100%" } }' > /tmp/cfg/tierd.json
chmod 644 /tmp/cfg/tierd.json
D="--config /tmp/cfg/tierd.json"
T="tierd --period 1 --json $D"
numactl -C 1 sh -c 'while :; do sleep 0.05; done' &
tk=$!

# unm: mlocked, pinned and plain cold pages
mkdir $CG/unm
sh -c "echo \$\$ > $CG/unm/cgroup.procs; exec numactl -C 1 pinner --size 96 --mlock 16 --pin 16 --ready /tmp/unm.ready --report /tmp/unm.json" &
u=$!
n=0; while [ ! -e /tmp/unm.ready ] && [ $n -lt 600 ]; do sleep 0.2; n=$((n + 1)); done
tierctl --config /nonexistent annotate unm tier0.max=8M
rep $u unm unm-before
agent unm $T --backend bpf --periods 10 -v
echo "=== BEGIN unm-moves"; grep -E '(demote|promote) pid .* bytes$| backs off for ' /tmp/unm.err; echo "=== END unm-moves"
echo "=== BEGIN unm-notes"; grep -E 'could not be moved|move_pages failed|^tierd: (error|warning):' /tmp/unm.err; echo "=== END unm-notes"
rep $u unm unm-after
kill $u; wait $u; rmdir $CG/unm

# race: processes killed during the moves: each workload is SIGKILLed
# when tierd is seen inside move_pages(2) migrating (/proc/PID/syscall
# reads 279 with a nodes argument: the scanners' status queries pass
# none, 0x0), or after 20000 polls; the next one starts
mkdir $CG/race
tierctl --config /nonexistent annotate race tier0.max=8M
# 64 KiB batches: a range (DAMON region, 1-4 MiB) takes many move_pages(2)
# calls, so the batches after a kill meet the dying process (with the
# default 2 MiB a range is one or two calls, and whether the kill lands
# before the last one was a matter of luck: 0 of 4 kills in two runs)
mkdir -p /tmp/cfgr
echo '{ "scanner": { "cpu_budget": "100%" }, "mover": { "batch_pages": 16 } }' > /tmp/cfgr/tierd.json
chmod 644 /tmp/cfgr/tierd.json
: > /tmp/race.out
tierd --period 1 --json --config /tmp/cfgr/tierd.json --backend bpf --periods 12 -v >> /tmp/race.out 2> /tmp/race.err &
a=$!
i=0; hits=0
while [ $(wc -l < /tmp/race.out) -lt 12 ] && [ $i -lt 100 ]; do
    sh -c "echo \$\$ > $CG/race/cgroup.procs; exec numactl -C 1 workload --size 64 --hot 0 --rate 1" &
    p=$!
    n=0
    while [ $n -lt 20000 ]; do
        read s x1 x2 x3 x4 x < /proc/$a/syscall 2>/dev/null
        [ "$s" = 279 ] && [ "$x4" != 0x0 ] && { hits=$((hits + 1)); break; }
        n=$((n + 1))
    done
    kill -9 $p; wait $p 2>/dev/null; i=$((i + 1))
done
wait $a
out race $?
echo "=== BEGIN race-n"; echo "$i $hits"; echo "=== END race-n"
echo "=== BEGIN race-notes"; grep -E '^tierd: (error|warning):' /tmp/race.err; echo "=== END race-notes"
echo "=== BEGIN race-exits"
grep -c 'exited during the move' /tmp/race.err; grep -c 'move_pages: process [0-9]* is gone' /tmp/race.err
echo "=== END race-exits"
rmdir $CG/race

# busy: someone else's kdamond, and a forged record naming a dead tierd
start bsy --size 32 --hot 8 --rate 20
echo 1 > $A/nr_kdamonds
echo 1 > $A/0/contexts/nr_contexts
echo vaddr > $A/0/contexts/0/operations
echo 1 > $A/0/contexts/0/targets/nr_targets
echo $tk > $A/0/contexts/0/targets/0/pid_target
echo on > $A/0/state
sh -c 'exit 0' & dead=$!; wait $dead
mkdir -p /run/tierd
echo "tierd_pid=$dead tierd_start=1 boot_id=$(cat /proc/sys/kernel/random/boot_id) kdamond_pid=1" > /run/tierd/kdamond
kd busy-before
agent busy $T --periods 2
agent busyd $T --backend damon --periods 2
kd busy-after
echo off > $A/0/state
echo 0 > $A/nr_kdamonds
rm -f /run/tierd/kdamond

# nobpf: bpf(2) fails, the probe cannot tell
agent nobpf fault-tools nobpf $T --periods 2
agent nobpfb fault-tools nobpf $T --backend bpf --periods 2
kd nobpf-after

# notp: the damon:damon_aggregated tracepoint hidden from BTF readers
if fault-tools rename /sys/kernel/btf/vmlinux btf_trace_damon_aggregated btf_trace_damon_aggregatex > /tmp/btf &&
   mount --bind /tmp/btf /sys/kernel/btf/vmlinux; then
    echo "=== BEGIN notp-mounted"; echo yes; echo "=== END notp-mounted"
    agent notpp tierd probe --json
    agent notp $T --periods 2
    agent notpb $T --backend bpf --periods 2
    umount /sys/kernel/btf/vmlinux
fi
kill -TERM $w; wait $w; rmdir $CG/bsy
kd notp-after

# kill: kill -9 inside move_pages, then a restart
start big --size 256 --hot 0 --rate 1
tierctl --config /nonexistent annotate big tier0.max=16M demote.rate=32M demote.burst=32M
numa big big-numa-before
$T --backend damon > /tmp/k1.out 2> /tmp/k1.err &
k=$!
# first some pages on node 1 (move_pages(2) also queries: 279 alone is
# not yet a migration), then the next time tierd is inside move_pages
n=0
while [ $n -lt 3000 ]; do
    read l < $CG/big/memory.numa_stat
    [ "${l##* N1=}" != 0 ] && break
    sleep 0.1; n=$((n + 1))
done
n=0; got=no
while [ $n -lt 300000 ] && [ -e /proc/$k/syscall ]; do
    read s rest < /proc/$k/syscall 2>/dev/null
    [ "$s" = 279 ] && { kill -9 $k; got=yes; break; }
    n=$((n + 1))
done
[ $got = yes ] || kill -9 $k
wait $k
echo "=== BEGIN kill"; echo "pid $k"; echo "in_move_pages $got"; echo "polls $n"; echo "=== END kill"
out k1 137
numa big big-numa-kill
kd kill-after
rep $w big big-kill
: > /tmp/k2.out
$T --backend damon --periods 8 >> /tmp/k2.out 2> /tmp/k2.err &
k2=$!
n=0; while [ $(wc -l < /tmp/k2.out) -lt 3 ] && [ $n -lt 600 ]; do sleep 0.2; n=$((n + 1)); done
echo "=== BEGIN k2-pid"; echo $k2; echo "=== END k2-pid"
kd k2-during
wait $k2
out k2 $?
kd k2-after
numa big big-numa-end
rep $w big big-end
kill -TERM $w; wait $w; rmdir $CG/big

# dkill: kill -9 while the DAMOS mover's kdamond runs, then a restart
mkdir -p /tmp/cfgd
echo '{ "scanner": { "cpu_budget": "100%" }, "mover": { "backend": "damos" } }' > /tmp/cfgd/tierd.json
chmod 644 /tmp/cfgd/tierd.json
TD="tierd --period 1 --json --config /tmp/cfgd/tierd.json --backend lru_gen"
start dm --size 128 --hot 0 --rate 1
tierctl --config /nonexistent annotate dm tier0.max=16M
: > /tmp/d1.out
$TD > /tmp/d1.out 2> /tmp/d1.err &
k=$!
n=0; while ! grep -q 'DAMOS mover: kdamond' /tmp/d1.err && [ $n -lt 600 ] && kill -0 $k; do sleep 0.2; n=$((n + 1)); done
m=$(wc -l < /tmp/d1.out)
n=0; while [ $(wc -l < /tmp/d1.out) -le $m ] && [ $n -lt 600 ] && kill -0 $k; do sleep 0.2; n=$((n + 1)); done
kill -9 $k
wait $k
echo "=== BEGIN dkill"; echo "pid $k"; echo "=== END dkill"
out d1 137
kd dkill-after
: > /tmp/d2.out
$TD --periods 6 >> /tmp/d2.out 2> /tmp/d2.err &
k2=$!
n=0; while [ $(wc -l < /tmp/d2.out) -lt 3 ] && [ $n -lt 600 ]; do sleep 0.2; n=$((n + 1)); done
echo "=== BEGIN d2-pid"; echo $k2; echo "=== END d2-pid"
kd d2-during
wait $k2
out d2 $?
kd d2-after
kill -TERM $w; wait $w; rmdir $CG/dm

# perr: a period that fails (tierd's kdamond removed behind its back)
start pe --size 64 --hot 16 --rate 20
tierctl --config /nonexistent annotate pe tier0.max=32M
: > /tmp/pe.out
$T --backend damon --periods 8 > /tmp/pe.out 2> /tmp/pe.err &
k=$!
n=0; while [ $(wc -l < /tmp/pe.out) -lt 2 ] && [ $n -lt 600 ] && kill -0 $k; do sleep 0.2; n=$((n + 1)); done
n=0; while ! echo off > $A/0/state 2>/dev/null && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
# and the paddr one beside it (unmapped pages) and the DAMOS one of their
# moves, or nr_kdamonds stays busy
[ -e $A/1/state ] && echo off > $A/1/state 2>/dev/null
[ -e $A/2/state ] && echo off > $A/2/state 2>/dev/null
n=0; while ! echo 0 > $A/nr_kdamonds 2>/dev/null && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
echo "=== BEGIN pe-removed"; echo "lines $(wc -l < /tmp/pe.out) nr $(cat $A/nr_kdamonds)"; echo "=== END pe-removed"
wait $k
out pe $?
kd pe-after
kill -TERM $w; wait $w; rmdir $CG/pe
'''


def jlines(text, name):
    lines = []
    for ln in (text or '').splitlines():
        try:
            lines.append(json.loads(ln))
        except ValueError:
            t.ok(False, f'{name}: a JSON line', ln[:500])
    return lines


def tenant(line, cg):
    return next((x for x in line.get('tenants', []) if x['cgroup'] == cg), None)


def errors(err):
    return [ln for ln in (err or '').splitlines() if ln.startswith('tierd: error:')]


def warnings(err):
    return [ln for ln in (err or '').splitlines() if ln.startswith('tierd: warning:')]


def kdinfo(text):
    r = {}
    for ln in (text or '').splitlines():
        k, _, v = ln.partition(' ')
        r[k] = v.strip()
    return r


def numa_node(text, node):
    total = 0
    for ln in (text or '').splitlines():
        f = ln.split()
        if f and f[0] in ('anon', 'file'):
            for kv in f[1:]:
                k, v = kv.split('=')
                if k == f'N{node}':
                    total += int(v)
    return total


def backend(lines):
    return lines[-1].get('backend') if lines else None


script = GUEST.replace('@WORKLOAD_SH@', WORKLOAD_SH)
rc, output = run_vm(kernel, script, build, timeout=1500)
if os.environ.get('TEST_FAULTS_DUMP'):
    with open(os.environ['TEST_FAULTS_DUMP'], 'w') as f:
        f.write(output)
if rc == 125:
    t.bail('the VM did not boot')
s = sections(output)
t.eq((s.get('numa_balancing') or '').strip(), '0', 'kernel.numa_balancing is 0 in the guest')

# --- unm
lines = jlines(s.get('unm'), 'unm')
err = s.get('unm-notes', '')
t.eq((s.get('unm-rc') or '').strip(), '0', 'unm: tierd exits 0')
t.eq(len(lines), 10, 'unm: 10 periods')
b = parse_json(t, s.get('unm-before'), 'unm: report before')
a = parse_json(t, s.get('unm-after'), 'unm: report after')
if a and b:
    print(f'# unm before {b}\n# unm after  {a}')
    t.ok(all(b[k]['node0'] == b[k]['pages'] for k in ('mlocked', 'pinned', 'plain')),
         'unm: every part starts on node 0', b)
    t.ok(a['plain']['node1'] >= 0.9 * a['plain']['pages'], 'unm: >= 90% of the plain pages moved to node 1', a['plain'])
    t.eq(a['pinned']['node0'], a['pinned']['pages'], 'unm: the pinned pages stayed on node 0')
    t.ok(a['mlocked']['node1'] >= 0.9 * a['mlocked']['pages'],
         'unm: the mlocked pages moved like the plain ones (the kernel migrates mlocked pages)', a['mlocked'])
    t.ok(all(a[k]['bad_pages'] == 0 for k in a), 'unm: every page holds its pattern', a)
fails = [tenant(ln, 'unm')['moved']['failed_bytes'] if tenant(ln, 'unm') else 0 for ln in lines]
print(f'# unm failed bytes per period (MiB): {[round(x / MIB, 2) for x in fails]}')
t.ok(sum(fails) >= 16 * MIB, 'unm: the pinned 16 MiB were counted as failed (failed_bytes)', fails)
t.ok(len(fails) == 10 and max(fails[2:]) <= 2 * MIB,
     'unm: from period 3 on, <= 2 MiB failed per period (the pinned 16 MiB are not tried again)', fails)
t.ok(sum(fails) <= 2 * 16 * MIB, f'unm: failed {sum(fails) / MIB:.1f} MiB over the run <= 2 x the 16 MiB pinned', fails)
# every range that backed off (-v: "backs off for") is not tried again
# within the run (10 periods, well within the 60 s window): no later move
# of that process overlaps it
events = []
for ln in (s.get('unm-moves') or '').splitlines():
    m = re.search(r'pid (\d+) 0x([0-9a-f]+)-0x([0-9a-f]+)', ln)
    if m:
        events.append(('off' if 'backs off' in ln else 'move', int(m.group(1)), int(m.group(2), 16),
                       int(m.group(3), 16)))
offs = [(i, e) for i, e in enumerate(events) if e[0] == 'off']
# (a backoff's line comes just before its own move's line: skipped)
again = [(b, e) for i, b in offs for e in events[i + 2:]
         if e[0] == 'move' and e[1] == b[1] and e[2] < b[3] and b[2] < e[3]]
t.ok(all(i + 1 < len(events) and events[i + 1][0] == 'move' and events[i + 1][1:] == b[1:] for i, b in offs),
     'unm: each backoff line is followed by its own move\'s line')
print(f'# unm: {len(offs)} ranges backed off, {sum(1 for e in events if e[0] == "move")} moves')
t.ok(len(offs) > 0 and not again, 'unm: no range that backed off was tried again (backoff)',
     '\n'.join(f'{b[2]:#x}-{b[3]:#x} then {e[2]:#x}-{e[3]:#x}' for b, e in again[:10]))
notes = [ln for ln in err.splitlines() if 'could not be moved' in ln]
print('\n'.join(f'# {ln}' for ln in notes))
busy = [ln for ln in notes if '(busy:' in ln and 'unm' in ln]
t.eq(len(busy), 1, 'unm: the reason (busy) is said once for the tenant')
t.ok(len(notes) == len({re.sub(r'\d+ KiB', '', ln) for ln in notes}), 'unm: each reason at most once', notes)
t.ok(all(not ln.startswith(('tierd: error:', 'tierd: warning:')) for ln in notes), 'unm: said at info level', notes)
t.eq(errors(err), [], 'unm: no error-level line')

# --- race
lines = jlines(s.get('race'), 'race')
err = s.get('race-notes', '')
t.eq((s.get('race-rc') or '').strip(), '0', 'race: tierd exits 0')
t.eq(errors(err), [], 'race: no error-level line')
rn = (s.get('race-n') or '0 0').split()
ex, gone = ((s.get('race-exits') or '0\n0').split() + ['0', '0'])[:2]
ex = int(ex)
print(f'# race: {rn[0]} processes killed, {rn[1]} of them while tierd was in move_pages(2); moves that saw '
      f'the process exit: {ex}, gone before the move: {gone}')
t.ok(int(rn[1]) >= 1, f'race: processes were killed during tierd\'s move_pages(2) ({rn[1]} times)')
t.ok(ex >= 1, f'race: the mover saw a process exit during a move ({ex} times) and went on')
t.eq(len(lines), 12, 'race: 12 periods')

# --- busy
before, after = kdinfo(s.get('busy-before')), kdinfo(s.get('busy-after'))
lines = jlines(s.get('busy'), 'busy')
err = s.get('busy-err', '')
t.eq((s.get('busy-rc') or '').strip(), '0', 'busy: tierd (auto) exits 0')
t.eq(backend(lines), 'lru_gen', 'busy: auto degraded to lru_gen')
w = warnings(err)
print('\n'.join(f'# {ln}' for ln in w + errors(err)))
t.ok(len(w) == 1 and 'in use by someone else' in w[0] and 'lru_gen' in w[0],
     'busy: exactly one warning, naming the reason and the backend used', w)
t.eq(errors(err), [], 'busy: no error-level line')
t.ok(before.get('state') == 'on' and before.get('pid'), 'busy: the other kdamond ran before', before)
t.ok(after.get('nr') == '1' and after.get('state') == 'on' and after.get('pid') == before.get('pid'),
     'busy: the other kdamond is untouched (one, on, same pid)', after)
t.ok('tierd_pid=' in after.get('record', ''), 'busy: the forged record was left alone', after)
err = s.get('busyd-err', '')
t.eq((s.get('busyd-rc') or '').strip(), '1', 'busy: --backend damon exits 1')
t.ok(any('in use by someone else' in ln and 'not a kdamond left by tierd' in ln for ln in errors(err)),
     'busy: --backend damon says why (someone else\'s, not a leftover of tierd)', err)

# --- nobpf
lines = jlines(s.get('nobpf'), 'nobpf')
err = s.get('nobpf-err', '')
t.eq((s.get('nobpf-rc') or '').strip(), '0', 'nobpf: tierd (auto) exits 0')
t.eq(backend(lines), 'damon', 'nobpf: auto degraded from bpf to damon')
w = warnings(err)
print('\n'.join(f'# {ln}' for ln in w + errors(err)))
t.ok(len(w) == 1 and 'bpf' in w[0] and 'using damon' in w[0] and 'BPF' in w[0],
     'nobpf: exactly one warning, naming the reason and the backend used', w)
t.eq(errors(err), [], 'nobpf: no error-level line')
err = s.get('nobpfb-err', '')
t.eq((s.get('nobpfb-rc') or '').strip(), '1', 'nobpf: --backend bpf exits 1')
t.ok(any('BPF' in ln for ln in errors(err)), 'nobpf: --backend bpf says why (BPF)', err)
t.eq(kdinfo(s.get('nobpf-after')).get('nr'), '0', 'nobpf: no kdamond left after the runs')

# --- notp
if (s.get('notp-mounted') or '').strip() != 'yes':
    t.skip('notp: a kernel missing a tracepoint', 'the BTF copy could not be bind-mounted in the guest')
else:
    pr = parse_json(t, s.get('notpp'), 'notp: tierd probe --json')
    if pr:
        tp = ((pr.get('bpf') or {}).get('tracepoints') or {})
        t.ok(tp.get('damon:damon_aggregated') is False and tp.get('migrate:mm_migrate_pages') is True,
             'notp: the probe sees damon:damon_aggregated absent (and the others present)', tp)
    lines = jlines(s.get('notp'), 'notp')
    err = s.get('notp-err', '')
    t.eq((s.get('notp-rc') or '').strip(), '0', 'notp: tierd (auto) exits 0')
    t.eq(backend(lines), 'damon', 'notp: auto uses damon')
    said = [ln for ln in err.splitlines() if 'damon_aggregated' in ln]
    print('\n'.join(f'# {ln}' for ln in said))
    t.eq(len(said), 1, 'notp: the missing tracepoint is said exactly once')
    t.eq(warnings(err) + errors(err), [], 'notp: no warning or error line (a fact of the kernel)')
    err = s.get('notpb-err', '')
    t.eq((s.get('notpb-rc') or '').strip(), '1', 'notp: --backend bpf exits 1')
    t.ok(any('damon:damon_aggregated' in ln for ln in errors(err)), 'notp: --backend bpf names the tracepoint', err)
t.eq(kdinfo(s.get('notp-after')).get('nr'), '0', 'notp: no kdamond left')

# --- kill
kill = kdinfo(s.get('kill'))
ka, k2d, k2a = kdinfo(s.get('kill-after')), kdinfo(s.get('k2-during')), kdinfo(s.get('k2-after'))
print(f'# kill {kill}\n# after kill {ka}\n# k2 during {k2d}\n# k2 after {k2a}')
t.eq(kill.get('in_move_pages'), 'yes', 'kill: tierd was SIGKILLed inside move_pages(2)')
n1b, n1k, n1e = (numa_node(s.get(x), 1) for x in ('big-numa-before', 'big-numa-kill', 'big-numa-end'))
print(f'# kill: tenant N1 {n1b / MIB:.1f} -> {n1k / MIB:.1f} (killed) -> {n1e / MIB:.1f} MiB')
t.ok(0 < n1k < 240 * MIB, 'kill: the kill came in the middle of the demotion (some, not all, on node 1)')
# three kdamonds: the scanner's vaddr one, the paddr one of unmapped pages
# and the one left off for their DAMOS schemes
t.ok(ka.get('nr') == '3' and int(ka.get('threads') or 0) >= 1,
     'kill: the dead tierd left its kdamonds behind', ka)
t.ok(f'tierd_pid={kill.get("pid")} ' in ka.get('record', ''), 'kill: its record names the dead tierd', ka)
r1 = parse_json(t, s.get('big-kill'), 'kill: report after the kill')
t.ok(bool(r1) and r1.get('intact') is True, 'kill: checksums intact after the kill', (r1 or {}).get('bad_pages'))
lines = jlines(s.get('k2'), 'k2')
err = s.get('k2-err', '')
t.eq((s.get('k2-rc') or '').strip(), '0', 'kill: the restarted tierd exits 0')
rm = [ln for ln in err.splitlines() if 'removing the kdamond' in ln]
print('\n'.join(f'# {ln}' for ln in rm))
t.ok(len(rm) == 1 and f'left by tierd {kill.get("pid")}' in rm[0],
     'kill: the restarted tierd says once that it removes the dead one\'s kdamond', rm)
t.eq(errors(err), [], 'kill: no error-level line from the restarted tierd')
t.ok(k2d.get('nr') == '3' and k2d.get('state') == 'on' and k2d.get('pid') and k2d.get('pid') != ka.get('pid'),
     'kill: the restarted tierd runs its own kdamonds (vaddr, paddr and DAMOS, another pid)', k2d)
t.ok(f'tierd_pid={(s.get("k2-pid") or "").strip()} ' in k2d.get('record', ''),
     'kill: the record names the restarted tierd', k2d)
dem = sum(tenant(ln, 'big')['moved']['demoted_bytes'] for ln in lines if tenant(ln, 'big'))
t.ok(dem > 0 and n1e > n1k, f'kill: it resumed: demoted {dem / MIB:.1f} MiB, N1 grew by {(n1e - n1k) / MIB:.1f} MiB')
t.ok(k2a.get('nr') == '0' and k2a.get('threads') == '0' and 'record' not in k2a,
     'kill: after a clean stop: nr_kdamonds 0, no kdamond thread, no record', k2a)
r2 = parse_json(t, s.get('big-end'), 'kill: report at the end')
t.ok(bool(r2) and r2.get('intact') is True, 'kill: checksums intact at the end', (r2 or {}).get('bad_pages'))

# --- dkill: the DAMOS mover's kdamond
dk = kdinfo(s.get('dkill'))
da, d2d, d2a = kdinfo(s.get('dkill-after')), kdinfo(s.get('d2-during')), kdinfo(s.get('d2-after'))
print(f'# dkill {dk}\n# after kill {da}\n# d2 during {d2d}\n# d2 after {d2a}')
d1err = s.get('d1-err', '')
t.ok(any('DAMOS mover: kdamond' in ln for ln in d1err.splitlines()), 'dkill: the DAMOS mover ran before the kill',
     d1err[-2000:])
t.ok(da.get('nr') == '1' and int(da.get('threads') or 0) >= 1 and da.get('state') == 'on',
     'dkill: the dead tierd left the mover\'s kdamond behind (one, on)', da)
t.ok(f'tierd_pid={dk.get("pid")} ' in da.get('record', '') and
     f'kdamond_pid={da.get("pid")} ' in da.get('record', '') and da.get('record', '').endswith('user=mover'),
     'dkill: its record names the dead tierd, that kdamond and user=mover', da)
err = s.get('d2-err', '')
t.eq((s.get('d2-rc') or '').strip(), '0', 'dkill: the restarted tierd exits 0')
rm = [ln for ln in err.splitlines() if 'removing the kdamond' in ln]
print('\n'.join(f'# {ln}' for ln in rm))
t.ok(len(rm) == 1 and f'left by tierd {dk.get("pid")}' in rm[0] and 'DAMOS mover' in rm[0],
     'dkill: the restarted tierd says once that it removes the DAMOS mover\'s kdamond the dead one left', rm)
t.eq(errors(err), [], 'dkill: no error-level line from the restarted tierd')
t.ok(d2d.get('nr') == '1' and d2d.get('state') == 'on' and d2d.get('pid') and d2d.get('pid') != da.get('pid'),
     'dkill: the restarted tierd runs its own kdamond (one, on, another pid)', d2d)
t.ok(f'tierd_pid={(s.get("d2-pid") or "").strip()} ' in d2d.get('record', '') and
     d2d.get('record', '').endswith('user=mover'), 'dkill: the record names the restarted tierd, user=mover', d2d)
t.ok(d2a.get('nr') == '0' and d2a.get('threads') == '0' and 'record' not in d2a,
     'dkill: after a clean stop: nr_kdamonds 0, no kdamond thread, no record', d2a)
# --- perr
pe = jlines(s.get('pe'), 'perr')
err = s.get('pe-err') or ''
t.eq((s.get('pe-rc') or '').strip(), '0', 'perr: tierd exits 0 after a failed period')
t.ok('nr 0' in (s.get('pe-removed') or ''), "perr: tierd's kdamond was removed behind its back", s.get('pe-removed'))
t.eq(len([ln for ln in err.splitlines() if 'tierd keeps running and tries again' in ln]), 1,
     'perr: one warning says a period failed and tierd keeps running')
t.ok(re.search(r'period \d+ ran, after \d+ that failed', err) is not None, 'perr: and once that a period ran again',
     err[-3000:])
t.eq(len(pe), 8, 'perr: its 8 working periods ran')
t.eq(errors(err), [], 'perr: no error-level line')
t.eq(kdinfo(s.get('pe-after')).get('nr'), '0', 'perr: no kdamond left after it')
t.done()

