#!/usr/bin/env python3
"""host suite: the build enforces the layers. In a scratch copy of the
source tree, each layer's library builds as it is; then one of its files
includes a header of a layer it must not see (above it, or a sibling) and
that library must fail to compile, saying the header is not found.

  base <- cgroup, config <- scanner, migrate, hook <- core <- agent <- programs

(hook: the OCI hook's library, which only tierd-oci-hook links.)
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402

t = Tap()

# (file of the lower layer, header it must not reach, the layer that owns it)
FORBIDDEN = [
    ('base/util.c', 'cgroup.h', 'cgroup'),
    ('base/topology.c', 'planner.h', 'core'),
    ('cgroup/cgroup.c', 'policy.h', 'config (a sibling)'),
    ('config/config.c', 'annotations.h', 'cgroup (a sibling)'),
    ('scanner/scanner.c', 'mover.h', 'migrate (a sibling)'),
    ('migrate/quota.c', 'scanner.h', 'scanner (a sibling)'),
    ('migrate/move_pages.c', 'planner.h', 'core'),
    ('core/planner.c', 'daemon.h', 'agent'),
    ('config/pods.c', 'kube.h', 'cgroup (a sibling)'),
    ('hook/oci.c', 'tenants.h', 'core'),
    ('hook/hook.c', 'scanner.h', 'scanner (a sibling)'),
]
LIBS = {d: f'{d}/libtierd-{d}.a' for d in ('base', 'cgroup', 'config', 'scanner', 'migrate', 'hook', 'core', 'agent')}


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, 'src')
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=TOP, stdout=subprocess.PIPE,
                           text=True, check=True).stdout.split()
    for f in files:
        if not os.path.isfile(os.path.join(TOP, f)):
            continue
        os.makedirs(os.path.dirname(os.path.join(src, f)), exist_ok=True)
        shutil.copy2(os.path.join(TOP, f), os.path.join(src, f))
    b = os.path.join(tmp, 'build')
    p = run(['meson', 'setup', b, src, '-Dtests=false'], tmp)
    if p.returncode != 0:
        t.bail('meson setup of the copy failed:\n' + p.stdout[-2000:])
    p = run(['ninja', '-C', b] + list(LIBS.values()), tmp)
    t.ok(p.returncode == 0, 'every layer library builds in the unmodified copy', p.stdout[-3000:])

    for path, header, owner in FORBIDDEN:
        full = os.path.join(src, path)
        with open(full) as f:
            orig = f.read()
        with open(full, 'w') as f:
            f.write(f'#include "{header}"\n' + orig)
        layer = path.split('/')[0]
        p = run(['ninja', '-C', b, LIBS[layer]], tmp)
        t.ok(p.returncode != 0 and f'{header}: No such file' in p.stdout,
             f'{path} including {header} of {owner} fails to build', p.stdout[-1500:])
        with open(full, 'w') as f:
            f.write(orig)
        os.utime(full)
    # and back to a tree that builds (the reverts are complete)
    p = run(['ninja', '-C', b] + list(LIBS.values()), tmp)
    t.ok(p.returncode == 0, 'the copy builds again once the includes are removed', p.stdout[-1500:])
t.done()
