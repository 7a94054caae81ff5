"""The declarative lifecycle on the local cluster (issue #20): prune what a declaration no longer holds, and the
ownership policy for objects someone else holds.

Prune: only objects with the managed-by label and the owner's marker go; every unlink from a service account
reaches the API server before the delete of that secret (the audit log's order); --check --diff names exactly
what would go and sends no write. Ownership: fail writes nothing anywhere and names every namespace; adopt and
overwrite say so per namespace.
"""

import base64
import json

import pytest

from helpers.runner import register_secret, run_module, run_playbook

PASSWORD = register_secret("fake-lifecycle-pass-5e1a")
OTHER_PASSWORD = register_secret("fake-lifecycle-other-8b3f")
MODULE_AGENT = "ocp.registry_access/"
MANAGED = {"app.kubernetes.io/managed-by": "ocp.registry_access"}
OWNER_KEY = "ocp.registry-access/owner"
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def secret_path(ns, name=None):
    return "/api/v1/namespaces/%s/secrets%s" % (ns, "/" + name if name else "")


def sa_path(ns, name=None):
    return "/api/v1/namespaces/%s/serviceaccounts%s" % (ns, "/" + name if name else "")


def binding_path(ns, name=None):
    return "%s/namespaces/%s/rolebindings%s" % (RBAC, ns, "/" + name if name else "")


def owner_marks(owner):
    """The marker a label-safe owner gets (the collection's documented labels; the tests write them by hand)."""
    return dict(MANAGED, **{OWNER_KEY: owner}), {OWNER_KEY: owner}


def make_secret(api, ns, name, owner=None, managed=True, password=PASSWORD):
    labels, annotations = owner_marks(owner) if owner else (dict(MANAGED) if managed else {}, {})
    document = {"auths": {"registry.example.com": {"username": "robot", "password": password}}}
    api.create(secret_path(ns), {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                                 "metadata": {"name": name, "labels": labels, "annotations": annotations},
                                 "data": {".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()}})


def link(api, ns, sa, pull=(), mount=()):
    obj = api.wait_for(sa_path(ns, sa))
    obj["imagePullSecrets"] = (obj.get("imagePullSecrets") or []) + [{"name": n} for n in pull]
    obj["secrets"] = (obj.get("secrets") or []) + [{"name": n} for n in mount]
    api.replace(sa_path(ns, sa), obj)


def refs(api, ns, sa):
    obj = api.get(sa_path(ns, sa))
    return ([r["name"] for r in obj.get("imagePullSecrets") or []], [r["name"] for r in obj.get("secrets") or []])


def writes(seen, namespaces):
    return seen.summary(seen.writes(namespaces=namespaces, user_agent_prefix=MODULE_AGENT))


def assert_unlinked_before_deleted(seen, namespaces):
    """Each secret delete comes after every service account update in its namespace (the audit log's order)."""
    events = seen.writes(namespaces=namespaces, user_agent_prefix=MODULE_AGENT)
    for index, event in enumerate(events):
        if event.resource == "secrets" and event.verb == "delete":
            later = [e for e in events[index + 1:] if e.resource == "serviceaccounts" and e.namespace == event.namespace]
            assert later == [], "a service account of %s was updated after its secret %s was deleted: %s" % (
                event.namespace, event.name, seen.summary(events))


# -- prune over objects written by hand --------------------------------------------------------------------


@pytest.fixture
def owned(api, namespace_factory):
    """Two namespaces holding team-a's secrets (one declared, two not), team-b's, an unmarked managed one and an
    unmanaged one, linked from service accounts next to OpenShift-style entries."""
    a, b = namespace_factory("prune-a"), namespace_factory("prune-b")
    make_secret(api, a, "old", "team-a")
    make_secret(api, a, "kept", "team-a")
    make_secret(api, a, "theirs", "team-b", password=OTHER_PASSWORD)
    make_secret(api, a, "unmarked")                      # managed, no owner
    make_secret(api, a, "by-hand", managed=False)        # not the collection's
    make_secret(api, b, "old", "team-a")
    api.create(sa_path(a), {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"}})
    link(api, a, "default", pull=["default-dockercfg-abcde", "old", "kept", "theirs", "by-hand"], mount=["old"])
    link(api, a, "builder", mount=["old", "unmarked"])
    link(api, b, "default", pull=["old"])
    return a, b


def test_prune_removes_exactly_the_owners_undeclared_secrets_after_unlinking_them(api, audit, connection, owned):
    a, b = owned
    args = dict(connection, owner="team-a", declared_secrets=[{"namespace": a, "name": "kept"}], namespaces=[a, b])

    with audit.capture() as seen:
        check = run_module("prune", args, check=True)
    assert not check.failed, check.msg
    assert check.changed
    assert writes(seen, [a, b]) == []
    assert sorted((s["namespace"], s["name"], s["unlinked_from"]) for s in check.result["secrets"]) == [
        (a, "old", ["builder", "default"]), (b, "old", ["default"])]
    diff = check.result["diff"]
    assert sorted(diff["before"]) == sorted([a, b])
    assert diff["before"][a]["secrets"]["old"]["type"] == "kubernetes.io/dockerconfigjson"
    assert diff["after"][a]["secrets"] == {"old": None}
    assert diff["before"][a]["service_accounts"] == {"builder": {"old": "mount"}, "default": {"old": "pull, mount"}}
    assert api.get_or_none(secret_path(a, "old")) is not None

    with audit.capture() as seen:
        run = run_module("prune", args)
    assert not run.failed, run.msg
    assert run.changed
    assert_unlinked_before_deleted(seen, [a, b])
    assert sorted(writes(seen, [a, b])) == sorted([
        "update serviceaccounts %s/default 200" % a, "update serviceaccounts %s/builder 200" % a,
        "delete secrets %s/old 200" % a, "update serviceaccounts %s/default 200" % b, "delete secrets %s/old 200" % b])
    assert api.get_or_none(secret_path(a, "old")) is None and api.get_or_none(secret_path(b, "old")) is None
    for name in ("kept", "theirs", "unmarked", "by-hand"):
        assert api.get_or_none(secret_path(a, name)) is not None, name
    assert refs(api, a, "default") == (["default-dockercfg-abcde", "kept", "theirs", "by-hand"], [])
    assert refs(api, a, "builder") == ([], ["unmarked"])
    assert refs(api, b, "default")[0] == []

    with audit.capture() as seen:
        again = run_module("prune", args)
    assert not again.failed and not again.changed
    assert writes(seen, [a, b]) == []


def test_two_owners_never_prune_each_other(api, connection, owned):
    a, b = owned
    run = run_module("prune", dict(connection, owner="team-b", namespaces=[a, b]))
    assert not run.failed, run.msg
    assert [(s["namespace"], s["name"]) for s in run.result["secrets"]] == [(a, "theirs")]
    assert api.get_or_none(secret_path(a, "old")) is not None and api.get_or_none(secret_path(b, "old")) is not None
    assert "theirs" not in refs(api, a, "default")[0]


def test_prune_refuses_bad_declarations_before_any_request(connection):
    run = run_module("prune", dict(connection, owner="team-a", declared_secrets=[{"namespace": "a"}]))
    assert run.failed and "declared_secrets[0]" in run.msg and "nothing was changed" in run.msg
    run = run_module("prune", dict(connection, owner=" team-a"))
    assert run.failed and "owner" in run.msg
