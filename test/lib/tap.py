# Minimal TAP producer and VM helpers shared by the host and vm suites.
import json
import os
import re
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


class Tap:
    """Prints TAP; every check says what it compared."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=''):
        self.n += 1
        if cond:
            print(f'ok {self.n} - {name}')
        else:
            self.failed += 1
            print(f'not ok {self.n} - {name}')
            if detail:
                for line in str(detail).splitlines():
                    print(f'#   {line}')
        sys.stdout.flush()
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, f'got {got!r}, want {want!r}')

    def skip(self, name, why):
        """One check not made here, and why (TAP's SKIP directive)."""
        self.n += 1
        print(f'ok {self.n} - {name} # SKIP {why}')
        sys.stdout.flush()

    def skip_all(self, why):
        print(f'1..0 # SKIP {why}')
        sys.exit(0)

    def bail(self, why):
        print(f'Bail out! {why}')
        sys.exit(1)

    def done(self):
        print(f'1..{self.n}')
        sys.exit(1 if self.failed else 0)


def sections(text):
    """Splits guest output into {name: text} by '=== BEGIN name' / '=== END name' lines."""
    out, cur, buf = {}, None, []
    for line in text.splitlines():
        if line.startswith('=== BEGIN '):
            cur, buf = line[len('=== BEGIN '):].strip(), []
        elif line.startswith('=== END ') and cur:
            out[cur] = '\n'.join(buf)
            cur = None
        elif cur is not None:
            buf.append(line)
    return out


SANITIZER_ENV = ('export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 '
                 'UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1\n')


# The guest kernel's signature of the multi-threaded TCG code-patching
# race (HACKING.md, "The VM testbed"): a vCPU runs an instruction another vCPU
# is patching (a static key flipped at boot or at run time) and traps on
# the int3 that text_poke_bp() put there after the patch was done. No
# program of the guest can cause it (a kernel BUG() is "invalid opcode").
TCG_PATCH_RACE = 'Oops: int3'
VM_DIED = 125  # test/vm/run: the VM did not boot or stopped before CMD ended


def vm_tcg_race(status, *texts):
    """Whether test/vm/run's STATUS and output say the guest kernel died of
    the TCG code-patching race (worth one more boot)."""
    return status == VM_DIED and any(TCG_PATCH_RACE in (x or '') for x in texts)


# A test run as a part of a shared boot (test/vm/test-group.py) does not
# boot: with TIERD_VM_COLLECT=FILE, run_vm() writes its request (kernel,
# script, build, timeout, extra) to FILE and exits; with
# TIERD_VM_REPLAY=FILE, it returns the status and output of the test's part
# of the shared boot, read from FILE. The test's checks run unchanged.
COLLECT_ENV = 'TIERD_VM_COLLECT'
REPLAY_ENV = 'TIERD_VM_REPLAY'


def run_vm(kernel, script, build, timeout=600, extra=()):
    """Boots the testbed and runs a guest shell script; returns (status,
    output). A boot whose kernel died of the TCG code-patching race is run
    once more from scratch: a TAP comment on stdout says so, and the first
    boot's tail goes to stderr."""
    if os.environ.get(COLLECT_ENV):
        with open(os.environ[COLLECT_ENV], 'w') as f:
            json.dump({'kernel': kernel, 'script': script, 'build': os.path.abspath(build),
                       'timeout': timeout, 'extra': list(extra)}, f)
        sys.exit(0)
    if os.environ.get(REPLAY_ENV):
        with open(os.environ[REPLAY_ENV]) as f:
            r = json.load(f)
        sys.stderr.write(r.get('err', ''))
        return r['status'], r['out']
    # Sanitizer builds (build-asan) run some VM tests too: leaks and
    # undefined behaviour fail the program there as they do on the host.
    script = SANITIZER_ENV + script
    cmd = [os.path.join(TOP, 'test', 'vm', 'run'), '--kernel', kernel, '--build', build,
           '--timeout', str(timeout), *extra, '--', 'sh', '-c', script]
    for attempt in (1, 2):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout + 120)
        if attempt == 1 and vm_tcg_race(p.returncode, p.stdout, p.stderr):
            print(f'# the {kernel} guest kernel died of the TCG code-patching race ({TCG_PATCH_RACE}); '
                  'booting again', flush=True)
            sys.stderr.write('vm: first boot died of the TCG code-patching race; its output:\n' +
                             p.stderr[-3000:] + p.stdout[-3000:])
            continue
        break
    sys.stderr.write(p.stderr)
    return p.returncode, p.stdout


# Guest shell helpers for workloads in tenant cgroups (needs CG set):
#   start CGROUP ARGS...   a workload on CPU 1 in CGROUP (created), its pid in $w
#   rep PID NAME SECTION   its JSON report (SIGUSR2) as section SECTION
WORKLOAD_SH = r'''# start CGROUP ARGS...: a workload in CGROUP (created), pid in $w
start() {
    c=$1; shift
    mkdir -p $CG/$c
    rm -f /tmp/$c.ready /tmp/$c.json
    sh -c "echo \$\$ > $CG/$c/cgroup.procs; exec numactl -C 1 workload $* --report /tmp/$c.json --ready /tmp/$c.ready" &
    w=$!
    while [ ! -e /tmp/$c.ready ]; do sleep 0.2; done
}
rep() {
    rm -f /tmp/$2.json; kill -USR2 $1
    while [ ! -e /tmp/$2.json ]; do sleep 0.2; done
    echo "=== BEGIN $3"; cat /tmp/$2.json; echo; echo "=== END $3"
}
'''

