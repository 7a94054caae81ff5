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
from test_rbac import Automation, manifest

from helpers.kube import unique
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
    mine, theirs = unique("team-a"), unique("team-b")    # unique: a cluster-wide prune must find only these
    make_secret(api, a, "old", mine)
    make_secret(api, a, "kept", mine)
    make_secret(api, a, "theirs", theirs, password=OTHER_PASSWORD)
    make_secret(api, a, "unmarked")                      # managed, no owner
    make_secret(api, a, "by-hand", managed=False)        # not the collection's
    make_secret(api, b, "old", mine)
    api.create(sa_path(a), {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"}})
    link(api, a, "default", pull=["default-dockercfg-abcde", "old", "kept", "theirs", "by-hand"], mount=["old"])
    link(api, a, "builder", mount=["old", "unmarked"])
    link(api, b, "default", pull=["old"])
    return a, b, mine, theirs


def test_prune_removes_exactly_the_owners_undeclared_secrets_after_unlinking_them(api, audit, connection, owned):
    a, b, mine, _theirs = owned
    args = dict(connection, owner=mine, declared_secrets=[{"namespace": a, "name": "kept"}], namespaces=[a, b])

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
    a, b, _mine, theirs = owned
    run = run_module("prune", dict(connection, owner=theirs, namespaces=[a, b]))
    assert not run.failed, run.msg
    assert [(s["namespace"], s["name"]) for s in run.result["secrets"]] == [(a, "theirs")]
    assert api.get_or_none(secret_path(a, "old")) is not None and api.get_or_none(secret_path(b, "old")) is not None
    assert "theirs" not in refs(api, a, "default")[0]


@pytest.fixture
def automation(api, cluster, namespace_factory, tmp_path):
    bot = Automation(api, cluster, namespace_factory("prune-bot"), tmp_path)
    yield bot
    bot.remove()


def test_prune_needs_the_project_role_in_named_namespaces_or_the_prune_role_cluster_wide(
        api, audit, automation, owned):
    a, b, mine, _theirs = owned
    automation.bind_in(manifest("project-access-clusterrole.yaml", "ClusterRole", "ocp-registry-access-project-access"),
                       [a, b])
    args = dict(owner=mine, declared_secrets=[{"namespace": a, "name": "kept"}])
    with audit.capture() as seen:
        refused = run_module("prune", args, env=automation.env())
    assert refused.failed and "rbac/prune-clusterrole.yaml" in refused.msg and "nothing was changed" in refused.msg
    assert writes(seen, [a, b]) == []

    named = run_module("prune", dict(args, namespaces=[a, b]), check=True, env=automation.env())
    assert not named.failed, named.msg
    assert sorted((s["namespace"], s["name"]) for s in named.result["secrets"]) == [(a, "old"), (b, "old")]

    automation.bind_cluster_wide(manifest("prune-clusterrole.yaml", "ClusterRole", "ocp-registry-access-prune"))
    with audit.capture() as seen:
        run = run_module("prune", args, env=automation.env())
    assert not run.failed, run.msg
    assert api.get_or_none(secret_path(a, "old")) is None and api.get_or_none(secret_path(b, "old")) is None
    done = seen.writes(namespaces=[a, b], user_agent_prefix=MODULE_AGENT)
    assert done and {e.user for e in done} == {automation.user} and {e.code for e in done} == {200}


def test_prune_refuses_bad_declarations_before_any_request(connection):
    run = run_module("prune", dict(connection, owner="team-a", declared_secrets=[{"namespace": "a"}]))
    assert run.failed and "declared_secrets[0]" in run.msg and "nothing was changed" in run.msg
    run = run_module("prune", dict(connection, owner=" team-a"))
    assert run.failed and "owner" in run.msg


# -- shrink a declaration and prune, through playbooks/enforce.yml ----------------------------------------------


def enforce(connection, variables, check=False):
    return run_playbook("playbooks/enforce.yml", [dict(variables, registry_access_kubeconfig=connection["kubeconfig"])],
                        check=check, diff=True)


def task_result(run, name):
    found = [r for r in run.results if (r.get("_task") or "").split(" : ")[-1] == name]
    assert found, "no result of task %r in %s" % (name, [r.get("_task") for r in run.results])
    return found[-1]


PRUNE_TASK = "Prune what this owner made that the declaration no longer holds"


def registry(password=PASSWORD):
    return [{"server": "registry.example.com", "username": "robot", "password": password}]


def group(ns):
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts:" + ns}


def subjects(api, ns, name="system:image-puller"):
    binding = api.get_or_none(binding_path(ns, name))
    return None if binding is None else sorted(s["name"] for s in binding.get("subjects") or [])


@pytest.fixture
def estate(api, namespace_factory):
    """x1, x2 (selected by a label), img (shared images) and a by-hand secret and grant that no declaration holds."""
    tag = namespace_factory("lc-tag")  # a unique value for the selector
    x1 = namespace_factory("lc-x1", labels={"lifecycle": tag, "keep": "yes"})
    x2 = namespace_factory("lc-x2", labels={"lifecycle": tag})
    img = namespace_factory("lc-img")
    make_secret(api, x1, "by-hand", managed=False)
    link(api, x1, "default", pull=["default-dockercfg-abcde", "by-hand"])
    api.create(binding_path(img), {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                   "metadata": {"name": "by-hand"}, "subjects": [group("elsewhere")],
                                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                               "name": "system:image-puller"}})
    return dict(tag=tag, x1=x1, x2=x2, img=img, all=[x1, x2, img])


def team_a(estate, selector=None, names=("reg-a", "reg-b"), pullers=None):
    secrets = [{"name": "reg-a", "namespace_selector": selector or "lifecycle=%s" % estate["tag"],
                "registries": registry(), "service_accounts": ["default"]},
               {"name": "reg-b", "namespace": estate["x1"], "registries": registry(), "service_accounts": ["default"],
                "link_for": ["pull", "mount"]}]
    return {"project_access_owner": "team-a/enforce", "project_access_prune": True,
            "project_access_prune_namespaces": estate["all"],
            "project_access_pull_secrets": [s for s in secrets if s["name"] in names],
            "project_access_image_pullers": [{"image_namespace": estate["img"],
                                              "all_service_accounts_in": pullers or [estate["x1"], estate["x2"]]}]}


def team_b(estate):
    return {"project_access_owner": "team-b", "project_access_prune": True,
            "project_access_prune_namespaces": estate["all"],
            "project_access_pull_secrets": [{"name": "reg-team-b", "namespace": estate["x2"],
                                             "registries": registry(OTHER_PASSWORD), "service_accounts": ["default"]}],
            "project_access_image_pullers": [{"image_namespace": estate["img"], "all_service_accounts_in": [estate["x1"]]}]}


def test_shrinking_a_declaration_prunes_exactly_what_it_no_longer_holds(api, audit, connection, estate):
    x1, x2, img = estate["x1"], estate["x2"], estate["img"]
    first = enforce(connection, team_a(estate))
    assert first.rc == 0, first.output[-3000:]
    other = enforce(connection, team_b(estate))
    assert other.rc == 0, other.output[-3000:]
    assert not task_result(other, PRUNE_TASK).get("changed"), "team-b pruned team-a's objects"
    assert subjects(api, img) == sorted(["system:serviceaccounts:" + x1, "system:serviceaccounts:" + x2])
    assert refs(api, x1, "default") == (["default-dockercfg-abcde", "by-hand", "reg-a", "reg-b"], ["reg-b"])

    # reg-b removed from the list, x2 no longer selected, the grant to x2's service accounts removed
    shrunk = team_a(estate, selector="lifecycle=%s,keep=yes" % estate["tag"], names=("reg-a",), pullers=[x1])
    with audit.capture() as seen:
        check = enforce(connection, shrunk, check=True)
    assert check.rc == 0, check.output[-3000:]
    assert writes(seen, estate["all"]) == []
    planned = task_result(check, PRUNE_TASK)
    assert sorted((s["namespace"], s["name"]) for s in planned["secrets"]) == [(x1, "reg-b"), (x2, "reg-a")]
    assert [(b["namespace"], b["name"], b["removed"]) for b in planned["bindings"]] == [
        (img, "system:image-puller", ["group:system:serviceaccounts:" + x2])]
    assert planned["diff"]["after"][x2]["secrets"] == {"reg-a": None}
    assert api.get_or_none(secret_path(x2, "reg-a")) is not None

    with audit.capture() as seen:
        run = enforce(connection, shrunk)
    assert run.rc == 0, run.output[-3000:]
    assert_unlinked_before_deleted(seen, estate["all"])
    assert api.get_or_none(secret_path(x1, "reg-b")) is None and api.get_or_none(secret_path(x2, "reg-a")) is None
    assert api.get_or_none(secret_path(x1, "reg-a")) is not None
    assert refs(api, x1, "default") == (["default-dockercfg-abcde", "by-hand", "reg-a"], [])
    assert "reg-a" not in refs(api, x2, "default")[0]
    # untouched: the by-hand secret and grant, team-b's secret and its share of the grant to x1
    assert api.get_or_none(secret_path(x1, "by-hand")) is not None
    assert api.get_or_none(secret_path(x2, "reg-team-b")) is not None and "reg-team-b" in refs(api, x2, "default")[0]
    assert subjects(api, img) == ["system:serviceaccounts:" + x1]
    assert subjects(api, img, "by-hand") == ["system:serviceaccounts:elsewhere"]

    with audit.capture() as seen:
        again = enforce(connection, shrunk)
    assert again.rc == 0 and again.changed_tasks() == [], again.changed_tasks()
    assert writes(seen, estate["all"]) == []

    # team-b's declaration dropping its grant leaves no subject in the binding team-a created: it goes
    gone = dict(team_b(estate), project_access_image_pullers=[])
    assert enforce(connection, dict(shrunk, project_access_image_pullers=[])).rc == 0
    assert subjects(api, img) == ["system:serviceaccounts:" + x1], "team-a revoked team-b's grant"
    assert enforce(connection, gone).rc == 0
    assert subjects(api, img) is None
    assert subjects(api, img, "by-hand") == ["system:serviceaccounts:elsewhere"]


def test_prune_needs_an_owner_and_writes_nothing_without_one(audit, connection, estate):
    variables = dict(team_a(estate), project_access_owner="")
    with audit.capture() as seen:
        run = enforce(connection, variables)
    assert run.rc != 0 and "project_access_prune needs project_access_owner" in run.output
    assert writes(seen, estate["all"]) == []


# -- ownership policy ---------------------------------------------------------------------------------------


def secret_auths(api, ns, name):
    secret = api.get(secret_path(ns, name))
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]


