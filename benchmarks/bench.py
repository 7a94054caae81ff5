"""make bench: the scale benchmark (design §7, issue #18).

The same job in N namespaces (a pull secret with two registries, linked to `default` for pull,
and an image-puller grant for another project's service accounts) done by:
  a  playbooks/enforce.yml with the project_access role (ocp.registry_access)
  d  benchmarks/floor.py, only the strictly needed requests through the collection's client
  b  benchmarks/kubernetes_core.yml, a loop of kubernetes.core.k8s tasks
  c  benchmarks/kubectl_loop.sh, a kubectl shell loop
each as a first run and a rerun on the unchanged cluster, and
  e  playbooks/audit.yml (registry_access_info) over the N namespaces, after (a)'s rerun.
Wall time is the whole process (interpreter and ansible-playbook start-up included); requests
come from the API server's audit log (tests/helpers/audit.py), counting only the tool's own (the
admin user, minus this driver's user agent); memory is the peak RSS (VmHWM) of the tool's
process tree polled from /proc, and the RSS of the bench cluster's kube-apiserver.

Every N gets a fresh cluster of its own (.cluster-bench, ports 36xxx), never the test cluster,
removed at the end. The namespaces are created in parallel. All tools work on the same N
namespaces: between repetitions the driver removes what the last run made (secret, service
account link, role binding). The per-namespace loops (b) and (c) run over a sample of the
namespaces above --sample and are scaled to N. If benchmarks/event_bench.py exists it runs once
at the largest N (results["event_driven"], see benchmarks/page.py). The results file is written
after each N (sizes run in the order given), so a run stopped early keeps what it measured.

Usage (from the bench venv, see make bench):
  bench.py [--sizes 10,100,1000,10000] [--reps 3] [--tools abcde] [--sample b=25,c=100] [--full]
  bench.py --sizes 10 --reps 1 --results-dir DIR --docs PATH     (make bench-quick)
Then docs/benchmarks.md is written by benchmarks/page.py from the run's results file.
"""

import argparse
import base64
import datetime
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import urllib3

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "cluster"))
sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))

import page  # noqa: E402  (benchmarks/page.py, beside this file)
from audit import WRITE_VERBS, AuditLog  # noqa: E402
from cluster import Cluster, build  # noqa: E402
from kube import Api, ApiError  # noqa: E402
from processes import process_tree  # noqa: E402

BENCH_AGENT = "ocp-registry-access-bench"
CLUSTER_DIR = os.environ.get("BENCH_CLUSTER_DIR") or os.path.join(REPO, ".cluster-bench")
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE") or 36000)
BIN = os.path.dirname(sys.executable)
RESULTS_DIR = os.path.join(HERE, "results")
EVENT_BENCH = os.path.join(HERE, "event_bench.py")  # issue #17's benchmark, when it exists

SECRET = "bench-pull"
SOURCE = "bench-src"
ROLE = "system:image-puller"
RBAC = "rbac.authorization.k8s.io"
# Recognisable fake credentials: nothing here reaches a real registry.
REGISTRIES = [
    {"server": "registry-a.bench.example:5000", "username": "bench-user-a", "password": "fake-bench-password-a"},
    {"server": "registry-b.bench.example", "username": "bench-user-b", "password": "fake-bench-password-b"},
]
TOOLS = {
    "a": "ocp.registry_access: playbooks/enforce.yml, project_access role (modules pull_secret and image_puller_binding)",
    "b": "kubernetes.core.k8s loop (benchmarks/kubernetes_core.yml)",
    "c": "kubectl shell loop (benchmarks/kubectl_loop.sh)",
    "d": "floor: bare Python, the collection's client, only the needed requests (benchmarks/floor.py)",
    "e": "ocp.registry_access audit: playbooks/audit.yml (module registry_access_info) over the N namespaces, "
         "after (a)'s rerun",
}
# b and c first (they reset only their sample), then a with e and d, side by side under the same load.
ORDER = "bcad"
SETUP_PARALLEL = 16
BUILTIN_MODULES = ("copy", "file", "stat", "template", "assert", "debug", "set_fact")
TASK_TIME = re.compile(r"^(\S.*?) -+ (\d+\.\d+)s$")  # "<task> ----- 1.23s", fewer dashes after a long name
POLL_INTERVAL = 0.1  # seconds between /proc samples of a running tool
LOAD_INTERVAL = 5  # seconds between /proc/loadavg samples over the whole run


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def namespace_names(n):
    return ["bench-n%d-%05d" % (n, i) for i in range(1, n + 1)]