# Guest shell helpers of the tests that run tierd with the shipped
# configuration and `--period 1s` (test-heat.py, test-unmapped.py; needs
# CG set; each test's docstring says why the period is shortened):
#   numa CGROUP SECTION    its memory.numa_stat as SECTION
#   agent NAME ARGS...     tierd's JSON lines as NAME, the end of its
#                          stderr as NAME-err, its status as NAME-rc
SHIPPED_SH = r'''numa() { echo "=== BEGIN $2"; cat $CG/$1/memory.numa_stat; echo "=== END $2"; }
out() {
    echo "=== BEGIN $1-rc"; echo $2; echo "=== END $1-rc"
    echo "=== BEGIN $1"; cat /tmp/$1.out; echo "=== END $1"
    echo "=== BEGIN $1-err"; tail -c 3000 /tmp/$1.err; echo "=== END $1-err"
}
agent() {
    n=$1; shift
    tierd --period 1s --json --control-socket '' "$@" > /tmp/$n.out 2> /tmp/$n.err
    out $n $?
}
'''

# Guest shell helpers of the tests that follow tierd's period lines for
# minutes (test-churn.py, test-valgrind.py): sections, waiting for lines,
# BPF links and kdamonds left, a period line reduced to its totals and the
# steady tenant; a configuration with the scanner's CPU budget at 100%
# (their tenants are scanned whole every period: they test churn and
# leaks, not pacing); the TLB ticker on CPU 1.
FOLLOW_SH = r'''sec() { echo "=== BEGIN $1"; cat "$2"; echo; echo "=== END $1"; }
nlines() { cat $1 2> /dev/null | wc -l; }
up() { cut -d. -f1 /proc/uptime; }
# wl FILE N SECONDS [PID]: wait until FILE has N lines (or PID is gone)
wl() {
    e=$(($(up) + $3))
    while [ $(nlines $1) -lt $2 ] && [ $(up) -lt $e ]; do
        [ -n "$4" ] && ! kill -0 $4 2> /dev/null && break
        sleep 0.5
    done
}
links() { for f in /proc/[0-9]*/fd/*; do readlink $f 2>/dev/null; done | grep -c 'bpf_link'; }
kd() { cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds; cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^kdamond'; }
# a period line without its tenants array, the number of tenants, and the
# steady tenant's object
reduce() {
    awk '{ n = gsub(/\{"cgroup":"/, "&"); st = "{}"
           if (match($0, /\{"cgroup":"steady".*/)) {
               x = substr($0, RSTART, RLENGTH)
               if (match(x, /"total_promoted_bytes":[0-9]+\}\}/)) st = substr(x, 1, RSTART + RLENGTH - 1)
           }
           s = $0; sub(/"tenants":\[.*\],"tiers"/, "\"tiers\"", s)
           print s "\t" n "\t" st }' $1
}
mkdir -p /tmp/cfg
echo '{ "scanner": { "cpu_budget": "100%" } }' > /tmp/cfg/tierd.json
chmod 644 /tmp/cfg/tierd.json
numactl -C 1 sh -c 'while :; do sleep 0.05; done' &
'''


def sanitized(build):
    """Whether BUILD was configured with a sanitizer (b_sanitize): its
    programs run several times slower, so CPU-time bounds do not apply."""
    try:
        with open(os.path.join(build, 'meson-info', 'intro-buildoptions.json')) as f:
            opts = json.load(f)
    except (OSError, ValueError):
        return False
    return any(o.get('name') == 'b_sanitize' and o.get('value') not in ('none', '') for o in opts)


def parse_json(tap, text, what):
    try:
        return json.loads(text)
    except (TypeError, ValueError) as e:
        tap.ok(False, f'{what} is valid JSON', f'{e}\n{(text or "")[:2000]}')
        return None


def unit_bytes(key):
    """KEY= of tierd's unit file (systemd/tierd.service.in; a K/M/G suffix)
    in bytes, None when absent: the memory bounds the tests hold tierd to."""
    with open(os.path.join(TOP, 'systemd', 'tierd.service.in')) as f:
        for line in f:
            m = re.match(rf'^{key}=(\d+)([KMG]?)\s*$', line)
            if m:
                return int(m.group(1)) << {'': 0, 'K': 10, 'M': 20, 'G': 30}[m.group(2)]
    return None


# Helpers of the VM tests that run the agent with --json (test-heat,
# test-hier, test-unmapped).
def json_lines(text):
    """The JSON objects of TEXT, one a line; other lines are skipped."""
    out = []
    for ln in (text or '').splitlines():
        try:
            out.append(json.loads(ln))
        except ValueError:
            pass
    return out


def agent_lines(tap, s, name):
    """Section NAME's tierd run (sections NAME-rc, NAME-err, NAME): checks
    exit 0 and no error on stderr, returns its period lines."""
    rc = (s.get(f'{name}-rc') or '').strip()
    err = s.get(f'{name}-err') or ''
    tap.ok(rc == '0' and 'error' not in err.lower(), f'{name}: tierd exit 0, no error on stderr',
           f'rc {rc!r}\n{err[-2000:]}')
    return json_lines(s.get(name))


def tenant_of(line, cg):
    """Tenant CG's object in a period line, None when absent."""
    return next((x for x in line.get('tenants', []) if x['cgroup'] == cg), None)


def numa_field(text, field, node):
    """FIELD's bytes on NODE in a memory.numa_stat text (0 when absent)."""
    for ln in (text or '').splitlines():
        f = ln.split()
        if f and f[0] == field:
            return int(next((kv.split('=')[1] for kv in f[1:] if kv.startswith(f'N{node}=')), 0))
    return 0
