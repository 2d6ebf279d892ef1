#!/usr/bin/env python3
"""host suite: the manual pages render and have not gone stale, and the
README stays short.

Each page of man/ is rendered with `man --warnings -l PAGE` (MANWIDTH=80):
exit 0, nothing on stderr (groff's warnings). Then the rendered text must
name what would break if the page went stale, each list taken from the
programs and the sources, not from a copy kept here:
  tierd(8)       every command and long option `tierd --help` prints (also
                 per command), every TIERD_EVENT= of agent/*.c and the
                 journal fields base/util.c sends, the scanner backends
  tierctl(1)     every command and long option `tierctl --help` prints
                 (also per command)
  tierd.json(5)  every key of config/tierd.json, every key the loader
                 accepts (the effective configuration of `tierd
                 --check-config --json`, fed back to --check-config until
                 it passes: what it calls an unknown key is report-only),
                 every policy key `tierctl explain --json` shows, the
                 scanner and mover backends config/config.c accepts, the
                 annotation prefixes of cgroup/annotations.c
README.md: at most 150 lines, its first commands ./scripts/demo and
./scripts/check, its relative links pointing at files that exist.
meson installs the three pages (meson introspect --installed).

argv: TIERD TIERCTL BUILD_ROOT"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402

tierd, tierctl, build = sys.argv[1], sys.argv[2], sys.argv[3]
t = Tap()
PAGES = {'tierd.8': 'TIERD', 'tierctl.1': 'TIERCTL', 'tierd.json.5': 'TIERD.JSON'}


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def source(path):
    with open(os.path.join(TOP, path)) as f:
        return f.read()


def names(text, what):
    """Words in TEXT as a set; WHAT says what they are, for the message."""
    return set(re.findall(what, text))


def commands(help_text):
    """The command names listed under 'commands:' in a --help text."""
    out, inside = [], False
    for line in help_text.splitlines():
        if line.strip() == 'commands:':
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            out.append(line.split()[0])
    return out


def long_options(help_text):
    return names(help_text, r'(?<![\w-])--[a-z][a-z0-9-]*')


def named(text, word):
    """Whether the rendered TEXT names WORD as a whole token."""
    return re.search(r'(?<![\w.-])' + re.escape(word) + r'(?![\w-])', text) is not None


def check_named(page, text, words, what):
    missing = sorted(w for w in words if not named(text, w))
    t.ok(words and not missing, f'{page} names every {what} ({len(words)})',
         f'missing: {missing}' if words else 'nothing found to check: the source of the list moved')


# ---- rendering -----------------------------------------------------------

if not shutil.which('man'):
    t.skip_all('man(1) is not installed (scripts/deps installs man-db and groff-base)')

env = dict(os.environ, MANWIDTH='80', MANPAGER='cat', PAGER='cat', LC_ALL='C.UTF-8')
text = {}
for page, title in PAGES.items():
    path = os.path.join(TOP, 'man', page)
    p = run(['man', '--warnings', '-l', path], env=env)
    t.ok(p.returncode == 0, f'man -l {page} exits 0', f'exit {p.returncode}: {p.stderr}')
    t.ok(p.stderr == '', f'man --warnings renders {page} without a warning', p.stderr)
    t.ok(p.stdout.startswith(f'{title}('), f'{page} renders its title {title}', p.stdout[:200])
    # the rendered page with its line breaks and indentation folded
    text[page] = ' '.join(p.stdout.split())

# ---- tierd(8) ------------------------------------------------------------

p = run([tierd, '--help'])
t.ok(p.returncode == 0, 'tierd --help exits 0', p.stderr)
helps = [p.stdout]
tierd_commands = commands(p.stdout)
for c in tierd_commands:
    q = run([tierd, c, '--help'])
    t.ok(q.returncode == 0, f'tierd {c} --help exits 0', q.stderr)
    helps.append(q.stdout)
check_named('tierd.8', text['tierd.8'], set(tierd_commands), 'tierd command')
check_named('tierd.8', text['tierd.8'], set().union(*map(long_options, helps)), 'long option of tierd --help')

agent = ''.join(source(os.path.join('agent', f)) for f in sorted(os.listdir(os.path.join(TOP, 'agent')))
                if f.endswith('.c'))
events = names(agent, r'log_event\(\s*LOG_LVL_\w+,\s*"([^"]+)"')
check_named('tierd.8', text['tierd.8'], events, 'TIERD_EVENT of agent/*.c')
fields = names(source('base/util.c'), r'"(TIERD_[A-Z_]+)=')
check_named('tierd.8', text['tierd.8'], fields, 'journal field of base/util.c')

config_c = source('config/config.c')


def backend_list(var):
    m = re.search(var + r'\[\] = \{([^}]*)\}', config_c)
    return set(re.findall(r'"([a-z_]+)"', m.group(1))) if m else set()


scanners, movers = backend_list('scanner_backends'), backend_list('mover_backends')
check_named('tierd.8', text['tierd.8'], scanners, 'scanner backend config.c accepts')
check_named('tierd.8', text['tierd.8'], movers, 'mover backend config.c accepts')

# ---- tierctl(1) ----------------------------------------------------------

p = run([tierctl, '--help'])
t.ok(p.returncode == 0, 'tierctl --help exits 0', p.stderr)
helps = [p.stdout]
verbs = commands(p.stdout)
for v in verbs:
    q = run([tierctl, v, '--help'])
    t.ok(q.returncode == 0, f'tierctl {v} --help exits 0', q.stderr)
    helps.append(q.stdout)
check_named('tierctl.1', text['tierctl.1'], set(verbs), 'tierctl command')
check_named('tierctl.1', text['tierctl.1'], set().union(*map(long_options, helps)), 'long option of tierctl --help')

# ---- tierd.json(5) -------------------------------------------------------


def keys_of(o):
    """Every key of a configuration document: of objects, of the objects in
    arrays, recursively. tierN.* keys fold into tierN (the page says N)."""
    out = set()
    if isinstance(o, dict):
        for k, v in o.items():
            out.add(re.sub(r'^tier[0-9]+\.', 'tierN.', k))
            out |= keys_of(v)
    elif isinstance(o, list):
        for v in o:
            out |= keys_of(v)
    return out


def drop(doc, path):
    """Removes the value at a message's JSON path (classes[0].origin)."""
    parts = re.findall(r'([^.\[\]]+)|\[(\d+)\]', path)
    cur = doc
    for i, (key, idx) in enumerate(parts):
        last = i == len(parts) - 1
        sel = int(idx) if idx else key
        # policy keys have dots in them: "policy.tier0.max"
        if not idx and isinstance(cur, dict) and sel not in cur:
            rest = '.'.join(k or f'[{j}]' for k, j in parts[i:])
            if rest in cur:
                del cur[rest]
                return True
            return False
        if last:
            del cur[sel]
            return True
        cur = cur[sel]
    return False


