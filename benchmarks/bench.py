"""make bench: the scale benchmark (design §7).

The same job in N namespaces (a pull secret with two registries, linked to `default` for pull,
and an image-puller grant for another project's service accounts) done by:
  a  playbooks/enforce.yml with the project_access role (ocp.registry_access)
  b  benchmarks/kubernetes_core.yml, a loop of kubernetes.core.k8s tasks
  c  benchmarks/kubectl_loop.sh, a kubectl shell loop
  d  benchmarks/floor.py, only the strictly needed requests through the collection's client
each as a first run and a rerun on the unchanged cluster. Wall time is the whole process
(interpreter and ansible-playbook start-up included); requests come from the API server's audit
log, counting only the tool's own (the admin user, minus this driver's user agent).

Every N gets a fresh cluster of its own (.cluster-bench, ports 36xxx), never the test cluster.
All tools work on the same N namespaces: between repetitions the driver removes what the last
run made (secret, service account link, role binding), so each first run starts from the same
state and the cluster holds the same objects for every tool.

Usage (from the bench venv, see make bench):
  bench.py [--sizes 10,100,1000] [--reps 3] [--tools abcd] [--single-run-after 120]
  bench.py --render benchmarks/results/<file>.json     (regenerate docs/benchmarks.md only)
"""

import argparse
import base64
import datetime
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import urllib3

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "cluster"))
sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))

from cluster import Cluster, build  # noqa: E402
from kube import Api  # noqa: E402

BENCH_AGENT = "ocp-registry-access-bench"
CLUSTER_DIR = os.environ.get("BENCH_CLUSTER_DIR") or os.path.join(REPO, ".cluster-bench")
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE") or 36000)
BIN = os.path.dirname(sys.executable)
RESULTS_DIR = os.path.join(HERE, "results")
DOCS = os.path.join(REPO, "docs", "benchmarks.md")
FINDINGS = os.path.join(HERE, "findings.md")  # hand-written analysis, included in the generated page

SECRET = "bench-pull"
SOURCE = "bench-src"
ROLE = "system:image-puller"
RBAC = "rbac.authorization.k8s.io"
# Recognisable fake credentials: nothing here reaches a real registry.
REGISTRIES = [
    {"server": "registry-a.bench.example:5000", "username": "bench-user-a", "password": "fake-bench-password-a"},
    {"server": "registry-b.bench.example", "username": "bench-user-b", "password": "fake-bench-password-b"},
]
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
TOOLS = {
    "a": "ocp.registry_access: playbooks/enforce.yml, project_access role",
    "b": "kubernetes.core.k8s loop (benchmarks/kubernetes_core.yml)",
    "c": "kubectl shell loop (benchmarks/kubectl_loop.sh)",
    "d": "floor: bare Python, same client, only needed requests (benchmarks/floor.py)",
}
SETUP_PARALLEL = 8


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def namespace_names(n):
    return ["bench-n%d-%04d" % (n, i) for i in range(1, n + 1)]


def dockerconfig():
    auths = {}
    for reg in REGISTRIES:
        pair = "%s:%s" % (reg["username"], reg["password"])
        auths[reg["server"]] = {"username": reg["username"], "password": reg["password"],
                                "auth": base64.b64encode(pair.encode()).decode()}
    return {"auths": auths}


# -- audit log ------------------------------------------------------------------------------


