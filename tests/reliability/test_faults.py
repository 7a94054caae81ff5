"""Faults between the collection and the API server, on the dedicated cluster.

- A TCP fault proxy on loopback (helpers.faultproxy) resets, cuts mid-stream or delays a share of
  the connections: every run converges within the client's bounded retries or fails with a clear
  message, and a rerun without faults converges with nothing duplicated or lost.
- kube-apiserver SIGKILLed in the middle of a run: the run fails cleanly (no traceback, "cannot
  reach the API server"), within the client's bounded retries; after a restart a rerun converges,
  nothing duplicated or lost.
- etcd SIGSTOPped for a few seconds in the middle of a run: the run converges (requests wait for
  etcd) or fails cleanly; a rerun converges, nothing duplicated or lost.

The client sends each request at most 6 times, sleeping about 0.2, 0.4, 0.8, 1.6 and 3.2 seconds
(times 0.5 to 1, jitter) in between: a request gives up after 3 to 6 seconds without an answer.
"""

import base64
import json
import os
import signal
import threading
import time
import uuid

import pytest

from helpers.faultproxy import FaultProxy, proxied_kubeconfig, wait_until
from helpers.runner import register_secret, run_module, run_playbook

ENFORCE = "playbooks/enforce.yml"
MODULE_AGENT = "ocp.registry_access/"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
SEEDED = "default-dockercfg-seeded"  # an entry another controller added before the runs
# A request gives up after at most 3.2 + 1.6 + 0.8 + 0.4 + 0.2 = 6.2 s of backoff (plus the attempts themselves).
UNREACHABLE_BOUND_SECONDS = 20


def new_password(kind):
    return register_secret("fake-rel-fault-%s-%s" % (kind, uuid.uuid4().hex[:8]))


def make_projects(api, factory, count, prefix):
    """count namespaces, each with its default service account holding an entry someone else linked."""
    namespaces = [factory(prefix, wait_for_default_sa=True) for _i in range(count)]
    for ns in namespaces:
        path = "/api/v1/namespaces/%s/serviceaccounts/default" % ns
        sa = api.get(path)
        sa["imagePullSecrets"] = [{"name": SEEDED}]
        api.replace(path, sa)
    return namespaces


def declaration(kubeconfig, namespaces, image_namespace, secrets=3):
    passwords = [new_password("secret-%d" % i) for i in range(secrets)]
    return {
        "registry_access_kubeconfig": kubeconfig,
        "project_access_pull_secrets": [{
            "name": "fault-%d" % i, "namespaces": namespaces, "service_accounts": ["default"],
            "registries": [{"server": "registry-%d.example.com" % i, "username": "robot-%d" % i, "password": passwords[i]}],
        } for i in range(secrets)],
        "project_access_image_pullers": [{"image_namespace": image_namespace,
                                          "service_accounts": ["%s:default" % ns for ns in namespaces]}],
    }


def assert_converged(api, declared):
    """Every declared object once, nothing someone else added lost."""
    secrets = declared["project_access_pull_secrets"]
    for item in secrets:
        for ns in item["namespaces"]:
            secret = api.get("/api/v1/namespaces/%s/secrets/%s" % (ns, item["name"]))
            auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
            assert list(auths) == [item["registries"][0]["server"]]
    for ns in secrets[0]["namespaces"]:
        names = [r["name"] for r in api.get("/api/v1/namespaces/%s/serviceaccounts/default" % ns)["imagePullSecrets"]]
        assert sorted(names) == sorted([SEEDED] + [item["name"] for item in secrets]), "lost or duplicated: %s" % names
    pullers = declared["project_access_image_pullers"][0]
    bindings = api.get("%s/namespaces/%s/rolebindings" % (RBAC, pullers["image_namespace"]))["items"]
    assert [b["metadata"]["name"] for b in bindings] == ["system:image-puller"], "extra bindings: %s" % bindings
    got = sorted("%s:%s" % (s["namespace"], s["name"]) for s in bindings[0]["subjects"])
    assert got == sorted(pullers["service_accounts"]), "lost or duplicated subjects: %s" % got


