#!/usr/bin/env python3
"""host suite: deploy/grafana/tierd-dashboard.json is valid JSON, uses a
Prometheus datasource variable in every panel, lays its panels out without
overlap, and queries only metrics (and labels of them) that metrics_render()
emits, read from `metrics-serve --render` of the test snapshot; counters are
only graphed through rate()/increase()."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402
import exposition  # noqa: E402

metrics_serve = sys.argv[1]
DASHBOARD = os.path.join(TOP, 'deploy', 'grafana', 'tierd-dashboard.json')
SNAPSHOT = os.path.join(TOP, 'test', 'fixtures', 'metrics', 'snapshot.json')
t = Tap()

try:
    with open(DASHBOARD) as f:
        dash = json.load(f)
    t.ok(True, 'the dashboard parses as JSON')
except (OSError, ValueError) as e:
    t.bail(f'{DASHBOARD}: {e}')

p = subprocess.run([metrics_serve, '--render', SNAPSHOT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
if p.returncode != 0:
    t.bail(f'metrics-serve --render failed: {p.stderr}')
families, samples = exposition.parse(p.stdout)
labels_of = {}
for (name, labels) in samples:
    labels_of.setdefault(name, set()).update(k for k, _ in labels)
t.ok(len(families) >= 20 and all(v.get('type') for v in families.values()),
     f'metrics-serve renders {len(families)} typed families', sorted(families))

variables = dash.get('templating', {}).get('list', [])
dsvars = [v for v in variables if v.get('type') == 'datasource']
t.ok(len(dsvars) == 1 and dsvars[0].get('query') == 'prometheus' and dsvars[0].get('name') == 'datasource',
     'one datasource variable "datasource" of type prometheus', dsvars)
t.ok(dash.get('uid') and dash.get('title') and isinstance(dash.get('schemaVersion'), int),
     'title, uid and schemaVersion set')

panels = dash.get('panels', [])
ids = [pn.get('id') for pn in panels]
t.eq(len(ids), len(set(ids)), 'panel ids are unique')
graphs = [pn for pn in panels if pn.get('type') != 'row']
DS = {'type': 'prometheus', 'uid': '${datasource}'}
bad_ds = [pn['title'] for pn in graphs
          if pn.get('datasource') != DS or any(tg.get('datasource') != DS for tg in pn.get('targets', []))]
t.eq(bad_ds, [], 'every panel and target queries the ${datasource} variable')
t.eq([pn['title'] for pn in graphs if not pn.get('targets') or not all(tg.get('expr') for tg in pn['targets'])], [],
     'every panel has targets with an expression')
refids = [pn['title'] for pn in graphs if len({tg.get('refId') for tg in pn['targets']}) != len(pn['targets'])]
t.eq(refids, [], 'refIds are unique within each panel')

# layout: inside 24 columns, no two panels overlapping
cells, overlaps = {}, []
for pn in panels:
    g = pn.get('gridPos', {})
    if g.get('x', 0) + g.get('w', 0) > 24 or g.get('w', 0) <= 0 or g.get('h', 0) <= 0:
        overlaps.append(f'{pn.get("title")}: gridPos {g}')
        continue
    for x in range(g['x'], g['x'] + g['w']):
        for y in range(g['y'], g['y'] + g['h']):
            if (x, y) in cells:
                overlaps.append(f'{pn.get("title")} overlaps {cells[(x, y)]}')
            cells[(x, y)] = pn.get('title')
t.eq(sorted(set(overlaps)), [], 'panels fit 24 columns and do not overlap')

# metric names and labels
NAME = re.compile(r'\b(tierd_[a-z0-9_]+)')
exprs = [(pn['title'], tg) for pn in graphs for tg in pn['targets']]
queries = [tg['expr'] for _, tg in exprs]
for v in variables:
    q = v.get('query')
    if isinstance(q, dict):
        q = q.get('query')
    if v.get('type') == 'query':
        queries.append(q or '')
used = set()
for q in queries:
    used.update(NAME.findall(q))
t.eq(sorted(used - set(families)), [], f'the {len(used)} metric names the dashboard queries are all rendered')
for want in ('tierd_tenant_tier_bytes', 'tierd_migrated_bytes_total', 'tierd_scan_cpu_seconds_total',
             'tierd_tenant_hot_bytes', 'tierd_tenant_cold_bytes'):
    t.ok(want in used, f'a panel queries {want}')
t.ok(any(re.search(r'rate\(tierd_migrated_bytes_total\{', q) for q in queries), 'migration rates are rate() of the counter')
t.ok(any(re.search(r'rate\(tierd_scan_cpu_seconds_total\{', q) for q in queries), 'scan CPU is rate() of the counter')

raw_counters = []
for title, tg in exprs:
    for m in NAME.finditer(tg['expr']):
        name = m.group(1)
        if families.get(name, {}).get('type') != 'counter':
            continue
        # the counter's selector must sit inside rate( / increase(
        before = tg['expr'][:m.start()]
        if not re.search(r'(rate|increase)\(\s*$', before):
            raw_counters.append(f'{title}: {tg["expr"]}')
t.eq(raw_counters, [], 'counters are only graphed through rate() or increase()')

unknown_labels = []
for title, tg in exprs:
    names = NAME.findall(tg['expr'])
    allowed = {'instance', 'job'}.union(*(labels_of.get(n, set()) for n in names))
    refs = set()
    for grp in re.findall(r'\b(?:by|on|without|ignoring)\s*\(([^)]*)\)', tg['expr']):
        refs.update(x.strip() for x in grp.split(',') if x.strip())
    for sel in re.findall(r'\{([^}]*)\}', tg['expr']):
        refs.update(re.findall(r'([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)', sel))
    refs.update(re.findall(r'\{\{\s*(\w+)\s*\}\}', tg.get('legendFormat', '')))
    for r in sorted(refs - allowed):
        unknown_labels.append(f'{title}: label {r} is not on {names}')
t.eq(unknown_labels, [], 'every label a query or legend names is a label of the metrics it reads')

t.done()
