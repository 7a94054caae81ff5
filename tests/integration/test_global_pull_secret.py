"""global_pull_secret against the real local cluster: the seed's procedure for the global pull secret, the
Telemetry guard, backups and restore, concurrent writers, the MachineConfigPool rollout (MCO simulator), hosted
control planes, check mode and idempotence (proven by the audit log), and bad input.

Every test touches the cluster-wide openshift-config/pull-secret: each starts from the seeded cluster-wide
configuration (whatever `make demo` or an interrupted run left), one at a time, and puts back what it found.
"""

import base64
import json
import threading
import urllib.parse

import pytest

from helpers.baseline import seeded_cluster_config
from helpers.mco import POOLS_PATH, MachineConfigOperator
from helpers.runner import register_secret, run_module

pytestmark = pytest.mark.xdist_group("global_pull_secret")

MODULE_AGENT = "ocp.registry_access/"
NAMESPACE, NAME = "openshift-config", "pull-secret"
SECRET_PATH = "/api/v1/namespaces/%s/secrets/%s" % (NAMESPACE, NAME)
INFRASTRUCTURE_STATUS = "/apis/config.openshift.io/v1/infrastructures/cluster/status"
BACKUP_SELECTOR = urllib.parse.quote("ocp-registry-access/backup-of=%s" % NAME)

REPO_PASSWORD = register_secret("fake-gps-repo-pass-5a1c")
PRIVATE_PASSWORD = register_secret("fake-gps-private-pass-<&>-88b0")
NEW_OWNER_TOKEN = register_secret("fake-gps-new-owner-token-31f7")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def document(secret):
    """The decoded .dockerconfigjson of a Secret: (raw bytes, parsed JSON)."""
    raw = base64.b64decode(secret["data"][".dockerconfigjson"])
    return raw, json.loads(raw)


def write_events(seen, namespaces=(NAMESPACE,)):
    return seen.summary(seen.writes(namespaces=list(namespaces), user_agent_prefix=MODULE_AGENT))


def repository_main(**extra):
    entry = dict(server="quay.io/repository-main", username="robot", password=REPO_PASSWORD, email="you@example.com")
    entry.update(extra)
    return entry


def private_registry(**extra):
    entry = dict(server="privateregistry.example.com", username="developer@example.com", password=PRIVATE_PASSWORD,
                 email="unused")
    entry.update(extra)
    return entry


def backups(api):
    items = api.get("/api/v1/namespaces/%s/secrets?labelSelector=%s" % (NAMESPACE, BACKUP_SELECTOR))["items"]
    return sorted(s["metadata"]["name"] for s in items)


@pytest.fixture
def global_secret(api, cluster):
    """openshift-config/pull-secret and the other cluster-wide objects as the cluster was seeded, for this test alone
    (one such test at a time across xdist workers); what the test found, put back afterwards, backups deleted."""
    with seeded_cluster_config(api, cluster) as seeded:
        yield seeded


@pytest.fixture
def gps(connection, global_secret):
    """run_module("global_pull_secret", connection + args)."""
    def run(args=None, **kwargs):
        return run_module("global_pull_secret", dict(connection, **(args or {})), **kwargs)
    return run


@pytest.fixture
def mco(api, global_secret):
    """Starts an MCO simulator; stopped (pools settled Updated) before the pull secret is restored."""
    started = []

    def start(**kwargs):
        sim = MachineConfigOperator(api, **kwargs)
        sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
        assert not sim.errors, sim.errors


@pytest.fixture
def hosted_control_plane(api, global_secret):
    """Infrastructure cluster reports controlPlaneTopology External (as on HyperShift) during the test."""
    before = api.get(INFRASTRUCTURE_STATUS)["status"]["controlPlaneTopology"]
    api.patch(INFRASTRUCTURE_STATUS, {"status": {"controlPlaneTopology": "External"}})
    yield
    api.patch(INFRASTRUCTURE_STATUS, {"status": {"controlPlaneTopology": before}})


# -- the seed's procedure ----------------------------------------------------------------------------


