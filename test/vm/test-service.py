#!/usr/bin/env python3
"""vm suite: tierd as a service, one boot of the stock kernel (512 MiB fast
node 0, kernel.numa_balancing=0 set explicitly), the daemon running in the
background with 2 s periods, --backend bpf (BPF links and a kdamond of its
own), a control socket at /run/tierd/control.sock and a configuration file
the scenarios rewrite between reloads. One tenant, svc (a 64 MiB workload,
16 MiB hot, tier0.max=32M):

  status    `tierctl status --json` parses and matches the daemon's own
            --json line of the period the snapshot is from (periods_total
            - 1): the tenant list, every tenant's tier bytes, its moved
            totals, and the totals over all lines; the human `tierctl
            status` names the tenant and the tiers
  reload    `tierctl reload` with a good configuration (a rule making svc
            class batch, control.read_group 4242): exit 0, the class is
            batch in the status after the next period, reloads_total 1;
            then with a bad one (scanner.backend "nope"): exit 1 naming
            scanner.backend, the daemon still running and planning, the
            class still batch, last_error "reload failed: ..." and
            reload_failures_total 1
  sighup    the same by SIGHUP: a bad configuration (reload_failures_total
            2, class kept), then a good one (class latency, last_error
            cleared, reloads_total 2; its new scanner.cpu_budget reopens the
            scanner: the log says so, and the daemon holds as many BPF
            links and kdamonds as before)
  perms     uid 1234 (test/helpers/as-groups): not in the socket's group ->
            status refused (the socket is 0660 root:4242: connect fails with
            EACCES, tierctl says permission denied); in group 4242 as a
            supplementary group -> status answered; reload refused by the
            daemon ("permission denied: only root ..."), reloads_total
            unchanged
  top       `tierctl top` in tmux inside the guest (tmux, its libraries,
            the screen terminfo and glibc's C.utf8 locale, which tmux
            insists on, added with --add), a 90x30 pane: the frame
            shows the header and the tenant, `capture-pane -J` (wrapped
            lines joined) has no line longer than 90 columns, `q` ends it;
            and without a terminal (COLUMNS=60 LINES=12, --count 3): three
            frames, each starting with the clear sequence, no line longer
            than 60 columns, at most 12 lines each
  notify    (the daemon's $NOTIFY_SOCKET is a datagram sink,
            test/helpers/dgram-sink) READY=1 first, STATUS= lines, for each
            reload RELOADING=1 + MONOTONIC_USEC= then READY=1, the failed
            reload's STATUS=, STOPPING=1 last
  journal   tierd --once with $JOURNAL_STREAM naming its stderr and a sink
            at /run/systemd/journal/socket: nothing on stderr; started,
            period and stopping entries with PRIORITY, TIERD_BACKEND=bpf,
            SYSLOG_IDENTIFIER; moved entries with TIERD_CGROUP=svc
  term      SIGTERM: exit status 0; before it, the daemon held bpf_link
            fds (counted in /proc/PID/fd); after it no process holds one,
            nr_kdamonds is 0 and no kdamond thread is left, the socket file
            is removed; the log has the started/reloaded/stopping lines

usage: test-service.py stock BUILD_DIR"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import WORKLOAD_SH, Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if kernel != 'stock':
    t.skip_all('the service test runs on the stock kernel (bpf scanner)')

GUEST = r'''
CG=/sys/fs/cgroup
S=/run/tierd/control.sock
sysctl -w kernel.numa_balancing=0 > /dev/null
echo "=== BEGIN numa_balancing"; cat /proc/sys/kernel/numa_balancing; echo "=== END numa_balancing"
@WORKLOAD_SH@
sec() { echo "=== BEGIN $1"; cat "$2"; echo; echo "=== END $1"; }
cmd() { n=$1; shift; "$@" > /tmp/$n.out 2> /tmp/$n.err; echo $? > /tmp/$n.rc; sec $n /tmp/$n.out; sec $n-err /tmp/$n.err; sec $n-rc /tmp/$n.rc; }
lines() { cat /tmp/d.out 2> /dev/null | wc -l; }
# wait until the daemon printed N lines (at most 120 s)
wl() { i=0; while [ $(lines) -lt $1 ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done; }
cfg() { echo "$1" > /tmp/cfg/tierd.json; chmod 644 /tmp/cfg/tierd.json; }
mkdir -p /tmp/cfg
# One override in every configuration here: with the bpf backend the CPU
# budget paces only the sweep of unmapped pages; at the shipped 5% a sweep
# over the VM's memory takes several periods, at 100% about one, so the
# tenant's few unmapped bytes (held as unscanned until swept) hold its
# limit for fewer of the scenarios' periods (heat-idle and unmapped-stock
# test the shipped budget; sighup sets 90% to see the scanner reopen)
BASE='"scanner": { "cpu_budget": "100%" }'
cfg "{ $BASE }"
numactl -C 1 sh -c 'while :; do sleep 0.05; done' &
start svc --size 64 --hot 16 --rate 20
tierctl --config /nonexistent annotate svc tier0.max=32M
# sd_notify's datagrams to a sink standing in for systemd
sink() { dgram-sink $1 $2 & while [ ! -S $1 ]; do sleep 0.1; done; }
sink /run/notify.sock /tmp/notify.txt; NS=$!
# created here: the background job below opens it when it gets to it
: > /tmp/d.out
NOTIFY_SOCKET=/run/notify.sock tierd --backend bpf --period 2 --json --config /tmp/cfg/tierd.json --control-socket $S > /tmp/d.out 2> /tmp/d.err &
D=$!
echo "=== BEGIN pid"; echo $D; echo "=== END pid"

# status
wl 2
echo "=== BEGIN sock"; ls -ln $S; ls -ldn /run/tierd; echo "=== END sock"
cmd st1 tierctl status --json
sec d1 /tmp/d.out
cmd sth tierctl status
echo "=== BEGIN links0"; for f in /proc/$D/fd/*; do readlink $f; done | grep -c bpf_link; echo "=== END links0"

# reload: good, then bad
cfg "{ $BASE, \"rules\": [ { \"match\": \"svc\", \"policy\": { \"class\": \"batch\" } } ], \"control\": { \"read_group\": \"4242\" } }"
cmd rl1 tierctl reload
n=$(lines); wl $((n + 2))
cmd st2 tierctl status --json
echo "=== BEGIN sock2"; ls -ln $S; echo "=== END sock2"
cfg "{ $BASE, \"scanner\": { \"backend\": \"nope\" } }"
cmd rl2 tierctl reload
n=$(lines); wl $((n + 2))
cmd st3 tierctl status --json
echo "=== BEGIN alive3"; kill -0 $D && echo alive; echo "=== END alive3"

# SIGHUP: bad (still), then good
kill -HUP $D
n=$(lines); wl $((n + 2))
cmd st4 tierctl status --json
# a new CPU budget: the scanner is closed and opened again
cfg "{ \"scanner\": { \"cpu_budget\": \"90%\" }, \"rules\": [ { \"match\": \"svc\", \"policy\": { \"class\": \"latency\" } } ], \"control\": { \"read_group\": \"4242\" } }"
kill -HUP $D
n=$(lines); wl $((n + 2))
cmd st5 tierctl status --json

# permissions (read_group 4242 since the good reloads)
cmd pu1 as-groups 1234 1234 - -- tierctl status --json --socket $S
cmd pu2 as-groups 1234 1234 4242 -- tierctl status --json --socket $S
cmd pu3 as-groups 1234 1234 4242 -- tierctl reload --json --socket $S
cmd st6 tierctl status --json

# top: in tmux, then without a terminal
mkdir -p /dev/pts; mount -t devpts devpts /dev/pts 2>/dev/null
export TERM=screen TERMINFO=/extra/terminfo HOME=/root
tm() { LC_ALL=C.UTF-8 tmux "$@"; }
if command -v tmux > /dev/null; then
    tm -f /dev/null new-session -d -s top -x 90 -y 30 "tierctl top --interval 1 --socket $S; echo exited > /tmp/top.done; sleep 30"
    sleep 5
    tm capture-pane -t top -p -J > /tmp/top1.txt
    sec top1 /tmp/top1.txt
    echo "=== BEGIN topsize"; tm display -p -t top '#{pane_width}x#{pane_height}'; echo "=== END topsize"
    tm send-keys -t top q
    i=0; while [ ! -e /tmp/top.done ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done
    echo "=== BEGIN topq"; cat /tmp/top.done 2>/dev/null; echo "=== END topq"
    tm kill-server 2>/dev/null
else
    echo "=== BEGIN notmux"; echo no tmux; echo "=== END notmux"
fi
COLUMNS=60 LINES=12 tierctl top --interval 0.5 --count 3 --socket $S < /dev/null > /tmp/top2.txt 2> /tmp/top2.err
echo "=== BEGIN top2-rc"; echo $?; echo "=== END top2-rc"
echo "=== BEGIN top2"; od -An -c -w1000000 /tmp/top2.txt | head -c 200000; echo; echo "=== END top2"
base64 /tmp/top2.txt > /tmp/top2.b64 2>/dev/null && sec top2b64 /tmp/top2.b64

# SIGTERM
links() { for f in /proc/[0-9]*/fd/*; do readlink $f 2>/dev/null; done | grep -c 'bpf_link'; }
echo "=== BEGIN links-before"; for f in /proc/$D/fd/*; do readlink $f; done | grep -c bpf_link; echo "=== END links-before"
echo "=== BEGIN kd-before"; cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds; echo "=== END kd-before"
kill -TERM $D
wait $D
echo "=== BEGIN term-rc"; echo $?; echo "=== END term-rc"
echo "=== BEGIN links-after"; links; echo "=== END links-after"
echo "=== BEGIN kd-after"; cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds; cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^kdamond'; echo "=== END kd-after"
echo "=== BEGIN sock-after"; ls $S 2>&1; echo "=== END sock-after"
cmd st7 tierctl status --json --socket $S
sec d /tmp/d.out
echo "=== BEGIN derr"; tail -c 6000 /tmp/d.err; echo "=== END derr"
kill $NS
sec notify /tmp/notify.txt

# the journal: stderr is the journal's stream ($JOURNAL_STREAM), journald's
# socket a sink; a tighter limit so that the planned period moves
tierctl --config /nonexistent annotate svc tier0.max=16M
sink /run/systemd/journal/socket /tmp/journal.txt; JS=$!
: > /tmp/j.err
JOURNAL_STREAM=$(stat -c '%d:%i' /tmp/j.err) tierd --backend bpf --period 1 --once --control-socket '' --config /tmp/cfg/tierd.json > /tmp/j.out 2>> /tmp/j.err
echo "=== BEGIN j-rc"; echo $?; echo "=== END j-rc"
sec j-err /tmp/j.err
kill $JS
sec journal /tmp/journal.txt
kill -TERM $w; wait $w
'''.replace('@WORKLOAD_SH@', WORKLOAD_SH)

extra = ['--fast', '512M']
tmux = shutil.which('tmux')
# tmux wants a UTF-8 locale: glibc's C.utf8 goes along
if tmux and os.path.isdir('/lib/terminfo/s') and os.path.isdir('/usr/lib/locale/C.utf8'):
    extra += ['--add', f'{tmux}:/usr/bin/tmux', '--add', '/lib/terminfo:/extra/terminfo',
              '--add', '/usr/lib/locale/C.utf8:/usr/lib/locale/C.utf8']
status, out = run_vm(kernel, GUEST, build, timeout=900, extra=tuple(extra))
if os.environ.get('TEST_SERVICE_DUMP'):
    with open(os.environ['TEST_SERVICE_DUMP'], 'w') as f:
        f.write(out)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)
t.eq((s.get('numa_balancing') or '').strip(), '0', 'kernel.numa_balancing is 0')
derr = s.get('derr', '')


def rc(name):
    return (s.get(name + '-rc') or '').strip()


def status_of(name):
    o = parse_json(t, s.get(name), f'{name}: tierctl status --json')
    return o or {}


def tenant(st, cg='svc'):
    for x in st.get('tenants', []):
        if x.get('cgroup') == cg:
            return x
    return {}


def period_lines(text):
    out = []
    for line in (text or '').splitlines():
        line = line.strip()
        if line:
            o = parse_json(t, line, 'a --json period line')
            if o is not None:
                out.append(o)
    return out


# --- status against the daemon's own --json output
st1 = status_of('st1')
t.eq(rc('st1'), '0', 'status: tierctl status --json exits 0')
lines = period_lines(s.get('d1'))
n = st1.get('periods_total', 0)
match = [x for x in lines if x.get('period') == n - 1]
if t.ok(len(match) == 1, 'status: the snapshot is of a period the daemon printed (periods_total - 1)',
        f'periods_total {n}, printed periods {[x.get("period") for x in lines]}'):
    line = match[0]
    t.eq(sorted(x['cgroup'] for x in st1['tenants']), sorted(x['cgroup'] for x in line['tenants']),
         'status: the tenant list matches the period line')
    for lt in line['tenants']:
        stt = tenant(st1, lt['cgroup'])
        t.eq(stt.get('tier_bytes'), lt['tier_bytes'], f'status: {lt["cgroup"]} tier bytes match the period line')
        t.eq((stt.get('promoted_total'), stt.get('demoted_total')),
             (lt['moved']['total_promoted_bytes'], lt['moved']['total_demoted_bytes']),
             f'status: {lt["cgroup"]} moved totals match the period line')
        t.eq(stt.get('class'), lt['class'], f'status: {lt["cgroup"]} class matches')
    upto = [x for x in lines if x['period'] <= n - 1]
    t.eq((st1.get('promoted_total'), st1.get('demoted_total'), st1.get('failed_total')),
         (sum(x['promoted_bytes'] for x in upto), sum(x['demoted_bytes'] for x in upto),
          sum(x['failed_bytes'] for x in upto)),
         'status: the totals are the sums of the printed periods')
    t.eq(st1.get('scanner'), line['backend'], 'status: scanner backend matches')
t.ok(tenant(st1).get('tier_max', [None])[0] == 32 << 20, 'status: svc tier0 max is 32 MiB', tenant(st1))
t.ok(len(st1.get('tiers', [])) == 2 and st1['tiers'][0].get('capacity', 0) > 0, 'status: two tiers with capacity',
     st1.get('tiers'))
t.ok(st1.get('scan_cpu_seconds_total', 0) > 0, 'status: scan CPU seconds counted', st1.get('scan_cpu_seconds_total'))
sth = s.get('sth', '')
t.ok(rc('sth') == '0' and 'svc' in sth and 'TIER' in sth and 'TENANT' in sth,
     'status: the human table names the tiers and the tenant', sth[:2000])
sock = [x.split() for x in (s.get('sock') or '').splitlines()] + [[]] * 2
t.ok(sock[0][:1] == ['srw-rw----'] and sock[0][2:4] == ['0', '0'] and sock[1][:1] == ['drwxr-xr-x'],
     'socket: 0660 root:root in a 0755 directory before read_group is set', s.get('sock'))

# --- reload
t.eq(rc('rl1'), '0', 'reload: a good configuration: tierctl reload exits 0')
st2 = status_of('st2')
t.eq(tenant(st2).get('class'), 'batch', 'reload: the new rule is in effect (class batch)')
t.eq((st2.get('reloads_total'), st2.get('reload_failures_total'), st2.get('last_error')), (1, 0, ''),
     'reload: counted, no error')
t.ok((s.get('sock2') or '').split()[2:4] == ['0', '4242'], 'reload: the socket now belongs to control.read_group 4242',
     s.get('sock2'))
t.eq(rc('rl2'), '1', 'reload: a bad configuration: tierctl reload exits 1')
t.ok('scanner.backend' in s.get('rl2-err', '') and 'nope' in s.get('rl2-err', ''),
     'reload: the error names scanner.backend and the value', s.get('rl2-err'))
t.eq((s.get('alive3') or '').strip(), 'alive', 'reload: the daemon still runs after the bad configuration')
st3 = status_of('st3')
t.eq(tenant(st3).get('class'), 'batch', 'reload: the running configuration is kept (class still batch)')
t.ok(st3.get('periods_total', 0) > st2.get('periods_total', 0), 'reload: periods go on after the failure',
     (st2.get('periods_total'), st3.get('periods_total')))
t.ok(st3.get('last_error', '').startswith('reload failed: ') and 'nope' in st3.get('last_error', ''),
     'reload: status shows the error', st3.get('last_error'))
t.eq((st3.get('reloads_total'), st3.get('reload_failures_total')), (1, 1), 'reload: the failure is counted')

# --- SIGHUP
st4 = status_of('st4')
t.eq((st4.get('reloads_total'), st4.get('reload_failures_total')), (1, 2), 'sighup: a bad configuration is counted as failed')
t.eq(tenant(st4).get('class'), 'batch', 'sighup: the running configuration is kept')
st5 = status_of('st5')
t.eq((st5.get('reloads_total'), st5.get('reload_failures_total'), st5.get('last_error')), (2, 2, ''),
     'sighup: a good configuration is applied, the error cleared')
t.eq(tenant(st5).get('class'), 'latency', 'sighup: the new rule is in effect (class latency)')
t.ok('scanner bpf (reopened)' in derr, 'sighup: a new scanner.cpu_budget reopened the scanner', derr[-2000:])

# --- permissions
t.eq(rc('pu1'), '1', 'perms: a uid outside read_group cannot read the status')
pu1 = parse_json(t, s.get('pu1'), 'perms: the refusal is JSON') or {}
t.ok('permission denied' in pu1.get('error', ''), 'perms: it says permission denied', s.get('pu1'))
t.eq(rc('pu2'), '0', 'perms: a member of read_group (supplementary) reads the status')
pu2 = parse_json(t, s.get('pu2'), 'perms: the member gets the status as JSON') or {}
t.eq(tenant(pu2).get('cgroup'), 'svc', 'perms: the member sees the tenant')
t.eq(rc('pu3'), '1', 'perms: the member cannot reload')
pu3 = parse_json(t, s.get('pu3'), 'perms: the reload refusal is JSON') or {}
t.ok(pu3.get('error', '').startswith('reload: permission denied: only root may change'),
     'perms: the daemon refused it (peer credentials)', s.get('pu3'))
st6 = status_of('st6')
t.eq(st6.get('reloads_total'), 2, 'perms: the refused reload did not happen')

# --- top
if 'notmux' in s or 'top1' not in s:
    t.skip('top: in tmux', 'tmux could not be added to the guest')
else:
    top1 = s.get('top1', '')
    t.eq((s.get('topsize') or '').strip(), '90x30', 'top: the tmux pane is 90x30')
    t.ok('tierd ' in top1 and 'svc' in top1 and 'TENANT' in top1, 'top: the frame shows the header and the tenant',
         top1)
    long = [x for x in top1.splitlines() if len(x) > 90]
    t.ok(not long, 'top: no line wider than the pane (wrapped lines joined)', '\n'.join(long))
    t.eq((s.get('topq') or '').strip(), 'exited', 'top: q quits')
t.eq(rc('top2'), '0', 'top without a terminal: exit 0')
try:
    import base64
    raw = base64.b64decode(s.get('top2b64', '')).decode('utf-8', 'replace')
except ValueError:
    raw = ''
clear = '\033[H\033[2J'
frames = raw.split(clear)[1:]
t.eq(len(frames), 3, 'top without a terminal: 3 frames (--count 3), each after the clear sequence')
bad = [ln for f in frames for ln in f.replace('\r\n', '\n').split('\n') if len(ln.replace('\033[?25h', '').replace('\033[?25l', '')) > 60]
t.ok(frames and not bad, 'top without a terminal: no line longer than COLUMNS=60', '\n'.join(bad)[:2000])
t.ok(frames and all(len(f.replace('\r\n', '\n').rstrip('\n').split('\n')) <= 12 for f in frames[:2]),
     'top without a terminal: at most LINES=12 lines a frame', frames[:1])

# --- SIGTERM
t.ok(int((s.get('links-before') or '0').strip() or 0) > 0, 'term: the daemon held BPF links before SIGTERM',
     s.get('links-before'))
t.eq((s.get('links-before') or '').strip(), (s.get('links0') or '').strip(),
     'term: as many BPF links as before the scanner was reopened (the old ones detached)')
t.eq((s.get('kd-before') or '').strip(), '3',
     'term: the bpf scanner had its three kdamonds, vaddr, paddr and the DAMOS one of unmapped pages (the reopened '
     'ones; the old ones removed)')
t.eq(rc('term'), '0', 'term: SIGTERM: exit status 0')
t.eq((s.get('links-after') or '').strip(), '0', 'term: no process holds a BPF link afterwards')
t.eq((s.get('kd-after') or '').split(), ['0', '0'], 'term: nr_kdamonds 0 and no kdamond thread')
t.ok('No such file' in s.get('sock-after', ''), 'term: the socket file is removed', s.get('sock-after'))
t.eq(rc('st7'), '1', 'term: tierctl status after the daemon stopped exits 1')
t.ok('tierd is not running' in s.get('st7', ''), 'term: and says tierd is not running', s.get('st7'))
# --- sd_notify
notes = [x.strip('\n') for x in s.get('notify', '').split('--\n') if x.strip()]
t.ok(notes and notes[0].startswith('READY=1\nSTATUS=0 tenants, promoted 0 B, demoted 0 B, scanner bpf, mover move_pages'),
     'notify: READY=1 first, with the status line', notes[:2])
t.ok(any(x.startswith('STATUS=1 tenant, promoted ') and x.endswith(', scanner bpf, mover move_pages') for x in notes),
     'notify: STATUS= each period names the tenants, moved bytes, scanner and mover', notes[:4])
rel = [i for i, x in enumerate(notes) if x.startswith('RELOADING=1\nMONOTONIC_USEC=')]
t.eq(len(rel), 4, 'notify: RELOADING=1 with MONOTONIC_USEC= for each of the 4 reloads (2 tierctl, 2 SIGHUP)')
t.ok(rel and all(i + 1 < len(notes) and notes[i + 1].startswith('READY=1\n') for i in rel),
     'notify: each reload ends with READY=1', [notes[i + 1] if i + 1 < len(notes) else None for i in rel])
t.ok(any('STATUS=reload failed: tierd.json: scanner.backend' in x and '; kept the running configuration; 1 tenant' in x
         for x in notes), 'notify: a failed reload in STATUS=', [x for x in notes if 'failed' in x][:2])
t.eq(notes[-1] if notes else None, 'STOPPING=1', 'notify: STOPPING=1 last')

# --- journal
t.eq(rc('j'), '0', 'journal: tierd --once under $JOURNAL_STREAM exits 0')
t.eq(s.get('j-err', '').strip(), '', 'journal: nothing on stderr (all to the journal)')
ents = [dict(ln.split('=', 1) for ln in x.strip('\n').split('\n') if '=' in ln)
        for x in s.get('journal', '').split('--\n') if x.strip()]
ev = {e.get('TIERD_EVENT') for e in ents}
t.ok({'started', 'period', 'stopping'} <= ev, 'journal: started, period and stopping events', sorted(e for e in ev if e))
st_ent = [e for e in ents if e.get('TIERD_EVENT') == 'started']
t.ok(st_ent and st_ent[0].get('PRIORITY') == '6' and st_ent[0].get('TIERD_BACKEND') == 'bpf' and
     st_ent[0].get('SYSLOG_IDENTIFIER') == 'tierd' and st_ent[0].get('MESSAGE', '').startswith('tierd 0.1.0: 2 tier(s)'),
     'journal: the started entry has MESSAGE, PRIORITY=6, TIERD_BACKEND=bpf', st_ent)
mv = [e for e in ents if e.get('TIERD_EVENT') == 'moved']
t.ok(mv and all(e.get('TIERD_CGROUP') == 'svc' for e in mv), 'journal: moved entries carry TIERD_CGROUP=svc', mv or ents)

for ev in ('tierd 0.1.0: 2 tier(s), scanner bpf', 'reloaded /tmp/cfg/tierd.json',
           'reload failed, keeping the running configuration', 'signal SIGTERM: stopping'):
    t.ok(ev in derr, f'log: "{ev}"', derr[-3000:])
t.done()
