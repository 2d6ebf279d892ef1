#!/usr/bin/env python3
"""host suite: a real Prometheus (Debian's prometheus package) scrapes the
metrics endpoint every second and the test reads the series back through
its HTTP API (/api/v1/query).

The endpoint is agent/metrics.c's server run by test/helpers/metrics-serve,
fed from snapshot JSON files (no daemon, no kernel access), on loopback
ports the kernel picks:
- before the first publish the endpoint answers 503: Prometheus marks the
  target down (up 0) and says why;
- after publishing the test snapshot, every series Prometheus holds equals,
  label for label and value for value, what the endpoint rendered, and the
  values are the snapshot's (the cgroup with '"' and '\\' intact);
- Prometheus' metadata knows the counters as counters;
- a second publish with larger counters: max-min over the window is the
  exact increase, no counter reset, a positive rate();
- every expression of the Grafana dashboard evaluates without error and
  returns series, and its variables' label values are there;
- tenants named with invalid UTF-8 and with control bytes (a delegated
  user names its cgroups): the scrape stays up and their series are there,
  each such byte written as the text \\xHH (one invalid byte used to make
  Prometheus refuse every metric of the node).
`promtool check metrics` lints the exposition (names, units, _total)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402
import exposition  # noqa: E402

metrics_serve = sys.argv[1]
SNAPSHOT = os.path.join(TOP, 'test', 'fixtures', 'metrics', 'snapshot.json')
DASHBOARD = os.path.join(TOP, 'deploy', 'grafana', 'tierd-dashboard.json')
t = Tap()

prometheus = shutil.which('prometheus')
if not prometheus:
    t.skip_all('no prometheus binary (Debian package prometheus; scripts/deps installs it)')
promtool = shutil.which('promtool')

with open(SNAPSHOT) as f:
    snap1 = json.load(f)
web = snap1['tenants'][0]['cgroup']
assert '"' in web and '\\' in web, 'the test snapshot names a cgroup with a quote and a backslash'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def render(path):
    p = subprocess.run([metrics_serve, '--render', path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        t.bail(f'metrics-serve --render {path}: {p.stderr}')
    return p.stdout


def promql_str(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'


with tempfile.TemporaryDirectory(prefix='tierd-prom-') as d:
    text1 = render(SNAPSHOT)
    families, want1 = exposition.parse(text1)
    if promtool:
        p = subprocess.run([promtool, 'check', 'metrics'], input=text1, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        t.ok(p.returncode == 0 and not p.stdout.strip(), 'promtool check metrics finds nothing to lint', p.stdout)
    else:
        t.skip('promtool check metrics', 'no promtool')

    snap2 = json.loads(json.dumps(snap1))
    snap2['periods_total'] += 10
    snap2['scan_cpu_seconds_total'] += 0.5
    snap2['tenants'][0]['promoted_total'] += 4096000
    snap2['tenants'][0]['failed_total'] += 8192
    snap2_path = os.path.join(d, 'snapshot2.json')
    with open(snap2_path, 'w') as f:
        json.dump(snap2, f)

    serve = subprocess.Popen([metrics_serve, '--listen', '127.0.0.1:0'], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = serve.stdout.readline().split()
    if len(line) != 2 or line[0] != 'port':
        serve.kill()
        t.bail(f'metrics-serve did not report its port: {line} {serve.stderr.read()}')
    target = f'127.0.0.1:{line[1]}'
    prom_addr = f'127.0.0.1:{free_port()}'
    cfg = os.path.join(d, 'prometheus.yml')
    with open(cfg, 'w') as f:
        f.write('global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n'
                'scrape_configs:\n  - job_name: tierd\n    static_configs:\n'
                f"      - targets: ['{target}']\n")
    plog = open(os.path.join(d, 'prometheus.log'), 'w+')
    prom = subprocess.Popen([prometheus, f'--config.file={cfg}', f'--storage.tsdb.path={d}/data',
                             f'--web.listen-address={prom_addr}', '--log.level=warn'],
                            stdout=plog, stderr=subprocess.STDOUT)

    def api(path, **params):
        url = f'http://{prom_addr}/api/v1/{path}?' + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)

    def query(q):
        j = api('query', query=q)
        if j.get('status') != 'success':
            raise RuntimeError(f'{q}: {j}')
        return j['data']['result']

    def wait(what, cond, timeout=60):
        """Polls COND() until it returns something true; that value, or None."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if prom.poll() is not None:
                plog.seek(0)
                t.bail(f'prometheus exited ({prom.returncode}): {plog.read()[-2000:]}')
            try:
                v = cond()
                if v:
                    return v
            except (OSError, urllib.error.URLError, RuntimeError, ValueError):
                pass
            time.sleep(0.3)
        t.ok(False, f'waited {timeout}s for {what}')
        return None

    def publish(path):
        serve.stdin.write(path + '\n')
        serve.stdin.flush()
        return serve.stdout.readline().strip() == 'published'

    def scalar(q):
        r = query(q)
        return float(r[0]['value'][1]) if len(r) == 1 else None

    try:
        ready = wait('prometheus to be ready', lambda: urllib.request.urlopen(
            f'http://{prom_addr}/-/ready', timeout=5).status == 200)
        t.ok(bool(ready), f'prometheus is up on {prom_addr}, scraping {target}')

        # 1. nothing published: the scrape fails with 503, the target is down
        up = wait('the first scrape', lambda: query('up{job="tierd"}'))
        t.ok(up and up[0]['value'][1] == '0', 'before the first publish the target is down (up 0)', up)
        targets = api('targets')['data']['activeTargets']
        err = targets[0].get('lastError', '') if targets else ''
        t.ok('503' in err, 'Prometheus reports the 503', err)
        t.eq(query('tierd_periods_total'), [], 'and holds no tierd series')

        # 2. the first snapshot
        t.ok(publish(SNAPSHOT), 'metrics-serve published the snapshot')
        got = wait('the snapshot to be scraped', lambda: scalar('tierd_periods_total'))
        t.eq(got, float(snap1['periods_total']), 'tierd_periods_total read back through the API')
        t.eq(scalar('up{job="tierd"}'), 1.0, 'the target is up')

        have = {}
        for s in query('{__name__=~"tierd_.+", job="tierd"}'):
            m = dict(s['metric'])
            name = m.pop('__name__')
            m.pop('job')
            m.pop('instance')
            have[(name, tuple(sorted(m.items())))] = float(s['value'][1])
        t.eq(sorted(set(have) - set(want1)), [], 'Prometheus holds no series the endpoint did not render')
        t.eq(sorted(set(want1) - set(have)), [], f'Prometheus holds all {len(want1)} rendered series')
        diff = [(k, have[k], want1[k]) for k in want1 if k in have and have[k] != want1[k]]
        t.eq(diff, [], 'every series has the rendered value')

        # the values are the snapshot's, not just self-consistent
        w = snap1['tenants'][0]
        sel = f'cgroup={promql_str(web)}'
        t.eq(scalar(f'tierd_tenant_tier_bytes{{{sel}, tier="1"}}'), float(w['tier_bytes'][1]),
             'tenant tier-1 bytes of the cgroup with \'"\' and \'\\\' in its name')
        t.eq(scalar(f'tierd_tenant_tier_max_bytes{{{sel}, tier="0"}}'), float(w['tier_max'][0]), 'its tier0.max')
        t.eq(query(f'tierd_tenant_tier_max_bytes{{{sel}, tier="1"}}'), [], 'no tier_max series where unlimited')
        t.eq(scalar(f'tierd_migrated_bytes_total{{{sel}, direction="demote", mover="move_pages"}}'),
             float(w['demoted_total']), 'its demoted bytes counter')
        t.eq(scalar('tierd_scan_cpu_seconds_total{backend="damon"}'), snap1['scan_cpu_seconds_total'], 'scan CPU seconds')
        t.eq(scalar('tierd_last_scan_duration_seconds'), snap1['last_scan_ms'] / 1000, 'last scan duration in seconds')
        t.eq(scalar('tierd_tier_capacity_bytes{tier="1", nodes="1"}'), float(snap1['tiers'][1]['capacity']),
             'tier 1 capacity with its nodes label')
        info = query('tierd_build_info')
        t.ok(len(info) == 1 and info[0]['metric'].get('version') == snap1['version']
             and info[0]['metric'].get('scanner') == 'damon' and info[0]['metric'].get('mover') == 'move_pages',
             'tierd_build_info carries version, scanner and mover', info)
        cgroups = sorted(s['metric']['cgroup'] for s in query('tierd_tenant_info'))
        t.eq(cgroups, sorted(x['cgroup'] for x in snap1['tenants']), 'one tierd_tenant_info per tenant, names intact')

        meta = wait('target metadata', lambda: api('metadata', metric='tierd_migrated_bytes_total')['data'])
        t.eq([m.get('type') for m in (meta or {}).get('tierd_migrated_bytes_total', [])], ['counter'],
             'Prometheus knows tierd_migrated_bytes_total as a counter')
        meta = api('metadata', metric='tierd_tenant_tier_bytes')['data']
        t.eq([m.get('type') for m in meta.get('tierd_tenant_tier_bytes', [])], ['gauge'],
             'and tierd_tenant_tier_bytes as a gauge')

        # 3. counters grow
        time.sleep(2)  # a few scrapes of the first values
        t.ok(publish(snap2_path), 'metrics-serve published the second snapshot')
        got = wait('the second snapshot to be scraped',
                   lambda: scalar('tierd_periods_total') == snap2['periods_total'])
        t.ok(bool(got), 'tierd_periods_total went up to the second value')
        time.sleep(1.5)
        prom_sel = f'tierd_migrated_bytes_total{{{sel}, direction="promote"}}'
        t.eq(scalar(f'max_over_time({prom_sel}[5m]) - min_over_time({prom_sel}[5m])'), 4096000.0,
             'the promote counter grew by exactly what was published')
        t.eq(scalar(f'resets({prom_sel}[5m])'), 0.0, 'without a counter reset')
        r = scalar(f'rate({prom_sel}[5m])')
        t.ok(r is not None and r > 0, 'rate() of the promote counter is positive', r)
        fsel = f'tierd_migration_failed_bytes_total{{{sel}}}'
        t.eq(scalar(f'max_over_time({fsel}[5m]) - min_over_time({fsel}[5m])'), 8192.0,
             'the failed-bytes counter grew by 8192')
        csel = 'tierd_scan_cpu_seconds_total'
        t.eq(scalar(f'max_over_time({csel}[5m]) - min_over_time({csel}[5m])'), 0.5, 'scan CPU grew by 0.5 s')
        other = f'tierd_migrated_bytes_total{{cgroup="batch.slice/job-7", direction="demote"}}'
        t.eq(scalar(f'max_over_time({other}[5m]) - min_over_time({other}[5m])'), 0.0,
             'a counter not published larger did not move')

        # 4. the dashboard's queries against real data
        with open(DASHBOARD) as f:
            dash = json.load(f)
        subst = {'$__rate_interval': '1m', '$__interval': '1s', '$__range': '5m', '$instance': '.*', '$cgroup': '.*',
                 '$namespace': '.*', '$pod': '.*'}
        empty, failed = [], []
        for pn in dash['panels']:
            for tg in pn.get('targets', []):
                q = tg['expr']
                for k, v in subst.items():
                    q = q.replace(k, v)
                try:
                    if not query(q):
                        empty.append(f'{pn["title"]}: {q}')
                except (RuntimeError, urllib.error.URLError) as e:
                    failed.append(f'{pn["title"]}: {e}')
        t.eq(failed, [], 'every dashboard expression is valid PromQL to Prometheus 2.42')
        t.eq(empty, [], 'every dashboard expression returns series')
        vals = api('label/cgroup/values', **{'match[]': 'tierd_tenant_info'})['data']
        t.eq(sorted(vals), cgroups, 'the dashboard\'s $cgroup variable (label_values of tierd_tenant_info) lists the tenants')
        # the pod variables, and a pod's series found by them (a tenant that
        # is no pod's has no such labels: ".*" matches it too)
        vals = api('label/namespace/values', **{'match[]': 'tierd_tenant_info'})['data']
        t.eq(vals, ['prod-eu'], 'the dashboard\'s $namespace variable lists the pods\' namespaces')
        vals = api('label/pod/values', **{'match[]': 'tierd_tenant_info{namespace=~"prod-eu"}'})['data']
        t.eq(vals, ['shop-5d8f7c9b4-x2x7q'], 'the dashboard\'s $pod variable lists the pods of the namespace')
        q = 'tierd_tenant_tier_bytes{namespace=~"prod-eu", pod=~"shop-5d8f7c9b4-x2x7q", tier="0"}'
        r = query(q)
        t.ok(len(r) == 1 and r[0]['metric'].get('container') == 'web', 'a pod\'s series carry namespace, pod and '
             'container', f'{r}')

        # 5. hostile names: a delegated user names its cgroups; the
        # snapshot file carries the raw bytes (JSON cannot: they go in as
        # placeholders)
        hostile = {  # raw name -> the label value Prometheus should hold
            b'u/pod\xff': 'u/pod\\xff',
            b'u/\x1b]0;owned\x07\x1b[2J': 'u/\\x1b]0;owned\\x07\\x1b[2J',
            b'u/over\xc0\xaflong\x7f': 'u/over\\xc0\\xaflong\\x7f',
            b'u/c1\xc2\x9b1m': 'u/c1\\xc2\\x9b1m',
            'u/caf\u00e9'.encode(): 'u/caf\u00e9',
        }
        snap3 = json.loads(json.dumps(snap2))
        for i in range(len(hostile)):
            x = json.loads(json.dumps(snap1['tenants'][1]))
            x['cgroup'] = f'@HOSTILE{i}@'
            snap3['tenants'].append(x)
        raw = json.dumps(snap3).encode()
        for i, name in enumerate(hostile):
            # control bytes, '"' and '\\' as JSON escapes, the rest raw
            esc = b''.join(b'\\u%04x' % c if c < 0x20 or c in b'"\\' else bytes([c]) for c in name)
            raw = raw.replace(f'@HOSTILE{i}@'.encode(), esc)
        snap3_path = os.path.join(d, 'snapshot3.json')
        with open(snap3_path, 'wb') as f:
            f.write(raw)
        t.ok(publish(snap3_path), 'metrics-serve published tenants named with invalid UTF-8 and control bytes')
        want_names = sorted(cgroups + list(hostile.values()))
        got = wait('the hostile names to be scraped',
                   lambda: sorted(x['metric']['cgroup'] for x in query('tierd_tenant_info')) == want_names, timeout=30)
        t.ok(bool(got), 'Prometheus stored every tenant, the hostile names with \\xHH for their bytes',
             sorted(x['metric']['cgroup'] for x in query('tierd_tenant_info')))
        time.sleep(2)  # a few more scrapes
        t.eq(scalar('min_over_time(up{job="tierd"}[3s])'), 1.0, 'the target stays up')
        targets = api('targets')['data']['activeTargets']
        t.eq([x.get('lastError', '') for x in targets], [''], 'and its last scrape has no error')
        t.eq(scalar(f'tierd_tenant_tier_bytes{{cgroup={promql_str("u/pod" + chr(92) + "xff")}, tier="1"}}'),
             float(snap1['tenants'][1]['tier_bytes'][1]), 'the series of u/pod\\xff carry their values')
    finally:
        serve.stdin.close()
        try:
            rc = serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            rc = None
        errs = serve.stderr.read()
        prom.terminate()
        try:
            prom.wait(timeout=30)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        plog.close()
    t.ok(rc == 0, 'metrics-serve stopped cleanly at the end of its input', errs)

t.done()