def dockerconfig():
    auths = {}
    for reg in REGISTRIES:
        pair = "%s:%s" % (reg["username"], reg["password"])
        auths[reg["server"]] = {"username": reg["username"], "password": reg["password"],
                                "auth": base64.b64encode(pair.encode()).decode()}
    return {"auths": auths}


def parse_sample(text):
    """'b=25,c=100' (or one number for both loops) -> {'b': 25, 'c': 100}."""
    if text.isdigit():
        return {"b": int(text), "c": int(text)}
    out = {}
    for part in filter(None, text.split(",")):
        tool, _eq, count = part.partition("=")
        out[tool.strip()] = int(count)
    return out


def task_times(logfile):
    """{task: seconds} from ansible.posix.profile_tasks' summary at the end of a playbook's log."""
    out = {}
    with open(logfile, errors="replace") as f:
        for line in f:
            match = TASK_TIME.match(line.rstrip())
            if match:
                out[match.group(1).strip()] = float(match.group(2))
    return out


def tool_requests(events):
    """The tool's own requests: made as admin, not by this driver (controllers act as themselves)."""
    mine = [e for e in events if e.user == "admin" and not (e.user_agent or "").startswith(BENCH_AGENT)]
    by_verb, by_resource, agents = {}, {}, {}
    for e in mine:
        kind = (e.resource or "(discovery)") + ("/" + e.subresource if e.subresource else "")
        by_verb[e.verb] = by_verb.get(e.verb, 0) + 1
        key = "%s %s" % (e.verb, kind)
        by_resource[key] = by_resource.get(key, 0) + 1
        agent = (e.user_agent or "").split(" ")[0]
        agents[agent] = agents.get(agent, 0) + 1
    return {"total": len(mine), "by_verb": dict(sorted(by_verb.items())),
            "writes": sum(by_verb.get(v, 0) for v in WRITE_VERBS),
            "by_verb_resource": dict(sorted(by_resource.items())), "user_agents": agents}


# -- /proc: memory and load -------------------------------------------------------------------


