#!/usr/bin/env python3
"""vm suite: tierd as a systemd service, one boot of the systemd guest
(test/vm/run-systemd: Debian 12, systemd as PID 1, the build's unit).

In the guest: a tenant service with a workload; `systemctl enable --now
tierd` with the shipped configuration (scanner auto); its state, status
line and journal; a reload with a good and then with a bad configuration;
a restart with scanner.backend damon and a stop: no kdamond, no BPF link
left behind; `systemd-analyze security tierd` at or below MAX_EXPOSURE.

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
MAX_EXPOSURE = 9.9

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

cfg=$(systemctl cat tierd | sed -n 's/^ExecStart=.* --config \([^ ]*\).*/\1/p' | head -n1)
echo "=== BEGIN config-path"; echo "$cfg"; echo "=== END config-path"
cp "$cfg" /root/shipped.json

systemd-run --quiet --unit=tenant-a -p MemoryAccounting=yes /opt/tierd/bin/workload --size 64 --hot 16 --ready /tmp/a.ready
i=0; while [ ! -e /tmp/a.ready ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); done

sec enable systemctl enable --now tierd
wait_prop ActiveState 120 '=active$'
wait_prop StatusText 60 'tenant'
show started
sec links-running bpftool link list
sec tierctl-status tierctl status

# A good configuration: the shipped one with a shorter scanner period.
sed 's/"period": "10s"/"period": "5s"/' /root/shipped.json > "$cfg"
sec reload-good systemctl reload tierd
wait_prop SubState 30 '=running$'
sleep 3
show reloaded
# A bad one: a mode that does not exist. The running configuration stays.
sed 's/"mode": "enforce"/"mode": "fast"/' /root/shipped.json > "$cfg"
sec reload-bad systemctl reload tierd
wait_prop StatusText 30 'reload failed'
show reload-bad

# The damon scanner: restart with it, then stop.
sed 's/"backend": "auto", "period"/"backend": "damon", "period"/' /root/shipped.json > "$cfg"
sec config-damon grep -o '"scanner": {[^}]*}' "$cfg"
sec restart systemctl restart tierd
wait_prop ActiveState 120 '=active$'
wait_prop StatusText 60 'damon'
show damon
sec kdamonds-running sh -c 'echo nr_kdamonds $(cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds) threads $(kdamonds)'
sec stop systemctl stop tierd
show stopped
echo "=== BEGIN kdamonds-stopped"; echo nr_kdamonds $(cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds) threads $(kdamonds); echo "=== END kdamonds-stopped"
sec links-stopped bpftool link list
echo "=== BEGIN journal"; events; echo "=== END journal"
sec security systemd-analyze security tierd
sec unit systemctl cat tierd
'''

cmd = [os.path.join(TOP, 'test', 'vm', 'run-systemd'), '--kernel', kernel, '--build', build,
       '--timeout', '1200', '--', 'sh', '-c', GUEST]
p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1500)
sys.stderr.write(p.stderr)
out = p.stdout
if not t.ok(p.returncode == 0, f'{kernel}: systemd guest booted and the guest script ran',
            f'status {p.returncode}\n{out[-3000:]}'):
    t.done()
s = sections(out)


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

links_run = s.get('links-running') or ''
print(f'# BPF links while running (scanner auto): {len(re.findall(r"^[0-9]+:", links_run, re.M))}')
dm = props('damon')
t.eq((dm.get('ActiveState'), dm.get('SubState')), ('active', 'running'), 'with scanner.backend damon: active/running')
t.ok('damon' in dm.get('StatusText', ''), f'with scanner.backend damon: StatusText names it ("{dm.get("StatusText")}")', dm)
kr = s.get('kdamonds-running') or ''
m = re.search(r'nr_kdamonds (\d+) threads (\d+)', kr)
t.ok(m and int(m.group(1)) >= 1 and int(m.group(2)) >= 1, 'with scanner.backend damon: a kdamond runs', kr)

t.eq(rc('stop'), 0, 'systemctl stop tierd succeeded')
sp = props('stopped')
t.eq(sp.get('ActiveState'), 'inactive', 'stopped: inactive')
t.eq(sp.get('Result'), 'success', 'stopped: Result=success (a clean exit)')
ks = s.get('kdamonds-stopped') or ''
t.eq(re.findall(r'\d+', ks), ['0', '0'], 'stopped: nr_kdamonds 0 and no kdamond thread')
ls = s.get('links-stopped') or ''
t.ok(rc('links-stopped') == 0 and 'tierd' not in ls, 'stopped: no BPF link of tierd left (bpftool link list)', ls)

sec = s.get('security') or ''
m = re.search(r'Overall exposure level for tierd\.service: ([0-9.]+)', sec)
if t.ok(m, 'systemd-analyze security tierd gives an exposure level', sec[-2000:]):
    level = float(m.group(1))
    print(f'# systemd-analyze security tierd: exposure {level}')
    t.ok(level <= MAX_EXPOSURE, f'exposure {level} at most {MAX_EXPOSURE}', sec)
t.done()
