#!/usr/bin/env python3
"""host suite: tierd-oci-hook, fed the OCI state and config.json a container
runtime gives it (test/fixtures/oci: containerd's CRI with the systemd
cgroup driver, CRI-O with cgroupfs and its sandbox, a container that is not
Kubernetes'), with a scratch directory standing in for the cgroup2 mount
(no cgroup is created on this host; trusted.* xattrs on a directory of
/tmp need root). Checked: the xattrs it records on the pod's and the
container's directories, that it exits 0 whatever it is given, that bad
annotations are logged once per pod, and that tierctl explain over the
scratch tree reads what it recorded as the origin "pod", granted or
refused by the configuration's pods.grants.

usage: test-oci-hook.py TIERD-OCI-HOOK TIERCTL"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
from tap import TOP, Tap  # noqa: E402

hook, tierctl = sys.argv[1], sys.argv[2]
t = Tap()
if os.geteuid() != 0:
    t.skip_all('trusted.* extended attributes need root (CAP_SYS_ADMIN)')

FIX = os.path.join(TOP, 'test', 'fixtures', 'oci')
POD_SD = ('kubepods.slice/kubepods-burstable.slice/'
          'kubepods-burstable-pod0e3d7ad6_8c5b_4a4e_9c3e_2f0c9d1b7a11.slice')
CTR_SD = POD_SD + '/cri-containerd-4f1c2b3a9d.scope'


def xattrs(path):
    out = {}
    for name in os.listxattr(path):
        if name.startswith('trusted.tierd.'):
            out[name[len('trusted.tierd.'):]] = os.getxattr(path, name).decode()
    return out


def run_hook(root, fixture=None, state=None, args=(), pid=4242, proc=None):
    """Runs the hook on a bundle holding FIXTURE as config.json."""
    bundle = tempfile.mkdtemp(dir=os.path.dirname(root))
    if fixture:
        with open(os.path.join(FIX, fixture)) as f, open(os.path.join(bundle, 'config.json'), 'w') as g:
            g.write(f.read())
    if state is None:
        state = json.dumps({'ociVersion': '1.1.0', 'id': 'c1', 'status': 'creating', 'pid': pid,
                            'bundle': bundle})
    cmd = [hook, '--no-syslog', '--cgroup-root', root] + list(args)
    if proc:
        cmd += ['--proc-root', proc]
    return subprocess.run(cmd, input=state, capture_output=True, text=True, timeout=30)


def mkcg(root, path):
    """A cgroup-like directory with each level's cgroup.procs (what the
    walk of tierctl needs to list it)."""
    d = root
    for seg in [''] + path.split('/'):
        d = os.path.join(d, seg) if seg else d
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, 'cgroup.procs'), 'a').close()


with tempfile.TemporaryDirectory() as tmp:
    root = os.path.join(tmp, 'cgroup')
    for path in [CTR_SD, POD_SD + '/cri-containerd-secondctr.scope', 'kubepods/besteffort/pod77aa/crio-99bb',
                 'kubepods/besteffort/pod77aa/crio-5a5a', 'system.slice/docker-abcd.scope']:
        mkcg(root, path)

    # containerd, systemd driver: pod keys on the pod slice, the container's on its scope
    p = run_hook(root, 'containerd-systemd.json')
    t.eq(p.returncode, 0, 'containerd/systemd: exit 0')
    t.eq(xattrs(os.path.join(root, POD_SD)),
         {'k8s.pod': 'shop-5d8f7c9b4-x2x7q', 'k8s.namespace': 'prod-eu', 'pod.class': 'latency',
          'pod.tier0.max': '2G', 'k8s.containers': 'tierd.io/tier0.max.web=512M\ntierd.io/tier0.low.cache=128M\n'},
         'containerd/systemd: the pod slice has the identity, the pod-wide keys and the valid container-scoped '
         'ones for later containers')
    t.eq(xattrs(os.path.join(root, CTR_SD)), {'k8s.container': 'web', 'pod.tier0.max': '512M'},
         'containerd/systemd: the scope has the container name and tierd.io/tier0.max.web only')
    err = p.stderr.strip().splitlines()
    t.ok(len(err) == 1, 'containerd/systemd: one log line for the pod', p.stderr)
    t.ok(err and 'pod prod-eu/shop-5d8f7c9b4-x2x7q: tierd.io annotations ignored:' in err[0]
         and 'tierd.io/mode=fast: is not one of enforce, observe, off' in err[0]
         and 'tierd.io/colour=blue: names no tierd policy key' in err[0]
         and 'sidecar' not in err[0], 'containerd/systemd: the line names each bad pod annotation, '
         'not another container\'s', p.stderr)

    # a second container of the same pod: the pod's problems are not logged again
    with open(os.path.join(FIX, 'containerd-systemd.json')) as f:
        cfg = json.load(f)
    cfg['annotations']['io.kubernetes.cri.container-name'] = 'sidecar'
    cfg['linux']['cgroupsPath'] = cfg['linux']['cgroupsPath'].replace('4f1c2b3a9d', 'secondctr')
    bundle = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(bundle, 'config.json'), 'w') as f:
        json.dump(cfg, f)
    p = run_hook(root, state=json.dumps({'id': 'c2', 'pid': 1, 'bundle': bundle}))
    t.eq(p.returncode, 0, 'second container: exit 0')
    t.eq(xattrs(os.path.join(root, POD_SD, 'cri-containerd-secondctr.scope')), {'k8s.container': 'sidecar'},
         'second container: its bad tierd.io/tier0.max.sidecar is not recorded')
    err = p.stderr.strip().splitlines()
    t.ok(len(err) == 1 and 'container sidecar: tierd.io annotations ignored: tierd.io/tier0.max.sidecar=12Q: '
         'is not a size' in err[0] and 'mode=fast' not in err[0],
         'second container: only its own bad annotation is logged, the pod\'s not again', p.stderr)

    # CRI-O, cgroupfs driver, and its sandbox first
    p = run_hook(root, 'crio-sandbox.json')
    t.eq((p.returncode, p.stderr), (0, ''), 'CRI-O sandbox: exit 0, nothing to log')
    t.eq(xattrs(os.path.join(root, 'kubepods/besteffort/pod77aa')),
         {'k8s.pod': 'pg-0', 'k8s.namespace': 'dev', 'pod.class': 'latency',
          'k8s.containers': 'tierd.io/tier0.max.db=1G\n'},
         'CRI-O/cgroupfs: the pod directory has the identity, the class and the container-scoped keys')
    t.eq(xattrs(os.path.join(root, 'kubepods/besteffort/pod77aa/crio-5a5a')), {},
         'CRI-O sandbox: nothing on the pause container (no container name, no keys of its own)')
    p = run_hook(root, 'crio-cgroupfs.json')
    t.eq(xattrs(os.path.join(root, 'kubepods/besteffort/pod77aa/crio-99bb')),
         {'k8s.container': 'db', 'pod.tier0.max': '1G'}, 'CRI-O/cgroupfs: the container has its own keys')

    # a runtime that gives the pod's annotations to the sandbox only: the
    # container takes its own from the pod's cgroup
    mkcg(root, 'kubepods/besteffort/pod77aa/crio-77cc')
    with open(os.path.join(FIX, 'crio-cgroupfs.json')) as f:
        cfg = json.load(f)
    cfg['annotations'] = {k: v for k, v in cfg['annotations'].items() if not k.startswith('tierd.io/')}
    cfg['linux']['cgroupsPath'] = '/kubepods/besteffort/pod77aa/crio-77cc'
    bundle = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(bundle, 'config.json'), 'w') as f:
        json.dump(cfg, f)
    p = run_hook(root, state=json.dumps({'id': 'c4', 'pid': 1, 'bundle': bundle}))
    t.eq((p.returncode, p.stderr, xattrs(os.path.join(root, 'kubepods/besteffort/pod77aa/crio-77cc'))),
         (0, '', {'k8s.container': 'db', 'pod.tier0.max': '1G'}),
         'a container without the pod\'s annotations: its tierd.io/tier0.max.db from the pod\'s cgroup')

    # a container that is not Kubernetes': nothing written, nothing said
    p = run_hook(root, 'plain.json')
    t.eq((p.returncode, p.stderr, xattrs(os.path.join(root, 'system.slice/docker-abcd.scope'))), (0, '', {}),
         'a plain container: exit 0, no xattr, no log line')

    # without cgroupsPath the cgroup comes from /proc/PID/cgroup
    proc = os.path.join(tmp, 'proc')
    os.makedirs(os.path.join(proc, '4242'))
    with open(os.path.join(proc, '4242', 'cgroup'), 'w') as f:
        f.write('0::/kubepods/besteffort/pod77aa/crio-99bb\n')
    for n in os.listxattr(os.path.join(root, 'kubepods/besteffort/pod77aa/crio-99bb')):
        os.removexattr(os.path.join(root, 'kubepods/besteffort/pod77aa/crio-99bb'), n)
    with open(os.path.join(FIX, 'crio-cgroupfs.json')) as f:
        cfg = json.load(f)
    del cfg['linux']
    bundle = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(bundle, 'config.json'), 'w') as f:
        json.dump(cfg, f)
    p = run_hook(root, state=json.dumps({'id': 'c3', 'pid': 4242, 'bundle': bundle}), proc=proc)
    t.eq(xattrs(os.path.join(root, 'kubepods/besteffort/pod77aa/crio-99bb')),
         {'k8s.container': 'db', 'pod.tier0.max': '1G'}, 'no cgroupsPath: the cgroup from /proc/PID/cgroup')

    # A pod in dev whose author adds containerd's namespace key, naming a
    # granted namespace: CRI-O copies the pod's annotations into the
    # configuration and sets io.kubernetes.pod.namespace from the kubelet's
    # labels after them, so the two disagree. Neither is recorded.
    mkcg(root, 'kubepods/besteffort/pod99ee/crio-6b6b')
    p = run_hook(root, 'crio-forged-namespace.json')
    err = p.stderr.strip().splitlines()
    t.ok(p.returncode == 0 and len(err) == 1 and 'pod ?/evil-0: the runtime\'s names for it disagree' in err[0]
         and 'io.kubernetes.cri.sandbox-namespace=prod-eu but io.kubernetes.pod.namespace=dev' in err[0],
         'a forged io.kubernetes.cri.sandbox-namespace under CRI-O: exit 0, one line naming both values', p.stderr)
    t.eq(xattrs(os.path.join(root, 'kubepods/besteffort/pod99ee')),
         {'k8s.pod': 'evil-0', 'pod.class': 'latency'},
         'a forged namespace: no namespace recorded on the pod, its name and annotations are')

    # whatever it is given, exit 0 and one line
    for name, state, args in [
        ('not JSON on stdin', 'garbage{', ()),
        ('a JSON array on stdin', '[1,2]', ()),
        ('a bundle without config.json and no pid', json.dumps({'id': 'x', 'bundle': '/nonexistent'}), ()),
        ('an unknown option', json.dumps({'id': 'x'}), ('--frobnicate',)),
    ]:
        p = run_hook(root, state=state, args=args)
        t.ok(p.returncode == 0 and len(p.stderr.strip().splitlines()) == 1,
             f'{name}: exit 0, one line', f'rc {p.returncode}: {p.stderr}')
    p = run_hook(root + '-missing', 'containerd-systemd.json')
    t.ok(p.returncode == 0 and 'is not under' in p.stderr, 'a cgroup root that is not there: exit 0, said',
         p.stderr)

    # tierd's view of what was recorded: prod-eu may ask for latency, dev may not
    conf = os.path.join(tmp, 'etc')
    os.makedirs(os.path.join(conf, 'tierd.d'), mode=0o755)
    os.chmod(tmp, 0o755)
    with open(os.path.join(conf, 'tierd.json'), 'w') as f:
        f.write('{"pods": {"grants": [{"namespaces": ["prod-*"], "classes": ["latency"]}]}}\n')

    def explain(cg):
        p = subprocess.run([tierctl, 'explain', cg, '--cgroup-root', root, '--config',
                            os.path.join(conf, 'tierd.json'), '--json'], capture_output=True, text=True, timeout=30)
        try:
            return json.loads(p.stdout), p
        except ValueError:
            return None, p

    x, p = explain(POD_SD)
    rows = x.get('policy', {}) if x else {}
    t.ok(rows.get('class', {}).get('value') == 'latency' and rows['class']['source'] == 'pod'
         and rows.get('tier0.max', {}).get('value') == '2G',
         'tierctl explain: prod-eu\'s pod gets the class latency it was granted (source pod)', p.stdout + p.stderr)
    x, p = explain('kubepods/besteffort/pod77aa')
    rows = x.get('policy', {}) if x else {}
    t.ok(rows.get('class', {}).get('value') != 'latency'
         and 'tierd.io/class=latency refused: a pod of namespace dev (no pods.grants entry for it)'
         in json.dumps(rows.get('class', {})),
         'tierctl explain: dev\'s pod is refused latency, with the reason', p.stdout + p.stderr)

    x, p = explain('kubepods/besteffort/pod99ee')
    rows = x.get('policy', {}) if x else {}
    t.ok(rows.get('class', {}).get('value') != 'latency'
         and 'a pod whose namespace is not recorded' in json.dumps(rows.get('class', {})),
         'tierctl explain: the pod that named prod-eu beside its own namespace dev is refused latency',
         p.stdout + p.stderr)

    # tierctl show: the pod column and the filters
    def show(*args):
        p = subprocess.run([tierctl, 'show', '--cgroup-root', root, '--config', os.path.join(conf, 'tierd.json'),
                            '--json'] + list(args), capture_output=True, text=True, timeout=30)
        try:
            return {c['cgroup']: c for c in json.loads(p.stdout)['cgroups']}, p
        except (ValueError, KeyError):
            return {}, p

    cgs, p = show('--namespace', 'prod-eu')
    t.eq(sorted(cgs), sorted([POD_SD, CTR_SD, POD_SD + '/cri-containerd-secondctr.scope']),
         'tierctl show --namespace prod-eu: the pod\'s cgroups only')
    t.eq((cgs.get(CTR_SD, {}).get('pod'), cgs.get(CTR_SD, {}).get('container')), ('shop-5d8f7c9b4-x2x7q', 'web'),
         'tierctl show: the container\'s cgroup names its pod and container')
    cgs, p = show('--pod', 'pg-0')
    t.eq(sorted(cgs), sorted(['kubepods/besteffort/pod77aa', 'kubepods/besteffort/pod77aa/crio-99bb',
                              'kubepods/besteffort/pod77aa/crio-5a5a', 'kubepods/besteffort/pod77aa/crio-77cc']),
         'tierctl show --pod pg-0')
    p = subprocess.run([tierctl, 'show', '--cgroup-root', root, '--config', os.path.join(conf, 'tierd.json'),
                        '--namespace', 'dev'], capture_output=True, text=True, timeout=30)
    t.ok(p.returncode == 0 and 'dev/pg-0/db' in p.stdout and 'prod-eu' not in p.stdout,
         'tierctl show --namespace dev: the POD column reads namespace/pod/container', p.stdout + p.stderr)
t.done()
