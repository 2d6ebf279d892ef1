#!/usr/bin/env python3
"""host suite: `tierd scan` argument errors, which are found before any
backend is opened (so this suite never changes kernel state here): exit 2,
a message naming the option and the value, and JSON on stdout with --json.
The scans themselves run in the VM (test/vm/test-scan-*.py)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import Tap  # noqa: E402

tierd = sys.argv[1]
t = Tap()


def scan(*args, config=None):
    cmd = [tierd, '--config', config or '/nonexistent/tierd.json', 'scan', *args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


CASES = [
    ((), 'name at least one tenant with --cgroup'),
    (('--cgroup', 't', '--periods', '0'), "--periods: '0' is not a whole number between 1 and 100000"),
    (('--cgroup', 't', '--period-ms', '5'), "--period-ms: '5' is not a whole number between 10 and 3600000"),
    (('--cgroup', 't', '--cpu-budget', '1001'), "--cpu-budget: '1001' is not a whole number between 0 and 1000"),
    (('--cgroup', 't', '--max-candidates', 'x'), "--max-candidates: 'x' is not a whole number"),
    (('--cgroup', '/', '--backend', 'nope'), "--backend: 'nope' is not a scanner backend of this build"),
    (('--cgroup', '/no/such/tenant', '--backend', 'nope'), "--cgroup: '/no/such/tenant' is not a cgroup under"),
    (('--cgroup', 'a/../../t', '--backend', 'nope'), "--cgroup: 'a/../../t' must not climb out with '..'"),
]
for args, msg in CASES:
    rc, out, err = scan(*args)
    t.ok(rc == 2 and msg in err, f'scan {" ".join(args) or "(no args)"}: exit 2, says "{msg}"', f'rc {rc}\n{err}')

# --json: the same errors as JSON (option errors found by getopt are not).
for args, msg in CASES[0:1] + CASES[5:]:
    rc, out, err = scan('--json', *args)
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    t.ok(rc == 2 and msg in j.get('error', ''), f'scan --json {" ".join(args) or "(no args)"}: the error as JSON',
         f'rc {rc}\n{out}')

# The backend list in the message is this build's.
rc, out, err = scan('--cgroup', '/', '--backend', 'nope')
for b in ('idle_page', 'damon', 'bpf', 'lru_gen'):
    built = os.path.exists(os.path.join(os.path.dirname(__file__), '..', '..', 'scanner',
                                        ('damon' if b == 'bpf' else b) + '.c'))
    t.eq(f' {b}' in err or f'({b}' in err, built, f'the --backend error lists {b} exactly when it is built')

# A configuration naming an unknown backend is refused before scanning.
with tempfile.TemporaryDirectory() as d:
    os.chmod(d, 0o755)
    cfg = os.path.join(d, 'tierd.json')
    with open(cfg, 'w') as f:
        json.dump({'scanner': {'backend': 'nope'}}, f)
    os.chmod(cfg, 0o644)
    rc, out, err = scan('--cgroup', 't', config=cfg)
    t.ok(rc != 0 and 'scanner.backend' in err and 'nope' in err,
         'scanner.backend "nope" in the configuration: refused, naming the field and value', f'rc {rc}\n{err}')
t.done()
