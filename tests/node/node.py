"""Start, stop and inspect the test bed's node: a real kubelet and containerd joined to the local
control plane (tests/cluster/cluster.py), so pods really pull images with the credentials the
collection wrote.

- kubelet: built from the control plane's k8s.io/kubernetes version by build.sh; it authenticates
  with its own client certificate (CN=system:node:<name>, O=system:nodes, signed by the cluster
  CA), so the Node authorizer limits it to its own pods' secrets, as on a real cluster.
- containerd and runc: Debian's packages. CRI with `restrict_oom_score_adj` (this machine kind
  lacks CAP_SYS_RESOURCE) and no AppArmor; registry TLS through `config_path` (certs.d with a
  hosts.toml per registry, written by tests with trust_registry()).
- No CNI and no scheduler: the node stays NotReady, and tests run `hostNetwork: true` pods with
  `nodeName` set. The pause image is built locally (tests/helpers/oci_image.py) and imported,
  since the test registry requires authentication for every repository.
- The node IP is an address on a dummy interface this script creates (one end of a veth pair
  where the kernel has no dummy module): the kubelet refuses a loopback node IP. Nothing is ever
  sent to it: every listener is on 127.0.0.1.

Host side effects, all undone by `down` (each recorded in state.json when made): the
interface, the sysctls the kubelet sets, its iptables chains (v4 and v6), /var/lib/kubelet (tmpfs
mounts included), /var/log/pods, /var/log/containers, /run/containerd, the kubepods cgroups, and
the kubelet, containerd and shim processes (real PIDs: each binary is started directly).

Usage: node.py up|down|status|check
       node.py run -- COMMAND...   (up, COMMAND, down whatever happened; exits with COMMAND's code)
Environment: CLUSTER_DIR, PORT_BASE (the cluster to join), NODE_DIR (default CLUSTER_DIR.node), NODE_NAME.
"""

import contextlib
import fcntl
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(REPO, "tests", "cluster"), os.path.join(REPO, "tests")]

from cluster import Cluster, port_in_use, rss_mib  # noqa: E402  pylint: disable=wrong-import-position
from helpers import oci_image  # noqa: E402  pylint: disable=wrong-import-position

KUBELET_ROOT = "/var/lib/kubelet"
# A copy of the node's state outside its directory (which goes with the checkout), and the lock that
# makes node suites of several checkouts on one machine take turns: one kubelet per machine.
HOST_STATE = "/run/ocp-registry-access-node.json"
HOST_LOCK = "/run/ocp-registry-access-node.lock"
HOST_PATHS = (KUBELET_ROOT, "/var/log/pods", "/var/log/containers", "/run/containerd")
SYSCTLS = ("vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
           "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes")
# The chains the kubelet creates (pkg/kubelet/kubelet_network_linux.go), per table.
KUBELET_CHAINS = {"filter": ("KUBE-FIREWALL", "KUBE-KUBELET-CANARY"), "nat": ("KUBE-KUBELET-CANARY",),
                  "mangle": ("KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY")}
INTERFACE = "ocpra-node0"
# TEST-NET-1 (RFC 5737): documentation only, routed nowhere; nothing is sent to it.
NODE_IP = "192.0.2.10"
PAUSE_IMAGE = "localhost/ocp-registry-access/pause:test"
READY_TIMEOUT = 90


class NodeError(Exception):
    pass


def run(argv, check=True, timeout=60, **kwargs):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout,
                          check=False, **kwargs)
    if check and proc.returncode != 0:
        raise NodeError("%s failed (rc %d): %s" % (" ".join(argv[:3]), proc.returncode, proc.stderr.strip()[-1500:]))
    return proc


