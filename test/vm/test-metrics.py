#!/usr/bin/env python3
"""vm suite: the real daemon's metrics endpoint scraped by a real Prometheus
(Debian's prometheus binary, added to the guest with --add), both in the
testbed VM (stock kernel, kernel.numa_balancing=0 set explicitly), the
series read back through Prometheus' HTTP API with busybox wget.

One boot: Prometheus (1 s scrape interval, storage in /tmp) scrapes
127.0.0.1:9464, where tierd (--backend bpf, 2 s periods, configuration
metrics.listen) serves /metrics while it enforces tier0.max=16M on a
64 MiB workload (16 MiB hot) in the tenant cgroup "web". The guest takes
three scrapes of its own (wget) a few periods in, then asks Prometheus
for every tierd series over the run.

Checks: the endpoint's first answer is 503 (no period ended) or 200; the
guest's scrapes are the exposition format with every family typed; for a
guest scrape, the Prometheus scrape of the same snapshot (same
tierd_periods_total) holds exactly the same series with the same values;
up is 1, periods_total grew with no reset; the web tenant's series carry
what the daemon did: tier0.max 16 MiB, class and mode, demoted bytes > 0,
its tier bytes add up to the workload; build_info names scanner bpf; tierd
exits 0 on SIGTERM.

usage: test-metrics.py stock BUILD_DIR"""
import json
import os
import shutil
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import WORKLOAD_SH, Tap, parse_json, run_vm, sections  # noqa: E402
import exposition  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')
prometheus = shutil.which('prometheus')
if not prometheus:
    t.skip_all('no prometheus binary on the host (Debian package prometheus; scripts/deps installs it)')

MIB = 1 << 20


def api(path, **params):
    return f'http://127.0.0.1:9090/api/v1/{path}?' + urllib.parse.urlencode(params)


GUEST = r'''
CG=/sys/fs/cgroup
sysctl -w kernel.numa_balancing=0 > /dev/null
echo "=== BEGIN numa_balancing"; cat /proc/sys/kernel/numa_balancing; echo "=== END numa_balancing"
ip link set lo up
@WORKLOAD_SH@
sec() { echo "=== BEGIN $1"; cat $2; echo; echo "=== END $1"; }
mkdir -p /tmp/cfg /tmp/prom
# metrics.listen, the setting under test, and one override: with the bpf
# backend the CPU budget paces only the sweep of unmapped pages; at the
# shipped 5% a sweep over the VM's memory takes several periods, at 100%
# about one, so the tenant's few unmapped bytes (held as unscanned until
# swept) hold its limit for fewer of this test's periods (heat-idle and
# unmapped-stock test the shipped budget)
echo '{ "scanner": { "cpu_budget": "100%" }, "metrics": { "listen": "127.0.0.1:9464" } }' > /tmp/cfg/tierd.json
chmod 644 /tmp/cfg/tierd.json
cat > /tmp/prom/prometheus.yml <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tierd
    static_configs:
      - targets: ['127.0.0.1:9464']
EOF
numactl -C 0 prometheus --config.file=/tmp/prom/prometheus.yml --storage.tsdb.path=/tmp/prom/data \
    --web.listen-address=127.0.0.1:9090 --log.level=warn > /tmp/prom.log 2>&1 &
pp=$!
i=0
until wget -q -O /dev/null http://127.0.0.1:9090/-/ready 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 240 ] && break; sleep 0.5
done
echo "=== BEGIN prom-ready"; echo $i; echo "=== END prom-ready"

numactl -C 1 sh -c 'while :; do sleep 0.05; done' &
tk=$!
start web --size 64 --hot 16 --rate 20
tierctl --config /nonexistent annotate web tier0.max=16M
tierd --backend bpf --period 2 --config /tmp/cfg/tierd.json --control-socket '' > /tmp/tierd.out 2> /tmp/tierd.err &
td=$!
# the endpoint's first answer: 503 until the first period ends
i=0; first=none
while [ $i -lt 100 ]; do
    if wget -q -O /tmp/first.txt http://127.0.0.1:9464/metrics 2> /tmp/first.err; then first=200; break; fi
    grep -q 503 /tmp/first.err && { first=503; break; }
    i=$((i + 1)); sleep 0.2
done
echo "=== BEGIN first"; echo $first; echo "=== END first"
# a few periods in
i=0; p=0
while [ $i -lt 120 ] && [ "${p:-0}" -lt 6 ]; do
    wget -q -O /tmp/m.txt http://127.0.0.1:9464/metrics 2>/dev/null && p=$(awk '$1 == "tierd_periods_total" { print $2 }' /tmp/m.txt)
    i=$((i + 1)); sleep 1
done
for n in 1 2 3; do
    wget -q -O /tmp/d$n.txt http://127.0.0.1:9464/metrics
    sec direct-$n /tmp/d$n.txt
    sleep 2.5
done
sleep 2
wget -q -O /tmp/q-range.json '@Q_RANGE@'; sec q-range /tmp/q-range.json
wget -q -O /tmp/q-up.json '@Q_UP@'; sec q-up /tmp/q-up.json
wget -q -O /tmp/q-grow.json '@Q_GROW@'; sec q-grow /tmp/q-grow.json
wget -q -O /tmp/q-resets.json '@Q_RESETS@'; sec q-resets /tmp/q-resets.json
wget -q -O /tmp/q-meta.json '@Q_META@'; sec q-meta /tmp/q-meta.json
cat $CG/web/memory.numa_stat > /tmp/numa.txt; sec numa /tmp/numa.txt

kill -TERM $td; wait $td; rc=$?
echo "=== BEGIN tierd-rc"; echo $rc; echo "=== END tierd-rc"
echo "=== BEGIN tierd-err"; tail -c 3000 /tmp/tierd.err; echo "=== END tierd-err"
kill -TERM $pp; wait $pp
echo "=== BEGIN prom-log"; tail -c 2000 /tmp/prom.log; echo "=== END prom-log"
kill -TERM $w $tk; wait $w; rmdir $CG/web
'''
subst = {
    '@WORKLOAD_SH@': WORKLOAD_SH,
    '@Q_RANGE@': api('query', query='{__name__=~"tierd_.+", job="tierd"}[10m]'),
    '@Q_UP@': api('query', query='up{job="tierd"}'),
    '@Q_GROW@': api('query', query='max_over_time(tierd_periods_total[10m]) - min_over_time(tierd_periods_total[10m])'),
    '@Q_RESETS@': api('query', query='resets(tierd_periods_total[10m])'),
    '@Q_META@': api('metadata', metric='tierd_migrated_bytes_total'),
}
for k, v in subst.items():
    GUEST = GUEST.replace(k, v)