def proc_status_kib(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def process_label(pid, root):
    """'module:<name>' for an Ansible module process (python .../AnsiballZ_<name>.py), else the program's name."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None
    if not argv:
        return None
    program = os.path.basename(argv[0])
    if program.startswith("python"):
        for arg in argv[1:]:
            base = os.path.basename(arg)
            if base.startswith("AnsiballZ_") and base.endswith(".py"):
                return "module:" + base[len("AnsiballZ_"):-3]
    if pid == root:
        return "root"
    return program


class ProcWatch:
    """Polls /proc while one tool runs: the peak RSS (VmHWM) of each process of its tree, the API
    server's RSS, the 1-minute load. VmHWM is the kernel's own high-water mark, so a poll shortly
    before a process exits still sees its peak."""

    def __init__(self, root, apiserver_pid):
        self.root, self.apiserver_pid = root, apiserver_pid
        self.peaks = {}  # (pid, label) -> VmHWM in KiB
        self.apiserver_max = 0
        self.load_max = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    def _run(self):
        tick = 0
        while True:
            self.poll(load=tick % 10 == 0)
            tick += 1
            if self._stop.wait(POLL_INTERVAL):
                return

    def poll(self, load=True):
        for pid in process_tree(self.root):
            label = process_label(pid, self.root)  # read every time: a fork's cmdline changes at exec
            hwm = proc_status_kib(pid, "VmHWM")
            if label and hwm:
                key = (pid, label)
                self.peaks[key] = max(hwm, self.peaks.get(key, 0))
        if self.apiserver_pid:
            self.apiserver_max = max(self.apiserver_max, proc_status_kib(self.apiserver_pid, "VmRSS") or 0)
        if load:
            self.load_max = max(self.load_max, loadavg()[0])

    def memory(self, tool):
        modules, programs = {}, {}
        for (_pid, label), kib in self.peaks.items():
            name = label.split(":", 1)[1] if label.startswith("module:") else None
            if name and name not in BUILTIN_MODULES:  # not the builtin modules a role also runs (copy, stat...)
                modules[name] = max(kib, modules.get(name, 0))
            else:
                programs[label] = max(kib, programs.get(label, 0))
        if tool == "d":
            worker = ("floor.py", programs.get("root"))
        elif tool == "c":
            worker = ("kubectl", programs.get("kubectl"))
        elif modules:
            worker = max(modules.items(), key=lambda item: item[1])
        else:
            worker = (None, None)
        return {"worker_name": worker[0], "worker_peak_kib": worker[1], "modules_kib": modules,
                "controller_peak_kib": programs.get("root") if tool in "abe" else None, "programs_kib": programs}


class LoadSampler:
    """/proc/loadavg every LOAD_INTERVAL seconds for the whole run: [seconds since start, 1, 5, 15 min]."""

    def __init__(self):
        self.started = time.time()
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            self.samples.append([round(time.time() - self.started, 1)] + loadavg())
            if self._stop.wait(LOAD_INTERVAL):
                return

    def stop(self):
        self._stop.set()
        self._thread.join()
        return {"interval_s": LOAD_INTERVAL, "samples": self.samples}


# -- the bench cluster ------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.cluster = Cluster(CLUSTER_DIR, PORT_BASE)
        self.bindir = build()
        self.workdir = os.path.join(CLUSTER_DIR, "work")
        self.api = None
        self.audit = None
        self.versions = None
        self.apiserver_by_n = {}
        self.setup_s_by_n = {}

    def up(self):
        self.down()  # a fresh cluster per N: the same objects for every size's tools
        self.cluster.up()
        self.trim_controllers()
        self.api = Api(self.cluster.server, self.cluster.ca_cert, self.cluster.admin_token, user_agent=BENCH_AGENT)
        self.api.http.connection_pool_kw["maxsize"] = SETUP_PARALLEL
        self.audit = AuditLog(self.cluster.audit_log, self.api)
        os.makedirs(self.workdir, mode=0o700, exist_ok=True)

    def trim_controllers(self):
        """The bench needs no kube-root-ca.crt: without its publisher (one worker, 20 requests a second)
        no controller writes 10,000 config maps while the tools are timed."""
        path = self.cluster.path("kube-controller-manager.argv")
        with open(path) as f:
            argv = json.load(f)
        for i, arg in enumerate(argv):
            if arg.startswith("--controllers="):
                kept = [c for c in arg.split("=", 1)[1].split(",") if c != "root-ca-certificate-publisher-controller"]
                argv[i] = "--controllers=" + ",".join(kept)
        with open(path, "w") as f:
            json.dump(argv, f)
        self.cluster.restart("kube-controller-manager")

    def down(self):
        """Throw the bench cluster away: its data is never kept, so no graceful shutdown to wait for."""
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            pid = self.cluster.pid(name)
            if pid:
                try:
                    os.killpg(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)  # started by this process: reap it, or it lingers as a zombie
                except ChildProcessError:
                    pass
                except OSError:
                    pass
        self.cluster.down(quiet=True)

    def parallel(self, func, items):
        """Setup and cleanup requests in parallel over the one client; the API server may drop a
        kept-alive connection under this load, so each item is tried again a few times."""
        def retrying(item):
            for attempt in range(5):
                try:
                    return func(item)
                except urllib3.exceptions.HTTPError:
                    if attempt == 4:
                        raise
                    time.sleep(0.5 * (attempt + 1))
            return None

        with ThreadPoolExecutor(SETUP_PARALLEL) as pool:
            return list(pool.map(retrying, items))

    def count(self, path, names):
        return len(set(names) & set(o["metadata"]["namespace"] for o in self.api.get(path)["items"]))

    def create_namespaces(self, n):
        names = namespace_names(n)
        started = time.time()
        self.api.create("/api/v1/namespaces", {"metadata": {"name": SOURCE}})
        samples = sorted(set(k for k in self.args.sample.values() if k < n))

        def labels(i):
            out = {"bench": "n%d" % n}
            for k in samples:
                if i < k:
                    out["bench-sample-%d" % k] = "yes"  # the namespaces that a sampled run of a loop targets
            return out

        def namespace(item):
            self.api.create("/api/v1/namespaces", {"metadata": {"name": item[1], "labels": labels(item[0])}})
            # `default` (the job links it) as the service account controller makes it; that controller
            # has one worker and would take minutes for 10,000 (it leaves an existing one alone).
            try:
                self.api.create("/api/v1/namespaces/%s/serviceaccounts" % item[1], {"metadata": {"name": "default"}})
            except ApiError as e:
                if e.status != 409:
                    raise

        self.parallel(namespace, list(enumerate(names)))
        created = time.time() - started
        deadline = time.time() + 300
        while self.count("/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault", names) < n:
            if time.time() > deadline:
                raise RuntimeError("service account default missing in some of the %d namespaces" % n)
            time.sleep(1)
        time.sleep(3)  # let the controllers settle before anything is timed
        self.setup_s_by_n[str(n)] = {"create_s": round(created, 1), "ready_s": round(time.time() - started, 1)}
        log("N=%d: %d namespaces and their default service accounts created in %.1fs (%d in parallel)"
            % (n, n, created, SETUP_PARALLEL))
        return names

    def reset(self, names):
        """Remove what a run made, so the next first run starts from the same state."""
        started = time.time()

        def one(ns):
            self.api.delete("/api/v1/namespaces/%s/secrets/%s" % (ns, SECRET))
            self.api.delete("/apis/%s/v1/namespaces/%s/rolebindings/%s" % (RBAC, ns, ROLE))
            self.api.patch("/api/v1/namespaces/%s/serviceaccounts/default" % ns, {"imagePullSecrets": None})
        self.parallel(one, names)
        if len(names) >= 1000:
            log("reset %d namespaces in %.1fs" % (len(names), time.time() - started))

    def check(self, names, tool, phase):
        """The job is done in every namespace (a fast tool that skipped work would be no result)."""
        secrets = self.api.get("/api/v1/secrets?fieldSelector=metadata.name%3D" + SECRET)["items"]
        accounts = self.api.get("/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault")["items"]
        bindings = self.api.get("/apis/%s/v1/rolebindings" % RBAC)["items"]
        want = dockerconfig()
        good_secret = set()
        for s in secrets:
            try:
                data = json.loads(base64.b64decode(s["data"][".dockerconfigjson"]))
            except (KeyError, ValueError):
                continue
            if s.get("type") == "kubernetes.io/dockerconfigjson" and data == want:
                good_secret.add(s["metadata"]["namespace"])
        linked = set(a["metadata"]["namespace"] for a in accounts
                     if SECRET in [r.get("name") for r in a.get("imagePullSecrets") or []])
        group = "system:serviceaccounts:" + SOURCE
        granted = set(b["metadata"]["namespace"] for b in bindings if b["roleRef"]["name"] == ROLE
                      and any(s.get("kind") == "Group" and s.get("name") == group for s in b.get("subjects") or []))
        done = (("secret", good_secret), ("link", linked), ("grant", granted))
        missing = [(what, ns) for ns in names for what, ok in done if ns not in ok]
        if missing:
            raise RuntimeError("tool %s (%s run) left the job undone: %d missing, e.g. %s"
                               % (tool, phase, len(missing), missing[:5]))

    def check_audit(self, n, jobs):
        """The audit (e) saw every namespace with its secret, link and grant."""
        with open(os.path.join(jobs["e_reports"], "bench.json")) as f:
            summary = json.load(f)["summary"]
        want = {"namespaces": n, "pull_secrets": n, "image_puller_bindings": n, "dangling_references": 0}
        wrong = dict((k, summary.get(k)) for k, v in want.items() if summary.get(k) != v)
        if wrong:
            raise RuntimeError("the audit at N=%d reported %s, expected %s" % (n, wrong, want))

    # -- the tools --------------------------------------------------------------------------

    def job_files(self, n, selector):
        kubeconfig = self.cluster.kubeconfig
        reports = os.path.join(self.workdir, "reports-n%d" % n)
        files = {
            "a": {"registry_access_kubeconfig": kubeconfig,
                  "project_access_pull_secrets": [{"name": SECRET, "namespace_selector": selector,
                                                   "registries": REGISTRIES, "service_accounts": ["default"]}],
                  "project_access_image_pullers": [{"image_namespace_selector": selector,
                                                    "all_service_accounts_in": [SOURCE]}]},
            "b": {"bench_kubeconfig": kubeconfig, "bench_selector": selector, "bench_secret": SECRET,
                  "bench_source": SOURCE, "bench_dockerconfig": dockerconfig()},
            "d": {"kubeconfig": kubeconfig, "selector": selector, "secret": SECRET, "source": SOURCE,
                  "registries": REGISTRIES},
            "e": {"registry_access_kubeconfig": kubeconfig, "audit_namespace_selector": selector,
                  "audit_report_dir": reports, "audit_report_name": "bench"},
        }
        paths = {"e_reports": reports}
        for tool, content in files.items():
            paths[tool] = os.path.join(self.workdir, "job-%s-n%d.json" % (tool, n))
            with open(os.open(paths[tool], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                json.dump(content, f)
        paths["c"] = os.path.join(self.workdir, "config.json")
        with open(os.open(paths["c"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(dockerconfig(), f, separators=(",", ":"))
        return paths

    def command(self, tool, selector, jobs):
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        env.pop("CLUSTER_DIR", None)
        playbook = {"a": "playbooks/enforce.yml", "b": "benchmarks/kubernetes_core.yml", "e": "playbooks/audit.yml"}
        if tool in playbook:
            if tool in "ae":  # the time of each task, in the log and the results
                env.update(ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_SUMMARY_ONLY="true",
                           PROFILE_TASKS_SORT_ORDER="none", COLUMNS="250")
            return [os.path.join(BIN, "ansible-playbook"), playbook[tool], "-e", "@" + jobs[tool]], env
        if tool == "c":
            env.update(KUBECTL=os.path.join(self.bindir, "kubectl"), KUBECONFIG=self.cluster.kubeconfig,
                       SELECTOR=selector, SECRET=SECRET, SOURCE=SOURCE, DOCKERCONFIG=jobs["c"])
            return ["bash", "benchmarks/kubectl_loop.sh"], env
        return [sys.executable, "benchmarks/floor.py", jobs["d"]], env

    def measure(self, tool, n, selector, jobs, phase, rep):
        argv, env = self.command(tool, selector, jobs)
        logfile = os.path.join(self.workdir, "%s-n%d-%s-%d.log" % (tool, n, phase, rep))
        load = loadavg()[0]
        apiserver = self.cluster.pid("kube-apiserver")
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with self.audit.capture() as capture:
            started = time.perf_counter()
            with open(logfile, "wb") as out:
                proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
                with ProcWatch(proc.pid, apiserver) as watch:
                    proc.wait()
            wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        requests = tool_requests(capture.events)
        if proc.returncode:
            with open(logfile, errors="replace") as f:
                tail = "".join(f.readlines()[-30:])
            raise RuntimeError("tool %s %s run at N=%d exited %d; log %s:\n%s"
                               % (tool, phase, n, proc.returncode, logfile, tail))
        memory = watch.memory(tool)
        tasks = task_times(logfile) if tool in "ae" else None
        log("N=%-5d %s %-5s rep %d: %7.2fs (client CPU %.2fs, load %.1f-%.1f) %5d requests %s, %d writes; "
            "peak RSS %s %s MB, API server %d MB"
            % (n, tool, phase, rep, wall, cpu, load, watch.load_max, requests["total"], requests["by_verb"],
               requests["writes"], memory["worker_name"], page.fmt_mb(memory["worker_peak_kib"]),
               watch.apiserver_max // 1024))
        return dict(wall_s=round(wall, 3), cpu_s=round(cpu, 3), load=round(load, 2), load_max=round(watch.load_max, 2),
                    memory=memory, apiserver_rss_max_kib=watch.apiserver_max, tasks_s=tasks, **requests)

    def run_size(self, n, largest):
        self.up()
        if self.versions is None:
            self.versions = versions(self.bindir, self.api)
        all_names = self.create_namespaces(n)
        tools = [t for t in ORDER if t in self.args.tools]
        if "e" in self.args.tools and "a" not in tools:
            tools.append("a")  # the audit reads the state (a) makes
        reps_here = 1 if n >= self.args.one_rep_from else self.args.reps
        runs = {}
        for index, tool in enumerate(tools):
            names, selector = all_names, "bench=n%d" % n
            k = self.args.sample.get(tool)
            if k and n > k:
                # A loop's cost is the same for every namespace: measure a sample, scale by n / k.
                names, selector = all_names[:k], "bench=n%d,bench-sample-%d=yes" % (n, k)
                log("N=%d %s: runs over a sample of %d namespaces, scaled x%g" % (n, tool, k, n / k))
            jobs = self.job_files(n, selector)
            phases = ("first", "rerun", "audit") if tool == "a" and "e" in self.args.tools else ("first", "rerun")
            for rep in range(1, reps_here + 1):
                for phase in phases:
                    who = "e" if phase == "audit" else tool
                    runs.setdefault((who, phase, len(names)), []).append(self.measure(who, n, selector, jobs, phase, rep))
                    if phase == "audit":
                        self.check_audit(n, jobs)
                    else:
                        self.check(names, tool, phase)
                slowest = max(r["wall_s"] for (who, _p, _k), rs in runs.items() if who in (tool, "e" if tool == "a" else tool)
                              for r in rs)
                more = rep < reps_here and slowest <= self.args.single_run_after
                if rep < reps_here and not more:
                    log("N=%d %s: a run took %.0fs (> %ds): no more repetitions"
                        % (n, tool, slowest, self.args.single_run_after))
                if more or index < len(tools) - 1:
                    self.reset(names)  # after the last tool the cluster is thrown away as it is
                if not more:
                    break
        self.apiserver_by_n[str(n)] = {"hwm_kib": proc_status_kib(self.cluster.pid("kube-apiserver"), "VmHWM"),
                                       "rss_end_kib": proc_status_kib(self.cluster.pid("kube-apiserver"), "VmRSS")}
        rows = [summarise(tool, n, phase, rs, k) for (tool, phase, k), rs in runs.items()
                if tool in self.args.tools]
        if largest:
            self.event_driven = self.run_event_bench(n)
        self.down()
        return rows

    def run_event_bench(self, n):
        """Issue #17's event-driven benchmark, once, on this cluster (see the board's contract in page.py)."""
        if not os.path.exists(EVENT_BENCH) or self.args.no_event:
            return None
        out = os.path.join(self.workdir, "event_driven.json")
        argv = [sys.executable, EVENT_BENCH, "--kubeconfig", self.cluster.kubeconfig, "--server", self.cluster.server,
                "--ca-cert", self.cluster.ca_cert, "--audit-log", self.cluster.audit_log, "--workdir", self.workdir,
                "--size", str(n), "--out", out] + (["--quick"] if n < 1000 else [])
        log("event-driven: %s" % " ".join(argv[1:2] + argv[-4:]))
        started = time.time()
        try:
            proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            return {"error": "benchmarks/event_bench.py did not finish within 900 s"}
        if proc.returncode:
            log("event-driven benchmark exited %d:\n%s" % (proc.returncode, (proc.stdout + proc.stderr)[-3000:]))
            return {"error": "benchmarks/event_bench.py exited %d" % proc.returncode}
        with open(out) as f:
            result = json.load(f)
        result.setdefault("wall_s", round(time.time() - started, 1))
        log("event-driven benchmark done in %.0fs" % (time.time() - started))
        return result


def summarise(tool, n, phase, runs, measured_n):
    """One table row: the median wall time and the requests of the run with that time.

    A sampled row (measured_n < n) is scaled by n / measured_n, except the one namespace list,
    and says so: `measured` keeps what was really measured. Memory is never scaled: it is the
    largest of the runs, as measured.
    """
    walls = [r["wall_s"] for r in runs]
    median = statistics.median(walls)
    nearest = min(runs, key=lambda r: abs(r["wall_s"] - median))
    heaviest = max(runs, key=lambda r: r["memory"]["worker_peak_kib"] or 0)
    memory = dict(heaviest["memory"])
    memory["modules_kib"] = {}
    for r in runs:
        for name, kib in r["memory"]["modules_kib"].items():
            memory["modules_kib"][name] = max(kib, memory["modules_kib"].get(name, 0))
    out = {"tool": tool, "n": n, "phase": phase, "runs": len(runs), "wall_s": walls, "median_s": round(median, 3),
           "cpu_s": [r["cpu_s"] for r in runs], "median_cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 3),
           "load_at_start": [r["load"] for r in runs], "load_max": [r["load_max"] for r in runs],
           "requests": nearest["total"], "by_verb": nearest["by_verb"], "writes": nearest["writes"],
           "by_verb_resource": nearest["by_verb_resource"], "user_agents": nearest["user_agents"],
           "writes_all_runs": [r["writes"] for r in runs], "requests_all_runs": [r["total"] for r in runs],
           "memory": memory, "apiserver": {"rss_max_kib": max(r["apiserver_rss_max_kib"] for r in runs)},
           "tasks_s": nearest.get("tasks_s"),
           "extrapolated_from": None}
    if measured_n < n:
        scale = float(n) / measured_n
        by_verb = dict((v, c if v == "list" else int(round(c * scale))) for v, c in nearest["by_verb"].items())
        out.update(measured=dict((k, out[k]) for k in ("wall_s", "median_s", "median_cpu_s", "requests", "by_verb", "writes")),
                   extrapolated_from=measured_n, median_s=round(median * scale, 3), wall_s=[round(w * scale, 3) for w in walls],
                   median_cpu_s=round(out["median_cpu_s"] * scale, 3),
                   by_verb=by_verb, requests=sum(by_verb.values()),
                   writes=sum(by_verb.get(v, 0) for v in WRITE_VERBS),
                   writes_all_runs=[int(round(w * scale)) for w in out["writes_all_runs"]])
    return out


# -- environment ------------------------------------------------------------------------------


def machine():
    info = {"nproc": os.cpu_count(), "platform": platform.platform()}
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    return info


def source_state():
    """The commit measured, and the collection's files that differed from it (the bench runs the working tree)."""
    if os.environ.get("BENCH_SOURCE_COMMIT"):  # a copy of a commit (git archive), not a work tree
        return {"commit": os.environ["BENCH_SOURCE_COMMIT"], "uncommitted": [], "copy": REPO}

    def git(*args):
        return subprocess.run(["git"] + list(args), cwd=REPO, capture_output=True, text=True, check=False).stdout
    dirty = [line[3:] for line in git("status", "--porcelain", "--", "plugins", "roles", "playbooks").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "uncommitted": dirty}


def versions(bindir, api):
    from importlib import metadata
    from ansible.release import __version__ as ansible_core
    out = {"python": platform.python_version(), "ansible-core": ansible_core,
           "ansible (community package)": metadata.version("ansible"),
           "kubernetes (python client)": metadata.version("kubernetes")}
    import ansible_collections.kubernetes.core as kc
    with open(os.path.join(list(kc.__path__)[0], "MANIFEST.json")) as f:
        out["kubernetes.core"] = json.load(f)["collection_info"]["version"]
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        for line in f:
            if line.startswith("version:"):
                out["ocp.registry_access"] = line.split(":", 1)[1].strip()
    kubectl = json.loads(subprocess.run([os.path.join(bindir, "kubectl"), "version", "--client", "-o", "json"],
                                        capture_output=True, text=True, check=True).stdout)
    out["kubectl"] = kubectl["clientVersion"]["gitVersion"]
    out["kube-apiserver"] = api.get("/version")["gitVersion"]
    etcd = subprocess.run([os.path.join(bindir, "etcd"), "--version"], capture_output=True, text=True, check=True).stdout
    out["etcd"] = etcd.split()[2]
    return out


# -- one run at a time ------------------------------------------------------------------------


def hold_lock():
    """One bench at a time: a second one would tear down the first one's cluster under it."""
    import fcntl
    handle = open(CLUSTER_DIR.rstrip("/") + ".bench.lock", "a+")  # not cluster.py's own .lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        raise SystemExit("another make bench is running (pid %s) on %s; wait for it to finish"
                         % (handle.read().strip() or "?", CLUSTER_DIR))
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle  # held until this process exits


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each tool below --one-rep-from")
    parser.add_argument("--one-rep-from", type=int, default=10000, help="one repetition from this N up")
    parser.add_argument("--tools", default="abcde")
    parser.add_argument("--sample", default="b=25,c=100",
                        help="per-namespace loops run over this many namespaces at larger N, scaled to N")
    parser.add_argument("--full", action="store_true", help="no sampling: every tool over every namespace")
    parser.add_argument("--single-run-after", type=int, default=60,
                        help="seconds: a tool whose run took longer gets no more repetitions at that N")
    parser.add_argument("--no-event", action="store_true", help="leave out benchmarks/event_bench.py")
    parser.add_argument("--results-dir", default=RESULTS_DIR)
    parser.add_argument("--docs", default=page.DOCS, help="the page written from the results ('' for none)")
    args = parser.parse_args(argv)
    args.tools = [t for t in args.tools if t in TOOLS]
    args.sample = {} if args.full else parse_sample(args.sample)
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.time()
    args.lock = hold_lock()  # kept open for the whole run
    load = LoadSampler()
    bench = Bench(args)
    bench.event_driven = None
    source = source_state()  # at the start: what the first N measures
    rows = []
    date = datetime.datetime.now(datetime.timezone.utc)
    os.makedirs(args.results_dir, exist_ok=True)
    path = os.path.join(args.results_dir, date.strftime("%Y-%m-%dT%H%M%SZ") + ".json")

    def save(complete):
        """The results so far: written after each N, so that a run stopped later keeps what it measured."""
        results = {"date": date.strftime("%Y-%m-%d %H:%M UTC"), "file": os.path.basename(path),
                   "results_path": os.path.relpath(path, REPO), "complete": complete, "command": "make bench",
                   "args": " ".join(argv), "sizes": sizes, "source": source, "machine": machine(), "versions": bench.versions,
                   "total_wall_s": round(time.time() - started), "poll_interval_s": POLL_INTERVAL,
                   "load": load.stop() if complete else {"interval_s": LOAD_INTERVAL, "samples": list(load.samples)},
                   "job": {"secret": SECRET, "registries": [r["server"] for r in REGISTRIES], "service_account": "default",
                           "image_puller_group": "system:serviceaccounts:" + SOURCE},
                   "reps": args.reps, "one_rep_from": args.one_rep_from, "single_run_after": args.single_run_after,
                   "sample": args.sample, "setup_parallel": SETUP_PARALLEL, "setup_by_n": bench.setup_s_by_n,
                   "apiserver_by_n": bench.apiserver_by_n,
                   "tools": dict((t, TOOLS[t]) for t in args.tools), "rows": rows}
        if bench.event_driven:
            results["event_driven"] = bench.event_driven
        results["targets"] = page.targets(results)
        with open(path + ".tmp", "w") as f:
            json.dump(results, f, indent=1)
            f.write("\n")
        os.replace(path + ".tmp", path)
        return results

    try:
        for n in sizes:
            rows.extend(bench.run_size(n, largest=n == max(sizes)))
            save(complete=False)
    finally:
        bench.down()
    results = save(complete=True)
    log("wrote %s (whole run %ds)" % (path, results["total_wall_s"]))
    if args.docs:
        log("wrote %s" % page.write(results, args.docs))
    for t in results["targets"]:
        log("%-8s %s: %s" % (page.verdict(t), t["target"], t["measured"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
