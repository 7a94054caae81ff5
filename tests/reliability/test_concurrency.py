"""Load: many ansible-playbook processes editing the same objects at once, on the dedicated cluster.

- 20 runs each link a different pull secret to one service account while the simulated OpenShift
  controller links its own <sa>-dockercfg-* secret: all 21 entries end up there, once each. The
  service account appears only once every run waits for it (wait_for: exists), so all 20 link at
  the same moment.
- 10 runs each add a registry to the cluster-wide pull secret (with backups): all 10 entries end up
  there and every entry that was there before is kept byte for byte.
- 10 runs each add a subject to one RoleBinding: one binding with every subject (and the one
  added by hand before), no second binding. The runs reach the API server through the fault
  proxy's gate, which lets them through together.

Every write is a read-modify-write carrying the read resourceVersion, retried on 409; the audit
log counts the conflicts that were retried. A rerun of every declaration afterwards changes nothing.
"""

import base64
import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers.baseline import seeded_cluster_config
from helpers.faultproxy import FaultProxy, proxied_kubeconfig
from helpers.runner import register_secret, run_playbook
from helpers.simulators import DockercfgProvisioner

ENFORCE = "playbooks/enforce.yml"
MODULE_AGENT = "ocp.registry_access/"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
GLOBAL_PATH = "/api/v1/namespaces/openshift-config/secrets/pull-secret"
LINKERS = 20
GLOBAL_EDITORS = 10
BINDING_EDITORS = 10


def password(kind, i):
    return register_secret("fake-rel-%s-%02d-%s" % (kind, i, uuid.uuid4().hex[:8]))


def in_parallel(count, run_one):
    """run_one(i) for i in range(count), all at once; (results in order, wall seconds)."""
    started = time.time()
    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(run_one, range(count)))
    return results, round(time.time() - started, 1)


def assert_all_succeeded(runs):
    failed = [(i, run) for i, run in enumerate(runs) if run.rc != 0]
    assert not failed, "%d of %d runs failed; first (run %d):\n%s" % (len(failed), len(runs), failed[0][0],
                                                                      failed[0][1].output[-3000:])


def subject_key(subject):
    return subject["kind"], subject["namespace"], subject["name"]


def conflicts(seen, namespaces, resource):
    """Writes of the collection answered 409 (retried by read-modify-write)."""
    return [e for e in seen.select(namespaces=namespaces, user_agent_prefix=MODULE_AGENT, resource=resource)
            if e.code == 409]