def test_append_keeps_every_field_of_every_other_entry(api, audit, gps, global_secret):
    """oc get secret/pull-secret ... > file; oc registry login --registry=quay.io/repository-main --to=file;
    oc set data secret/pull-secret --from-file=.dockerconfigjson=file -- as one atomic step that keeps email."""
    original_raw, original = document(global_secret)
    with audit.capture() as seen:
        run = gps(dict(registries=[repository_main(), private_registry()]))
    assert not run.failed, run.msg
    assert run.changed
    assert run.result["added"] == ["privateregistry.example.com", "quay.io/repository-main"]
    assert (run.result["updated"], run.result["removed"], run.result["backup_name"]) == ([], [], None)
    assert run.result["registries"] == sorted(list(original["auths"]) + ["privateregistry.example.com", "quay.io/repository-main"])
    assert write_events(seen) == ["update secrets %s/%s 200" % (NAMESPACE, NAME)]

    secret = api.get(SECRET_PATH)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["metadata"].get("labels") == global_secret["metadata"].get("labels")
    raw, after = document(secret)
    for key, entry in original["auths"].items():
        # every field (cloud.openshift.com's email among them) and its order survive; so do the entry's bytes
        assert after["auths"][key] == entry and list(after["auths"][key]) == list(entry)
        compact = json.dumps({key: entry}, separators=(",", ":"))[1:-1].encode()
        assert compact in original_raw.replace(b" ", b"") and compact in raw
    assert after["auths"]["cloud.openshift.com"]["email"] == "fake-owner@example.com"
    assert after["auths"]["quay.io/repository-main"] == {
        "username": "robot", "password": REPO_PASSWORD, "email": "you@example.com", "auth": b64("robot:" + REPO_PASSWORD)}
    assert after["auths"]["privateregistry.example.com"]["auth"] == b64("developer@example.com:" + PRIVATE_PASSWORD)
    assert set(after) == set(original)

    diff = run.result["diff"]
    assert "quay.io/repository-main" not in diff["before"]["registries"]
    assert diff["after"]["registries"]["quay.io/repository-main"]["username"] == "robot"
    assert diff["after"]["registries"]["cloud.openshift.com"] == diff["before"]["registries"]["cloud.openshift.com"]


def test_update_changes_only_the_credentials_of_the_entry(api, gps, global_secret):
    _raw, original = document(global_secret)
    run = gps(dict(registries=[dict(server="https://quay.io", username="fake-quay-user", password=REPO_PASSWORD)]))
    assert run.result["updated"] == ["quay.io"] and run.result["added"] == []
    _raw, after = document(api.get(SECRET_PATH))
    assert after["auths"]["quay.io"] == {"auth": b64("fake-quay-user:" + REPO_PASSWORD), "email": "fake-owner@example.com"}
    assert "https://quay.io" not in after["auths"]
    assert {k: v for k, v in after["auths"].items() if k != "quay.io"} == \
        {k: v for k, v in original["auths"].items() if k != "quay.io"}


def test_remove_a_registry(api, audit, gps):
    gps(dict(registries=[private_registry()]))
    args = dict(registries=[dict(server="privateregistry.example.com")], state="absent")
    run = gps(args)
    assert run.changed and run.result["removed"] == ["privateregistry.example.com"]
    assert "privateregistry.example.com" not in document(api.get(SECRET_PATH))[1]["auths"]
    with audit.capture() as seen:
        assert not gps(args).changed
    assert write_events(seen) == []


# -- check mode and idempotence ---------------------------------------------------------------------


def test_check_apply_check_apply(api, audit, gps, global_secret):
    args = dict(registries=[repository_main()])

    with audit.capture() as seen:
        run = gps(args, check=True)
    assert run.changed and run.result["added"] == ["quay.io/repository-main"]
    assert run.result["diff"]["after"]["registries"]["quay.io/repository-main"]["username"] == "robot"
    assert write_events(seen) == []
    assert api.get(SECRET_PATH)["data"] == global_secret["data"]

    with audit.capture() as seen:
        run = gps(args)
    assert run.changed
    assert write_events(seen) == ["update secrets %s/%s 200" % (NAMESPACE, NAME)]
    written = api.get(SECRET_PATH)

    for check in (True, False):
        with audit.capture() as seen:
            run = gps(args, check=check)
        assert not run.failed, run.msg
        assert not run.changed, run.result
        assert (run.result["added"], run.result["updated"], run.result["removed"]) == ([], [], [])
        assert write_events(seen) == []
        assert api.get(SECRET_PATH)["metadata"]["resourceVersion"] == written["metadata"]["resourceVersion"]


# -- Telemetry guard --------------------------------------------------------------------------------