status, out = run_vm(kernel, GUEST, build, timeout=900,
                     extra=('--fast', '1G', '--add', f'{prometheus}:/usr/bin/prometheus'))
if os.environ.get('TEST_METRICS_DUMP'):
    with open(os.environ['TEST_METRICS_DUMP'], 'w') as f:
        f.write(out)
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)
t.eq((s.get('numa_balancing') or '').strip(), '0', 'kernel.numa_balancing is 0')
ready = (s.get('prom-ready') or '').strip()
t.ok(ready.isdigit() and int(ready) <= 240, f'prometheus ready in the guest (after {ready} polls of 0.5 s)',
     s.get('prom-log'))
first = (s.get('first') or '').strip()
t.ok(first in ('503', '200'), f'the endpoint\'s first answer: {first} (503 until the first period ends)')

direct = []
for n in (1, 2, 3):
    text = s.get(f'direct-{n}') or ''
    try:
        fam, smp = exposition.parse(text)
    except (ValueError, IndexError) as e:
        t.ok(False, f'guest scrape {n} parses', f'{e}\n{text[:2000]}')
        continue
    direct.append((fam, smp))
t.eq(len(direct), 3, 'the guest\'s three scrapes of tierd parse as the text format')
if not direct:
    t.done()
fam, last = direct[-1]
t.ok(all(f.get('type') in ('gauge', 'counter') and f.get('help') for f in fam.values()),
     f'all {len(fam)} families have HELP and TYPE')


def one(samples, name, **labels):
    hits = [v for (n, ls), v in samples.items() if n == name and all(dict(ls).get(k) == w for k, w in labels.items())]
    return hits[0] if len(hits) == 1 else None


# the Prometheus side: every tierd series with all its samples
rng = parse_json(t, s.get('q-range'), 'the range query') or {}
series = rng.get('data', {}).get('result', []) if rng.get('status') == 'success' else []
t.ok(len(series) >= len(last) - 4, f'Prometheus holds {len(series)} tierd series (the last guest scrape has {len(last)})')
by_ts = {}
for x in series:
    m = dict(x['metric'])
    name = m.pop('__name__')
    m.pop('job', None)
    m.pop('instance', None)
    key = (name, tuple(sorted(m.items())))
    for ts, v in x.get('values', []):
        by_ts.setdefault(ts, {})[key] = float(v)
