#!/usr/bin/env python3
"""host suite: cgroup names are anyone's choice (a delegated user, a
container), and none reaches a terminal raw. A name such as
'\\e]0;owned\\a\\e[2J' retitles and clears the terminal that shows it, one
with a newline forges a line. Checked on what tierctl prints (show and
explain over a scratch cgroup tree; status and top against a fake daemon on
a scratch control socket; its error messages) and on tierd's stderr log:
every byte that is not printable UTF-8 comes out as the text \\xHH, and
nothing else but the line ends (and top's own cursor and clear sequences)
is a control byte.

usage: test-escapes.py TIERD TIERCTL"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402

tierd, tierctl = sys.argv[1], sys.argv[2]
t = Tap()

# raw name -> how it must be printed
NAMES = {
    b'a\x1b]0;owned\x07\x1b[2J': b'a\\x1b]0;owned\\x07\\x1b[2J',
    b'pod\xff': b'pod\\xff',
    b'nl\nfake critical': b'nl\\x0afake critical',
    b'c1\xc2\x9b1m': b'c1\\xc2\\x9b1m',
    'caf\u00e9'.encode(): 'caf\u00e9'.encode(),
}
# top's own sequences: cursor home and clear, cursor hidden and shown
TOP_OWN = re.compile(rb'\x1b\[H\x1b\[2J|\x1b\[\?25[lh]')


def bad_bytes(out, allowed=None):
    """The first bytes of OUT that are neither printable UTF-8 nor a line
    end, or None."""
    if allowed is not None:
        out = allowed.sub(b'', out)
    text = out.decode('utf-8', errors='surrogateescape')
    for i, ch in enumerate(text):
        o = ord(ch)
        if ch in '\n\r':
            continue
        if o < 0x20 or o == 0x7f or 0x80 <= o <= 0x9f or 0xdc80 <= o <= 0xdcff:
            return text[max(0, i - 10):i + 10].encode('utf-8', errors='surrogateescape')
    return None


def run(*args):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout, p.stderr


with tempfile.TemporaryDirectory(prefix='tierd-esc-') as d:
    root = os.path.join(d, 'cg').encode()
    os.mkdir(root)
    open(os.path.join(root, b'cgroup.procs'), 'w').close()
    for name in NAMES:
        os.mkdir(os.path.join(root, name))
        open(os.path.join(root, name, b'cgroup.procs'), 'w').close()
    cfg = os.path.join(d, 'tierd.json')
    with open(os.path.join(TOP, 'config', 'tierd.json')) as src, open(cfg, 'w') as dst:
        dst.write(src.read())
    os.chmod(cfg, 0o644)
    base = [tierctl, '--cgroup-root', root, '--config', cfg]

    # 1. show: every name, escaped, on its own line
    rc, out, err = run(*base, 'show')
    t.eq(rc, 0, 'tierctl show over a scratch tree')
    t.eq(bad_bytes(out), None, 'tierctl show prints no control byte and no invalid UTF-8')
    for raw, want in NAMES.items():
        t.ok(any(line.startswith(want + b' ') for line in out.splitlines()),
             f'show lists {want.decode(errors="replace")} as {want!r}', out.decode(errors='replace'))

    # 2. explain: the name in the header, the tenant lines
    for raw, want in NAMES.items():
        rc, out, err = run(*base, 'explain', raw)
        t.ok(rc == 0 and bad_bytes(out) is None and out.startswith(want + b'  (owner uid'),
             f'explain {want!r}: the header names it escaped, nothing raw', out[:200])

    # 3. an error message quoting an argument
    rc, out, err = run(*base, 'explain', b'gone\x1b[2J\xfe')
    t.ok(rc == 1 and bad_bytes(err) is None and b'gone\\x1b[2J\\xfe' in err,
         'tierctl error messages quote arguments escaped', err)

    # 4. status and top against a fake daemon
    def status():
        tenant = {'class': 'batch', 'mode': 'enforce', 'tier_max': [None, None], 'tier_low': [0, 0],
                  'tier_bytes': [4096, 0], 'hot_bytes': 0, 'cold_bytes': 0, 'promote_tokens': None,
                  'demote_tokens': None, 'promote_rate': None, 'demote_rate': None, 'planned_promote': 0,
                  'planned_demote': 0, 'promoted_total': 0, 'demoted_total': 0, 'failed_total': 0,
                  'errors_total': 0}
        tenants = [dict(tenant, cgroup=f'@N{i}@') for i in range(len(NAMES))]
        s = {'version': '0.1.0', 'scanner': 'damon', 'mover': 'move_pages', 'config_path': '/etc/tierd/tierd.json',
             'period_ms': 10000, 'periods_total': 3, 'time_ms': 30000, 'started_realtime_s': 1700000000,
             'scan_cpu_seconds_total': 0.5, 'last_scan_ms': 3.0, 'reloads_total': 0, 'reload_failures_total': 0,
             'promoted_total': 0, 'demoted_total': 0, 'failed_total': 0, 'last_error': '@E@',
             'tiers': [{'index': 0, 'nodes': '0', 'capacity': 1 << 30, 'free': 1 << 29, 'headroom': 0},
                       {'index': 1, 'nodes': '1', 'capacity': 1 << 30, 'free': 1 << 30, 'headroom': 0}],
             'tenants': tenants}
        line = json.dumps({'ok': True, 'status': s}).encode()

        def jstr(b):  # control bytes as JSON escapes, the rest raw
            return b''.join(b'\\u%04x' % c if c < 0x20 or c in b'"\\' else bytes([c]) for c in b)
        for i, raw in enumerate(NAMES):
            line = line.replace(f'@N{i}@'.encode(), jstr(raw))
        line = line.replace(b'@E@', jstr(b'moving a\x1b]0;owned\x07 failed'))
        return line + b'\n'

    sock_path = os.path.join(d, 'control.sock')
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(8)
    srv.settimeout(60)
    answer = status()
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                return
            with c:
                buf = b''
                while b'\n' not in buf:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                c.sendall(answer)

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        rc, out, err = run(tierctl, '--socket', sock_path, 'status')
        t.eq(rc, 0, 'tierctl status against the fake daemon')
        t.eq(bad_bytes(out), None, 'tierctl status prints no control byte and no invalid UTF-8')
        for raw, want in NAMES.items():
            t.ok(any(line.startswith(want + b' ') for line in out.splitlines()),
                 f'status lists the tenant {want!r}', out.decode(errors='replace'))
        t.ok(b'last error: moving a\\x1b]0;owned\\x07 failed' in out, "the daemon's last error escaped",
             out.decode(errors='replace'))

        env = dict(os.environ, COLUMNS='400', LINES='60')
        p = subprocess.run([tierctl, '--socket', sock_path, '--count', '1', 'top'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, timeout=60)
        t.eq(p.returncode, 0, 'tierctl top --count 1 against the fake daemon')
        t.eq(bad_bytes(p.stdout, TOP_OWN), None, "top's frame holds no control byte but its own cursor and clear")
        t.ok(b'a\\x1b]0;owned\\x07\\x1b[2J' in p.stdout and b'pod\\xff' in p.stdout, 'top shows the names escaped',
             p.stdout[-2000:].decode(errors='replace'))
    finally:
        stop.set()
        srv.close()

    # 5. tierd's stderr log
    rc, out, err = run(tierd, '--check-config', b'x\x1b]0;owned\x07\x1b[2J\xff')
    t.ok(rc != 0 and bad_bytes(err) is None and b"'x\\x1b]0;owned\\x07\\x1b[2J\\xff'" in err,
         "tierd's log line quotes the argument escaped", err)

t.done()