def test_telemetry_entry_is_guarded(api, audit, gps, global_secret):
    cases = [
        dict(registries=[dict(server="cloud.openshift.com", username="new-owner", password=NEW_OWNER_TOKEN)]),
        dict(registries=[dict(server="cloud.openshift.com")], state="absent"),
        dict(content={"auths": {k: v for k, v in document(global_secret)[1]["auths"].items() if k != "cloud.openshift.com"}}),
    ]
    for args in cases:
        with audit.capture() as seen:
            run = gps(args)
        assert run.failed, args
        assert "Telemetry" in run.msg and "OpenShift Cluster Manager" in run.msg and "allow_telemetry_change" in run.msg
        assert "nothing was changed" in run.msg
        assert write_events(seen) == []
        assert api.get(SECRET_PATH)["data"] == global_secret["data"]

    run = gps(dict(cases[0], allow_telemetry_change=True))
    assert run.changed and run.result["updated"] == ["cloud.openshift.com"]
    entry = document(api.get(SECRET_PATH))[1]["auths"]["cloud.openshift.com"]
    assert entry == {"auth": b64("new-owner:" + NEW_OWNER_TOKEN), "email": "fake-owner@example.com"}
    run = gps(dict(cases[1], allow_telemetry_change=True))
    assert run.result["removed"] == ["cloud.openshift.com"]
    assert "cloud.openshift.com" not in document(api.get(SECRET_PATH))[1]["auths"]


# -- backups ----------------------------------------------------------------------------------------


def test_backups_are_created_pruned_and_restore(api, audit, gps, global_secret):
    assert backups(api) == []
    names, documents = [], [api.get(SECRET_PATH)["data"]]
    for i in range(3):
        run = gps(dict(registries=[private_registry(password=PRIVATE_PASSWORD + str(i))], backup=True, backup_keep=2))
        assert run.changed and run.result["backup_name"].startswith("pull-secret-backup-")
        names.append(run.result["backup_name"])
        documents.append(api.get(SECRET_PATH)["data"])
    assert len(set(names)) == 3
    assert backups(api) == sorted(names[1:])
    assert run.result["pruned_backups"] == [names[0]]

    newest = api.get("/api/v1/namespaces/%s/secrets/%s" % (NAMESPACE, names[2]))
    assert newest["type"] == "kubernetes.io/dockerconfigjson"
    assert newest["data"] == documents[2]  # the document before the third change
    assert newest["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "ocp.registry_access",
                                            "ocp-registry-access/backup-of": NAME}

    # nothing changes: no backup
    with audit.capture() as seen:
        run = gps(dict(registries=[private_registry(password=PRIVATE_PASSWORD + "2")], backup=True, backup_keep=2))
    assert not run.changed and run.result["backup_name"] is None
    assert write_events(seen) == []

    # restore the older backup: the module with content from its decoded data
    restore = dict(content=document(api.get("/api/v1/namespaces/%s/secrets/%s" % (NAMESPACE, names[1])))[0].decode())
    run = gps(restore)
    assert run.changed and run.result["updated"] == ["privateregistry.example.com"]
    assert document(api.get(SECRET_PATH))[0] == base64.b64decode(documents[1][".dockerconfigjson"])
    with audit.capture() as seen:
        assert not gps(restore).changed
    assert write_events(seen) == []


# -- concurrency ------------------------------------------------------------------------------------


def test_concurrent_runs_lose_no_registry(api, gps, global_secret):
    results = {}

    def add(i):
        results[i] = gps(dict(registries=[private_registry(server="concurrent-%d.example.com" % i)]))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(not r.failed and r.changed for r in results.values()), [r.msg for r in results.values()]
    _raw, after = document(api.get(SECRET_PATH))
    assert sorted(k for k in after["auths"] if k.startswith("concurrent-")) == sorted(
        "concurrent-%d.example.com" % i for i in range(10))
    _raw, original = document(global_secret)
    assert all(after["auths"][k] == v for k, v in original["auths"].items())


# -- rollout ----------------------------------------------------------------------------------------


def pools(api):
    return {p["metadata"]["name"]: p for p in api.get(POOLS_PATH)["items"]}