def missing_requirements():
    """Why this machine cannot run the node ([] when it can): each reason says what to do."""
    reasons = []
    if os.geteuid() != 0:
        reasons.append("not root (the kubelet and containerd need root)")
    try:
        with open("/proc/filesystems") as f:
            if "overlay" not in f.read():
                reasons.append("the kernel has no overlay filesystem (containerd's overlayfs snapshotter); try `modprobe overlay`")
    except OSError:
        reasons.append("cannot read /proc/filesystems")
    if not (os.path.isdir("/sys/fs/cgroup/memory") or os.path.exists("/sys/fs/cgroup/cgroup.controllers")):
        reasons.append("no cgroup v1 memory controller nor cgroup v2 at /sys/fs/cgroup")
    for binary, package in (("/usr/bin/containerd", "containerd"), ("/usr/bin/ctr", "containerd"),
                            ("/usr/sbin/runc", "runc"), ("/usr/bin/containerd-shim-runc-v2", "containerd")):
        if not os.access(binary, os.X_OK) and not shutil.which(os.path.basename(binary)):
            reasons.append("%s missing: run `make deps` (Debian package %s)" % (binary, package))
    for tool in ("ip", "iptables", "ip6tables", "openssl", "mount", "go"):
        if not shutil.which(tool):
            reasons.append("%s not found on PATH" % tool)
    return reasons


