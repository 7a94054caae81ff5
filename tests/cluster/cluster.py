"""Start, stop and inspect the local control plane used by the tests and the demo.

Real binaries (etcd, kube-apiserver, kube-controller-manager) built from Go modules by
build.sh run as processes on 127.0.0.1 with RBAC on and an audit log. Several clusters can run
side by side: each has its own CLUSTER_DIR and PORT_BASE (API on PORT_BASE+443, etcd client on
PORT_BASE+379, etcd peer on PORT_BASE+380, controller-manager on PORT_BASE+257).

Usage: cluster.py up|down|status   (environment: CLUSTER_DIR, PORT_BASE)
"""

import fcntl
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager")
READY_TIMEOUT = 120
# What a real cluster's CA and serving certificates carry (openssl req -addext arguments, and an
# x509 -extfile prefix); tests/node/node.py signs with the same CA.
CA_EXTENSIONS = ("-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-addext", "subjectKeyIdentifier=hash")
SERVING_EXTENSIONS = ("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                      "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")


class ClusterError(Exception):
    pass


def recorded_port_base(cluster_dir):
    """The PORT_BASE the cluster in cluster_dir was started on (None before this was recorded)."""
    try:
        with open(os.path.join(cluster_dir, "port_base")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


class Cluster:
    def __init__(self, cluster_dir=None, port_base=None):
        self.dir = os.path.abspath(cluster_dir or os.environ.get("CLUSTER_DIR") or os.path.join(REPO, ".cluster"))
        base = int(port_base or os.environ.get("PORT_BASE") or 16000)
        self.port_base = base
        self.api_port = base + 443
        self.etcd_port = base + 379
        self.etcd_peer_port = base + 380
        self.kcm_port = base + 257
        self.server = "https://127.0.0.1:%d" % self.api_port
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.audit_log = os.path.join(self.dir, "audit.log")
        self.ca_cert = os.path.join(self.dir, "pki", "ca.crt")

    # -- files ---------------------------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def pid(self, name):
        try:
            with open(self.path(name + ".pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return None  # our own child (started by this process) that has exited: now reaped
        except ChildProcessError:
            pass  # started by another process: os.kill said it runs
        except OSError:
            return None
        return pid

    @property
    def admin_token(self):
        with open(self.path("pki", "admin.token")) as f:
            return f.read().strip()

    # -- state ---------------------------------------------------------------------------

    def running(self):
        return all(self.pid(c) for c in COMPONENTS)

    def healthy(self):
        return self.running() and self._get("/readyz", quiet=True) == "ok"

    def _get(self, path, quiet=False):
        ctx = ssl.create_default_context(cafile=self.ca_cert)
        req = urllib.request.Request(self.server + path, headers={"Authorization": "Bearer " + self.admin_token})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
                return resp.read().decode()
        except (OSError, urllib.error.URLError, ssl.SSLError):
            if quiet:
                return None
            raise

    # -- start ---------------------------------------------------------------------------

    def up(self):
        """Start the cluster unless it runs; one starter at a time (make cluster, the tests' fixtures, xdist workers)."""
        os.makedirs(os.path.dirname(self.dir), exist_ok=True)
        with open(self.dir + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._up()

    def _up(self):
        if os.path.isdir(self.dir):
            if self.healthy():
                print("cluster already running at %s (kubeconfig %s)" % (self.server, self.kubeconfig))
                return
            recorded = recorded_port_base(self.dir)
            if recorded not in (None, self.port_base) and Cluster(self.dir, recorded).healthy():
                # never stop a live cluster because it was asked for on other ports
                raise ClusterError("%s holds a cluster running on PORT_BASE=%d, not %d: set PORT_BASE=%d, or another "
                                   "CLUSTER_DIR for a second cluster" % (self.dir, recorded, self.port_base, recorded))
            # A stale directory from a killed run: stop what is left, start clean.
            print("cleaning up stale %s from an earlier run" % self.dir)
            self.down(quiet=True)
        for name, port in (("etcd", self.etcd_port), ("etcd peer", self.etcd_peer_port),
                           ("kube-apiserver", self.api_port), ("kube-controller-manager", self.kcm_port)):
            if port_in_use(port):
                raise ClusterError("port %d for %s is in use on 127.0.0.1; stop what uses it or set PORT_BASE "
                                   "to another value (and CLUSTER_DIR for a second cluster)" % (port, name))
        bindir = build()
        started = time.time()
        os.makedirs(self.path("pki"), mode=0o700)
        with open(self.path("port_base"), "w") as f:
            f.write("%d\n" % self.port_base)
        try:
            self._start_components(bindir)
        except Exception:
            self.stop_processes()  # the directory and its logs stay for inspection
            raise
        print("cluster ready at %s in %.1fs (kubeconfig %s, audit log %s)"
              % (self.server, time.time() - started, self.kubeconfig, self.audit_log))

    def _start_components(self, bindir):
        self._pki()
        self._start("etcd", [
            os.path.join(bindir, "etcd"), "--name=default", "--data-dir=" + self.path("etcd"),
            "--listen-client-urls=http://127.0.0.1:%d" % self.etcd_port,
            "--advertise-client-urls=http://127.0.0.1:%d" % self.etcd_port,
            "--listen-peer-urls=http://127.0.0.1:%d" % self.etcd_peer_port,
            "--initial-advertise-peer-urls=http://127.0.0.1:%d" % self.etcd_peer_port,
            "--initial-cluster=default=http://127.0.0.1:%d" % self.etcd_peer_port,
            # Test data only: trading durability for speed is fine here.
            "--unsafe-no-fsync", "--log-level=warn", "--quota-backend-bytes=4294967296",
        ])
        self._wait("etcd", lambda: port_in_use(self.etcd_port))
        pki = self.path("pki")
        self._start("kube-apiserver", [
            os.path.join(bindir, "kube-apiserver"),
            "--etcd-servers=http://127.0.0.1:%d" % self.etcd_port,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=%d" % self.api_port,
            "--tls-cert-file=%s/apiserver.crt" % pki, "--tls-private-key-file=%s/apiserver.key" % pki,
            "--client-ca-file=%s/ca.crt" % pki,
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            "--token-auth-file=%s/tokens.csv" % pki,
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-account-key-file=%s/sa.pub" % pki,
            "--service-account-signing-key-file=%s/sa.key" % pki,
            "--service-cluster-ip-range=10.96.0.0/16",
            "--audit-policy-file=%s" % os.path.join(HERE, "audit-policy.yaml"),
            "--audit-log-path=%s" % self.audit_log, "--audit-log-format=json", "--audit-log-mode=blocking",
            "--profiling=false", "--v=0",
        ])
        self._wait("kube-apiserver", lambda: self._get("/readyz", quiet=True) == "ok")
        self._start("kube-controller-manager", [
            os.path.join(bindir, "kube-controller-manager"),
            "--kubeconfig=%s" % self.path("pki", "controller-manager.kubeconfig"),
            "--controllers=serviceaccount-controller,serviceaccount-token-controller,namespace-controller,"
            "garbage-collector-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller",
            # Each controller acts as its own service account with its bootstrap role, as in kubeadm.
            "--use-service-account-credentials=true",
            "--service-account-private-key-file=%s/sa.key" % pki,
            "--root-ca-file=%s/ca.crt" % pki,
            "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=%d" % self.kcm_port,
            "--profiling=false", "--v=0",
        ])
        self._wait("kube-controller-manager", self._default_sa_exists)
        self._load_openshift_shapes(bindir)

    def _pki(self):
        pki = self.path("pki")

        def openssl(*args):
            subprocess.run(("openssl",) + args, cwd=pki, check=True, capture_output=True)

        # Extensions as a real cluster's CA and serving certificate carry them, so strict X.509
        # verification (Python 3.13's default) accepts the chain.
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                "-days", "3650", "-subj", "/CN=ocp-registry-access-test-ca", *CA_EXTENSIONS)
        with open(os.path.join(pki, "san.cnf"), "w") as f:
            f.write(SERVING_EXTENSIONS + "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "apiserver.key", "-out", "apiserver.csr",
                "-subj", "/CN=kube-apiserver")
        openssl("x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "apiserver.crt", "-days", "3650", "-extfile", "san.cnf")
        openssl("genrsa", "-out", "sa.key", "2048")
        openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")
        admin, kcm = secrets.token_hex(24), secrets.token_hex(24)
        with open(os.path.join(pki, "admin.token"), "w") as f:
            f.write(admin)
        with open(os.path.join(pki, "tokens.csv"), "w") as f:
            f.write('%s,admin,admin-uid,"system:masters"\n' % admin)
            f.write("%s,system:kube-controller-manager,kcm-uid\n" % kcm)
        self._write_kubeconfig(self.kubeconfig, "admin", admin)
        self._write_kubeconfig(os.path.join(pki, "controller-manager.kubeconfig"), "system:kube-controller-manager", kcm)

    def _write_kubeconfig(self, path, user, token):
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "local",
            "clusters": [{"name": "local", "cluster": {"server": self.server, "certificate-authority": self.ca_cert}}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
        }
        with open(path, "w") as f:
            json.dump(config, f, indent=2)  # JSON is YAML: every client reads it
        os.chmod(path, 0o600)

    def _start(self, name, argv):
        log = open(self.path(name + ".log"), "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=self.dir, start_new_session=True)
        with open(self.path(name + ".pid"), "w") as f:
            f.write(str(proc.pid))
        with open(self.path(name + ".argv"), "w") as f:
            json.dump(argv, f)  # for restart()

    def restart(self, name):
        """Start one component again (after a fault test killed it) with the arguments it first had."""
        with open(self.path(name + ".argv")) as f:
            argv = json.load(f)
        self._stop(name)
        self._start(name, argv)
        self._wait(name, {"etcd": lambda: port_in_use(self.etcd_port),
                          "kube-apiserver": lambda: self._get("/readyz", quiet=True) == "ok",
                          "kube-controller-manager": self._default_sa_exists}[name])

    def _wait(self, name, ready):
        deadline = time.time() + READY_TIMEOUT
        while time.time() < deadline:
            if not self.pid(name):
                raise ClusterError("%s exited during start-up; last lines of its log:\n%s" % (name, self.log_tail(name)))
            try:
                if ready():
                    return
            except Exception:  # pylint: disable=broad-except
                pass
            time.sleep(0.3)
        raise ClusterError("%s did not become ready in %ds; last lines of its log:\n%s"
                           % (name, READY_TIMEOUT, self.log_tail(name)))

    def _default_sa_exists(self):
        return bool(self._get("/api/v1/namespaces/default/serviceaccounts/default", quiet=True))

    def _load_openshift_shapes(self, bindir):
        kubectl = [os.path.join(bindir, "kubectl"), "--kubeconfig", self.kubeconfig]
        shapes = os.path.join(HERE, "openshift")

        def run(*args):
            result = subprocess.run(kubectl + list(args), capture_output=True, text=True, check=False)
            if result.returncode:
                raise ClusterError("loading the OpenShift API shapes failed: kubectl %s\n%s"
                                   % (" ".join(args), result.stderr.strip()))

        run("apply", "-f", os.path.join(shapes, "crds"))
        run("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        run("apply", "-f", os.path.join(shapes, "objects"))
        for path, status in seeded_statuses().items():
            resource, name = path.rstrip("/").split("/")[-3:-1]
            run("patch", resource, name, "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}))

    # -- stop ----------------------------------------------------------------------------

    def down(self, quiet=False):
        self.stop_processes()
        if os.path.isdir(self.dir):
            subprocess.run(["rm", "-rf", self.dir], check=True)
        if not quiet:
            print("cluster in %s stopped and removed" % self.dir)

    def stop_processes(self):
        for name in reversed(COMPONENTS):
            self._stop(name)

    def _stop(self, name):
        pid = self.pid(name)
        if pid:
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass
            for _tick in range(100):
                if not self.pid(name):
                    break
                time.sleep(0.1)
            else:
                os.killpg(pid, signal.SIGKILL)

    # -- status --------------------------------------------------------------------------

    def status(self):
        if not os.path.isdir(self.dir):
            print("no cluster in %s" % self.dir)
            return 1
        ok = True
        for name in COMPONENTS:
            pid = self.pid(name)
            rss = rss_mib(pid) if pid else 0
            print("%-24s %s" % (name, "running pid %d, %d MiB resident" % (pid, rss) if pid else "NOT RUNNING"))
            ok = ok and bool(pid)
        if ok:
            version = json.loads(self._get("/version"))["gitVersion"]
            print("api %s: readyz %s, version %s" % (self.server, self._get("/readyz", quiet=True), version))
            print("kubeconfig %s\naudit log %s" % (self.kubeconfig, self.audit_log))
        return 0 if ok else 1

    def log_tail(self, name, lines=25):
        try:
            with open(self.path(name + ".log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"


SEEDED_POOLS = (("master", 3), ("worker", 2))


def seeded_statuses():
    """API path of each OpenShift object whose status the local cluster sets at start -> that status.

    A self-managed, highly available control plane and two MachineConfigPools settled on their first
    rendered config. tests/helpers/baseline.py puts these back for tests that need the cluster as it started.
    """
    statuses = {"/apis/config.openshift.io/v1/infrastructures/cluster/status": {
        "controlPlaneTopology": "HighlyAvailable", "infrastructureTopology": "HighlyAvailable", "platform": "None"}}
    for pool, machines in SEEDED_POOLS:
        statuses["/apis/machineconfiguration.openshift.io/v1/machineconfigpools/%s/status" % pool] = {
            "observedGeneration": 1, "configuration": {"name": "rendered-%s-00000000000000000000000000000000" % pool},
            "machineCount": machines, "updatedMachineCount": machines, "readyMachineCount": machines,
            "degradedMachineCount": 0, "unavailableMachineCount": 0,
            "conditions": [{"type": t, "status": s, "reason": "", "message": ""}
                           for t, s in (("Updated", "True"), ("Updating", "False"), ("Degraded", "False"))]}
    return statuses


def port_in_use(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def rss_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def build():
    """Return the directory of the cached binaries, building them first if needed."""
    result = subprocess.run(["bash", os.path.join(HERE, "build.sh")], stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode:
        raise ClusterError("building the control plane failed (see the messages above)")
    return result.stdout.strip().splitlines()[-1]


def main(argv):
    if len(argv) != 2 or argv[1] not in ("up", "down", "status"):
        print(__doc__)
        return 2
    cluster = Cluster()
    try:
        if argv[1] == "up":
            cluster.up()
        elif argv[1] == "down":
            cluster.down()
        else:
            return cluster.status()
    except ClusterError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
