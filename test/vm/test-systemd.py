#!/usr/bin/env python3
"""vm suite: tierd as a systemd service, one boot of the systemd guest
(test/vm/run-systemd: Debian 12, systemd as PID 1, the build's unit).

In the guest (kernel.numa_balancing 0): two tenant services, a root one and
a delegated one of uid 1000; `systemctl enable --now tierd` with the shipped
configuration plus scanner.backend bpf and control.read_group: its state,
status line, control socket, BPF links and journal; a reload with a good and
then with a bad configuration; a restart with scanner.backend damon held
past WatchdogSec=, and a stop: no kdamond, no BPF link left behind. Then the
unit's sandbox case by case: each capability of its CapabilityBoundingSet=
is needed (a case that works in the sandbox fails without it), and the
scanners and DAMOS work in it. Last, `systemd-analyze security tierd` at or
below MAX_EXPOSURE.

usage: test-systemd.py stock BUILD_DIR"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap, sections  # noqa: E402

# The exposure systemd-analyze gave the unit when it was written; a change
# that loosens the sandbox makes this test fail instead of passing quietly.
MAX_EXPOSURE = 3.1

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to debootstrap the guest root and cache kernels')
if not os.path.exists(os.path.join(build, 'systemd', 'tierd.service')):
    t.skip_all(f'{build} has no systemd/tierd.service')

GUEST = r'''
show() { echo "=== BEGIN $1"; systemctl show tierd -p ActiveState,SubState,NRestarts,StatusText,MainPID,Result; echo "=== END $1"; }
# waits up to $2 s until tierd's property line $1 matches the grep -E $3
wait_prop() { i=0; while [ $i -lt $2 ]; do systemctl show tierd -p $1 | grep -Eq "$3" && return 0; sleep 1; i=$((i+1)); done; return 1; }
events() { journalctl -u tierd -o json --output-fields=MESSAGE,TIERD_EVENT,TIERD_BACKEND,TIERD_CGROUP,PRIORITY,_PID; }
kdamonds() { n=0; for c in /proc/[0-9]*/comm; do case $(cat $c 2>/dev/null) in kdamond*) n=$((n+1));; esac; done; echo $n; }
sec() { echo "=== BEGIN $1"; shift; "$@" 2>&1; echo "rc=$?"; echo "=== END $1"; }

unit=$(systemctl show -p FragmentPath --value tierd)
cfg=$(sed -n 's/^ExecStart=.* --config \([^ ]*\).*/\1/p' "$unit" | head -n1)
echo "=== BEGIN config-path"; echo "$unit $cfg"; echo "=== END config-path"
# The shipped configuration plus control.read_group (the socket's group)
# and the BPF scanner (BPF links to see go at the stop).
sed -e 's/"migration_budget": {/"control": { "read_group": "4242" },\n  "migration_budget": {/' \
	-e 's/"backend": "auto", "period"/"backend": "bpf", "period"/' "$cfg" > /root/base.json
cp /root/base.json "$cfg"

# Two tenants: a root service, and a delegated one of uid 1000 (its
# memory.reclaim is that user's). Their reports go to /run/tierd-vm,
# visible from the sandbox (which has a /tmp of its own).
mkdir -m 1777 /run/tierd-vm
useradd -u 1000 -M -s /bin/sh u1000
systemd-run --quiet --unit=tenant-a -p MemoryAccounting=yes /opt/tierd/bin/workload --size 64 --hot 16 --report /run/tierd-vm/a.json --ready /run/tierd-vm/a.ready
systemd-run --quiet --unit=tenant-u --uid=1000 --gid=1000 -p Delegate=yes -p MemoryAccounting=yes /opt/tierd/bin/workload --size 32 --hot 8 --report /run/tierd-vm/u.json --ready /run/tierd-vm/u.ready
i=0; while { [ ! -e /run/tierd-vm/a.ready ] || [ ! -e /run/tierd-vm/u.ready ]; } && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); done
pa=$(systemctl show -p MainPID --value tenant-a)
pu=$(systemctl show -p MainPID --value tenant-u)
echo "=== BEGIN tenants"; echo "$pa $pu"; echo "=== END tenants"
[ "$pa" -gt 0 ] && kill -USR2 $pa
[ "$pu" -gt 0 ] && kill -USR2 $pu

# systemd ignores a setting it does not know with a mere warning: a
# mistyped hardening line would go unnoticed.
sec verify systemd-analyze verify tierd.service
# A trusted.* annotation (tierctl's default) on the root tenant: tierd must
# see it from inside its sandbox.
sec annotate tierctl annotate system.slice/tenant-a.service class=batch
sec links-before bpftool -j link list
sec enable systemctl enable --now tierd
wait_prop ActiveState 120 '=active$'
wait_prop StatusText 60 'tenant'
show started
sec socket stat -c 'group %g mode %a' /run/tierd/control.sock
sec links-running bpftool -j link list
sec tierctl-status tierctl status

# A good configuration: a shorter scanner period.
sed 's/"period": "10s"/"period": "5s"/' /root/base.json > "$cfg"
sec reload-good systemctl reload tierd
wait_prop SubState 30 '=running$'
sleep 3
show reloaded
# A bad one: a mode that does not exist. The running configuration stays.
sed 's/"mode": "enforce"/"mode": "fast"/' /root/base.json > "$cfg"
sec reload-bad systemctl reload tierd
wait_prop StatusText 30 'reload failed'
show reload-bad

# The damon scanner: restart with it, then stop.
sed 's/"backend": "bpf", "period"/"backend": "damon", "period"/' /root/base.json > "$cfg"
sec config-damon grep -o '"scanner": {[^}]*}' "$cfg"
sec restart systemctl restart tierd
wait_prop ActiveState 120 '=active$'
wait_prop StatusText 60 'scanner damon'
show damon
# Longer than WatchdogSec=: the pings must keep it alive, and show.
echo "=== BEGIN watchdog"; systemctl show tierd -p WatchdogUSec,WatchdogTimestampMonotonic; sleep 40
systemctl show tierd -p WatchdogTimestampMonotonic,NRestarts,ActiveState,MainPID; echo "=== END watchdog"
# tierd's kdamond comes and goes (it is removed after a scan error, e.g.
# a target process that exited meanwhile, and made again at the next
# scan): wait up to 30 s for one, then stop tierd while it runs.
echo "=== BEGIN kdamonds-running"; i=0
while [ $i -lt 30 ]; do
	n=$(cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds); k=$(kdamonds)
	[ "$n" -ge 1 ] && [ "$k" -ge 1 ] && break
	sleep 1; i=$((i+1))
done
echo "nr_kdamonds $n threads $k after $i s"; echo "=== END kdamonds-running"
sec stop systemctl stop tierd
show stopped
echo "=== BEGIN kdamonds-stopped"; echo nr_kdamonds $(cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds) threads $(kdamonds); echo "=== END kdamonds-stopped"
sec links-stopped bpftool -j link list
echo "=== BEGIN journal"; events; echo "=== END journal"
sec security systemd-analyze security tierd

# The sandbox, case by case: tierd-op.service is tierd.service with a
# oneshot script for ExecStart= and, for "-CAP", that capability taken
# out of its CapabilityBoundingSet=.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
echo "=== BEGIN caps"; echo "$caps"; echo "=== END caps"
sed 's|"control": {[^}]*}|"control": { "read_group": "4242", "socket": "/run/tierd/op.sock" }|; s/"period": "10s"/"period": "1s"/' /root/base.json > /run/tierd-vm/op.json
op() { # NAME CAPS SCRIPT
	{ sed -e 's/^Type=notify$/Type=oneshot/' -e '/^\(NotifyAccess\|WatchdogSec\|Restart\|RestartSec\|ExecReload\)=/d' \
		-e 's|^ExecStart=.*|ExecStart=/bin/sh /run/tierd-vm/op.sh|' -e "s/^CapabilityBoundingSet=.*/CapabilityBoundingSet=$2/" \
		-e '/^\[Install\]/,$d' "$unit"
	  printf 'StandardOutput=truncate:/run/tierd-vm/op.out\nStandardError=inherit\n'; } > /run/systemd/system/tierd-op.service
	printf '%s\n' "$3" > /run/tierd-vm/op.sh
	systemctl daemon-reload
	systemctl start tierd-op; st=$?
	echo "=== BEGIN op $1"; cat /run/tierd-vm/op.out; echo "rc=$st"; echo "=== END op $1"
}
without() { echo $caps | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' '; }
T=/opt/tierd/bin
PROBE="$T/tierd probe --json"
TRACE="$T/tierd trace --seconds 1 --json"
MOVE1="$T/mover-cli move-pages --pid $pu --node 1 --report /run/tierd-vm/u.json --part hot"
MOVE0="$T/mover-cli move-pages --pid $pu --node 0 --report /run/tierd-vm/u.json --part hot"
RECLAIM="$T/mover-cli reclaim --cgroup system.slice/tenant-u.service --bytes 1M"
ONCE="$T/tierd --once --config /run/tierd-vm/op.json & p=\$!
i=0; while [ ! -S /run/tierd/op.sock ] && kill -0 \$p 2>/dev/null && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done
stat -c 'socket group %g' /run/tierd/op.sock; wait \$p"
op probe "$caps" "$PROBE"
op probe-CAP_SYS_ADMIN "$(without CAP_SYS_ADMIN)" "$PROBE"
EXPLAIN="$T/tierctl explain system.slice/tenant-a.service"
op explain "$caps" "$EXPLAIN"
op explain-CAP_SYS_ADMIN "$(without CAP_SYS_ADMIN)" "$EXPLAIN"
op trace "$caps" "$TRACE"
op trace-CAP_SYS_ADMIN "$(without CAP_SYS_ADMIN)" "$TRACE"
op move "$caps" "$MOVE1"
op move-CAP_SYS_PTRACE "$(without CAP_SYS_PTRACE)" "$MOVE0"
op reclaim "$caps" "$RECLAIM"
op reclaim-CAP_DAC_OVERRIDE "$(without CAP_DAC_OVERRIDE)" "$RECLAIM"
op once "$caps" "$ONCE"
op once-CAP_CHOWN "$(without CAP_CHOWN)" "$ONCE"
for b in damon lru_gen bpf; do
	op scan-$b "$caps" "$T/tierd scan --backend $b --cgroup system.slice/tenant-a.service --periods 1 --period-ms 500 --json"
done
op damos "$caps" "$T/mover-cli damos --cgroup system.slice/tenant-a.service --fast-node 0 --slow-node 1 --duration 2"
'''

cmd = [os.path.join(TOP, 'test', 'vm', 'run-systemd'), '--kernel', kernel, '--build', build,
       '--numa-balancing', '0', '--timeout', '1200', '--', 'sh', '-c', GUEST]
p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1500)
sys.stderr.write(p.stderr)
out = p.stdout
if not t.ok(p.returncode == 0, f'{kernel}: systemd guest booted and the guest script ran',
            f'status {p.returncode}\nstderr (end):\n{p.stderr[-1500:]}\nconsole (end):\n{out[-3000:]}'):
    t.done()
s = sections(out)
ten = (s.get('tenants') or '0 0').split()
t.ok(len(ten) == 2 and all(int(x) > 0 for x in ten), 'two tenant workloads run (root, uid 1000 delegated)', ten)


def props(name):
    d = {}
    for line in (s.get(name) or '').splitlines():
        k, _, v = line.partition('=')
        d[k] = v
    return d


def rc(name):
    m = re.search(r'^rc=(\d+)$', s.get(name) or '', re.M)
    return int(m.group(1)) if m else None


print(f'# configuration: {s.get("config-path", "").strip()}')
vf = s.get('verify') or ''
t.ok(rc('verify') == 0 and not re.search(r'(?i)unknown|ignoring|failed|invalid|not executable', vf),
     'systemd-analyze verify tierd.service: no warning', vf)
t.eq(rc('enable'), 0, 'systemctl enable --now tierd succeeded')
st = props('started')
t.eq((st.get('ActiveState'), st.get('SubState')), ('active', 'running'), 'started: active/running')
t.eq(st.get('NRestarts'), '0', 'started: NRestarts=0')
t.ok(int(st.get('MainPID') or 0) > 0, 'started: a main PID', st)
text = st.get('StatusText', '')
t.ok(re.search(r'\d+ tenants?', text) and 'scanner' in text and 'mover' in text,
     f'started: StatusText summarises tenants, scanner and mover ("{text}")', st)

t.eq(rc('reload-good'), 0, 'systemctl reload with a good configuration succeeded')
rl = props('reloaded')
t.eq((rl.get('ActiveState'), rl.get('SubState')), ('active', 'running'), 'after a good reload: active/running')
t.ok(rl.get('StatusText') and 'reload failed' not in rl.get('StatusText'),
     f'after a good reload: StatusText "{rl.get("StatusText")}"', rl)
t.eq(rl.get('MainPID'), st.get('MainPID'), 'a reload keeps the process')

bad = props('reload-bad')
t.eq((bad.get('ActiveState'), bad.get('SubState')), ('active', 'running'), 'after a bad reload: still active/running')
t.eq(bad.get('NRestarts'), '0', 'after a bad reload: NRestarts=0')
t.ok('reload failed' in bad.get('StatusText', '') and 'fast' in bad.get('StatusText', ''),
     f'after a bad reload: StatusText says why ("{bad.get("StatusText")}")', bad)

sk = s.get('socket') or ''
t.ok('group 4242 mode 660' in sk, 'the control socket is 0660 with control.read_group 4242', sk)

journal = []
for line in (s.get('journal') or '').splitlines():
    try:
        journal.append(json.loads(line))
    except ValueError:
        pass
ev = [e.get('TIERD_EVENT') for e in journal if e.get('TIERD_EVENT')]
print(f'# journal: {len(journal)} entries, events {ev}')
for e in ('started', 'reloaded', 'reload_failed', 'stopping'):
    t.ok(e in ev, f'journal has TIERD_EVENT={e}', '\n'.join(json.dumps(x) for x in journal[-40:]))
t.ok(any(x.get('TIERD_EVENT') == 'started' and x.get('TIERD_BACKEND') for x in journal),
     'the started entry names the backend (TIERD_BACKEND=)', [x for x in journal if x.get('TIERD_EVENT') == 'started'])

t.ok('scanner bpf' in text, 'started: the configured scanner, bpf', st)
t.eq(rc('annotate'), 0, 'tierctl annotate tenant-a class=batch (trusted.tierd.class)')
ts = s.get('tierctl-status') or ''
t.ok(rc('tierctl-status') == 0 and re.search(r'^system\.slice/tenant-a\.service\s+batch\s', ts, re.M),
     'tierctl status: the running tierd gives tenant-a its annotated class, batch', ts)


def links(name):
    """{id: link} of a `bpftool -j link list` section, None if unreadable."""
    text = s.get(name) or ''
    m = re.search(r'^rc=(\d+)$', text, re.M)
    try:
        return {x['id']: x for x in json.loads(text[:m.start()] if m else text)} if m and m.group(1) == '0' else None
    except (ValueError, TypeError, KeyError):
        return None


# tierd's links: those there while it ran that were not there before it
# (bpftool of Debian 12 does not name the owning process).
before, running, stopped = links('links-before'), links('links-running'), links('links-stopped')
ours = set(running or {}) - set(before or {})
t.ok(before is not None and running is not None and ours,
     f'while running with the bpf scanner: {len(ours)} BPF link(s) more than before it started',
     f"before {s.get('links-before')}\nrunning {s.get('links-running')}")
dm = props('damon')
t.eq((dm.get('ActiveState'), dm.get('SubState')), ('active', 'running'), 'with scanner.backend damon: active/running')
t.ok('damon' in dm.get('StatusText', ''), f'with scanner.backend damon: StatusText names it ("{dm.get("StatusText")}")', dm)
wd = (s.get('watchdog') or '').splitlines()
wts = [int(x.split('=', 1)[1]) for x in wd if x.startswith('WatchdogTimestampMonotonic=')]
wrest = dict(x.split('=', 1) for x in wd if '=' in x)
t.ok(wrest.get('WatchdogUSec') == '30s', 'WatchdogUSec=30s', wd)
t.ok(len(wts) == 2 and wts[1] > wts[0] > 0 and wrest.get('NRestarts') == '0' and wrest.get('MainPID') == dm.get('MainPID'),
     'watchdog pings arrive: the timestamp advances over 40 s, same process, no restart', wd)
kr = s.get('kdamonds-running') or ''
m = re.search(r'nr_kdamonds (\d+) threads (\d+)', kr)
t.ok(m and int(m.group(1)) >= 1 and int(m.group(2)) >= 1, 'with scanner.backend damon: a kdamond runs', kr + '\n' +
     '\n'.join(x.get('MESSAGE', '') for x in journal if int(x.get('PRIORITY', 6)) <= 4))

t.eq(rc('stop'), 0, 'systemctl stop tierd succeeded')
sp = props('stopped')
t.eq(sp.get('ActiveState'), 'inactive', 'stopped: inactive')
t.eq(sp.get('Result'), 'success', 'stopped: Result=success (a clean exit)')
ks = s.get('kdamonds-stopped') or ''
t.eq(re.findall(r'\d+', ks), ['0', '0'], 'stopped: nr_kdamonds 0 and no kdamond thread')
t.ok(stopped is not None and before is not None and ours and not (set(stopped) - set(before)),
     'stopped: no BPF link left beyond those before tierd started (bpftool link list)',
     f"before {s.get('links-before')}\nstopped {s.get('links-stopped')}")

# The sandbox, case by case.
caps = (s.get('caps') or '').split()
print(f'# CapabilityBoundingSet: {" ".join(caps)}')
ops = {k[3:]: v for k, v in s.items() if k.startswith('op ')}


def op(name):
    """(rc, output, parsed JSON or None) of one sandboxed case."""
    text = ops.get(name) or ''
    m = re.search(r'^rc=(\d+)$', text, re.M)
    body = text[:m.start()] if m else text
    try:
        j = json.loads(body[body.index('{'):]) if '{' in body else None
    except ValueError:
        j = None
    return (int(m.group(1)) if m else None), body, j


def needs(cap, case, works, fails, what):
    """CASE works under the unit's sandbox and fails without CAP."""
    rc, out, j = op(case)
    t.ok(works(rc, j), f'sandbox: {what}', out[-1500:])
    if cap not in caps:
        t.ok(False, f'sandbox: {cap} is in CapabilityBoundingSet', caps)
        return
    rc, out, j = op(f'{case}-{cap}')
    t.ok(fails(rc, j, out), f'sandbox without {cap}: {what} fails', out[-1500:])