def _alive(pid):
    """pid runs (a zombie, or our own exited child, does not)."""
    try:
        os.kill(pid, 0)
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    except OSError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@contextlib.contextmanager
def host_lock():
    """Held while a node runs for a test suite (`node.py run`, the node suite's fixture)."""
    with open(HOST_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class Node:
    def __init__(self, cluster=None, node_dir=None, name=None):
        self.cluster = cluster or Cluster()
        self.dir = os.path.abspath(node_dir or os.environ.get("NODE_DIR") or self.cluster.dir + ".node")
        self.name = name or os.environ.get("NODE_NAME") or "test-node-0"
        base = self.cluster.api_port - 443
        self.kubelet_port = base + 250
        self.healthz_port = base + 248
        self.socket = self.path("containerd.sock")
        self.certs_d = self.path("certs.d")
        self.config_json = os.path.join(KUBELET_ROOT, "config.json")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    # -- state -------------------------------------------------------------------------------

    def _state(self):
        for path in (self.path("state.json"), HOST_STATE):
            try:
                with open(path) as f:
                    state = json.load(f)
            except (OSError, ValueError):
                continue
            if path == self.path("state.json") or state.get("dir") == self.dir:
                return state
        return {}

    def _record(self, **changes):
        state = self._state()
        state.update(changes, dir=self.dir)
        os.makedirs(self.dir, exist_ok=True)
        for path in (self.path("state.json"), HOST_STATE):
            with open(path + ".tmp", "w") as f:
                json.dump(state, f, indent=2)
            os.rename(path + ".tmp", path)

    def pid(self, name):
        pid = self._state().get("pids", {}).get(name)
        return pid if pid and _alive(pid) else None

    def running(self):
        return bool(self.pid("containerd") and self.pid("kubelet"))

    def healthy(self):
        if not self.running():
            return False
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.healthz_port, timeout=3) as resp:
                ok = resp.read().decode() == "ok"
        except (OSError, urllib.error.URLError):
            return False
        return ok and self._api_get("/api/v1/nodes/" + self.name) is not None

    def _api_get(self, path):
        ctx = ssl.create_default_context(cafile=self.cluster.ca_cert)
        req = urllib.request.Request(self.cluster.server + path,
                                     headers={"Authorization": "Bearer " + self.cluster.admin_token})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
                return json.loads(resp.read().decode())
        except (OSError, urllib.error.URLError, ssl.SSLError, ValueError):
            return None

    def _api_delete(self, path):
        ctx = ssl.create_default_context(cafile=self.cluster.ca_cert)
        req = urllib.request.Request(self.cluster.server + path, method="DELETE",
                                     headers={"Authorization": "Bearer " + self.cluster.admin_token})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5):
                return True
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False

    # -- start -------------------------------------------------------------------------------

    def up(self):
        reasons = missing_requirements()
        if reasons:
            raise NodeError("this machine cannot run the test node: " + "; ".join(reasons))
        if not self.cluster.healthy():
            raise NodeError("the local cluster at %s is not running: start it first (`make cluster`)" % self.cluster.server)
        if os.path.isdir(self.dir):
            if self.healthy():
                print("node %s already running (kubelet pid %d, containerd pid %d)"
                      % (self.name, self.pid("kubelet"), self.pid("containerd")))
                return
            print("cleaning up stale %s from an earlier run" % self.dir)
            self.down(quiet=True)
        self._refuse_foreign()
        kubelet_dir = build()
        started = time.time()
        os.makedirs(self.path("pki"), mode=0o700)
        self._record(pids={}, created_paths=[], sysctls={}, interface=None, name=self.name)
        try:
            self._host_setup()
            self._pki()
            self._start_containerd()
            self._import_pause_image()
            self._start_kubelet(kubelet_dir)
        except Exception:
            self.down(quiet=True, keep_logs=True)
            raise
        elapsed = time.time() - started
        self._record(start_seconds=round(elapsed, 1))
        print("node %s ready in %.1fs (kubelet pid %d, containerd pid %d; dir %s)"
              % (self.name, elapsed, self.pid("kubelet"), self.pid("containerd"), self.dir))

    def _refuse_foreign(self):
        """Never take over what another kubelet or containerd on this machine owns.

        A node this script started from another directory (an earlier checkout) whose processes are gone is
        torn down from the host's copy of its state first."""
        try:
            with open(HOST_STATE) as f:
                other = json.load(f)
        except (OSError, ValueError):
            other = None
        if other and other.get("dir") != self.dir:
            alive = [name for name, pid in other.get("pids", {}).items() if _alive(pid)]
            if alive:
                raise NodeError("a test node from %s runs on this machine (%s): `NODE_DIR=%s node.py down` first"
                                % (other.get("dir"), ", ".join(alive), other.get("dir")))
            print("tearing down the leftovers of the test node of %s" % other.get("dir"))
            Node(self.cluster, node_dir=other["dir"], name=other.get("name")).down(quiet=True)
        for port, what in ((self.kubelet_port, "kubelet port"), (self.healthz_port, "kubelet healthz port")):
            if port_in_use(port):
                raise NodeError("port %d (%s) is in use on 127.0.0.1: another node running? stop it first" % (port, what))
        if os.path.exists(KUBELET_ROOT):
            raise NodeError("%s exists: another kubelet owns this machine (or a node was not torn down: "
                            "`node.py down` with its NODE_DIR, or remove it by hand)" % KUBELET_ROOT)
        if os.path.exists("/run/containerd/containerd.sock"):
            raise NodeError("a system containerd runs (/run/containerd/containerd.sock); stop it first")
        if os.path.exists("/.docker/config.json"):
            raise NodeError("/.docker/config.json exists: the kubelet would read it as node credentials")

    def _host_setup(self):
        created = [p for p in HOST_PATHS if not os.path.exists(p)]
        self._record(created_paths=created)
        sysctls = {}
        for key in SYSCTLS:
            try:
                with open("/proc/sys/" + key) as f:
                    sysctls[key] = f.read().strip()
            except OSError:
                pass
        self._record(sysctls=sysctls)
        if run(["ip", "link", "show", INTERFACE], check=False).returncode != 0:
            # A dummy interface where the kernel has the module; else one end of a veth pair (its peer stays down).
            if run(["ip", "link", "add", INTERFACE, "type", "dummy"], check=False).returncode != 0:
                run(["ip", "link", "add", INTERFACE, "type", "veth", "peer", "name", INTERFACE + "p"])
            self._record(interface=INTERFACE)
        run(["ip", "addr", "replace", NODE_IP + "/32", "dev", INTERFACE])
        run(["ip", "link", "set", INTERFACE, "up"])
        for sub in ("home", "containerd/root", "cni/bin", "cni/net.d", "certs.d", "manifests"):
            os.makedirs(self.path(sub), exist_ok=True)

    def _pki(self):
        pki = self.path("pki")
        ca_crt, ca_key = self.cluster.ca_cert, os.path.join(self.cluster.dir, "pki", "ca.key")

        def openssl(*args):
            run(("openssl",) + args, cwd=pki)

        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "kubelet-client.key", "-out", "kubelet-client.csr",
                "-subj", "/O=system:nodes/CN=system:node:%s" % self.name)
        with open(os.path.join(pki, "client.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
                    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
        openssl("x509", "-req", "-in", "kubelet-client.csr", "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
                "-CAserial", os.path.join(pki, "ca.srl"), "-out", "kubelet-client.crt", "-days", "30", "-extfile", "client.ext")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "kubelet.key", "-out", "kubelet.csr",
                "-subj", "/CN=%s" % self.name)
        with open(os.path.join(pki, "serving.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                    "subjectAltName=IP:127.0.0.1,DNS:%s\n" % self.name)
        openssl("x509", "-req", "-in", "kubelet.csr", "-CA", ca_crt, "-CAkey", ca_key, "-CAserial", os.path.join(pki, "ca.srl"),
                "-out", "kubelet.crt", "-days", "30", "-extfile", "serving.ext")
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "node",
            "clusters": [{"name": "local", "cluster": {"server": self.cluster.server, "certificate-authority": ca_crt}}],
            "users": [{"name": "system:node:" + self.name, "user": {
                "client-certificate": os.path.join(pki, "kubelet-client.crt"),
                "client-key": os.path.join(pki, "kubelet-client.key")}}],
            "contexts": [{"name": "node", "context": {"cluster": "local", "user": "system:node:" + self.name}}],
        }
        with open(self.path("kubelet.kubeconfig"), "w") as f:
            json.dump(config, f, indent=2)
        os.chmod(self.path("kubelet.kubeconfig"), 0o600)

    def _start(self, name, argv, env=None):
        log = open(self.path(name + ".log"), "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=self.dir, env=env, start_new_session=True)
        pids = self._state().get("pids", {})
        pids[name] = proc.pid
        self._record(pids=pids)
        with open(self.path(name + ".argv"), "w") as f:
            json.dump(argv, f)
        return proc

    def _wait(self, name, ready, timeout=READY_TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.pid(name):
                raise NodeError("%s exited during start-up; last lines of its log:\n%s" % (name, self.log_tail(name)))
            try:
                if ready():
                    return
            except Exception:  # pylint: disable=broad-except
                pass
            time.sleep(0.3)
        raise NodeError("%s did not become ready in %ds; last lines of its log:\n%s" % (name, timeout, self.log_tail(name)))

    def containerd_config(self):
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        return "\n".join([
            "version = 2",
            'root = "%s"' % self.path("containerd", "root"),
            'state = "/run/containerd"',
            "disabled_plugins = [%s]" % ", ".join('"%s"' % p for p in (
                "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper",
                "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing")),
            "[grpc]", '  address = "%s"' % self.socket,
            "[ttrpc]", '  address = "%s"' % (self.socket + ".ttrpc"),
            "[metrics]", '  address = ""',
            "[%s]" % cri,
            "  disable_apparmor = true",
            # runc cannot write oom_score_adj below its own without CAP_SYS_RESOURCE (absent on this machine kind).
            "  restrict_oom_score_adj = true",
            "  enable_selinux = false",
            '  sandbox_image = "%s"' % PAUSE_IMAGE,
            '  stream_server_address = "127.0.0.1"',
            '  stream_server_port = "0"',
            "[%s.containerd]" % cri,
            '  snapshotter = "overlayfs"',
            '  default_runtime_name = "runc"',
            "[%s.containerd.runtimes.runc]" % cri,
            '  runtime_type = "io.containerd.runc.v2"',
            "[%s.containerd.runtimes.runc.options]" % cri,
            "  SystemdCgroup = false",
            "[%s.cni]" % cri,
            '  bin_dir = "%s"' % self.path("cni", "bin"),
            '  conf_dir = "%s"' % self.path("cni", "net.d"),
            "[%s.registry]" % cri,
            '  config_path = "%s"' % self.certs_d,
            "",
        ])

    def _start_containerd(self):
        with open(self.path("containerd.toml"), "w") as f:
            f.write(self.containerd_config())
        self._start("containerd", ["/usr/bin/containerd", "--config", self.path("containerd.toml"), "--log-level", "warn"])
        self._wait("containerd", lambda: self.ctr("version", check=False).returncode == 0)

    def ctr(self, *args, check=True, timeout=60):
        return run(["ctr", "--address", self.socket, "--namespace", "k8s.io"] + list(args), check=check, timeout=timeout)

    def _import_pause_image(self):
        layout = self.path("pause-oci")
        oci_image.build_layout(layout, tag="test", args=["pause"], label="pause")
        tar_path = oci_image.archive(layout, self.path("pause.tar"))
        self.ctr("images", "import", "--base-name", PAUSE_IMAGE.rsplit(":", 1)[0], tar_path, timeout=120)
        shutil.rmtree(layout)
        if PAUSE_IMAGE not in self.ctr("images", "ls", "-q").stdout.split():
            raise NodeError("importing the pause image did not yield %s" % PAUSE_IMAGE)

    def kubelet_config(self):
        pki = self.path("pki")
        return {
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "address": "127.0.0.1", "port": self.kubelet_port, "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1", "healthzPort": self.healthz_port,
            "tlsCertFile": os.path.join(pki, "kubelet.crt"), "tlsPrivateKeyFile": os.path.join(pki, "kubelet.key"),
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False},
                               "x509": {"clientCAFile": self.cluster.ca_cert}},
            "authorization": {"mode": "AlwaysAllow"},  # only clients with a cluster-CA certificate get in
            "containerRuntimeEndpoint": "unix://" + self.socket,
            "cgroupDriver": "cgroupfs", "failCgroupV1": False, "failSwapOn": False,
            "staticPodPath": self.path("manifests"),
            "resolvConf": "/etc/resolv.conf",
            "rotateCertificates": False, "serverTLSBootstrap": False,
            # No disk-based image GC or eviction: the pause image and the tests' images stay put.
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "1Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "maxPods": 30, "registerNode": True,
            "syncFrequency": "10s", "fileCheckFrequency": "10s", "nodeStatusUpdateFrequency": "10s",
            "shutdownGracePeriod": "0s",
            "logging": {"format": "text", "verbosity": 1},
        }

    def _start_kubelet(self, kubelet_dir):
        with open(self.path("kubelet-config.json"), "w") as f:
            json.dump(self.kubelet_config(), f, indent=2)
        # HOME and the working directory are the node's own: the kubelet reads docker configs there too.
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "HOME": self.path("home")}
        self._start("kubelet", [
            os.path.join(kubelet_dir, "kubelet"),
            "--config=" + self.path("kubelet-config.json"),
            "--kubeconfig=" + self.path("kubelet.kubeconfig"),
            "--hostname-override=" + self.name,
            "--node-ip=" + NODE_IP,
            "--root-dir=" + KUBELET_ROOT,
        ], env=env)

        def registered():
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.healthz_port, timeout=3) as resp:
                if resp.read().decode() != "ok":
                    return False
            return self._api_get("/api/v1/nodes/" + self.name) is not None

        self._wait("kubelet", registered)

    def restart_kubelet(self):
        """Starts the kubelet again with its first arguments (it re-reads the node's config.json at start)."""
        with open(self.path("kubelet.argv")) as f:
            argv = json.load(f)
        self._stop("kubelet")
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "HOME": self.path("home")}
        self._start("kubelet", argv, env=env)
        self._wait("kubelet", lambda: urllib.request.urlopen(
            "http://127.0.0.1:%d/healthz" % self.healthz_port, timeout=3).read().decode() == "ok")

    def trust_registry(self, host, ca_cert):
        """Lets containerd reach https://<host> with this CA (containerd reads certs.d on every pull)."""
        directory = os.path.join(self.certs_d, host)
        os.makedirs(directory, exist_ok=True)
        shutil.copyfile(ca_cert, os.path.join(directory, "ca.crt"))
        with open(os.path.join(directory, "hosts.toml"), "w") as f:
            f.write('server = "https://%s"\n\n[host."https://%s"]\n  capabilities = ["pull", "resolve"]\n  ca = "%s"\n'
                    % (host, host, os.path.join(directory, "ca.crt")))

    # -- stop --------------------------------------------------------------------------------

    def down(self, quiet=False, keep_logs=False):
        state = self._state()
        if not state and not os.path.isdir(self.dir):
            if not quiet:
                print("no node in %s" % self.dir)
            return
        errors = []
        if state.get("name") and self.cluster.healthy():
            self._delete_pods(state["name"])
        self._stop("kubelet")
        if self.pid("containerd"):
            self._remove_containers()
        self._stop("containerd")
        self._kill_shims()
        for root in (KUBELET_ROOT, "/run/containerd", self.dir):
            self._unmount_under(root, errors)
        for path in state.get("created_paths", []):
            if os.path.lexists(path):
                shutil.rmtree(path, ignore_errors=True)
                if os.path.lexists(path):
                    errors.append("could not remove %s" % path)
        self._remove_cgroups(errors)
        for key, value in state.get("sysctls", {}).items():
            try:
                with open("/proc/sys/" + key, "w") as f:
                    f.write(value)
            except OSError as e:
                errors.append("restoring sysctl %s=%s: %s" % (key.replace("/", "."), value, e))
        self._remove_iptables_chains(errors)
        if state.get("interface"):
            run(["ip", "link", "del", state["interface"]], check=False)
        if state.get("name") and self.cluster.healthy():
            self._api_delete("/api/v1/nodes/" + state["name"])
        if keep_logs:
            shutil.rmtree(self.path("containerd"), ignore_errors=True)
            if os.path.exists(self.path("state.json")):
                os.remove(self.path("state.json"))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if os.path.exists(HOST_STATE) and self._host_state_dir() in (self.dir, None):
            os.remove(HOST_STATE)
        if errors:
            raise NodeError("teardown left things behind: " + "; ".join(errors))
        if not quiet:
            print("node %s stopped and its host changes undone (%s removed)" % (state.get("name", self.name), self.dir))

    def _delete_pods(self, node_name):
        """Pods bound to the node, deleted at once: without their kubelet they would stay Terminating (and keep
        their namespaces from going) on a cluster that runs no pod garbage collector."""
        pods = self._api_get("/api/v1/pods?fieldSelector=spec.nodeName%3D" + node_name) or {}
        for pod in pods.get("items", []):
            meta = pod["metadata"]
            self._api_delete("/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0" % (meta["namespace"], meta["name"]))

    @staticmethod
    def _host_state_dir():
        try:
            with open(HOST_STATE) as f:
                return json.load(f).get("dir")
        except (OSError, ValueError):
            return None

    def _stop(self, name):
        pid = self.pid(name)
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            return
        for _tick in range(150):
            if not self.pid(name):
                return
            time.sleep(0.1)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        for _tick in range(50):
            if not self.pid(name):
                return
            time.sleep(0.1)

    def _remove_containers(self):
        tasks = self.ctr("tasks", "ls", "-q", check=False).stdout.split()
        for task in tasks:
            self.ctr("tasks", "kill", "--signal", "SIGKILL", task, check=False)
        for task in tasks:
            for _attempt in range(20):
                if self.ctr("tasks", "delete", "--force", task, check=False).returncode == 0:
                    break
                time.sleep(0.2)
        containers = self.ctr("containers", "ls", "-q", check=False).stdout.split()
        if containers:
            self.ctr("containers", "delete", *containers, check=False)

    def _kill_shims(self):
        """containerd-shim-runc-v2 processes started by this node's containerd (their argv names its socket)."""
        marker = self.socket.encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and marker in argv:
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass

    @staticmethod
    def _unmount_under(root, errors):
        root = os.path.realpath(root)
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4].replace("\\040", " ") for line in f]
        for point in sorted({p for p in points if p == root or p.startswith(root + "/")}, key=len, reverse=True):
            if run(["umount", point], check=False).returncode != 0 and \
                    run(["umount", "-l", point], check=False).returncode != 0:
                errors.append("could not unmount %s" % point)

    @staticmethod
    def _remove_cgroups(errors):
        for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            if not os.path.isdir(base):
                continue
            controllers = [base] + [os.path.join(base, c) for c in os.listdir(base)]
            for controller in controllers:
                top = os.path.join(controller, "kubepods")
                if not os.path.isdir(top) or os.path.ismount(top):
                    continue
                for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
                    try:
                        os.rmdir(dirpath)
                    except OSError as e:
                        errors.append("cgroup %s: %s" % (dirpath, e))

    @staticmethod
    def _remove_iptables_chains(errors):
        for tool in ("iptables", "ip6tables"):
            if not shutil.which(tool):
                continue
            for table, chains in KUBELET_CHAINS.items():
                listing = run([tool, "-w", "5", "-t", table, "-S"], check=False).stdout.splitlines()
                for line in listing:
                    parts = line.split()
                    # jumps into a kubelet chain from the built-in chains
                    if parts[:1] == ["-A"] and "-j" in parts and parts[parts.index("-j") + 1] in chains \
                            and parts[1] not in chains:
                        run([tool, "-w", "5", "-t", table, "-D"] + parts[1:], check=False)
                for chain in chains:
                    if "-N %s" % chain in listing:
                        run([tool, "-w", "5", "-t", table, "-F", chain], check=False)
                        if run([tool, "-w", "5", "-t", table, "-X", chain], check=False).returncode != 0:
                            errors.append("%s: could not delete chain %s in table %s" % (tool, chain, table))

    # -- status ------------------------------------------------------------------------------

    def status(self):
        if not os.path.isdir(self.dir):
            print("no node in %s" % self.dir)
            return 1
        ok = True
        for name in ("containerd", "kubelet"):
            pid = self.pid(name)
            print("%-12s %s" % (name, "running pid %d, %d MiB resident" % (pid, rss_mib(pid)) if pid else "NOT RUNNING"))
            ok = ok and bool(pid)
        node = self._api_get("/api/v1/nodes/" + self.name) if self.cluster.healthy() else None
        if node:
            ready = [c for c in node["status"].get("conditions", []) if c["type"] == "Ready"]
            print("node %s registered, IP %s, Ready=%s (NotReady is expected: no CNI)"
                  % (self.name, NODE_IP, ready[0]["status"] if ready else "?"))
        else:
            print("node %s NOT registered" % self.name)
            ok = False
        return 0 if ok else 1

    def log_tail(self, name, lines=25):
        try:
            with open(self.path(name + ".log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"


def build():
    """The directory of the cached kubelet, built first if needed."""
    result = subprocess.run(["bash", os.path.join(HERE, "build.sh")], stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode:
        raise NodeError("building the kubelet failed (see the messages above)")
    return result.stdout.strip().splitlines()[-1]


def run_with_node(node, command):
    """Starts the node, runs command, tears the node down whatever happened; the command's exit code."""
    with host_lock():
        node.up()
        try:
            rc = subprocess.call(command)
        finally:
            node.down(quiet=True)
            print("node %s torn down" % node.name, file=sys.stderr)
    return rc


def main(argv):
    if len(argv) > 3 and argv[1] == "run" and argv[2] == "--":
        try:
            return run_with_node(Node(), argv[3:])
        except NodeError as e:
            print("error: %s" % e, file=sys.stderr)
            return 1
    if len(argv) != 2 or argv[1] not in ("up", "down", "status", "check"):
        print(__doc__)
        return 2
    node = Node()
    try:
        if argv[1] == "up":
            node.up()
        elif argv[1] == "down":
            node.down()
        elif argv[1] == "check":
            reasons = missing_requirements()
            print("\n".join(reasons) or "this machine can run the test node")
            return 1 if reasons else 0
        else:
            return node.status()
    except NodeError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
