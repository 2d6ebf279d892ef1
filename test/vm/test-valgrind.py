#!/usr/bin/env python3
"""churn suite: tierd under valgrind, one boot of the stock kernel (default
1 GiB nodes, kernel.numa_balancing=0 set explicitly). It ran after the churn
in test-churn.py's boot, in the same guest, and has no timing to keep: it
is a boot of its own so that scripts/check can run it beside the suites
without a VM (a valgrind'd tierd keeps one vCPU busy, the host's other
core is free), while the churn, which measures its rates, runs alone.

  valgrind  tierd (2 s periods) under valgrind --leak-check=full
            --error-exitcode=99 --errors-for-leak-kinds=definite,indirect
            (valgrind.bin and its wrapper, the memcheck tool files,
            default.supp, and the detached debug files of ld.so and libc
            from libc6-dbg, which memcheck needs, added to the guest), with
            a tenant being enforced (a 64 MiB workload, tier0.max=16M) and
            a second tenant whose cgroup is removed after the third period,
            then SIGTERM: exit status 0, "ERROR SUMMARY: 0 errors", no
            definitely/indirectly lost bytes, the tenant demoted, the
            vanishing said once. With --backend bpf (valgrind 3.19
            knows the bpf() syscall, but flags two fields of union bpf_attr
            past the size libbpf's bpf_map_create passes, which the kernel
            never reads: test/vm/valgrind-libbpf.supp suppresses exactly
            those two in libbpf; it does not know BPF_LINK_CREATE and
            BPF_PROG_BIND_MAP and says so as warnings), and with
            TEST_VALGRIND_LRU_GEN=1 also with --backend lru_gen (no BPF
            at all, nothing suppressed; its auto mover is memory.reclaim,
            so demotion_enabled is set true in the guest; see LRU_GEN for
            why it is not in the default run)

usage: test-valgrind.py stock BUILD_DIR
(TEST_VALGRIND_DUMP=FILE writes the guest's whole output)"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import FOLLOW_SH, WORKLOAD_SH, Tap, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
if kernel != 'stock':
    t.skip_all('the valgrind test runs on the stock kernel (bpf scanner)')

MIB = 1 << 20
# The lru_gen run (TEST_VALGRIND_LRU_GEN=1): out of the default run since
# the CI had to fit 40 minutes (it was 2 of this test's 4 minutes, on the
# critical path of scripts/check's first phase). What it covered beyond the
# bpf run: the lru_gen scanner and the memory.reclaim mover in the daemon;
# those run under ASan+UBSan in faults+asan (a busy DAMON degrades auto to
# lru_gen) and in the unit suites (the lru_gen parser, the reclaim mover's
# accounting, reclaim_numa_diff).
LRU_GEN = os.environ.get('TEST_VALGRIND_LRU_GEN') == '1'
VG_LIB = '/usr/libexec/valgrind'
VG_FILES = ['memcheck-amd64-linux', 'vgpreload_core-amd64-linux.so', 'vgpreload_memcheck-amd64-linux.so',
            'default.supp']

GUEST = r'''
CG=/sys/fs/cgroup
sysctl -w kernel.numa_balancing=0 > /dev/null
@WORKLOAD_SH@
@FOLLOW_SH@

# --- valgrind: vg BACKEND NAME
vg() {
    start vgt --size 64 --hot 16 --rate 20
    vw=$w
    tierctl --config /nonexistent annotate vgt tier0.max=16M
    start gone --size 8 --hot 4 --rate 20
    gw=$w
    tierctl --config /nonexistent annotate gone class=batch tier0.max=4M
    : > /tmp/$2.out
    valgrind --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite,indirect $3 \
        --log-file=/tmp/$2.log tierd --backend $1 --period 2 --json --config /tmp/cfg/tierd.json \
        --control-socket '' > /tmp/$2.out 2> /tmp/$2.err &
    V=$!
    wl /tmp/$2.out 3 600 $V
    kill -TERM $gw; wait $gw; rmdir $CG/gone
    echo "=== BEGIN $2-gone-at"; nlines /tmp/$2.out; echo "=== END $2-gone-at"
    n=$(nlines /tmp/$2.out); wl /tmp/$2.out $((n + 3)) 300 $V
    kill -TERM $V
    wait $V
    echo "=== BEGIN $2-rc"; echo $?; echo "=== END $2-rc"
    sec $2-log /tmp/$2.log
    echo "=== BEGIN $2-err"; tail -c 4000 /tmp/$2.err; echo "=== END $2-err"
    echo "=== BEGIN $2-counts"; grep -ci 'error' /tmp/$2.err; grep -c 'tenant gone is gone' /tmp/$2.err; echo "=== END $2-counts"
    reduce /tmp/$2.out > /tmp/$2.red
    sec $2-periods /tmp/$2.red
    echo "=== BEGIN $2-kd"; links; kd; echo "=== END $2-kd"
    kill -TERM $vw; wait $vw; rmdir $CG/vgt
}
if [ -x /usr/bin/valgrind.bin ]; then
    vg bpf vgb --suppressions=/extra/valgrind-libbpf.supp
    if [ @LRU_GEN@ = 1 ]; then
        # lru_gen's auto mover is memory.reclaim, which demotes only with this on
        echo true > /sys/kernel/mm/numa/demotion_enabled
        vg lru_gen vgl
    fi
else
    echo "=== BEGIN novalgrind"; echo no valgrind; echo "=== END novalgrind"
fi
'''.replace('@WORKLOAD_SH@', WORKLOAD_SH).replace('@FOLLOW_SH@', FOLLOW_SH).replace('@LRU_GEN@', str(int(LRU_GEN)))


def debug_file(lib):
    """The detached debug file of LIB by its build id (libc6-dbg), or None."""
    try:
        out = subprocess.run(['readelf', '-n', lib], stdout=subprocess.PIPE, text=True).stdout
    except OSError:
        return None
    m = re.search(r'Build ID: ([0-9a-f]{2})([0-9a-f]+)', out)
    f = m and f'/usr/lib/debug/.build-id/{m.group(1)}/{m.group(2)}.debug'
    return f if f and os.path.exists(f) else None


# valgrind: Debian's /usr/bin/valgrind is a shell wrapper around
# valgrind.bin; memcheck needs ld.so's symbols (strlen), which Debian ships
# detached in libc6-dbg: the debug files of ld.so and libc go along
extra = []
VG_WHY = None
dbg = [debug_file(os.path.realpath(x)) for x in ('/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/libc.so.6')]
if not all(os.path.exists(x) for x in ['/usr/bin/valgrind', '/usr/bin/valgrind.bin'] +
           [f'{VG_LIB}/{f}' for f in VG_FILES]):
    VG_WHY = 'valgrind is not installed (scripts/deps)'
elif not all(dbg):
    VG_WHY = 'libc6-dbg is not installed (scripts/deps): memcheck needs ld.so\'s symbols'
else:
    for f in ['/usr/bin/valgrind', '/usr/bin/valgrind.bin'] + [f'{VG_LIB}/{f}' for f in VG_FILES] + dbg:
        extra += ['--add', f'{f}:{f}']
    extra += ['--add', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'valgrind-libbpf.supp') +
              ':/extra/valgrind-libbpf.supp']
if VG_WHY:
    t.skip_all(VG_WHY)
status, out = run_vm(kernel, GUEST, build, timeout=1800, extra=tuple(extra))
if os.environ.get('TEST_VALGRIND_DUMP'):
    with open(os.environ['TEST_VALGRIND_DUMP'], 'w') as f:
        f.write(out)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)


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


# --- valgrind
for name, be in (('vgb', 'bpf'), ('vgl', 'lru_gen'))[:2 if LRU_GEN else 1]:
    log = s.get(f'{name}-log') or ''
    rc = (s.get(f'{name}-rc') or '').strip()
    m = re.search(r'ERROR SUMMARY: (\d+) errors', log)
    lost = {k: int(v.replace(',', '')) for k, v in re.findall(r'(definitely|indirectly) lost: ([\d,]+) bytes', log)}
    vp = periods(f'{name}-periods')
    cn = [int(x) for x in (s.get(f'{name}-counts') or '').split()] + [None] * 2
    t.eq(rc, '0', f'valgrind {be}: tierd exit status 0 after SIGTERM (99: valgrind found errors or leaks)')
    t.ok(m and m.group(1) == '0', f'valgrind {be}: 0 errors ({m.group(0) if m else "no summary"})', log[-6000:])
    t.ok(all(v == 0 for v in lost.values()) and ('no leaks are possible' in log or len(lost) == 2),
         f'valgrind {be}: no definite or indirect leaks ({lost or "all heap blocks freed"})')
    t.ok(len(vp) >= 4, f'valgrind {be}: {len(vp)} periods under valgrind (>= 4)')
    vd = sum(p[0]['demoted_bytes'] for p in vp)
    t.ok(vd > 0, f'valgrind {be}: the tenant was enforced ({vd / MIB:.1f} MiB demoted)')
    t.ok(cn[1] == 1, f'valgrind {be}: the removed tenant\'s vanishing seen once ({cn[1]})')
    t.ok(cn[0] == 0, f'valgrind {be}: no "error" in tierd\'s log', (s.get(f'{name}-err') or '')[-2000:])
t.done()