def ps_args(connection, namespaces, **extra):
    return dict(connection, name="shared", namespaces=namespaces, owner="team-a",
                registries=[{"server": "quay.io", "username": "declared", "password": PASSWORD}], **extra)


def test_a_secret_someone_else_holds_fails_by_default_and_nothing_is_written(api, audit, connection, namespace_factory):
    a, b, c = namespace_factory("own-a"), namespace_factory("own-b"), namespace_factory("own-c")
    make_secret(api, a, "shared", managed=False)
    make_secret(api, b, "shared", "team-b", password=OTHER_PASSWORD)
    with audit.capture() as seen:
        run = run_module("pull_secret", ps_args(connection, [a, b, c], service_accounts=["default"]))
    assert run.failed
    assert "%s/shared" % a in run.msg and "%s/shared" % b in run.msg and "team-b" in run.msg
    assert "unmanaged: adopt" in run.msg and "unmanaged: overwrite" in run.msg and "nothing was changed" in run.msg
    assert writes(seen, [a, b, c]) == []
    assert api.get_or_none(secret_path(c, "shared")) is None


@pytest.mark.parametrize("policy", ["adopt", "overwrite"])
def test_adopt_and_overwrite_take_the_secret_over_and_say_so(api, audit, connection, namespace_factory, policy):
    a, c = namespace_factory("own-a"), namespace_factory("own-c")
    make_secret(api, a, "shared", managed=False)
    run = run_module("pull_secret", ps_args(connection, [a, c], unmanaged=policy, merge=True))
    assert not run.failed, run.msg
    ownership = dict((s["namespace"], s["ownership"]) for s in run.result["secrets"])
    assert ownership == {a: "adopted" if policy == "adopt" else "overwritten", c: "created"}
    secret = api.get(secret_path(a, "shared"))
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ocp.registry_access"
    assert secret["metadata"]["annotations"][OWNER_KEY] == "team-a"
    # adopt applies the declaration with the normal rules (merge keeps the other registry); overwrite replaces it
    expected = ["quay.io", "registry.example.com"] if policy == "adopt" else ["quay.io"]
    assert sorted(secret_auths(api, a, "shared")) == expected

    with audit.capture() as seen:
        again = run_module("pull_secret", ps_args(connection, [a, c], merge=True))
    assert not again.failed and not again.changed, again.msg
    assert set(s["ownership"] for s in again.result["secrets"]) == {"managed"}
    assert writes(seen, [a, c]) == []