def assert_failed_cleanly(run, *phrases):
    """A failed run: no traceback, and the failure message says why."""
    assert "Traceback" not in run.output, run.output[-3000:]
    failed = [r for r in run.results if r.get("_status") == "failed"]
    messages = " ".join(str(r.get("msg", "")) for r in failed) + " ".join(
        line for line in run.output.splitlines() if "[ERROR]" in line)
    assert any(phrase in messages for phrase in phrases), "unclear failure: %s" % messages[:2000]
    assert "MODULE FAILURE" not in messages, messages[:2000]


def rerun_converges(api, audit, declared, namespaces):
    run = run_playbook(ENFORCE, extra_vars=[declared])
    assert run.rc == 0, run.output[-3000:]
    assert_converged(api, declared)
    with audit.capture() as seen:
        again = run_playbook(ENFORCE, extra_vars=[declared])
    assert again.rc == 0 and again.changed_tasks() == [], again.output[-3000:]
    assert seen.writes(namespaces=namespaces, user_agent_prefix=MODULE_AGENT) == []


def watch_for_first_write(cluster, audit, namespaces, then, timeout=120):
    """A thread that calls then() as soon as the audit log shows the collection's first write in namespaces."""
    offset = os.path.getsize(cluster.audit_log)

    def watch():
        nonlocal offset
        deadline = time.time() + timeout
        while time.time() < deadline:
            events, offset = audit.events_since(offset)
            if any(e.namespace in namespaces and e.verb in ("create", "update") and (e.user_agent or "").startswith(MODULE_AGENT)
                   for e in events):
                then()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def reap(pid):
    """Wait until a killed process is gone (reaped if it is our child, as when this session started the cluster)."""
    def gone():
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().split(")")[-1].split()[0] == "Z"
        except OSError:
            return True
    assert wait_until(gone, 15), "process %d did not go away" % pid


# -- the fault proxy -------------------------------------------------------------------------------


@pytest.mark.parametrize("faults", [
    dict(reset=0.3, delayed=0.2, delay=1.5),
    dict(cut=0.3, reset=0.1),
], ids=["reset-30pct-delay-20pct", "cut-mid-stream-30pct-reset-10pct"])
def test_runs_through_a_faulty_network_converge_or_fail_clearly(fault_api, fault_audit, fault_cluster, fault_namespace_factory,
                                                                figures, tmp_path, faults):
    namespaces = make_projects(fault_api, fault_namespace_factory, 4, "proxy")
    images = fault_namespace_factory("proxy-images")
    proxy = FaultProxy(fault_cluster.api_port, seed=len(figures), lifetime=240, **faults)
    kubeconfig = proxied_kubeconfig(fault_cluster.kubeconfig, proxy, tmp_path / "proxied-kubeconfig")
    declared = declaration(kubeconfig, namespaces, images)
    outcomes, durations = [], []
    with proxy:
        for _attempt in range(2):
            started = time.time()
            run = run_playbook(ENFORCE, extra_vars=[declared])
            durations.append(round(time.time() - started, 1))
            if run.rc == 0:
                outcomes.append("converged")
            else:
                assert_failed_cleanly(run, "cannot reach the API server", "HTTP 5", "kept changing")
                outcomes.append("failed cleanly")
        # direct module calls through the proxy, each checked on its own
        for _attempt in range(2):
            run = run_module("registry_access_info", dict(kubeconfig=kubeconfig, namespaces=namespaces, include_global=True))
            outcomes.append("converged" if not run.failed else "failed cleanly")
            if run.failed:
                assert "cannot reach the API server" in run.msg and "Traceback" not in run.output, run.output[-2000:]
    assert proxy.stopped
    assert max(durations) < 90, "a run took %ss through the proxy" % max(durations)
    assert proxy.stats["reset"] + proxy.stats["cut"] > 0, "the proxy injected no fault: %s" % proxy.stats
    assert "converged" in outcomes[:2], "no run converged within the client's retries: %s" % outcomes

    declared["registry_access_kubeconfig"] = fault_cluster.kubeconfig
    rerun_converges(fault_api, fault_audit, declared, namespaces + [images])
    key = "proxy " + "+".join("%s=%s" % (k, v) for k, v in sorted(faults.items()))
    figures.setdefault("faults", {})[key] = dict(proxy.stats, runs=len(outcomes), converged=outcomes.count("converged"),
                                                 failed_cleanly=outcomes.count("failed cleanly"),
                                                 slowest_playbook_seconds=max(durations))