class Audit:
    """Requests of one window of the audit log, closed by a sentinel request."""

    def __init__(self, path, api):
        self.path = path
        self.api = api

    def offset(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def events_since(self, offset):
        sentinel = "bench-sentinel-" + uuid.uuid4().hex[:10]
        self.api.get_or_none("/api/v1/namespaces/default/configmaps/" + sentinel)
        deadline = time.time() + 60
        events, buf, pos = [], b"", offset
        while True:
            with open(self.path, "rb") as f:
                f.seek(pos)
                chunk = f.read()
            pos += len(chunk)
            buf += chunk
            lines = buf.split(b"\n")
            buf = lines.pop()  # an incomplete last line waits for the next read
            found = False
            for line in lines:
                try:
                    raw = json.loads(line)
                except ValueError:
                    continue
                if raw.get("stage") != "ResponseComplete":
                    continue
                if (raw.get("objectRef") or {}).get("name") == sentinel:
                    found = True
                    continue
                events.append(raw)
            if found:
                return events
            if time.time() > deadline:
                raise RuntimeError("audit sentinel %s never reached %s" % (sentinel, self.path))
            time.sleep(0.1)


def tool_requests(events):
    """The tool's own requests: made as admin, not by this driver (controllers act as themselves)."""
    mine = [e for e in events if (e.get("user") or {}).get("username") == "admin"
            and not (e.get("userAgent") or "").startswith(BENCH_AGENT)]
    by_verb, by_resource, agents = {}, {}, {}
    for e in mine:
        verb = e.get("verb")
        ref = e.get("objectRef") or {}
        resource = ref.get("resource") or "(discovery)"
        if ref.get("subresource"):
            resource += "/" + ref["subresource"]
        by_verb[verb] = by_verb.get(verb, 0) + 1
        key = "%s %s" % (verb, resource)
        by_resource[key] = by_resource.get(key, 0) + 1
        agent = (e.get("userAgent") or "").split(" ")[0]
        agents[agent] = agents.get(agent, 0) + 1
    return {"total": len(mine), "by_verb": dict(sorted(by_verb.items())),
            "writes": sum(by_verb.get(v, 0) for v in WRITE_VERBS),
            "by_verb_resource": dict(sorted(by_resource.items())), "user_agents": agents}


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

    def up(self):
        self.down()  # a fresh cluster per N: the same objects for every size's tools
        self.cluster.up()
        self.api = Api(self.cluster.server, self.cluster.ca_cert, self.cluster.admin_token, user_agent=BENCH_AGENT)
        self.api.http.connection_pool_kw["maxsize"] = SETUP_PARALLEL
        self.audit = Audit(self.cluster.audit_log, self.api)
        os.makedirs(self.workdir, mode=0o700, exist_ok=True)

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
        """Setup and cleanup requests in parallel; the API server may drop a kept-alive connection
        under this load, so each item is tried again a few times."""
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

    def create_namespaces(self, n):
        names = namespace_names(n)
        started = time.time()
        self.api.create("/api/v1/namespaces", {"metadata": {"name": SOURCE}})

        def labels(i):
            out = {"bench": "n%d" % n}
            if i < self.args.sample:
                out["bench-sample"] = "yes"  # the namespaces that sampled runs of slow tools target
            return out

        self.parallel(lambda item: self.api.create("/api/v1/namespaces", {"metadata": {
            "name": item[1], "labels": labels(item[0])}}), list(enumerate(names)))
        # The service account controller makes `default` in each: the job links it, so wait.
        deadline = time.time() + 600
        while True:
            accounts = self.api.get("/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault")["items"]
            have = set(a["metadata"]["namespace"] for a in accounts)
            if have.issuperset(names):
                break
            if time.time() > deadline:
                raise RuntimeError("service account default missing in %d namespaces" % len(set(names) - have))
            time.sleep(1)
        time.sleep(3)  # let the controllers settle before anything is timed
        log("N=%d: %d namespaces ready in %.1fs" % (n, n, time.time() - started))
        return names

    def reset(self, names):
        """Remove what a run made, so the next first run starts from the same state."""
        def one(ns):
            self.api.delete("/api/v1/namespaces/%s/secrets/%s" % (ns, SECRET))
            self.api.delete("/apis/%s/v1/namespaces/%s/rolebindings/%s" % (RBAC, ns, ROLE))
            self.api.patch("/api/v1/namespaces/%s/serviceaccounts/default" % ns, {"imagePullSecrets": None})
        self.parallel(one, names)

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

    # -- the tools --------------------------------------------------------------------------

    def job_files(self, n, selector):
        kubeconfig = self.cluster.kubeconfig
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
        }
        paths = {}
        for tool, content in files.items():
            paths[tool] = os.path.join(self.workdir, "job-%s-n%d.json" % (tool, n))
            with open(os.open(paths[tool], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                json.dump(content, f)
        paths["c"] = os.path.join(self.workdir, "config.json")
        with open(os.open(paths["c"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(dockerconfig(), f, separators=(",", ":"))
        return paths

    def command(self, tool, n, selector, jobs):
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        env.pop("CLUSTER_DIR", None)
        if tool == "a":
            return [os.path.join(BIN, "ansible-playbook"), "playbooks/enforce.yml", "-e", "@" + jobs["a"]], env
        if tool == "b":
            return [os.path.join(BIN, "ansible-playbook"), "benchmarks/kubernetes_core.yml", "-e", "@" + jobs["b"]], env
        if tool == "c":
            env.update(KUBECTL=os.path.join(self.bindir, "kubectl"), KUBECONFIG=self.cluster.kubeconfig,
                       SELECTOR=selector, SECRET=SECRET, SOURCE=SOURCE, DOCKERCONFIG=jobs["c"])
            return ["bash", "benchmarks/kubectl_loop.sh"], env
        return [sys.executable, "benchmarks/floor.py", jobs["d"]], env

    def measure(self, tool, n, selector, jobs, phase, rep):
        argv, env = self.command(tool, n, selector, jobs)
        logfile = os.path.join(self.workdir, "%s-n%d-%s-%d.log" % (tool, n, phase, rep))
        offset = self.audit.offset()
        load = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with open(logfile, "wb") as out:
            proc = subprocess.run(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        requests = tool_requests(self.audit.events_since(offset))
        if proc.returncode:
            with open(logfile, errors="replace") as f:
                tail = "".join(f.readlines()[-30:])
            raise RuntimeError("tool %s %s run at N=%d exited %d; log %s:\n%s"
                               % (tool, phase, n, proc.returncode, logfile, tail))
        log("N=%-5d %s %-5s rep %d: %7.2fs (client CPU %.2fs, load %.1f) %5d requests %s, %d writes"
            % (n, tool, phase, rep, wall, cpu, load, requests["total"], requests["by_verb"], requests["writes"]))
        return dict(wall_s=round(wall, 3), cpu_s=round(cpu, 3), load=round(load, 2), **requests)

    def run_size(self, n):
        self.up()
        if self.versions is None:
            self.versions = versions(self.bindir, self.api)
        all_names = self.create_namespaces(n)
        rows = []
        for tool in self.args.tools:
            names, selector = all_names, "bench=n%d" % n
            if tool in self.args.sample_tools and n > self.args.sample:
                # A loop's cost is the same for every namespace: measure a sample, scale by n / sample.
                names, selector = all_names[:self.args.sample], "bench=n%d,bench-sample=yes" % n
                log("N=%d %s: runs over a sample of %d namespaces, extrapolated x%g"
                    % (n, tool, len(names), n / len(names)))
            jobs = self.job_files(n, selector)
            reps = {"first": [], "rerun": []}
            for rep in range(1, self.args.reps + 1):
                for phase in ("first", "rerun"):
                    reps[phase].append(self.measure(tool, n, selector, jobs, phase, rep))
                    self.check(names, tool, phase)
                self.reset(names)
                slowest = max(r["wall_s"] for r in reps["first"] + reps["rerun"])
                if rep < self.args.reps and slowest > self.args.single_run_after:
                    log("N=%d %s: a run took %.0fs (> %ds): no more repetitions"
                        % (n, tool, slowest, self.args.single_run_after))
                    break
            for phase, runs in reps.items():
                rows.append(summarise(tool, n, phase, runs, len(names)))
        self.down()
        return rows


def summarise(tool, n, phase, runs, measured_n):
    """One table row: the median wall time and the requests of the run with that time.

    A sampled row (measured_n < n) is scaled by n / measured_n, except the one namespace list,
    and says so: `measured` keeps what was really measured.
    """
    walls = [r["wall_s"] for r in runs]
    median = statistics.median(walls)
    nearest = min(runs, key=lambda r: abs(r["wall_s"] - median))
    out = {"tool": tool, "n": n, "phase": phase, "runs": len(runs), "wall_s": walls, "median_s": round(median, 3),
           "cpu_s": [r["cpu_s"] for r in runs], "median_cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 3),
           "load_at_start": [r["load"] for r in runs],
           "requests": nearest["total"], "by_verb": nearest["by_verb"], "writes": nearest["writes"],
           "by_verb_resource": nearest["by_verb_resource"], "user_agents": nearest["user_agents"],
           "writes_all_runs": [r["writes"] for r in runs], "requests_all_runs": [r["total"] for r in runs],
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


# -- targets and the docs ---------------------------------------------------------------------


def row(rows, tool, n, phase):
    for r in rows:
        if r["tool"] == tool and r["n"] == n and r["phase"] == phase:
            return r
    return None


def targets(rows):
    out = []
    sizes = sorted(set(r["n"] for r in rows))
    top = max(sizes)
    a_reruns = [row(rows, "a", n, "rerun") for n in sizes]
    if all(a_reruns):
        bad = ["N=%d: %s" % (r["n"], r["writes_all_runs"]) for r in a_reruns if any(r["writes_all_runs"])]
        measured = "; ".join("N=%d: %s writes" % (r["n"], max(r["writes_all_runs"])) for r in a_reruns)
        out.append({"target": "(a) a rerun on an unchanged cluster sends zero writes at every N",
                    "met": not bad, "measured": measured})
    a_top = row(rows, "a", top, "rerun")
    if a_top:
        out.append({"target": "(a) a rerun at N=%d sends at most 10 requests in all" % top,
                    "met": max(a_top["requests_all_runs"]) <= 10,
                    "measured": "%d requests (%s)" % (max(a_top["requests_all_runs"]), a_top["by_verb"])})
    a_runs = [r for r in rows if r["tool"] == "a"]
    if a_runs:
        # First run: one write per object made (3 per namespace), reads a constant handful; rerun: reads only.
        def reads(r):
            return r["requests"] - r["writes"]
        bad = [r for r in a_runs if r["writes"] != (3 * r["n"] if r["phase"] == "first" else 0)
               or reads(r) > max(reads(x) for x in a_runs if x["n"] == sizes[0] and x["phase"] == r["phase"]) + 10]
        out.append({"target": "(a) requests grow with the changed objects (3 per namespace on a first run), "
                              "not with per-namespace reads",
                    "met": not bad, "measured": "; ".join("N=%d %s: %d writes + %d reads" % (
                        r["n"], r["phase"], r["writes"], reads(r)) for r in sorted(a_runs, key=lambda x: (x["n"], x["phase"])))})
    b_first, b_rerun = row(rows, "b", top, "first"), row(rows, "b", top, "rerun")
    a_first_top = row(rows, "a", top, "first")
    if a_first_top and b_first and a_top and b_rerun:
        f = b_first["median_s"] / a_first_top["median_s"]
        r = b_rerun["median_s"] / a_top["median_s"]
        how = " ((b) extrapolated from %d namespaces)" % b_first["extrapolated_from"] if b_first.get("extrapolated_from") else ""
        out.append({"target": "(a) at least 20x faster than (b) at N=%d, first run and rerun" % top,
                    "met": f >= 20 and r >= 20, "measured": "first run %.1fx, rerun %.1fx%s" % (f, r, how)})
    d_first = row(rows, "d", top, "first")
    if a_first_top and d_first:
        ratio = a_first_top["median_s"] / d_first["median_s"]
        out.append({"target": "(a) within 2x of the floor (d) on the first run at N=%d" % top,
                    "met": ratio <= 2, "measured": "(a) %.2fs vs (d) %.2fs: %.2fx"
                    % (a_first_top["median_s"], d_first["median_s"], ratio)})
    return out


def fmt_verbs(by_verb):
    order = ["get", "list", "watch", "create", "update", "patch", "delete"]
    keys = sorted(by_verb, key=lambda v: (order.index(v) if v in order else 99, v))
    return ", ".join("%s %d" % (v, by_verb[v]) for v in keys) or "-"


def load_range(rows, cores):
    loads = sorted(load for r in rows for load in r.get("load_at_start") or [])
    if not loads:
        return "not recorded"
    return "%.1f to %.1f, median %.1f, on %d cores" % (loads[0], loads[-1], statistics.median(loads), cores)


def render(results):
    rows = results["rows"]
    lines = [
        "# Benchmarks",
        "",
        "`make bench` measures one job at N = %s namespaces, done four ways, on a local control plane of"
        % ", ".join(str(n) for n in sorted(set(r["n"] for r in rows))),
        "its own (`.cluster-bench`, never the test cluster). The job, in every namespace: a",
        "`kubernetes.io/dockerconfigjson` pull secret with two registries, linked to the `default`",
        "service account for pull, and a `system:image-puller` RoleBinding for the service accounts of",
        "another project (group `system:serviceaccounts:%s`)." % SOURCE,
        "",
    ]
    for tool in sorted(set(r["tool"] for r in rows)):
        lines.append("- **(%s)** %s" % (tool, TOOLS[tool]))
    lines += [
        "",
        "Each first run starts with no secret, link or binding; the rerun follows on the unchanged",
        "cluster. Wall time is the whole command (interpreter and `ansible-playbook` start-up",
        "included), the median of the runs given. Requests are the tool's own, read from the API",
        "server's audit log (controllers and the driver excluded); writes are create, update, patch",
        "and delete requests. Ratio: the tool's median time over (a)'s for the same N and run.",
        "A tool whose run at some N took over %ds was run once there (to keep `make bench` near half"
        % results.get("single_run_after", 60),
        "an hour on this machine; `--single-run-after` changes it).",
        "",
        "| N | tool | run | runs | median wall (s) | ratio to (a) | client CPU (s) | requests | by verb | writes |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for n in sorted(set(r["n"] for r in rows)):
        for phase in ("first", "rerun"):
            a = row(rows, "a", n, phase)
            for tool in sorted(set(r["tool"] for r in rows)):
                r = row(rows, tool, n, phase)
                if not r:
                    continue
                ratio = "%.1f" % (r["median_s"] / a["median_s"]) if a else "-"
                mark = " *" if r.get("extrapolated_from") else ""
                lines.append("| %d | (%s) | %s | %d%s | %.2f%s | %s | %.2f | %d | %s | %d |" % (
                    n, tool, phase, r["runs"], mark, r["median_s"], mark, ratio, r["median_cpu_s"], r["requests"],
                    fmt_verbs(r["by_verb"]), r["writes"]))
    sampled = sorted(set((r["tool"], r["n"], r["extrapolated_from"]) for r in rows if r.get("extrapolated_from")))
    if sampled:
        lines += ["", "\\* Extrapolated, not measured over all N: " + "; ".join(
            "(%s) at N=%d ran over %d of the %d namespaces (the rest of them present), its time, CPU and "
            "per-namespace requests scaled by %g" % (t, n, m, n, float(n) / m) for t, n, m in sampled)
            + ". A loop's cost per namespace does not depend on N (compare the N=10 and N=100 rows); "
            "`make bench BENCH_ARGS=--full` measures them in full (about two hours on this machine)."]
    lines += ["", "## Targets (issue: scale benchmark)", ""]
    for t in results["targets"]:
        lines.append("- %s %s: %s" % ("MET" if t["met"] else "MISSED", t["target"], t["measured"]))
    if os.path.exists(FINDINGS):
        with open(FINDINGS) as f:
            lines += ["", f.read().strip()]
    m, v = results["machine"], results["versions"]
    lines += [
        "",
        "## Machine and versions",
        "",
        "- Machine: %s, %d cores, %.1f GiB memory (%s)" % (m.get("cpu", "?"), m["nproc"], m["memory_gib"], m["platform"]),
        "- Versions: " + ", ".join("%s %s" % (k, val) for k, val in v.items()),
        "- Load: 1-minute load average at the start of the runs %s (the machine is shared: see Reading the numbers)" % load_range(rows, m["nproc"]),
        "- Date: %s; whole `make bench` run: %.0f s" % (results["date"], results["total_wall_s"]),
        "- Results: `benchmarks/results/%s`" % results["file"],
        "",
        "## Reproduce",
        "",
        "```",
        "make bench",
        "```",
        "",
        "It creates `.venv-bench` from `benchmarks/requirements-bench.txt` (the `ansible` community",
        "package for kubernetes.core; not a dependency of the collection), builds and starts the bench",
        "cluster, runs `benchmarks/bench.py`, writes `benchmarks/results/<date>.json` and regenerates",
        "this page. `make bench BENCH_ARGS='--sizes 10 --reps 1'` is a quick check;",
        "`benchmarks/bench.py --render benchmarks/results/<file>.json` rewrites this page from a result.",
        "",
    ]
    return "\n".join(lines)


def hold_lock():
    """One bench at a time: a second one would tear down the first one's cluster under it."""
    import fcntl
    handle = open(CLUSTER_DIR.rstrip("/") + ".lock", "a+")
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
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tools", default="abcd")
    parser.add_argument("--sample", type=int, default=100,
                        help="at larger N, the --sample-tools run over this many namespaces, scaled to N")
    parser.add_argument("--sample-tools", default="bc", help="tools that may be sampled (the per-namespace loops)")
    parser.add_argument("--full", action="store_true", help="no sampling: every tool over every namespace")
    parser.add_argument("--single-run-after", type=int, default=60,
                        help="seconds: a tool whose run took longer gets no more repetitions at that N")
    parser.add_argument("--render", metavar="RESULTS_JSON", help="only regenerate docs/benchmarks.md")
    parser.add_argument("--no-docs", action="store_true", help="write the results but leave docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.render:
        with open(args.render) as f:
            results = json.load(f)
        with open(DOCS, "w") as f:
            f.write(render(results))
        log("wrote %s" % DOCS)
        return 0
    args.tools = [t for t in args.tools if t in TOOLS]
    args.sample_tools = "" if args.full else args.sample_tools
    started = time.time()
    args.lock = hold_lock()  # kept open for the whole run
    bench = Bench(args)
    rows = []
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            rows.extend(bench.run_size(n))
    finally:
        bench.down()
    date = datetime.datetime.now(datetime.timezone.utc)
    name = date.strftime("%Y-%m-%dT%H%M%SZ") + ".json"
    results = {"date": date.strftime("%Y-%m-%d %H:%M UTC"), "file": name, "command": "make bench",
               "args": " ".join(argv), "machine": machine(), "versions": bench.versions, "total_wall_s": round(time.time() - started),
               "job": {"secret": SECRET, "registries": [r["server"] for r in REGISTRIES], "service_account": "default",
                       "image_puller_group": "system:serviceaccounts:" + SOURCE},
               "single_run_after": args.single_run_after, "sample": None if args.full else args.sample,
               "tools": dict((t, TOOLS[t]) for t in args.tools), "rows": rows, "targets": targets(rows)}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, name)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    log("wrote %s (whole run %ds)" % (path, results["total_wall_s"]))
    if not args.no_docs:
        with open(DOCS, "w") as f:
            f.write(render(results))
        log("wrote %s" % DOCS)
    for t in results["targets"]:
        log("%s %s: %s" % ("MET   " if t["met"] else "MISSED", t["target"], t["measured"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