def test_wait_returns_when_every_pool_has_rolled_out(api, gps, mco):
    before = pools(api)
    sim = mco(step=0.5)
    run = gps(dict(registries=[private_registry()], wait=True, wait_timeout=60))
    assert not run.failed, run.msg
    rollout = {r["name"]: r for r in run.result["rollout"]}
    assert sorted(rollout) == ["master", "worker"]
    for name, pool in pools(api).items():
        assert rollout[name]["done"] is True
        assert rollout[name]["rendered_before"] == before[name]["spec"]["configuration"]["name"]
        assert rollout[name]["rendered_after"] == pool["status"]["configuration"]["name"] == pool["spec"]["configuration"]["name"]
        assert rollout[name]["rendered_after"] != rollout[name]["rendered_before"]
        assert {c["type"]: c["status"] for c in pool["status"]["conditions"]}["Updated"] == "True"
    assert sorted(pool_name for pool_name, _rendered in sim.rendered) == ["master", "worker"]

    # nothing changes: the wait only confirms the pools are settled
    run = gps(dict(registries=[private_registry()], wait=True, wait_timeout=30))
    assert not run.changed and all(r["done"] for r in run.result["rollout"])


def test_wait_fails_with_the_message_of_a_degraded_pool(api, gps, mco):
    mco(step=0.3, degrade="worker", degrade_message="Node worker-1 is reporting: \"unexpected on-disk state\"")
    run = gps(dict(registries=[private_registry()], wait=True, wait_timeout=60))
    assert run.failed and run.changed
    assert "the pull secret was updated" in run.msg and "MachineConfigPool worker is degraded" in run.msg
    assert 'Node worker-1 is reporting: "unexpected on-disk state"' in run.msg
    assert {r["name"]: r["done"] for r in run.result["rollout"]}["worker"] is False


def test_wait_times_out_clearly(api, gps, mco):
    mco(step=0.2, slow=True)
    run = gps(dict(registries=[private_registry()], wait=True, wait_timeout=3))
    assert run.failed and run.changed
    assert "timed out after 3s" in run.msg and "the pull secret was updated" in run.msg
    assert "master (waiting for" in run.msg and "worker (waiting for" in run.msg
    assert "privateregistry.example.com" in document(api.get(SECRET_PATH))[1]["auths"]


def test_check_mode_does_not_wait(audit, gps, global_secret):
    with audit.capture() as seen:
        run = gps(dict(registries=[private_registry()], wait=True, wait_timeout=1, backup=True), check=True)
    assert not run.failed and run.changed and run.result["rollout"] == []
    assert run.result["backup_name"].startswith("pull-secret-backup-")
    assert write_events(seen) == []


# -- hosted control planes --------------------------------------------------------------------------


def test_hosted_control_plane_needs_the_additional_pull_secret(api, audit, gps, global_secret, hosted_control_plane):
    with audit.capture() as seen:
        run = gps(dict(registries=[private_registry()]))
    assert run.failed
    assert "controlPlaneTopology: External" in run.msg
    assert "namespace: kube-system" in run.msg and "name: additional-pull-secret" in run.msg
    assert write_events(seen, [NAMESPACE, "kube-system"]) == []

    path = "/api/v1/namespaces/kube-system/secrets/additional-pull-secret"
    api.create("/api/v1/namespaces/kube-system/secrets", {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": "additional-pull-secret"},
        "data": {".dockerconfigjson": b64(json.dumps({"auths": {"quay.io/team": {"auth": b64("team:" + REPO_PASSWORD)}}}))}})
    try:
        args = dict(registries=[private_registry()], namespace="kube-system", name="additional-pull-secret")
        run = gps(args)
        assert not run.failed, run.msg
        assert run.result["registries"] == ["privateregistry.example.com", "quay.io/team"]
        _raw, after = document(api.get(path))
        assert sorted(after["auths"]) == ["privateregistry.example.com", "quay.io/team"]
        assert api.get(SECRET_PATH)["data"] == global_secret["data"]
        with audit.capture() as seen:
            assert not gps(args).changed
        assert write_events(seen, ["kube-system"]) == []
    finally:
        api.delete(path)


# -- bad input: a clear failure and nothing written -------------------------------------------------

