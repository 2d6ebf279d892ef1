#!/usr/bin/env python3
"""host suite: the command lines of tierd and tierctl. Each command's
--help (exit 0, its options named); an option of another command refused
with the command named (exit 2), as JSON too with --json; the global
options before and after the command; durations with a unit, the old bare
forms kept as aliases, bad ones refused naming the option and the value;
--check-config and check-config.

Nothing here changes kernel state. The agent never runs: each of its
command lines ends in --help, which is answered after the whole line is
parsed (a bad value still fails first, exit 2). scan only meets errors
found before a backend is opened (an absent tenant, an unknown backend).
trace runs for real (read-only BPF tracing, as in test-probe.py) to show
the duration it was given; tierctl top runs one frame against an absent
socket to show its interval."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402

tierd, tierctl = sys.argv[1], sys.argv[2]
t = Tap()


def run(prog, *args, stdin=subprocess.DEVNULL):
    p = subprocess.run([prog, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def agent(*args):
    """tierd without a command, never running: --help ends the line."""
    return run(tierd, *args, '--help')


# A scan that cannot reach a backend: the tenant is absent (exit 2 naming
# --cgroup) and the backend unknown.
NO_SCAN = ('--cgroup', '/no/such/tenant', '--backend', 'nope')
NOT_A_TENANT = "--cgroup: '/no/such/tenant' is not a cgroup under"


def scan(*args):
    return run(tierd, '--config', '/nonexistent/tierd.json', 'scan', *args, *NO_SCAN)


# ---- --help: exit 0, the synopsis and every option of the command ----------
GLOBALS = ['--config', '--json', '--verbose', '--sysfs-root', '--procfs-root', '--log-target', '--version',
           '--help']
TIERD_HELP = {
    (): ['tierd [OPTIONS]', 'tierd run', 'tierd probe', 'tierd trace', 'tierd scan', 'tierd check-config',
         '--check-config', '--period D', '--periods N', '--once', '--backend', '--control-socket'],
    ('run',): ['--period D', '--periods N', '--once', '--backend', '--control-socket'],
    ('probe',): ['tierd probe'],
    ('trace',): ['tierd trace', '--duration D', '--seconds S'],
    ('scan',): ['tierd scan --cgroup PATH', '--cgroup', '--backend', '--period D', '--periods N', '--cpu-budget',
                '--max-candidates', '--physical', '--ranges', '--period-ms MS'],
    ('check-config',): ['tierd check-config', 'tierd --check-config'],
}
for cmd, names in TIERD_HELP.items():
    for form in ((*cmd, '--help'), (*cmd, '-h'), ('--help', *cmd)):
        rc, out, err = run(tierd, *form)
        missing = [n for n in names + GLOBALS if n not in out]
        t.ok(rc == 0 and out.startswith('usage: ') and not missing and not err,
             f'tierd {" ".join(form)}: exit 0, names {", ".join(names)} and the globals',
             f'rc {rc}, missing {missing}\n{err}')
rc, out, _ = run(tierd, '--help')
t.ok('after N working periods: planned periods' in out and "scanner's arming period(s)" in out,
     'tierd --help: --periods N counts working periods after the arming period(s)', out)
rc, out, _ = run(tierd, 'scan', '--help')
t.ok('after N working periods: measured periods' in out and "scanner's arming period" in out and 'not two' in out,
     'tierd scan --help: the same words for --periods, and how its arming differs from the agent', out)

TIERCTL_HELP = {
    'annotate': ['tierctl annotate CGROUP KEY=VALUE', '--user', '--cgroup-root'],
    'show': ['tierctl show [CGROUP]', '--cgroup-root'],
    'explain': ['tierctl explain CGROUP', '--cgroup-root'],
    'status': ['tierctl status', '--socket'],
    'top': ['tierctl top', '--interval D', '--count N', '--socket', '--interval S'],
    'reload': ['tierctl reload', '--socket'],
}
for verb, names in TIERCTL_HELP.items():
    rc, out, err = run(tierctl, verb, '--help')
    missing = [n for n in names + ['--json', '--config', '--version', '--help'] if n not in out]
    t.ok(rc == 0 and out.startswith('usage: ') and not missing and not err,
         f'tierctl {verb} --help: exit 0, names {", ".join(names)} and the globals', f'rc {rc}, missing {missing}\n{err}')
rc, out, err = run(tierctl, '--help')
t.ok(rc == 0 and all(f'tierctl {v}' in out for v in TIERCTL_HELP), 'tierctl --help: every verb in the synopsis', out)
rc, out, err = run(tierctl)
t.ok(rc == 2 and out == '' and err.startswith('usage: '), 'tierctl without a verb: the synopsis on stderr, exit 2',
     f'rc {rc}\n{err}')

for prog, name in ((tierd, 'tierd'), (tierctl, 'tierctl')):
    for form in (('--version',), ('status', '--version') if prog == tierctl else ('probe', '--version')):
        rc, out, _ = run(prog, *form)
        t.ok(rc == 0 and out.startswith(name + ' '), f'{name} {" ".join(form)}: the version, exit 0', out)

# ---- an option of another command: exit 2, the command named ---------------
FOREIGN = [
    (tierd, ('probe', '--cgroup', 't'), 'tierd probe: unknown option --cgroup (see tierd probe --help)'),
    (tierd, ('trace', '--periods', '3'), 'tierd trace: unknown option --periods (see tierd trace --help)'),
    (tierd, ('scan', '--duration', '5s', *NO_SCAN), 'tierd scan: unknown option --duration'),
    (tierd, ('scan', '--once', *NO_SCAN), 'tierd scan: unknown option --once'),
    (tierd, ('check-config', '--period', '1s'), 'tierd check-config: unknown option --period'),
    (tierd, ('--check-config', '--backend', 'damon'), 'tierd check-config: unknown option --backend'),
    (tierd, ('--cgroup', 't', '--help'), 'tierd: unknown option --cgroup (see tierd --help)'),
    (tierd, ('--period-ms', '500', '--help'), 'tierd: unknown option --period-ms'),
    (tierd, ('probe', '--cgroup=t'), 'tierd probe: unknown option --cgroup '),
    (tierctl, ('status', '--user'), 'tierctl status: unknown option --user (see tierctl status --help)'),
    (tierctl, ('reload', '--interval', '2s'), 'tierctl reload: unknown option --interval'),
    (tierctl, ('show', '--socket', '/x'), 'tierctl show: unknown option --socket'),
    (tierctl, ('annotate', 'a', 'class=batch', '--count', '1'), 'tierctl annotate: unknown option --count'),
]
for prog, args, msg in FOREIGN:
    rc, out, err = run(prog, *args)
    name = os.path.basename(prog)
    t.ok(rc == 2 and msg in err and out == '', f'{name} {" ".join(args)}: exit 2, says "{msg}"', f'rc {rc}\n{err}')

# the same with --json, before or after the command: the error as JSON
for prog, args, msg in ((tierd, ('--json', 'probe', '--cgroup', 't'), 'unknown option --cgroup'),
                        (tierd, ('probe', '--cgroup', 't', '--json'), 'unknown option --cgroup'),
                        (tierctl, ('status', '--user', '--json'), 'unknown option --user')):
    rc, out, err = run(prog, *args)
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    t.ok(rc == 2 and msg in j.get('error', ''), f'{os.path.basename(prog)} {" ".join(args)}: the error as JSON',
         f'rc {rc}\n{out}{err}')

OTHER = [
    (tierd, ('frob',), "tierd: unknown command 'frob' (see tierd --help)"),
    (tierd, ('probe', 'extra'), "tierd probe: unexpected argument 'extra'"),
    (tierd, ('--json=yes', 'probe'), 'tierd probe: option --json takes no value'),
    (tierd, ('probe', '--sysfs-root'), 'tierd probe: option --sysfs-root needs a value'),
    (tierd, ('--per', '1', '--help'), 'tierd: ambiguous option --per: --period, --periods'),
    (tierd, ('--once', '--periods', '2', '--help'), '--once and --periods: give one of them'),
    (tierctl, ('frob',), "tierctl: unknown command 'frob' (see tierctl --help)"),
    (tierctl, ('status', 'extra'), "tierctl status: unexpected argument 'extra'"),
    (tierctl, ('explain',), 'tierctl explain: missing arguments (usage: tierctl explain CGROUP'),
    (tierctl, ('annotate', 'a'), 'tierctl annotate: missing arguments'),
]
for prog, args, msg in OTHER:
    rc, out, err = run(prog, *args)
    t.ok(rc == 2 and msg in err, f'{os.path.basename(prog)} {" ".join(args)}: exit 2, says "{msg}"', f'rc {rc}\n{err}')

# ---- global options before and after the command ---------------------------
for form in (('--json', 'probe', '--sysfs-root', '/nonexistent'), ('probe', '--sysfs-root', '/nonexistent', '--json'),
             ('--sysfs-root', '/nonexistent', 'probe', '--json')):
    rc, out, err = run(tierd, *form)
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    t.ok(rc == 0 and j.get('nodes') == [] and 'topology_error' in j,
         f'tierd {" ".join(form)}: the globals take effect wherever they are', f'rc {rc}\n{out[:500]}{err}')
# a verb's option before the verb, as the VM tests write it
rc, out, err = run(tierctl, '--user', 'annotate', '--help')
t.ok(rc == 0 and 'tierctl annotate' in out, 'tierctl --user annotate --help: a verb option may precede the verb', err)

# ---- durations --------------------------------------------------------------
AGENT_DURATIONS = [
    (('--period', '10s'), None),
    (('--period', '500ms'), None),
    (('--period', '1.5s'), None),
    (('--period', '2m'), None),
    (('--period', '1'), None),          # the old form: seconds
    (('--period', '0.5'), None),
    (('--period', '5x'), "tierd: --period: '5x' is not a duration (like 500ms, 10s, 2m or 1h)"),
    (('--period', '10 s'), "tierd: --period: '10 s' is not a duration"),
    (('--period', '-1s'), "tierd: --period: '-1s' is not a duration"),
    (('--period', ''), "tierd: --period: '' is not a duration"),
    (('--period', '5ms'), "tierd: --period: '5ms' is not between 10ms and 1h"),
    (('--period', '2h'), "tierd: --period: '2h' is not between 10ms and 1h"),
    (('--period', '99999999999999999999h'), "tierd: --period: '99999999999999999999h' is too large"),
]
for args, msg in AGENT_DURATIONS:
    rc, out, err = agent(*args)
    if msg is None:
        t.ok(rc == 0 and not err, f'tierd {" ".join(args)}: accepted', f'rc {rc}\n{err}')
    else:
        t.ok(rc == 2 and msg in err, f'tierd {" ".join(args) or "(empty)"}: exit 2, says "{msg}"', f'rc {rc}\n{err}')

SCAN_DURATIONS = [
    (('--period', '500ms'), None),
    (('--period', '1.5s'), None),
    (('--period-ms', '500'), None),     # the old form
    (('--period', '5x'), "tierd scan: --period: '5x' is not a duration (like 500ms, 10s, 2m or 1h)"),
    (('--period', '500'), "tierd scan: --period: '500' has no unit (like 500ms, 10s, 2m or 1h)"),
    (('--period', '5ms'), "tierd scan: --period: '5ms' is not between 10ms and 1h"),
    (('--period-ms', '5'), "--period-ms: '5' is not a whole number between 10 and 3600000"),
    (('--period-ms', '1s'), "--period-ms: '1s' is not a whole number"),
]
for args, msg in SCAN_DURATIONS:
    rc, out, err = scan(*args)
    if msg is None:
        t.ok(rc == 2 and NOT_A_TENANT in err and '--period' not in err,
             f'tierd scan {" ".join(args)}: accepted (the scan stops later, at the absent tenant)', f'rc {rc}\n{err}')
    else:
        t.ok(rc == 2 and msg in err, f'tierd scan {" ".join(args)}: exit 2, says "{msg}"', f'rc {rc}\n{err}')

TRACE_BAD = [
    (('--duration', '5'), "tierd trace: --duration: '5' has no unit"),
    (('--duration', '5x'), "tierd trace: --duration: '5x' is not a duration"),
    (('--duration', '0s'), "tierd trace: --duration: '0s' is not between 1ms and 24h"),
    (('--seconds', 'abc'), "tierd trace: --seconds: 'abc' is not a duration"),
    (('--seconds', '100000'), "tierd trace: --seconds: '100000' is not between 1ms and 24h"),
]
for args, msg in TRACE_BAD:
    rc, out, err = run(tierd, 'trace', *args)
    t.ok(rc == 2 and msg in err, f'tierd trace {" ".join(args)}: exit 2, says "{msg}"', f'rc {rc}\n{err}')
if os.geteuid() != 0:
    t.skip('tierd trace --duration 500ms and --seconds 0.5 trace for half a second', 'needs root (BPF)')
else:
    for args in (('--duration', '500ms'), ('--seconds', '0.5')):
        rc, out, err = run(tierd, 'trace', *args, '--json')
        try:
            j = json.loads(out)
        except ValueError:
            j = {}
        t.ok(rc == 0 and j.get('seconds') == 0.5, f'tierd trace {" ".join(args)} --json: traced for 0.5 s',
             f'rc {rc}\n{out[:500]}{err}')

# tierctl top: one frame against a socket that is not there (no daemon is
# asked for anything); the frame says the interval it was given
for args, shown in ((('--interval', '500ms'), '0.5 s'), (('--interval', '1.5s'), '1.5 s'),
                    (('--interval', '3'), '3.0 s')):
    rc, out, err = run(tierctl, 'top', *args, '--count', '1', '--socket', '/nonexistent/control.sock')
    t.ok(rc == 0 and f'refresh every {shown}' in out, f'tierctl top {" ".join(args)}: a frame every {shown}',
         f'rc {rc}\n{out[-300:]}{err}')
for args, msg in ((('--interval', '5x'), "tierctl top: --interval: '5x' is not a duration"),
                  (('--interval', '50ms'), "tierctl top: --interval: '50ms' is not between 100ms and 1h"),
                  (('--interval', '2h'), "tierctl top: --interval: '2h' is not between 100ms and 1h")):
    rc, out, err = run(tierctl, 'top', *args, '--count', '1', '--socket', '/nonexistent/control.sock')
    t.ok(rc == 2 and msg in err, f'tierctl top {" ".join(args)}: exit 2, says "{msg}"', f'rc {rc}\n{err}')

# ---- --check-config and check-config -----------------------------------------
with tempfile.TemporaryDirectory() as d:
    os.chmod(d, 0o755)
    cfg = os.path.join(d, 'tierd.json')
    with open(os.path.join(TOP, 'config', 'tierd.json')) as f, open(cfg, 'w') as g:
        g.write(f.read())
    os.chmod(cfg, 0o644)
    outs = {}
    for form in (('--check-config', '--config', cfg), ('--config', cfg, '--check-config'),
                 ('check-config', '--config', cfg), ('--config', cfg, 'check-config')):
        rc, out, err = run(tierd, *form)
        outs[form] = out
        t.ok(rc == 0 and f'{cfg}: configuration OK' in out, f'tierd {" ".join(form)}: configuration OK, exit 0',
             f'rc {rc}\n{err}')
    t.eq(len(set(outs.values())), 1, 'the flag and the command print the same')
    rc, out, err = run(tierd, 'check-config', '--json', '--config', cfg)
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    t.ok(rc == 0 and 'classes' in j, 'tierd check-config --json: the effective configuration as JSON', out[:300])
    with open(cfg, 'w') as f:
        f.write('{"scanner": {"period": "1.5s"}}\n')
    rc, out, err = run(tierd, 'check-config', '--config', cfg)
    t.ok(rc == 0 and 'period 1500 ms' in out, 'the configuration takes "1.5s" as the command line does',
         out + err)
    with open(cfg, 'w') as f:
        f.write('{"scanner": {"period": "10"}}\n')
    rc, out, err = run(tierd, '--check-config', '--config', cfg)
    t.ok(rc == 1 and 'scanner.period: "10" is not a duration' in err,
         'a bare number is no duration in the configuration: exit 1', f'rc {rc}\n{err}')
t.done()
