#!/usr/bin/env python3
"""vm suite: tenants against the real cgroupfs, one boot: annotations
through tierctl and setfattr read back; nested cgroups inherit and clamp; a
delegated subtree (uid 1000) cannot raise its class or limit through user.
annotations and explain says so, nor through a shipped rule matching a cgroup
it named (kubepods/pod-x stays batch); systemd's trusted.delegate marks a
root-owned subtree delegated; bad values are reported and fall back;
annotate validates before writing; a workload bound to node 1 shows up as
tier-1 bytes; tierd's period JSON and tierctl explain agree on the tenants
of a nested delegated tree: which cgroups are tenants, their class, limits
and processes.

usage: test-tenants.py stock|idle BUILD_DIR"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap, parse_json, run_vm, sections  # noqa: E402

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to install the testbed packages and cache kernels')

GUEST = r'''
CG=/sys/fs/cgroup
sec() { n=$1; shift; echo "=== BEGIN $n"; "$@" 2>&1; echo "rc=$?"; echo "=== END $n"; }
mkdir -p $CG/a/b/c $CG/deleg/t $CG/w $CG/bad
echo +memory > $CG/a/cgroup.subtree_control
echo +memory > $CG/a/b/cgroup.subtree_control
echo +memory > $CG/deleg/cgroup.subtree_control

# 1. annotations via tierctl and via setfattr, read back both ways
sec annotate-a tierctl annotate a tier0.max=1G promote.rate=32M
sec getfattr-a getfattr -d -m '^trusted\.tierd\.' $CG/a
setfattr -n trusted.tierd.class -v batch $CG/a/b
setfattr -n trusted.tierd.tier0.max -v 4G $CG/a/b
sec explain-b tierctl --json explain a/b
sec explain-c tierctl explain /sys/fs/cgroup/a/b/c --json

# 2. delegation: deleg is the operator's, deleg/t belongs to uid 1000
tierctl annotate deleg class=batch tier0.max=256M
chown -R 1000:1000 $CG/deleg/t
sec user-raise as-user 1000 1000 setfattr -n user.tierd.class -v critical $CG/deleg/t
as-user 1000 1000 setfattr -n user.tierd.tier0.max -v 1G $CG/deleg/t
as-user 1000 1000 setfattr -n user.tierd.promote.rate -v max $CG/deleg/t
sec explain-deleg tierctl --json explain deleg/t
sec explain-deleg-text tierctl explain deleg/t
sec user-trusted as-user 1000 1000 tierctl annotate deleg/t class=critical
sec user-tighten as-user 1000 1000 tierctl --user annotate deleg/t tier0.max=64M
sec explain-deleg2 tierctl --json explain deleg/t

# 2b. a rule cannot raise a delegated cgroup: uid 1000 creates kubepods/pod-x
# in its deleg/t (class batch from deleg); the shipped rule **/kubepods/pod*
# (latency) matched a name the user chose, so it can only tighten
as-user 1000 1000 mkdir -p $CG/deleg/t/kubepods/pod-x
as-user 1000 1000 sh -c "echo +memory > $CG/deleg/t/cgroup.subtree_control"
as-user 1000 1000 sh -c "echo +memory > $CG/deleg/t/kubepods/cgroup.subtree_control"
sec explain-pod tierctl --json explain deleg/t/kubepods/pod-x

# 2c. systemd's delegate xattr on a root-owned subtree (a rootful container
# manager without user namespaces, Delegate=yes): root's user.tierd.* there
# and the rules below it can only tighten
mkdir -p $CG/ctr/inner/kubepods/pod-y
setfattr -n trusted.delegate -v 1 $CG/ctr
tierctl annotate ctr class=batch
setfattr -n user.tierd.class -v critical $CG/ctr/inner
sec explain-ctr-inner tierctl --json explain ctr/inner
sec explain-ctr-pod tierctl --json explain ctr/inner/kubepods/pod-y

# 3. bad values: reported, fall back, nothing else lost
setfattr -n trusted.tierd.tier0.max -v 12Q $CG/bad
setfattr -n trusted.tierd.mode -v observe $CG/bad
setfattr -n user.tierd.class -v gold $CG/bad
sec explain-bad tierctl --json explain bad
sec annotate-invalid tierctl annotate bad class=latency tier0.low=150%
sec getfattr-bad getfattr -d -m '^trusted\.tierd\.' $CG/bad
sec annotate-invalid-json sh -c 'tierctl --json annotate bad nosuchkey=1 2>/dev/null'

# 4. a workload bound to node 1: 64 MiB held by a shell variable
sh -c 'echo $$ > /sys/fs/cgroup/w/cgroup.procs; exec numactl --membind=1 sh -c "x=\$(yes abcdefgh | head -c 67108864); touch /tmp/ready; sleep 60; echo \${#x} > /dev/null"' &
while [ ! -e /tmp/ready ]; do sleep 0.2; done
sec show-w tierctl --json show w
sec show-all tierctl show

# 5. tierd and tierctl on one nested delegated tree: nest is the
# operator's (latency, 512M); nest/u belongs to uid 1000, who gives
# nest/u/app a tier0.max of 128M and tries to raise nest/u/app2 to
# critical (refused). A process in each leaf (cgroup v2 keeps processes
# out of cgroups that give the memory controller to their children).
mkdir -p $CG/nest/u/app $CG/nest/u/app2
echo +memory > $CG/nest/cgroup.subtree_control
echo +memory > $CG/nest/u/cgroup.subtree_control
tierctl annotate nest class=latency tier0.max=512M
chown -R 1000:1000 $CG/nest/u
as-user 1000 1000 setfattr -n user.tierd.tier0.max -v 128M $CG/nest/u/app
as-user 1000 1000 setfattr -n user.tierd.class -v critical $CG/nest/u/app2
for c in nest/u/app nest/u/app2 deleg/t/kubepods/pod-x; do
        sh -c "echo \$\$ > $CG/$c/cgroup.procs; exec sleep 120" &
done
sleep 1
# One working period is all this compares: --period 1s instead of the
# shipped 10s, and the lru_gen scanner, whose arming takes one period
# (the shipped auto picks bpf here, which arms for two); the tenant set
# does not depend on either.
sec daemon-nest tierd --once --json --period 1s --backend lru_gen --control-socket ''
for c in nest nest/u nest/u/app nest/u/app2; do sec "explain-$c" tierctl --json explain $c; done
'''

status, out = run_vm(kernel, GUEST, build, timeout=300,
                     extra=('--add', os.path.join(TOP, 'config', 'tierd.json') + ':/etc/tierd/tierd.json'))
if not t.ok(status == 0, f'{kernel}: VM booted and the guest script ran', f'status {status}\n{out[-3000:]}'):
    t.done()
s = sections(out)


def body(name):
    """(text without the rc line, rc)"""
    txt = s.get(name, '')
    lines = txt.splitlines()
    rc = None
    if lines and lines[-1].startswith('rc='):
        rc = int(lines[-1][3:])
        lines = lines[:-1]
    return '\n'.join(lines), rc


def js(name):
    txt, rc = body(name)
    return parse_json(t, txt, name), rc


txt, rc = body('annotate-a')
t.eq(rc, 0, 'tierctl annotate a tier0.max=1G promote.rate=32M succeeds')
txt, rc = body('getfattr-a')
t.ok('trusted.tierd.tier0.max="1G"' in txt and 'trusted.tierd.promote.rate="32M"' in txt,
     'getfattr reads back what tierctl wrote', txt)

j, rc = js('explain-b')
if j:
    p = j['policy']
    t.eq((p['class']['value'], p['class']['source']), ('batch', 'trusted'), 'setfattr class read back by explain')
    t.eq(p['tier0.max']['bytes'], 1 << 30, 'a/b tier0.max=4G clamped to the parent a: 1G')
    t.ok(p['tier0.max']['where'] == 'a' and 'clamped' in p['tier0.max'].get('note', ''),
         'explain says the clamp came from a', p['tier0.max'])
    t.eq(p['promote.rate']['value'], '32M', 'a/b inherits a promote.rate clamp of 32M')
j, rc = js('explain-c')
if j:
    p = j['policy']
    t.eq(j['cgroup'], 'a/b/c', 'explain accepts an absolute cgroupfs path')
    t.eq((p['class']['value'], p['tier0.max']['bytes']), ('batch', 1 << 30),
         'grandchild a/b/c inherits class batch and the 1G limit')

txt, rc = body('user-raise')
t.eq(rc, 0, 'uid 1000 can write user.tierd.* on its own delegated cgroup (cgroupfs allows it)')
j, rc = js('explain-deleg')
if j:
    p = j['policy']
    t.ok(j['delegated'] and j['owner_uid'] == 1000, 'deleg/t is seen as delegated to uid 1000', j)
    t.eq(p['class']['value'], 'batch', 'delegated user.tierd.class=critical does not raise the class')
    t.ok('refused' in p['class'].get('note', ''), 'explain says the class annotation was refused', p['class'])
    t.eq(p['tier0.max']['bytes'], 256 << 20, 'delegated user.tierd.tier0.max=1G does not raise the 256M limit')
    t.ok('refused' in p['tier0.max'].get('note', ''),
         'explain says the limit annotation was refused', p['tier0.max'])
    t.ok(p['promote.rate']['value'] != 'max' and 'refused' in p['promote.rate'].get('note', ''),
         'delegated user.tierd.promote.rate=max refused', p['promote.rate'])
j, rc = js('explain-pod')
if j:
    c = j['policy']['class']
    t.eq((c['value'], c['source'], c.get('where')), ('batch', 'trusted', 'deleg'),
         "the delegated kubepods/pod-x stays at its ancestor's class (batch, trusted.tierd on deleg)")
    t.ok('rules[8] class=latency refused' in c.get('note', ''),
         'explain says the shipped rule **/kubepods/pod* (latency) was refused', c)
j, rc = js('explain-ctr-inner')
if j:
    c = j['policy']['class']
    t.ok(j['delegated'] and j['owner_uid'] == 0, 'root-owned ctr/inner below trusted.delegate=1 is delegated', j)
    t.eq((c['value'], c['source']), ('batch', 'trusted'),
         "its user.tierd.class=critical does not raise it above ctr's batch")
    t.ok('user.tierd.class=critical refused' in c.get('note', '') and 'below delegated ctr' in c.get('note', ''),
         'explain names the delegation point', c)
j, rc = js('explain-ctr-pod')
if j:
    t.eq(j['policy']['class']['value'], 'batch', 'the rule **/kubepods/pod* does not raise ctr/inner/kubepods/pod-y')
txt, rc = body('explain-deleg-text')
t.ok(rc == 0 and 'refused' in txt and 'delegated' in txt, 'human explain shows the refusal', txt)
txt, rc = body('user-trusted')
t.ok(rc == 1 and 'CAP_SYS_ADMIN' in txt, 'uid 1000 cannot write trusted.* via tierctl, and is told why', txt)
txt, rc = body('user-tighten')
t.eq(rc, 0, 'uid 1000 can tighten with tierctl --user annotate')
j, rc = js('explain-deleg2')
if j:
    p = j['policy']
    t.ok(p['tier0.max']['bytes'] == 64 << 20 and p['tier0.max']['source'] == 'user',
         'the tightening user.tierd.tier0.max=64M applies', p['tier0.max'])

j, rc = js('explain-bad')
if j:
    errs = j['errors']
    t.ok('bad: trusted.tierd.tier0.max: "12Q" is not a size' in errs, 'bad size reported with cgroup, key, value, why',
         errs)
    t.ok(any('user.tierd.class: "gold"' in e for e in errs), 'unknown class reported', errs)
    t.eq(j['policy']['tier0.max']['bytes'], None, 'bad tier0.max falls back to no limit')
    t.eq((j['policy']['mode']['value'], j['policy']['mode']['source']), ('observe', 'trusted'),
         'the good annotation next to the bad ones still applies')
txt, rc = body('annotate-invalid')
t.ok(rc == 1 and '150%' in txt and 'tier0.low' in txt, 'annotate rejects tier0.low=150% naming key and value', txt)
txt, rc = body('getfattr-bad')
t.ok('class' not in txt.replace('trusted.tierd.mode', ''), 'the valid class=latency of the rejected command was not written',
     txt)
j, rc = js('annotate-invalid-json')
t.ok(rc == 1 and j is not None and 'nosuchkey' in j.get('error', ''), 'annotate --json error is JSON', j)

j, rc = js('show-w')
if j:
    w = [c for c in j['cgroups'] if c['cgroup'] == 'w']
    if t.ok(len(w) == 1, 'show w lists w', j['cgroups']):
        tiers = {x['tier']: x['bytes'] for x in w[0]['tiers']}
        want = 64 << 20
        t.ok(abs(tiers.get(1, 0) - want) <= want * 0.05,
             f'workload bound to node 1: tier-1 bytes {tiers.get(1, 0)} within 5% of {want}', w[0])
        t.ok(tiers.get(0, 0) < want * 0.05, 'and almost nothing on tier 0', tiers)
    t.eq([x['nodes'] for x in j['tiers']], [[0], [1]], 'show lists the two tiers')
txt, rc = body('show-all')
t.ok(rc == 0 and 'deleg/t' in txt and 'a/b/c' in txt, 'human show lists every cgroup', txt)

txt, rc = body('daemon-nest')
period = None
for line in txt.splitlines():
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if isinstance(o, dict) and 'tenants' in o:
        period = o
if t.ok(rc == 0 and period is not None, 'tierd --once --json printed a period', txt[-2000:]):
    tenants = {x['cgroup']: x for x in period['tenants']}
    for c in ('nest', 'nest/u', 'nest/u/app', 'nest/u/app2'):
        e = js(f'explain-{c}')[0] or {}
        is_t = e.get('tenant', {}).get('is_tenant')
        if not t.eq(c in tenants, is_t, f'{c}: a tenant for tierd exactly when tierctl explain says so ({is_t})') \
                or not is_t:
            continue
        d = tenants[c]
        t.eq(d['class'], e['policy']['class']['value'], f'{c}: the same class ({d["class"]})')
        t.eq(d['tier_max'][0], e['policy']['tier0.max']['bytes'], f'{c}: the same tier0.max ({d["tier_max"][0]})')
        t.eq(d['pids'], e['tenant']['pids'], f'{c}: the same number of processes ({d["pids"]})')
    t.eq(tenants.get('nest', {}).get('tier_max', [None])[0], 512 << 20, 'nest: tier0.max 512M')
    t.eq((tenants.get('nest/u/app', {}).get('tier_max', [None])[0], tenants.get('nest/u/app', {}).get('pids')),
         (128 << 20, 1), "nest/u/app: its own tier0.max 128M, and its process")
    t.eq(tenants.get('nest/u/app2', {}).get('class'), 'latency', 'nest/u/app2: the raise to critical refused for both')
    pod = 'deleg/t/kubepods/pod-x'
    owner = pod if pod in tenants else 'deleg/t'
    t.ok(tenants.get(owner, {}).get('class') == 'batch' and tenants[owner].get('pids', 0) >= 1,
         f'{pod} is no latency tenant for tierd: its process is in the batch tenant {owner}',
         {k: (v.get('class'), v.get('pids')) for k, v in tenants.items()})
t.done()