def test_a_named_rolebinding_someone_else_holds_follows_the_policy(api, audit, connection, namespace_factory):
    img, x = namespace_factory("own-img"), namespace_factory("own-x")
    api.create(binding_path(img), {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                   "metadata": {"name": "pullers"}, "subjects": [group("someone")],
                                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                               "name": "system:image-puller"}})
    args = dict(connection, namespace=img, rolebinding_name="pullers", all_service_accounts_in=[x], owner="team-a")
    with audit.capture() as seen:
        run = run_module("image_puller_binding", args)
    assert run.failed and "%s/pullers" % img in run.msg and "unmanaged: adopt" in run.msg
    assert writes(seen, [img]) == []

    run = run_module("image_puller_binding", dict(args, unmanaged="adopt"))
    assert not run.failed, run.msg
    assert [b["ownership"] for b in run.result["bindings"]] == ["adopted"]
    assert subjects(api, img, "pullers") == sorted(["system:serviceaccounts:someone", "system:serviceaccounts:" + x])
    assert api.get(binding_path(img, "pullers"))["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ocp.registry_access"

    api.delete(binding_path(img, "pullers"))
    api.create(binding_path(img), {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                   "metadata": {"name": "pullers"}, "subjects": [group("someone")],
                                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                               "name": "system:image-puller"}})
    run = run_module("image_puller_binding", dict(args, unmanaged="overwrite"))
    assert not run.failed, run.msg
    assert [b["ownership"] for b in run.result["bindings"]] == ["overwritten"]
    assert subjects(api, img, "pullers") == ["system:serviceaccounts:" + x]
    again = run_module("image_puller_binding", args)
    assert not again.failed and not again.changed, again.msg