needs('CAP_SYS_ADMIN', 'probe', lambda rc, j: rc == 0 and j and j['idle_page_tracking']['pagemap_pfn'],
      lambda rc, j, o: rc == 0 and j and not j['idle_page_tracking']['pagemap_pfn'],
      'pagemap shows page frame numbers (tierd probe)')
needs('CAP_SYS_ADMIN', 'explain', lambda rc, j: rc == 0 and 'batch' in (ops.get('explain') or ''),
      lambda rc, j, o: rc == 0 and 'batch' not in o and 'standard' in o,
      'the trusted.tierd.class annotation is seen (tierctl explain)')
needs('CAP_SYS_ADMIN', 'trace', lambda rc, j: rc == 0 and j and all(j['attached'].values()),
      lambda rc, j, o: rc != 0, 'BPF programs load and attach (tierd trace)')
needs('CAP_SYS_PTRACE', 'move', lambda rc, j: rc == 0 and j and j['bytes_moved'] > 0,
      lambda rc, j, o: j is not None and j.get('errno') == 1, 'move_pages(2) of a uid-1000 process')
needs('CAP_DAC_OVERRIDE', 'reclaim', lambda rc, j: rc == 0 and j and 'error' not in j,
      lambda rc, j, o: j is not None and j.get('errno') == 13, 'memory.reclaim of a delegated uid-1000 cgroup')
needs('CAP_CHOWN', 'once', lambda rc, j: rc == 0 and 'socket group 4242' in (ops.get('once') or ''),
      lambda rc, j, o: rc != 0 and 'socket group 4242' not in o,
      'tierd --once gives its control socket control.read_group')
for b in ('damon', 'lru_gen', 'bpf'):
    rc, out, j = op(f'scan-{b}')
    t.ok(rc == 0 and j and j.get('backend') == b and j.get('periods') == 1,
         f'sandbox: tierd scan --backend {b}', out[-1500:])
rc, out, j = op('damos')
t.ok(rc == 0 and j and j.get('kdamond_pid'), 'sandbox: DAMOS schemes (mover-cli damos)', out[-1500:])

sec = s.get('security') or ''
m = re.search(r'Overall exposure level for tierd\.service: ([0-9.]+)', sec)
if t.ok(m, 'systemd-analyze security tierd gives an exposure level', sec[-2000:]):
    level = float(m.group(1))
    print(f'# systemd-analyze security tierd: exposure {level}')
    t.ok(level <= MAX_EXPOSURE, f'exposure {level} at most {MAX_EXPOSURE}', sec)
t.done()
