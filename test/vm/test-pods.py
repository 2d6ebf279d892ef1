#!/usr/bin/env python3
"""vm suite: pods from Kubernetes YAML under a real container runtime, one
boot of the systemd guest (test/vm/run-systemd: Debian 12, systemd as PID 1,
podman 4.3 with crun from Debian's packages, test/vm/systemd-guest/mkroot).

In the guest: tierd-oci-hook's shipped hooks.d entry
(deploy/kubernetes/tierd-hook.json) in /etc/containers/oci/hooks.d, which
podman 4.3 reads only when containers.conf's hooks_dir names it (the
operator's step, like CRI-O's hooks_dir); tierd.service with the shipped
configuration plus a drop-in of the two settings this test is about:
pods.grants letting the namespaces prod-* ask for the class latency, and
metrics.listen for the scrape. A local image holds the build's workload
helper (the guest has no registry). `podman kube play --network none` runs
two pods of one YAML file, each a workload of 64 MiB with a 16 MiB hot set:

  shop (namespace prod-eu)  tierd.io/class: latency, tierd.io/tier0.max: 32M
  cart (namespace dev)      tierd.io/class: latency

Podman 4.3 ignores metadata.namespace and sets none of the identity
annotations a Kubernetes runtime sets (io.kubernetes.pod.name,
io.kubernetes.pod.namespace, io.kubernetes.container.name; it sets only
io.kubernetes.cri-o.ContainerType and SandboxID), but passes a pod's
annotations on to its containers: the YAML carries those three as
annotations, standing in for what CRI-O sets on every container.

Checks: the hook recorded the pods' requests and names on their cgroups;
tierd gives shop's cgroup class latency and tier0.max 32M and brings its
fast-tier memory down to the limit while its memory stays resident;
`tierctl show` and `tierctl show --namespace prod-eu` name the pod and the
container; the metrics' tenant series carry namespace and pod; cart's
request is refused (`tierctl explain` says why, the journal has one
pod_refused line) and it keeps the class of its cgroup's rule (standard);
after `podman kube down` no pod cgroup, tenant or file under /run/tierd
names them, and the hook logged nothing.

usage: test-pods.py stock BUILD_DIR"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap, sections  # noqa: E402

MIB = 1024 * 1024
LIMIT = 32 * MIB

kernel, build = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('needs root to debootstrap the guest root and cache kernels')
for f in ('systemd/tierd.service', 'hook/tierd-oci-hook', 'test/helpers/workload'):
    if not os.path.exists(os.path.join(build, f)):
        t.skip_all(f'{build} has no {f}')

# The pod YAML as its author writes it, plus the three identity
# annotations podman does not set (see above).
PODS = '''apiVersion: v1
kind: Pod
metadata:
  name: shop
  namespace: prod-eu
  annotations:
    tierd.io/class: latency
    tierd.io/tier0.max: 32M
    io.kubernetes.pod.name: shop
    io.kubernetes.pod.namespace: prod-eu
    io.kubernetes.container.name: db
spec:
  containers:
    - name: db
      image: localhost/workload:1
      command: ["/bin/workload", "--size", "64", "--hot", "16"]
---
apiVersion: v1
kind: Pod
metadata:
  name: cart
  namespace: dev
  annotations:
    tierd.io/class: latency
    io.kubernetes.pod.name: cart
    io.kubernetes.pod.namespace: dev
    io.kubernetes.container.name: app
spec:
  containers:
    - name: app
      image: localhost/workload:1
      command: ["/bin/workload", "--size", "32", "--hot", "8"]
'''

GUEST = r'''
sec() { echo "=== BEGIN $1"; shift; "$@" 2>&1; echo "rc=$?"; echo "=== END $1"; }
up() { cut -d' ' -f1 /proc/uptime; }
scrape() { bash -c 'exec 3<>/dev/tcp/127.0.0.1/9464 && printf "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n" >&3 && cat <&3'; }
echo "=== BEGIN t-start"; up; echo "=== END t-start"

# The operator's steps: the hook's hooks.d entry, and podman told to read
# that folder (it reads only /usr/share/containers/oci/hooks.d by default).
mkdir -p /etc/containers/oci/hooks.d /etc/containers/containers.conf.d
cp /extra/tierd-hook.json /etc/containers/oci/hooks.d/tierd.json
printf '[engine]\nhooks_dir = ["/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d"]\n' \
	> /etc/containers/containers.conf.d/50-tierd.conf

# tierd: the shipped configuration and a drop-in with the grant, the
# metrics endpoint, and 2 s scanner periods without a CPU budget (the
# shipped 10 s and 5% take minutes under TCG to find a tenant's cold
# pages; the test has about a minute).
unit=$(systemctl show -p FragmentPath --value tierd)
cfg=$(sed -n 's/^ExecStart=.* --config \([^ ]*\).*/\1/p' "$unit" | head -n1)
mkdir -p "$(dirname "$cfg")/tierd.d"
cat > "$(dirname "$cfg")/tierd.d/50-pods.json" <<'CFG'
{ "pods": { "grants": [ { "namespaces": ["prod-*"], "classes": ["latency"] } ] },
  "metrics": { "listen": "127.0.0.1:9464" },
  "scanner": { "period": "2s", "cpu_budget": "100%" } }
CFG
# The stock kernel's scanner here is lru_gen, whose demotions (byte
# counts, no addresses) go through memory.reclaim: they demote only with
# demotion_enabled (as test-enforce's "rl" case sets it).
echo true > /sys/kernel/mm/numa/demotion_enabled
sec start systemctl start tierd

# The image: the workload helper and its libraries.
mkdir -p /root/img/bin
cp /opt/tierd/bin/workload /root/img/bin/
for l in $(ldd /opt/tierd/bin/workload | awk '/=>/ { print $3 } /^\t\// { print $1 }'); do
	mkdir -p /root/img$(dirname $l); cp -L $l /root/img$l
done
tar -C /root/img -c . | podman import -q - localhost/workload:1 > /dev/null
echo "=== BEGIN t-image"; up; echo "=== END t-image"
# On CPU 0, node 0's (the containers inherit podman's affinity): the
# workloads' memory starts on the fast tier, as a new tenant's would on a
# node whose CPUs are all the fast tier's.
sec play taskset -c 0 podman kube play --network none /extra/pods.yaml
echo "=== BEGIN t-play"; up; echo "=== END t-play"
shop=$(podman pod inspect --format '{{.CgroupPath}}' shop)
cart=$(podman pod inspect --format '{{.CgroupPath}}' cart)
echo "=== BEGIN cgroups"; echo "$shop"; echo "$cart"; echo "=== END cgroups"
ids=$(podman pod ps -q --no-trunc | tr '\n' ' ')
echo "=== BEGIN ids"; echo $ids; podman ps -aq --no-trunc | tr '\n' ' '; echo; echo "=== END ids"

# Until tierd holds shop's fast-tier memory at its limit, at most 90 s.
st() { tierctl --json status 2>/dev/null | tr -d ' \n'; }
shop0() { st | sed -n 's/.*"pod":"shop",[^}]*"tier_bytes":\[\([0-9]*\),.*/\1/p'; }
i=0
while [ $i -lt 90 ]; do
	v=$(shop0)
	[ -n "$v" ] && [ "$v" -le 34603008 ] && st | grep -q '"pod":"cart"' && break
	sleep 2; i=$((i+2))
done
echo "=== BEGIN t-limit"; up; echo "waited $i s, shop's tier 0 bytes $v"; echo "=== END t-limit"
sec status tierctl --json status
sec show tierctl --config "$cfg" show machine.slice
sec show-ns tierctl --config "$cfg" --json show --namespace prod-eu
sec explain-shop tierctl --config "$cfg" explain "$shop"
sec explain-cart tierctl --config "$cfg" explain "$cart"
echo "=== BEGIN metrics"; scrape; echo "=== END metrics"
sec journal-pods journalctl -u tierd -o json --output-fields=MESSAGE,TIERD_EVENT,PRIORITY

sec down podman kube down /extra/pods.yaml
echo "=== BEGIN t-down"; up; echo "=== END t-down"
# A period for tierd to drop them.
sleep 3
sec after-cgroups find /sys/fs/cgroup -name '*libpod*'
sec after-status tierctl --json status
sec after-run find /run/tierd
echo "=== BEGIN after-run-grep"; grep -rl -e shop -e cart -e prod-eu $(for x in $ids; do printf -- '-e %s ' $x; done) /run/tierd 2>/dev/null; echo "=== END after-run-grep"
sec hook-log journalctl -t tierd-oci-hook -o cat
sec journal journalctl -u tierd -o json --output-fields=MESSAGE,TIERD_EVENT,PRIORITY
sec stop systemctl stop tierd
echo "=== BEGIN t-end"; up; echo "=== END t-end"
'''

pods_file = os.path.join(build, 'test-pods.yaml')
with open(pods_file, 'w') as f:
    f.write(PODS)
cmd = [os.path.join(TOP, 'test', 'vm', 'run-systemd'), '--kernel', kernel, '--build', build,
       '--numa-balancing', '0', '--timeout', '600',
       '--add', f'{pods_file}:/extra/pods.yaml',
       '--add', f'{os.path.join(TOP, "deploy", "kubernetes", "tierd-hook.json")}:/extra/tierd-hook.json',
       '--', 'sh', '-c', GUEST]
p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=900)
sys.stderr.write(p.stderr)
out = p.stdout
# the whole console, for a failure's details
with open(os.path.join(build, 'test-pods.console'), 'w') as f:
    f.write(out)
if not t.ok(p.returncode == 0, f'{kernel}: systemd guest booted and the guest script ran',
            f'status {p.returncode}\nstderr (end):\n{p.stderr[-1500:]}\nconsole (end):\n{out[-3000:]}'):
    t.done()
s = sections(out)


def rc(name):
    m = re.search(r'^rc=(\d+)$', s.get(name) or '', re.M)
    return int(m.group(1)) if m else None


def body(name):
    text = s.get(name) or ''
    m = re.search(r'^rc=\d+$', text, re.M)
    return text[:m.start()] if m else text


def js(name):
    try:
        return json.loads(body(name))
    except ValueError:
        return None


def secs(name):
    try:
        return float((s.get(name) or '').split()[0])
    except (IndexError, ValueError):
        return None


t0, tend = secs('t-start'), secs('t-end')
if t0 is not None and tend is not None:
    print(f'# guest script: {tend - t0:.1f} s (image {secs("t-image") - t0:.1f} s, kube play '
          f'{secs("t-play") - secs("t-image"):.1f} s, limit reached {secs("t-limit") - secs("t-play"):.1f} s after, '
          f'kube down {secs("t-down") - secs("t-limit"):.1f} s)')

t.eq(rc('start'), 0, 'systemctl start tierd (shipped configuration + pods.grants and metrics.listen drop-in)')
t.ok(rc('play') == 0, 'podman kube play --network none: two pods from one YAML file', body('play'))
cg = (s.get('cgroups') or '').split()
t.ok(len(cg) == 2 and all(re.match(r'machine\.slice/machine-libpod_pod_[0-9a-f]+\.slice$', c) for c in cg),
     "podman's pod cgroups under machine.slice", cg)
shop_cg, cart_cg = (cg + ['?', '?'])[:2]

st = js('status') or {}
tenants = {x.get('cgroup'): x for x in st.get('tenants', [])}
print(f'# tenants: {[(x.get("cgroup"), x.get("namespace"), x.get("pod"), x.get("class")) for x in st.get("tenants", [])]}')
shop = tenants.get(shop_cg) or {}
cart = tenants.get(cart_cg) or {}
t.ok((shop.get('cgroup'), shop.get('namespace'), shop.get('class')) == (shop_cg, 'prod-eu', 'latency'),
     'tierd: shop (namespace prod-eu, granted) is a tenant on its pod cgroup with class latency', shop)
t.ok((shop.get('tier_max') or [None])[0] == LIMIT, 'tierd: shop gets tier0.max 32M from its annotation', shop)
tb = shop.get('tier_bytes') or [0, 0]
print(f'# shop tier_bytes {tb}, hot_bytes {shop.get("hot_bytes")}, demoted_total {shop.get("demoted_total")}')
t.ok(tb[0] <= LIMIT + 2 * MIB and sum(tb) >= 60 * MIB,
     f'tierd holds shop at its limit: {tb[0] // MIB} MiB on tier 0 (limit 32), {sum(tb) // MIB} MiB resident '
     f'({(s.get("t-limit") or "").splitlines()[-1:]})', shop)
# the pod's cgroup, its container's scope and the scope's leaf are each a
# tenant with the limit (nested: the limit covers the subtree, tierd(8)):
# the deepest demotes and its ancestors count it, so the demotions are
# summed over the pod's subtree. (Before hierarchical limits each demoted
# through memory.reclaim, which reclaims from the whole subtree: the same
# memory twice, the hot set with it: tier 0 ended at 0 bytes.)
sub = [x for c, x in tenants.items() if c == shop_cg or c.startswith(shop_cg + '/')]
demoted = sum(x.get('demoted_total', 0) for x in sub)
t.ok(demoted >= 24 * MIB, f'tierd demoted shop\'s memory beyond the limit: {demoted / MIB:.1f} MiB over the '
     f'{len(sub)} tenants of its pod', sub)
t.ok(tb[0] >= 12 * MIB and demoted <= 40 * MIB,
     f'no double demotion: {tb[0] // MIB} MiB of shop on tier 0 (>= 12: its hot set is 16 MiB), '
     f'{demoted / MIB:.1f} MiB demoted in all (<= 40: 32 over the limit and some)', sub)

show = body('show')
t.ok(re.search(r'^machine\.slice/machine-libpod_pod_\S+\s+latency\s.*\sprod-eu/shop\s*$', show, re.M)
     and re.search(r'^machine\.slice/machine-libpod_pod_\S+/libpod-\S+\.scope\s+latency\s.*\sprod-eu/shop/db\s*$',
                   show, re.M),
     'tierctl show names pod prod-eu/shop on its cgroup and container db on its own', show)
ns = js('show-ns') or {}
named = sorted({(c.get('namespace'), c.get('pod'), c.get('container')) for c in ns.get('cgroups', [])})
t.ok(named and all(n[:2] == ('prod-eu', 'shop') for n in named) and ('prod-eu', 'shop', 'db') in named,
     'tierctl show --namespace prod-eu: only shop\'s cgroups, its container named', named)

metrics = s.get('metrics') or ''
info = [line for line in metrics.splitlines() if line.startswith('tierd_tenant_info{')]
t.ok(any('namespace="prod-eu"' in x and 'pod="shop"' in x and 'class="latency"' in x for x in info)
     and any('namespace="dev"' in x and 'pod="cart"' in x for x in info),
     'metrics: tierd_tenant_info carries namespace and pod of both pods', '\n'.join(info) or metrics[-2000:])
tier = [x for x in metrics.splitlines() if x.startswith('tierd_tenant_tier_bytes{') and 'pod="shop"' in x]
t.ok(tier and all('namespace="prod-eu"' in x for x in tier), 'metrics: shop\'s tier series carry its labels', tier)

t.ok((cart.get('namespace'), cart.get('class')) == ('dev', 'standard'),
     'tierd: cart (namespace dev, no grant) keeps its cgroup\'s class, standard', cart)
ex = body('explain-cart')
t.ok(re.search(r'tierd\.io/class=latency refused: a pod of namespace dev \(no pods\.grants', ex),
     'tierctl explain: cart\'s request of latency is refused, the reason shown', ex)
t.ok('refused' not in body('explain-shop') and re.search(r'class\s+latency\s', body('explain-shop')),
     'tierctl explain: shop\'s class latency, nothing refused', body('explain-shop'))
journal = []
for line in body('journal').splitlines():
    try:
        journal.append(json.loads(line))
    except ValueError:
        pass
refused = [x for x in journal if x.get('TIERD_EVENT') == 'pod_refused']
t.ok(len(refused) == 1 and 'cart' in refused[0].get('MESSAGE', '') and 'dev' in refused[0].get('MESSAGE', ''),
     'journal: one pod_refused line, for dev/cart', [x.get('MESSAGE') for x in refused] or journal[-20:])

t.ok(rc('down') == 0, 'podman kube down', body('down'))
t.ok(body('after-cgroups').strip() == '', 'after kube down: no libpod cgroup left', body('after-cgroups'))
after = js('after-status') or {}
left = [x for x in after.get('tenants', []) if x.get('pod') or 'libpod' in x.get('cgroup', '')]
t.ok(after and not left, 'after kube down: tierd has no pod tenant left', left or body('after-status')[-1500:])
t.ok(body('after-run-grep').strip() == '', 'after kube down: nothing under /run/tierd names the pods',
     body('after-run'))
t.ok(body('hook-log').strip() == '', 'the hook logged nothing (valid annotations)', body('hook-log'))
t.eq(rc('stop'), 0, 'systemctl stop tierd')
t.done()
