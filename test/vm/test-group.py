#!/usr/bin/env python3
"""vm suite: several VM tests in one boot of the testbed.

Each test of test/vm named here (probe for test-probe.py) runs as it does
alone, but its guest script is one part of a shared boot instead of a boot
of its own. A boot of `true` took 11.5 s (6 s with test/vm/run's faster
packing), and a small test is little more: the 9 tests of the stock kernel
with the default VM settings took 485 s in 9 boots and 324 s in one.

  1. collect  each test runs with TIERD_VM_COLLECT set: its run_vm()
              (test/lib/tap.py) writes what it would boot (kernel, guest
              script, timeout, test/vm/run options) and exits. A test that
              ends before booting (a skip: no root, no prometheus) keeps
              its own TAP output.
  2. boot     one boot runs the parts in the order given. Each part starts
              from the state a fresh boot has: its --add files are copied
              in before it and removed after it; after it every process it
              left is killed (SIGKILL), the mounts it made are undone, its
              cgroups removed, /tmp and /run emptied, DAMON's kdamonds
              stopped and removed (and DAMON_LRU_SORT/RECLAIM disabled),
              kernel.numa_balancing, demotion_enabled and lru_gen/enabled
              set back to their values at boot. A part runs under the
              timeout the test asks for its own boot (then as status 124,
              like test/vm/run's). The boot options of the parts must agree
              (node sizes, vCPUs, numa_balancing at boot, TCG threading);
              the group refuses to run otherwise.
  3. check    each test runs again with TIERD_VM_REPLAY set: its run_vm()
              returns the status and the output of its part, and its checks
              run unchanged. Their TAP lines are merged into one stream,
              each name prefixed with the test's ("walk: stock: ...").

A part named TEST+asan runs the ASan+UBSan programs when TIERD_ASAN_BUILD
names a sanitizer build (scripts/check sets it to build-asan/): that
build's tierd and tierctl go to /opt/tierd-asan/bin, first on the part's
PATH (the other programs, the test helpers, stay the boot's), and the test
is collected and checked with that build, so its checks know (tap.py
sanitized()). Only tests whose checks keep no timing are marked so: the
sanitized programs run several times slower. Without TIERD_ASAN_BUILD the
part runs the boot's programs; its TAP names say which.

A guest that died of the TCG code-patching race (test/lib/tap.py) is booted
once more from scratch, as run_vm() does for a boot of its own. The time of
each part in the guest and the boot's overhead are TAP comments.

usage: test-group.py KERNEL BUILD_DIR TEST...
(TEST_GROUP_DUMP=FILE writes the whole guest output to FILE)"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from tap import COLLECT_ENV, REPLAY_ENV, SANITIZER_ENV, TCG_PATCH_RACE, TOP, VM_DIED, vm_tcg_race  # noqa: E402

VM_TIMEOUT = 124
ASAN_ENV = 'TIERD_ASAN_BUILD'
ASAN_BIN = '/opt/tierd-asan/bin'
# the programs of a sanitizer build that a +asan part runs
ASAN_PROGRAMS = ('tierd', 'tierctl')
# test/vm/run's options that take a value, with their defaults; --add is
# per part, the others are the boot's and must agree
BOOT_OPTS = {'--fast': '1G', '--slow': '1G', '--numa-balancing': '0', '--smp': '2', '--tcg-thread': 'multi',
             '--append': ''}
FLAGS = {'--console'}

# Run before the first part: what a fresh boot has, to come back to.
PROLOGUE = r'''
P=/etc/tierd-parts
nb0=$(cat /proc/sys/kernel/numa_balancing)
de0=$(cat /sys/kernel/mm/numa/demotion_enabled 2> /dev/null)
lg0=$(cat /sys/kernel/mm/lru_gen/enabled 2> /dev/null)
cat /proc/mounts > $P/mounts0
up() { cut -d' ' -f1 /proc/uptime; }
# every process but init and this shell (kernel threads have no exe)
reap() {
    i=0
    while [ $i -lt 100 ]; do
        n=0
        for p in /proc/[0-9]*; do
            x=${p#/proc/}
            [ "$x" = 1 ] || [ "$x" = $$ ] || [ ! -e $p/exe ] && continue
            kill -9 $x 2> /dev/null && n=$((n + 1))
        done
        [ $n = 0 ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    echo "group: processes left after the part: $(ls /proc | grep -c '^[0-9]')" >&2
}
# the mounts made since the boot, the last first
unmount() {
    awk 'NR == FNR { c[$0]++; next } c[$0] > 0 { c[$0]--; next } { print $2 }' $P/mounts0 /proc/mounts > $P/mounts1
    for m in $(tac $P/mounts1); do umount $m 2> /dev/null || umount -l $m; done
}
cgclean() {
    for d in $(find /sys/fs/cgroup/* -depth -type d 2> /dev/null); do
        [ -e $d/cgroup.freeze ] && echo 0 > $d/cgroup.freeze 2> /dev/null
        i=0
        while ! rmdir $d 2> /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        [ -e $d ] && echo "group: cgroup $d left after the part" >&2
    done
}
reset() {
    A=/sys/kernel/mm/damon/admin/kdamonds
    if [ -e $A/nr_kdamonds ]; then
        k=0; n=$(cat $A/nr_kdamonds)
        while [ $k -lt $n ]; do echo off > $A/$k/state 2> /dev/null; k=$((k + 1)); done
        i=0
        while ! echo 0 > $A/nr_kdamonds 2> /dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    for m in damon_lru_sort damon_reclaim; do
        f=/sys/module/$m/parameters/enabled
        [ -e $f ] && [ "$(cat $f)" = Y ] && echo N > $f
    done
    echo $nb0 > /proc/sys/kernel/numa_balancing
    [ -n "$de0" ] && echo $de0 > /sys/kernel/mm/numa/demotion_enabled
    [ -n "$lg0" ] && echo $lg0 > /sys/kernel/mm/lru_gen/enabled
    rm -rf /tmp/* /tmp/.[!.]* /run/* /run/.[!.]* 2> /dev/null
}
# part NAME TIMEOUT: the test's script as a process of its own, as
# test/vm/run's init runs a command
part() {
    [ -e $P/$1/pre.sh ] && . $P/$1/pre.sh
    cd /root
    echo "=== TIERD-PART-BEGIN $1 $(up)"
    timeout -s KILL $2 sh $P/$1/script.sh < /dev/null
    rc=$?
    echo "=== TIERD-PART-END $1 $rc $(up)"
    cd /
    reap; unmount; cgclean; reset
    [ -e $P/$1/post.sh ] && . $P/$1/post.sh
}
'''


def parse_extra(extra):
    """test/vm/run options -> ({boot option: value}, [adds], [unknown])."""
    boot, adds, bad = dict(BOOT_OPTS), [], []
    i = 0
    while i < len(extra):
        o = extra[i]
        if o == '--add' and i + 1 < len(extra):
            adds.append(extra[i + 1])
            i += 2
        elif o in BOOT_OPTS and i + 1 < len(extra):
            boot[o] = extra[i + 1]
            i += 2
        elif o in FLAGS:
            boot[o] = True
            i += 1
        else:
            bad.append(o)
            i += 1
    return boot, adds, bad


def q(s):
    return "'" + s.replace("'", "'\\''") + "'"


def stage_adds(name, adds, args):
    """The part's --add files go to /etc/tierd-parts/NAME/add/GUEST; its
    pre.sh copies each to GUEST (saving what was there), post.sh removes
    it again."""
    pre, post = [], []
    for a in adds:
        host, _, guest = a.partition(':')
        guest = guest or '/extra/' + os.path.basename(host.rstrip('/'))
        staged = f'/etc/tierd-parts/{name}/add{guest}'
        args += ['--add', f'{host}:{staged}']
        pre.append(f'[ -e {q(guest)} ] && mv {q(guest)} {q(guest + ".group-saved")}; '
                   f'mkdir -p {q(os.path.dirname(guest))}; cp -a {q(staged)} {q(guest)}')
        post.append(f'rm -rf {q(guest)}; [ -e {q(guest + ".group-saved")} ] && '
                    f'mv {q(guest + ".group-saved")} {q(guest)}')
    return '\n'.join(pre) + '\n', '\n'.join(reversed(post)) + '\n'


def split_parts(out):
    """The guest output -> {name: (status or None, seconds, text)}."""
    parts, cur, buf, t0 = {}, None, [], 0.0
    for line in out.splitlines():
        m = re.match(r'^=== TIERD-PART-BEGIN (\S+) ([\d.]+)$', line)
        if m:
            cur, buf, t0 = m.group(1), [], float(m.group(2))
            continue
        m = re.match(r'^=== TIERD-PART-END (\S+) (\d+) ([\d.]+)$', line)
        if m and cur == m.group(1):
            parts[cur] = (int(m.group(2)), float(m.group(3)) - t0, '\n'.join(buf) + '\n')
            cur = None
            continue
        if cur is not None:
            buf.append(line)
    if cur is not None:  # the VM stopped in this part
        parts[cur] = (None, None, '\n'.join(buf) + '\n')
    return parts


def part_build(name, build):
    """TEST or TEST+asan -> (TEST, the build its programs and checks use,
    whether that is the sanitizer build)."""
    test, _, flag = name.partition('+')
    asan = os.environ.get(ASAN_ENV, '')
    if flag == 'asan' and asan and os.path.exists(os.path.join(asan, 'build.ninja')):
        return test, asan, True
    return test, build, False


def asan_adds(name, asan_build, args):
    """The sanitizer build's programs for part NAME: added to the boot, put
    first on PATH by its pre.sh, taken off again by its post.sh."""
    for prog in ASAN_PROGRAMS:
        args += ['--add', f'{os.path.join(asan_build, prog)}:{ASAN_BIN}/{os.path.basename(prog)}']
    return (f'export PATH={ASAN_BIN}:$PATH\n'
            f'echo "=== TIERD-ASAN {name} $(command -v tierd) $(command -v tierctl)"\n',
            f'export PATH=${{PATH#{ASAN_BIN}:}}\n')


def main():
    if len(sys.argv) < 4:
        print(__doc__.split('usage: ')[1], file=sys.stderr)
        return 2
    kernel, build, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    tmp = tempfile.mkdtemp(prefix='tierd-vm-group-')
    try:
        return run(kernel, build, names, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(kernel, build, names, tmp):
    n = 0

    def emit(ok, name, detail=''):
        nonlocal n
        n += 1
        print(f'{"ok" if ok else "not ok"} {n} - {name}')
        for line in str(detail).splitlines():
            print(f'#   {line}')
        sys.stdout.flush()

    # 1. collect
    reqs, early = {}, {}
    for name in names:
        test, tbuild, _ = part_build(name, build)
        f = os.path.join(tmp, f'{name}.req')
        p = subprocess.run([sys.executable, os.path.join(HERE, f'test-{test}.py'), kernel, tbuild],
                           env={**os.environ, COLLECT_ENV: f}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=300)
        if p.returncode == 0 and os.path.exists(f):
            with open(f) as fh:
                reqs[name] = json.load(fh)
        else:
            early[name] = p

    # 2. one boot for every part
    results = {}
    if reqs:
        boot, timeout, args, script = None, 0, [], [SANITIZER_ENV, PROLOGUE]
        for name, r in reqs.items():
            b, adds, bad = parse_extra(r['extra'])
            if bad or r['kernel'] != kernel or (boot is not None and b != boot):
                emit(False, f'group: {name} can share the boot', f'its options {r["extra"]} ({bad or "differ"}), '
                     f'kernel {r["kernel"]}; the boot: {boot}')
                print(f'1..{n}')
                return 1
            boot = b
            d = os.path.join(tmp, name)
            os.makedirs(d)
            with open(os.path.join(d, 'script.sh'), 'w') as fh:
                fh.write(r['script'])
            pre, post = stage_adds(name, adds, args)
            _, tbuild, asan = part_build(name, build)
            if asan:
                apre, apost = asan_adds(name, tbuild, args)
                pre, post = pre + apre, apost + post
            with open(os.path.join(d, 'pre.sh'), 'w') as fh:
                fh.write(pre)
            with open(os.path.join(d, 'post.sh'), 'w') as fh:
                fh.write(post)
            for f in ('script.sh', 'pre.sh', 'post.sh'):
                args += ['--add', f'{os.path.join(d, f)}:/etc/tierd-parts/{name}/{f}']
            script.append(f'part {name} {int(r["timeout"])}\n')
            timeout += int(r['timeout'])
        script.append('exit 0\n')
        for o, v in boot.items():
            if v is True:
                args.append(o)
            elif v != BOOT_OPTS.get(o):
                args += [o, v]
        cmd = [os.path.join(TOP, 'test', 'vm', 'run'), '--kernel', kernel, '--build', build,
               '--timeout', str(timeout), *args, '--', 'sh', '-c', ''.join(script)]
        print(f'# one boot of the {kernel} kernel for {", ".join(reqs)} (at most {timeout} s)', flush=True)
        for attempt in (1, 2):
            start = time.monotonic()
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout + 300)
            took = time.monotonic() - start
            if attempt == 1 and vm_tcg_race(p.returncode, p.stdout, p.stderr):
                print(f'# the {kernel} guest kernel died of the TCG code-patching race ({TCG_PATCH_RACE}); '
                      'booting again', flush=True)
                sys.stderr.write('vm: first boot died of the TCG code-patching race; its output:\n' +
                                 p.stderr[-3000:] + p.stdout[-3000:])
                continue
            break
        sys.stderr.write(p.stderr)
        if os.environ.get('TEST_GROUP_DUMP'):
            with open(os.environ['TEST_GROUP_DUMP'], 'w') as fh:
                fh.write(p.stdout)
        parts = split_parts(p.stdout)
        for name in reqs:
            if part_build(name, build)[2]:
                m = re.search(rf'^=== TIERD-ASAN {re.escape(name)} (.*)$', p.stdout, re.M)
                want = f'{ASAN_BIN}/tierd {ASAN_BIN}/tierctl'
                emit(bool(m) and m.group(1) == want, f'group: {name} runs the ASan+UBSan tierd and tierctl',
                     m.group(1) if m else 'no PATH line from the part')
        died = p.returncode if p.returncode in (VM_TIMEOUT, VM_DIED) else VM_DIED
        inside = 0.0
        for name, r in reqs.items():
            status, secs, text = parts.get(name, (None, None, ''))
            if status is None:
                status = died
                err = p.stderr
            else:
                err = ''
                inside += secs
                if status == 137 and secs >= int(r['timeout']):
                    status = VM_TIMEOUT
                    err = f'vm: timeout after {r["timeout"]}s (command still running)\n'
            results[name] = {'status': status, 'out': text, 'err': err}
            print(f'# {name}: {"%.0f s in the guest" % secs if secs is not None else "did not finish"}'
                  f', status {status}', flush=True)
        print(f'# the boot took {took:.0f} s, {took - inside:.0f} s of it outside the parts '
              '(initramfs, boot, the resets between parts, power-off)', flush=True)

    # 3. every test's own checks, one TAP stream
    failed = False
    for name in names:
        test, tbuild, asan = part_build(name, build)
        label = f'{test} (ASan+UBSan)' if asan else test
        if name in early:
            p = early[name]
        else:
            f = os.path.join(tmp, f'{name}.out.json')
            with open(f, 'w') as fh:
                json.dump(results[name], fh)
            p = subprocess.run([sys.executable, os.path.join(HERE, f'test-{test}.py'), kernel, tbuild],
                               env={**os.environ, REPLAY_ENV: f}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=600)
        sys.stderr.write(p.stderr)
        bad = False
        for line in p.stdout.splitlines():
            m = re.match(r'^(ok|not ok) \d+(?: - (.*))?$', line)
            if m:
                bad = bad or m.group(1) == 'not ok'
                n += 1
                print(f'{m.group(1)} {n} - {label}: {m.group(2) or ""}')
                continue
            m = re.match(r'^1\.\.(\d+)(?:\s*#\s*SKIP\s*(.*))?$', line)
            if m:
                if m.group(1) == '0':
                    n += 1
                    print(f'ok {n} - {label} # SKIP {m.group(2) or "skipped"}')
                continue
            if line.startswith('Bail out!'):
                bad = True
                n += 1
                print(f'not ok {n} - {label}: {line}')
                continue
            print(line)
        sys.stdout.flush()
        if p.returncode != 0 and not bad:
            emit(False, f'{label}: the test exited with status {p.returncode}', p.stderr[-2000:])
            bad = True
        failed = failed or bad
    print(f'1..{n}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
