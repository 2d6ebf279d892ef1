#!/usr/bin/env python3
"""host suite: `tierd --check-config` on the shipped configuration and on
broken ones: exit status, the exact message (file, JSON path, reason),
JSON errors, and the refusal of a configuration others can write, or whose
directory (or a linked file's) others can write."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402

tierd = sys.argv[1]
t = Tap()


def check(path, *extra):
    p = subprocess.run([tierd, '--check-config', '--config', path, *extra], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


with tempfile.TemporaryDirectory() as d:
    os.chmod(d, 0o755)
    shipped = os.path.join(d, 'tierd.json')
    with open(os.path.join(TOP, 'config', 'tierd.json')) as f, open(shipped, 'w') as g:
        g.write(f.read())
    os.chmod(shipped, 0o644)

    rc, out, err = check(shipped)
    t.ok(rc == 0 and 'configuration OK' in out, 'the shipped config/tierd.json passes --check-config', out + err)
    rc, out, err = check(shipped, '--json')
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    names = [c.get('name') for c in j.get('classes', [])]
    t.eq(names, ['critical', 'latency', 'standard', 'batch', 'scavenger'], '--json lists the classes in priority order')
    matches = [r.get('match') for r in j.get('rules', [])]
    t.ok(any('kubepods-besteffort' in m for m in matches) and any('kubepods/besteffort' in m for m in matches),
         'default rules cover both kubelet cgroup drivers', matches)

    dropins = os.path.join(d, 'tierd.d')
    os.mkdir(dropins, 0o755)
    bad = os.path.join(dropins, '10-k8s.json')
    with open(bad, 'w') as f:
        f.write('{"rules": [\n {"match": "a", "policy": {"class": "batch"}},\n'
                ' {"match": "b", "policy": {"tier0.max": "1G"}},\n'
                ' {"match": "c", "policy": {"tier0.max": "12Q"}}\n]}\n')
    os.chmod(bad, 0o644)
    rc, out, err = check(shipped)
    t.eq(rc, 1, 'a drop-in with a bad value fails --check-config')
    t.ok('tierd.d/10-k8s.json: rules[2].policy.tier0.max: "12Q" is not a size' in err,
         'the message names the file, the JSON path, the value and why', err)
    rc, out, err = check(shipped, '--json')
    try:
        ej = json.loads(out)
    except ValueError:
        ej = {}
    t.ok(rc == 1 and 'rules[2].policy.tier0.max' in ej.get('error', ''), 'with --json the error is JSON on stdout', out)

    with open(bad, 'w') as f:
        f.write('{"scanner": {"backend": "auto", "bogus": 1}}\n')
    rc, out, err = check(shipped)
    t.ok(rc == 1 and 'tierd.d/10-k8s.json: scanner.bogus: unknown key' in err, 'unknown keys are errors', err)
    with open(bad, 'w') as f:
        f.write('{"rules": [ {"match": "x", "policy": {"class": "gold"}} ]}\n')
    rc, out, err = check(shipped)
    t.ok(rc == 1 and 'gold' in err and 'rules[0].policy.class' in err, 'unknown class names are errors', err)
    with open(bad, 'w') as f:
        f.write('{"rules": [ {"match": "x", "policy": {"class": "batch"}} ,]}\n')
    rc, out, err = check(shipped)
    t.ok(rc == 1 and 'tierd.d/10-k8s.json' in err and 'line' in err, 'JSON syntax errors name the file and line', err)
    os.unlink(bad)

    if os.geteuid() == 0:
        os.chmod(shipped, 0o666)
        rc, out, err = check(shipped)
        t.ok(rc == 1 and 'tierd.json' in err and 'writable' in err,
             'a configuration writable by others is refused with a clear message', err)
        os.chmod(shipped, 0o644)
    rc, out, err = check(os.path.join(d, 'absent.json'))
    t.eq(rc, 0, 'an absent main file means built-in defaults')

    # a directory others can write: they could remove tierd.json (tierd
    # would run on the built-in defaults) or swap tierd.d
    os.chmod(d, 0o777)
    rc, out, err = check(shipped)
    t.ok(rc == 1 and f'tierd.json: refusing the directory {os.path.realpath(d)}, writable by group and others' in err,
         "the configuration's directory writable by others is refused, naming it", err)
    rc, out, err = check(os.path.join(d, 'absent.json'))
    t.eq(rc, 1, 'even with the main file absent')
    os.chmod(d, 0o755)
    link = os.path.join(d, 'link.json')
    with tempfile.TemporaryDirectory() as other:
        os.chmod(other, 0o777)
        target = os.path.join(other, 'tierd.json')
        with open(target, 'w') as f:
            f.write('{}')
        os.chmod(target, 0o644)
        os.symlink(target, link)
        rc, out, err = check(link)
        t.ok(rc == 1 and f'refusing the directory {os.path.realpath(other)}' in err,
             'a main file linked into a directory others can write is refused', err)
        os.unlink(link)
t.done()