# -- kube-apiserver killed -------------------------------------------------------------------------


def test_apiserver_killed_mid_run_fails_cleanly_and_a_rerun_converges(fault_api, fault_audit, fault_cluster,
                                                                      fault_namespace_factory, figures):
    namespaces = make_projects(fault_api, fault_namespace_factory, 6, "killed")
    images = fault_namespace_factory("killed-images")
    declared = declaration(fault_cluster.kubeconfig, namespaces, images, secrets=2)
    killed = {}

    def kill_apiserver():
        pid = fault_cluster.pid("kube-apiserver")
        os.killpg(pid, signal.SIGKILL)
        killed.update(pid=pid, at=time.time())

    try:
        watcher = watch_for_first_write(fault_cluster, fault_audit, namespaces, kill_apiserver)
        run = run_playbook(ENFORCE, extra_vars=[declared])
        finished = time.time()
        watcher.join(5)
        assert killed, "the run made no write to interrupt"
        reap(killed["pid"])
        assert run.rc != 0, "the run succeeded although the API server was killed"
        assert_failed_cleanly(run, "cannot reach the API server at %s" % fault_cluster.server)

        # while it is down, a module fails in bounded time with the same clear message
        started = time.time()
        down = run_module("registry_access_info", dict(kubeconfig=fault_cluster.kubeconfig, namespaces=namespaces))
        unreachable_seconds = round(time.time() - started, 1)
        assert down.failed and "cannot reach the API server at %s after 6 attempts" % fault_cluster.server in down.msg, down.msg
        assert "Traceback" not in down.output
        assert unreachable_seconds < UNREACHABLE_BOUND_SECONDS
    finally:
        started = time.time()
        fault_cluster.restart("kube-apiserver")
        restart_seconds = round(time.time() - started, 1)
        # the controller manager would take its time to reconnect its watches: start it afresh too
        fault_cluster.restart("kube-controller-manager")

    rerun_converges(fault_api, fault_audit, declared, namespaces + [images])
    figures.setdefault("faults", {})["kube-apiserver SIGKILL mid-run"] = {
        "run_failed_cleanly": True, "seconds_from_kill_to_run_end": round(finished - killed["at"], 1),
        "module_failure_seconds_while_down": unreachable_seconds, "restart_seconds": restart_seconds,
        "rerun_converged": True, "second_rerun_writes": 0}


# -- etcd stopped ----------------------------------------------------------------------------------


def test_etcd_stopped_mid_run_then_the_run_or_a_rerun_converges(fault_api, fault_audit, fault_cluster, fault_namespace_factory,
                                                                figures):
    namespaces = make_projects(fault_api, fault_namespace_factory, 6, "frozen")
    images = fault_namespace_factory("frozen-images")
    declared = declaration(fault_cluster.kubeconfig, namespaces, images)
    etcd = fault_cluster.pid("etcd")
    stopped = {}
    pause = 5

    def freeze_etcd():
        os.kill(etcd, signal.SIGSTOP)
        stopped["at"] = time.time()
        time.sleep(pause)
        os.kill(etcd, signal.SIGCONT)
        stopped["resumed"] = time.time()

    try:
        watcher = watch_for_first_write(fault_cluster, fault_audit, namespaces, freeze_etcd)
        started = time.time()
        run = run_playbook(ENFORCE, extra_vars=[declared])
        seconds = round(time.time() - started, 1)
        watcher.join(pause + 5)
    finally:
        os.kill(etcd, signal.SIGCONT)
    assert stopped.get("resumed"), "the run made no write to interrupt"
    assert stopped["resumed"] - stopped["at"] >= pause
    if run.rc == 0:
        assert_converged(fault_api, declared)
    else:
        assert_failed_cleanly(run, "cannot reach the API server", "HTTP 5", "timeout", "Timeout")
    assert seconds < 120
    assert wait_until(fault_cluster.healthy, 60)

    rerun_converges(fault_api, fault_audit, declared, namespaces + [images])
    figures.setdefault("faults", {})["etcd SIGSTOP %ds mid-run" % pause] = {
        "run": "converged" if run.rc == 0 else "failed cleanly", "run_seconds": seconds, "rerun_converged": True,
        "second_rerun_writes": 0}