matched = []
for i, (_, smp) in enumerate(direct):
    p = smp.get(('tierd_periods_total', ()))
    for ts in sorted(by_ts):
        if by_ts[ts].get(('tierd_periods_total', ())) == p:
            matched.append((i + 1, ts, smp, by_ts[ts]))
            break
t.ok(len(matched) >= 1, f'Prometheus scraped the snapshot of {len(matched)} of the 3 guest scrapes '
     '(same tierd_periods_total)', sorted({v.get(('tierd_periods_total', ())) for v in by_ts.values()}))
for n, ts, smp, prom in matched:
    t.eq(sorted(set(prom) ^ set(smp)), [], f'scrape {n}: Prometheus holds the same {len(smp)} series at {ts}')
    diff = [(k, prom[k], smp[k]) for k in smp if k in prom and prom[k] != smp[k]]
    t.eq(diff, [], f'scrape {n}: every value equal')

up = parse_json(t, s.get('q-up'), 'up') or {}
t.eq([r['value'][1] for r in up.get('data', {}).get('result', [])], ['1'], 'up{job="tierd"} is 1')
grow = parse_json(t, s.get('q-grow'), 'periods growth') or {}
g = [float(r['value'][1]) for r in grow.get('data', {}).get('result', [])]
t.ok(len(g) == 1 and g[0] >= 3, f'tierd_periods_total grew by {g} while scraped')
resets = parse_json(t, s.get('q-resets'), 'resets') or {}
t.eq([r['value'][1] for r in resets.get('data', {}).get('result', [])], ['0'], 'without a counter reset')
meta = parse_json(t, s.get('q-meta'), 'metadata') or {}
t.eq([m.get('type') for m in meta.get('data', {}).get('tierd_migrated_bytes_total', [])], ['counter'],
     'Prometheus knows tierd_migrated_bytes_total as a counter')

# what the daemon did, as the series say
info = [dict(ls) for (n, ls) in last if n == 'tierd_build_info']
t.ok(len(info) == 1 and info[0].get('scanner') == 'bpf' and info[0].get('mover') == 'move_pages' and info[0].get('version'),
     'tierd_build_info names version, scanner bpf and the mover really used (auto: move_pages)', info)
tinfo = [dict(ls) for (n, ls) in last if n == 'tierd_tenant_info' and dict(ls).get('cgroup') == 'web']
t.ok(len(tinfo) == 1 and tinfo[0].get('mode') == 'enforce' and tinfo[0].get('class'),
     'tierd_tenant_info{cgroup="web"}: class and mode enforce', tinfo)
t.eq(one(last, 'tierd_tenant_tier_max_bytes', cgroup='web', tier='0'), float(16 * MIB), 'web tier0.max is 16 MiB')
t.eq(one(last, 'tierd_tenant_tier_max_bytes', cgroup='web', tier='1'), None, 'no tier-1 limit series')
dem = one(last, 'tierd_migrated_bytes_total', cgroup='web', direction='demote')
t.ok(dem is not None and dem > 0, f'web demoted bytes counter: {dem}')
tb = [one(last, 'tierd_tenant_tier_bytes', cgroup='web', tier=x) for x in ('0', '1')]
t.ok(None not in tb and sum(tb) >= 0.9 * 64 * MIB, f'web tier bytes {tb} add up to the 64 MiB workload')
cpu = one(last, 'tierd_scan_cpu_seconds_total', backend='bpf')
t.ok(cpu is not None and cpu > 0, f'scan CPU seconds of the bpf backend: {cpu}')
for n, ts, smp, prom in matched[:1]:
    t.eq(prom.get(('tierd_tier_capacity_bytes', (('nodes', '1'), ('tier', '1')))),
         smp.get(('tierd_tier_capacity_bytes', (('nodes', '1'), ('tier', '1')))), 'tier 1 (node 1) capacity in both')

rc = (s.get('tierd-rc') or '').strip()
err = s.get('tierd-err') or ''
t.ok(rc == '0' and 'runtime error' not in err and 'Sanitizer' not in err, 'tierd exits 0 on SIGTERM',
     f'rc {rc!r}\n{err[-2000:]}')
t.done()