def test_parallel_runs_link_every_secret_beside_the_controllers_own(fault_api, fault_audit, fault_cluster,
                                                                    fault_namespace_factory, figures):
    ns = fault_namespace_factory("links")
    sa_path = "/api/v1/namespaces/%s/serviceaccounts/builder" % ns
    declarations = [{
        "registry_access_kubeconfig": fault_cluster.kubeconfig,
        "project_access_pull_secrets": [{
            "name": "pull-%02d" % i, "namespace": ns, "service_accounts": ["builder"],
            "registries": [{"server": "registry-%02d.example.com" % i, "username": "robot-%02d" % i,
                            "password": password("link", i)}]}],
    } for i in range(LINKERS)]

    # The controller's own link lands while the runs are linking: it starts once the first run's link is there.
    provisioner = DockercfgProvisioner(fault_api, ns, delay=0, lifetime=300)
    linked_before_controller = []

    def start_controller_mid_run():
        deadline = time.time() + 240
        while time.time() < deadline:
            refs = fault_api.get(sa_path).get("imagePullSecrets") or []
            if refs:
                linked_before_controller.append(len(refs))
                provisioner.start()
                return
            time.sleep(0.05)

    waiting = []

    def create_service_account_once_all_wait():
        """Every run lists the service account once before it starts waiting: count those lists."""
        offset, seen_lists, deadline = os.path.getsize(fault_cluster.audit_log), 0, time.time() + 120
        while seen_lists < LINKERS and time.time() < deadline:
            events, offset = fault_audit.events_since(offset)
            seen_lists += sum(1 for e in events if e.namespace == ns and e.resource == "serviceaccounts" and e.verb == "list"
                              and (e.user_agent or "").startswith(MODULE_AGENT))
            time.sleep(0.1)
        waiting.append(seen_lists)
        fault_api.create("/api/v1/namespaces/%s/serviceaccounts" % ns,
                         {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"}})
        start_controller_mid_run()

    watcher = threading.Thread(target=create_service_account_once_all_wait, daemon=True)
    watcher.start()
    with fault_audit.capture() as seen:
        runs, seconds = in_parallel(LINKERS, lambda i: run_playbook(ENFORCE, extra_vars=[declarations[i]]))
    watcher.join(10)
    assert provisioner.is_alive() or provisioner.provisioned, "the simulated controller never started"
    deadline = time.time() + 30
    while "builder" not in provisioner.provisioned and time.time() < deadline:
        time.sleep(0.1)
    provisioner.stop()
    assert_all_succeeded(runs)

    sa = fault_api.get(sa_path)
    names = [ref["name"] for ref in sa["imagePullSecrets"]]
    controller_secret = provisioner.provisioned["builder"]
    expected = ["pull-%02d" % i for i in range(LINKERS)] + [controller_secret]
    assert sorted(names) == sorted(expected), "lost or extra entries: %s" % names
    assert len(names) == len(set(names)) == LINKERS + 1, "duplicated entries: %s" % names
    assert [ref["name"] for ref in sa["secrets"]] == [controller_secret], "the mountable secrets list was touched"
    for i in range(LINKERS):
        secret = fault_api.get("/api/v1/namespaces/%s/secrets/pull-%02d" % (ns, i))
        config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
        assert list(config["auths"]) == ["registry-%02d.example.com" % i]
    retried = conflicts(seen, [ns], "serviceaccounts")

    everything = {"registry_access_kubeconfig": fault_cluster.kubeconfig,
                  "project_access_pull_secrets": [d["project_access_pull_secrets"][0] for d in declarations]}
    with fault_audit.capture() as again:
        rerun = run_playbook(ENFORCE, extra_vars=[everything])
    assert rerun.rc == 0 and rerun.changed_tasks() == [], rerun.output[-3000:]
    assert again.summary(again.writes(namespaces=[ns], user_agent_prefix=MODULE_AGENT)) == []

    figures.setdefault("concurrency", {})["service_account_links"] = {
        "parallel_runs": LINKERS, "runs_waiting_when_the_service_account_appeared": waiting[0], "entries_at_end": len(names),
        "controller_entry_position": names.index(controller_secret) + 1,
        "links_before_controller_started": linked_before_controller[0] if linked_before_controller else None,
        "conflicts_retried": len(retried), "controller_conflicts_retried": provisioner.conflicts, "wall_seconds": seconds}


@pytest.fixture
def global_pull_secret(fault_api, fault_cluster):
    """The dedicated cluster's openshift-config/pull-secret as seeded; what was found put back afterwards."""
    with seeded_cluster_config(fault_api, fault_cluster) as seeded:
        yield seeded


def test_parallel_edits_of_the_global_pull_secret_keep_every_entry(fault_api, fault_audit, fault_cluster, global_pull_secret,
                                                                   figures):
    before_raw = base64.b64decode(global_pull_secret["data"][".dockerconfigjson"])
    before = json.loads(before_raw)["auths"]
    declarations = [{
        "registry_access_kubeconfig": fault_cluster.kubeconfig, "cluster_pull_secret_backup": True,
        "cluster_pull_secret_registries": [{"server": "mirror-%02d.example.com/team" % i, "username": "mirror-%02d" % i,
                                            "password": password("global", i), "email": "team-%02d@example.com" % i}],
    } for i in range(GLOBAL_EDITORS)]

    with fault_audit.capture() as seen:
        runs, seconds = in_parallel(GLOBAL_EDITORS, lambda i: run_playbook(ENFORCE, extra_vars=[declarations[i]]))
    assert_all_succeeded(runs)

    after = json.loads(base64.b64decode(fault_api.get(GLOBAL_PATH)["data"][".dockerconfigjson"]))["auths"]
    added = ["mirror-%02d.example.com/team" % i for i in range(GLOBAL_EDITORS)]
    assert sorted(after) == sorted(list(before) + added), "lost or extra entries: %s" % sorted(after)
    for key, entry in before.items():
        assert after[key] == entry, "entry %s was changed" % key
    for i, key in enumerate(added):
        assert after[key]["username"] == "mirror-%02d" % i and after[key]["email"] == "team-%02d@example.com" % i
    backups = [s["metadata"]["name"] for s in fault_api.get("/api/v1/namespaces/openshift-config/secrets")["items"]
               if s["metadata"]["name"].startswith("pull-secret-backup-")]
    assert 1 <= len(backups) <= 5, "backups beyond backup_keep (5): %s" % backups
    retried = conflicts(seen, ["openshift-config"], "secrets")

    everything = {"registry_access_kubeconfig": fault_cluster.kubeconfig,
                  "cluster_pull_secret_registries": [d["cluster_pull_secret_registries"][0] for d in declarations]}
    with fault_audit.capture() as again:
        rerun = run_playbook(ENFORCE, extra_vars=[everything])
    assert rerun.rc == 0 and rerun.changed_tasks() == [], rerun.output[-3000:]
    assert again.summary(again.writes(namespaces=["openshift-config"], user_agent_prefix=MODULE_AGENT)) == []

    figures.setdefault("concurrency", {})["global_pull_secret"] = {
        "parallel_runs": GLOBAL_EDITORS, "entries_before": len(before), "entries_at_end": len(after),
        "backups_kept": len(backups), "conflicts_retried": len(retried), "wall_seconds": seconds}


def test_parallel_edits_of_one_rolebinding_keep_every_subject(fault_api, fault_audit, fault_cluster, fault_namespace_factory,
                                                              figures, tmp_path):
    ns = fault_namespace_factory("images")
    by_hand = {"kind": "ServiceAccount", "name": "deployer", "namespace": "by-hand"}
    fault_api.create("%s/namespaces/%s/rolebindings" % (RBAC, ns), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "system:image-puller"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
        "subjects": [by_hand]})
    gate = FaultProxy(fault_cluster.api_port, gate=BINDING_EDITORS, lifetime=300)
    kubeconfig = proxied_kubeconfig(fault_cluster.kubeconfig, gate, tmp_path / "gated-kubeconfig")
    declarations = [{
        "registry_access_kubeconfig": kubeconfig,
        "project_access_image_pullers": [{"image_namespace": ns, "service_accounts": ["team-%02d:default" % i]}],
    } for i in range(BINDING_EDITORS)]

    with gate, fault_audit.capture() as seen:
        runs, seconds = in_parallel(BINDING_EDITORS, lambda i: run_playbook(ENFORCE, extra_vars=[declarations[i]]))
    assert_all_succeeded(runs)

    bindings = fault_api.get("%s/namespaces/%s/rolebindings" % (RBAC, ns))["items"]
    assert [b["metadata"]["name"] for b in bindings] == ["system:image-puller"], "a second binding was made"
    subjects = bindings[0]["subjects"]
    expected = [by_hand] + [{"kind": "ServiceAccount", "name": "default", "namespace": "team-%02d" % i}
                            for i in range(BINDING_EDITORS)]
    assert sorted(subjects, key=subject_key) == sorted(expected, key=subject_key), "lost or duplicated subjects: %s" % subjects
    assert subjects[0] == by_hand, "the subject added by hand moved"
    for i in range(BINDING_EDITORS):
        assert fault_api.can_i("get", "imagestreams", ns, group="image.openshift.io", subresource="layers",
                               user="system:serviceaccount:team-%02d:default" % i)
    retried = conflicts(seen, [ns], "rolebindings")

    everything = {"registry_access_kubeconfig": fault_cluster.kubeconfig,
                  "project_access_image_pullers": [{"image_namespace": ns, "service_accounts": [
                      "team-%02d:default" % i for i in range(BINDING_EDITORS)]}]}
    with fault_audit.capture() as again:
        rerun = run_playbook(ENFORCE, extra_vars=[everything])
    assert rerun.rc == 0 and rerun.changed_tasks() == [], rerun.output[-3000:]
    assert again.summary(again.writes(namespaces=[ns], user_agent_prefix=MODULE_AGENT)) == []

    figures.setdefault("concurrency", {})["rolebinding"] = {
        "parallel_runs": BINDING_EDITORS, "held_at_gate": gate.stats["held_at_gate"], "subjects_at_end": len(subjects), "bindings_at_end": len(bindings),
        "conflicts_retried": len(retried), "wall_seconds": seconds}