BAD_INPUTS = [
    ("@ in server", dict(registries=[private_registry(server="robot@newregistry.example.com")]), "'@'"),
    ("tag in server", dict(registries=[private_registry(server="newregistry.example.com/team/app:latest")]),
     "does not name a registry or repository"),
    ("digest in server", dict(registries=[private_registry(server="newregistry.example.com/app@sha256:0123")]), "'@'"),
    ("empty server", dict(registries=[private_registry(server="")]), "empty"),
    ("empty server to remove", dict(registries=[dict(server="")], state="absent"), "empty"),
    ("auth not base64", dict(registries=[dict(server="newregistry.example.com", auth="%%%not-base64%%%")]), "base64"),
    ("auth without colon", dict(registries=[dict(server="newregistry.example.com", auth=b64("nocolon"))]), "'username:password'"),
    ("content not JSON", dict(content="{not json"), "not valid JSON"),
    ("content with a bad auth", dict(content={"auths": {"quay.io": {"auth": "%%%"}}}), "base64"),
    ("content with no registry", dict(content={"auths": {}}), "no registry"),
    ("src missing", dict(src="/nonexistent/config.json"), "cannot read"),
    ("registries and content", dict(registries=[private_registry()], content={"auths": {}}), "mutually exclusive"),
    ("absent with content", dict(content={"auths": {}}, state="absent"), "registries"),
    ("nothing given", dict(), "registries"),
    ("backup_keep zero", dict(registries=[private_registry()], backup=True, backup_keep=0), "backup_keep"),
]


@pytest.mark.parametrize("case,args,expected", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_fails_clearly_and_writes_nothing(api, audit, gps, global_secret, case, args, expected):
    with audit.capture() as seen:
        run = gps(args)
    assert run.failed, case
    assert expected.lower() in run.msg.lower(), run.msg
    assert "Traceback" not in run.output
    assert write_events(seen) == []
    assert api.get(SECRET_PATH)["data"] == global_secret["data"]


def test_a_secret_of_another_type_is_not_touched(api, audit, gps, namespace):
    api.create("/api/v1/namespaces/%s/secrets" % namespace, {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "opaque"},
        "data": {".dockerconfigjson": b64('{"auths":{}}')}})
    with audit.capture() as seen:
        run = gps(dict(registries=[private_registry()], namespace=namespace, name="opaque"))
    assert run.failed and "type Opaque, not kubernetes.io/dockerconfigjson" in run.msg
    assert write_events(seen, [namespace, NAMESPACE]) == []


def test_a_missing_secret_fails_clearly(audit, gps, namespace):
    with audit.capture() as seen:
        run = gps(dict(registries=[private_registry()], namespace=namespace, name="missing"))
    assert run.failed and "%s/missing not found" % namespace in run.msg
    assert write_events(seen, [namespace, NAMESPACE]) == []


def test_a_corrupt_secret_is_left_as_is_and_a_replacement_repairs_it(api, audit, gps, global_secret):
    # the API server only lets valid JSON into a dockerconfigjson Secret: give an auth the wrong JSON type instead
    # (a value that is not base64 no longer makes the document unreadable: it is kept and warned about)
    good_raw, good = document(global_secret)
    broken = json.loads(good_raw)
    broken["auths"]["quay.io"]["auth"] = 12345
    corrupt = api.get(SECRET_PATH)
    corrupt["data"][".dockerconfigjson"] = b64(json.dumps(broken))
    corrupt = api.replace(SECRET_PATH, corrupt)

    for args in (dict(registries=[private_registry()]), dict(registries=[dict(server="quay.io")], state="absent")):
        with audit.capture() as seen:
            run = gps(args)
        assert run.failed and "holds no valid docker config" in run.msg and "content or src" in run.msg
        assert "registry 'quay.io': auth is a JSON number, not a string" in run.msg
        assert write_events(seen) == []
        assert api.get(SECRET_PATH)["metadata"]["resourceVersion"] == corrupt["metadata"]["resourceVersion"]

    # a full replacement repairs it; the cloud.openshift.com entry is readable and unchanged, so no flag is needed
    run = gps(dict(content=good_raw.decode(), backup=True))
    assert not run.failed, run.msg
    assert run.changed and run.result["updated"] == ["quay.io"]
    assert "invalid" in run.result["diff"]["before"]
    assert document(api.get(SECRET_PATH))[1] == good
    assert api.get("/api/v1/namespaces/%s/secrets/%s" % (NAMESPACE, run.result["backup_name"]))["data"] == corrupt["data"]


def test_no_credential_in_verbose_output_or_failures(gps):
    """-vvvv prints the module's arguments and result: every credential must be masked (run_module scans)."""
    args = dict(registries=[repository_main(), private_registry()])
    gps(args, verbosity=4, check=True)
    gps(args, verbosity=4)
    run = gps(dict(registries=[dict(server="cloud.openshift.com", username="x", password=NEW_OWNER_TOKEN)]), verbosity=4)
    assert run.failed
    run = gps(dict(registries=[private_registry(server="bad.example.com/app:tag")]), verbosity=4)
    assert run.failed