with tempfile.TemporaryDirectory() as d:
    os.chmod(d, 0o755)
    shipped = os.path.join(d, 'tierd.json')
    shutil.copy(os.path.join(TOP, 'config', 'tierd.json'), shipped)
    os.chmod(shipped, 0o644)
    with open(shipped) as f:
        shipped_doc = json.load(f)

    p = run([tierd, '--check-config', '--json', '--config', shipped])
    t.ok(p.returncode == 0, 'tierd --check-config --json passes the shipped configuration', p.stdout + p.stderr)
    try:
        effective = json.loads(p.stdout)
    except ValueError:
        effective = {}

    # Feed the effective configuration back until the loader accepts it:
    # what it calls an unknown key is report-only (files, origin).
    work = os.path.join(d, 'w')
    os.mkdir(work, 0o755)
    accepted, report_only = json.loads(json.dumps(effective)), []
    for _ in range(1000):
        path = os.path.join(work, 'tierd.json')
        with open(path, 'w') as f:
            json.dump(accepted, f)
        os.chmod(path, 0o644)
        q = run([tierd, '--check-config', '--config', path])
        m = re.search(r'tierd\.json: (\S+): unknown key', q.stderr)
        if q.returncode == 0 or not m or not drop(accepted, m.group(1)):
            break
        report_only.append(m.group(1))
    print(f'# report-only keys of --check-config --json: {report_only}')
    t.ok(q.returncode == 0 and effective,
         'the effective configuration, without its report-only keys, loads again',
         f'{q.stderr} (dropped {report_only})')

    cg = os.path.join(d, 'cgroup')
    os.mkdir(cg, 0o755)
    open(os.path.join(cg, 'cgroup.procs'), 'w').close()  # the root of a cgroup v2 tree has one
    p = run([tierctl, '--json', '--config', shipped, '--cgroup-root', cg, 'explain', '/'])
    try:
        policy = json.loads(p.stdout).get('policy', {})
    except ValueError:
        policy = {}
    t.ok(p.returncode == 0 and policy, 'tierctl explain --json lists the policy keys', p.stdout + p.stderr)

keys = keys_of(shipped_doc) | keys_of(accepted) | keys_of(dict.fromkeys(policy))
check_named('tierd.json.5', text['tierd.json.5'], set(shipped_doc), 'top-level key of config/tierd.json')
check_named('tierd.json.5', text['tierd.json.5'], keys,
            'key of config/tierd.json, of the loader and of tierctl explain')
check_named('tierd.json.5', text['tierd.json.5'], scanners | movers, 'scanner and mover backend config.c accepts')
prefixes = names(source('cgroup/annotations.c'), r'#define \w+_PREFIX "([a-z.]+)"')
check_named('tierd.json.5', text['tierd.json.5'], {x + 'KEY' for x in prefixes}, 'annotation prefix (as PREFIX.KEY)')

# ---- README.md -----------------------------------------------------------

readme = source('README.md')
lines = readme.splitlines()
t.ok(len(lines) <= 150, f'README.md has at most 150 lines ({len(lines)})')
m = re.search(r'```sh\n(.*?)```', readme, re.S)
first = [ln.split('#')[0].strip() for ln in (m.group(1).splitlines() if m else [])]
t.eq([c for c in first if c][:2], ['./scripts/demo', './scripts/check'],
     'README.md starts with the two commands ./scripts/demo and ./scripts/check')
head = '\n'.join(lines[:12])
t.ok(m and m.start() < len(head), 'those two commands are at the top of README.md', head)
links = re.findall(r'\]\(([^)#]+)(?:#[^)]*)?\)', readme)
local = [x for x in links if not re.match(r'[a-z]+:', x)]
t.ok(local and all(os.path.exists(os.path.join(TOP, x)) for x in local),
     f'README.md\'s relative links point at files ({len(local)})',
     f'missing: {[x for x in local if not os.path.exists(os.path.join(TOP, x))]}')

# ---- installed -----------------------------------------------------------

meson = shutil.which('meson')
if not meson:
    t.skip('meson installs the pages', 'meson is not on PATH')
else:
    p = run([meson, 'introspect', '--installed', build])
    try:
        installed = json.loads(p.stdout)
    except ValueError:
        installed = {}
    for page in PAGES:
        section = page.rsplit('.', 1)[1]
        dest = installed.get(os.path.join(TOP, 'man', page), '')
        t.ok(dest.endswith(f'/man{section}/{page}'), f'meson installs {page} to man{section}/', f'{dest!r}')

t.done()
