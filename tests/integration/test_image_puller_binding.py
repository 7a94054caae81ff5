"""image_puller_binding against the real local cluster with RBAC: the seed's two oc policy commands,
access proven by the API server (LocalSubjectAccessReview and the service account's own token),
removal, others' subjects kept, idempotence proven by the audit log, and bad input."""

import pytest

from helpers.kube import unique
from helpers.runner import run_module

RBAC = "/apis/rbac.authorization.k8s.io/v1"
MODULE_AGENT = "ocp.registry_access/"


def binding_path(ns, name=None):
    return "%s/namespaces/%s/rolebindings%s" % (RBAC, ns, "/" + name if name else "")


def sa_can_pull(api, project_a, sa, project_b):
    """SubjectAccessReview as the registry asks it: get imagestreams/layers in image.openshift.io."""
    return api.can_i("get", "imagestreams", project_b, group="image.openshift.io", subresource="layers",
                     user="system:serviceaccount:%s:%s" % (project_a, sa),
                     groups=["system:serviceaccounts", "system:serviceaccounts:%s" % project_a, "system:authenticated"])


def sa_token_can_pull(api, project_a, sa, project_b):
    """The service account itself asks (SelfSubjectAccessReview with a TokenRequest token)."""
    me = api.with_token(api.token_for(project_a, sa))
    return me.can_i("get", "imagestreams", project_b, group="image.openshift.io", subresource="layers")


def module_writes(seen, namespaces):
    """What the module changed: creates of LocalSubjectAccessReviews (verify) are questions, not writes."""
    return seen.summary([e for e in seen.writes(namespaces=namespaces, user_agent_prefix=MODULE_AGENT)
                         if e.resource != "localsubjectaccessreviews"])


@pytest.fixture
def projects(namespace_factory, api):
    a = namespace_factory("project-a", wait_for_default_sa=True)
    b = namespace_factory("project-b")
    c = namespace_factory("project-c", wait_for_default_sa=True)
    return a, b, c


def test_add_role_to_user_service_account_grants_exactly_that(api, audit, connection, projects):
    """oc policy add-role-to-user system:image-puller system:serviceaccount:project-a:default --namespace=project-b"""
    a, b, c = projects
    assert not sa_can_pull(api, a, "default", b)
    with audit.capture() as seen:
        run = run_module("image_puller_binding", dict(connection, namespace=b,
                                                      service_accounts=["system:serviceaccount:%s:default" % a], verify=True))
    assert run.changed and not run.failed, run.msg
    assert module_writes(seen, [b]) == ["create rolebindings %s/system:image-puller 201" % b]
    binding = api.get(binding_path(b, "system:image-puller"))
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "default", "namespace": a}]
    assert run.result["verification"] == [dict(namespace=b, subject="system:serviceaccount:%s:default" % a, allowed=True,
                                               reason=run.result["verification"][0]["reason"], ok=True,
                                               access_remains=False, note=None)]
    assert 'RoleBinding "system:image-puller/%s"' % b in run.result["verification"][0]["reason"]

    assert sa_can_pull(api, a, "default", b)
    assert sa_token_can_pull(api, a, "default", b)
    assert not sa_can_pull(api, c, "default", b)
    assert not sa_token_can_pull(api, c, "default", b)
    # only pull: not push, not secrets
    assert not api.can_i("update", "imagestreams", b, group="image.openshift.io", subresource="layers",
                         user="system:serviceaccount:%s:default" % a)
    assert not api.can_i("get", "secrets", b, user="system:serviceaccount:%s:default" % a)

    run = run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a],
                                                  state="absent", verify=True))
    assert run.changed and not run.failed, run.msg
    assert api.get_or_none(binding_path(b, "system:image-puller")) is None
    assert not sa_can_pull(api, a, "default", b)
    assert not sa_token_can_pull(api, a, "default", b)


def test_add_role_to_group_lets_every_service_account_pull(api, connection, projects):
    """oc policy add-role-to-group system:image-puller system:serviceaccounts:project-a --namespace=project-b"""
    a, b, c = projects
    api.create("/api/v1/namespaces/%s/serviceaccounts" % a, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                             "metadata": {"name": "builder"}})
    run = run_module("image_puller_binding", dict(connection, namespace=b, all_service_accounts_in=[a], verify=True))
    assert not run.failed, run.msg
    binding = api.get(binding_path(b, "system:image-puller"))
    assert binding["subjects"] == [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                                    "name": "system:serviceaccounts:%s" % a}]
    assert sa_token_can_pull(api, a, "default", b)
    assert sa_token_can_pull(api, a, "builder", b)
    assert not sa_token_can_pull(api, c, "default", b)


def test_check_apply_check_apply(api, audit, connection, projects):
    a, b, _c = projects
    args = dict(connection, namespace=b, service_accounts=["%s:default" % a], groups=["release-managers"], users=["alice"])
    with audit.capture() as seen:
        run = run_module("image_puller_binding", args, check=True)
    assert run.changed and run.result["bindings"][0]["action"] == "created"
    assert run.result["diff"]["after"][b]["system:image-puller"] == [
        "system:serviceaccount:%s:default" % a, "group:release-managers", "user:alice"]
    assert module_writes(seen, [b]) == []
    assert api.get_or_none(binding_path(b, "system:image-puller")) is None

    with audit.capture() as seen:
        assert run_module("image_puller_binding", args).changed
    assert module_writes(seen, [b]) == ["create rolebindings %s/system:image-puller 201" % b]
    subjects = api.get(binding_path(b, "system:image-puller"))["subjects"]
    assert subjects == [{"kind": "ServiceAccount", "name": "default", "namespace": a},
                        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "release-managers"},
                        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]
    for check in (True, False):
        with audit.capture() as seen:
            run = run_module("image_puller_binding", args, check=check)
        assert not run.changed, run.result
        assert module_writes(seen, [b]) == []


def test_binding_made_by_hand_keeps_its_subjects_and_exclusive_trims_only_the_managed_one(api, connection, projects):
    a, b, c = projects
    by_hand = {"kind": "ServiceAccount", "name": "default", "namespace": c}
    api.create(binding_path(b), {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                 "metadata": {"name": "system:image-puller"},
                                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                             "name": "system:image-puller"}, "subjects": [by_hand]})
    api.create(binding_path(b), {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                 "metadata": {"name": "other-pullers"},
                                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                             "name": "system:image-puller"},
                                 "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"}]})
    run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a]))
    subjects = api.get(binding_path(b, "system:image-puller"))["subjects"]
    assert subjects == [by_hand, {"kind": "ServiceAccount", "name": "default", "namespace": a}]

    run = run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a], exclusive=True))
    assert run.changed
    assert api.get(binding_path(b, "system:image-puller"))["subjects"] == [{"kind": "ServiceAccount", "name": "default",
                                                                            "namespace": a}]
    assert api.get(binding_path(b, "other-pullers"))["subjects"][0]["name"] == "bob"


def test_name_taken_by_another_role_uses_suffix_as_oc(api, connection, projects):
    a, b, _c = projects
    api.create(binding_path(b), {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                 "metadata": {"name": "system:image-puller"},
                                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                                 "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "carol"}]})
    run = run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a], verify=True))
    assert not run.failed, run.msg
    assert run.result["bindings"][0]["name"] == "system:image-puller-0"
    assert api.get(binding_path(b, "system:image-puller-0"))["roleRef"]["name"] == "system:image-puller"
    assert api.get(binding_path(b, "system:image-puller"))["roleRef"]["name"] == "view"


def test_openshift_managed_image_pullers_binding_is_never_modified(api, audit, connection, projects):
    a, b, _c = projects
    managed = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "system:image-pullers",
                            "annotations": {"openshift.io/description": "Allows all pods in this namespace to pull images"}},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
               "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts:%s" % b}]}
    api.create(binding_path(b), managed)
    # already granted there: nothing to do
    with audit.capture() as seen:
        run = run_module("image_puller_binding", dict(connection, namespace=b, all_service_accounts_in=[b]))
    assert not run.changed and module_writes(seen, [b]) == []
    # removal leaves it alone
    with audit.capture() as seen:
        run = run_module("image_puller_binding", dict(connection, namespace=b, all_service_accounts_in=[b], state="absent"))
    assert module_writes(seen, [b]) == []
    assert api.get(binding_path(b, "system:image-pullers"))["subjects"] == managed["subjects"]


def test_absent_keeps_binding_annotated_autoupdate_false(api, connection, projects):
    a, b, _c = projects
    api.create(binding_path(b), {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                 "metadata": {"name": "kept", "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "false"}},
                                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
                                 "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": a}]})
    run = run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a], state="absent"))
    assert run.result["bindings"] == [dict(namespace=b, name="kept", action="updated", subjects=[], ownership="shared")]
    assert not api.get(binding_path(b, "kept")).get("subjects")


def test_many_namespaces_by_selector_read_bindings_once(api, audit, connection, namespace_factory):
    team = unique("team")
    source = namespace_factory("ci", wait_for_default_sa=True)
    targets = [namespace_factory("img", labels={"team": team}) for _index in range(4)]
    args = dict(connection, namespace_selector="team=%s" % team, all_service_accounts_in=[source])
    with audit.capture() as seen:
        run = run_module("image_puller_binding", args)
    assert sorted(b["namespace"] for b in run.result["bindings"]) == sorted(targets)
    mine = seen.select(user_agent_prefix=MODULE_AGENT)
    # no read per namespace: one cluster-wide list of role bindings serves them all
    assert [e for e in mine if e.namespace in targets and e.verb in ("get", "list")] == []
    assert [e for e in mine if e.resource == "rolebindings" and e.verb == "list" and e.namespace is None]
    for ns in targets:
        assert sa_token_can_pull(api, source, "default", ns)
    with audit.capture() as seen:
        assert not run_module("image_puller_binding", args).changed
    assert module_writes(seen, targets) == []


def test_verify_fails_with_reason_when_role_grants_no_pull(api, connection, projects):
    a, b, _c = projects
    run = run_module("image_puller_binding", dict(connection, namespace=b, role="view", service_accounts=["%s:default" % a],
                                                  verify=True))
    assert run.failed and "verification failed" in run.msg and "allowed=False" in run.msg
    assert run.result["verification"][0]["allowed"] is False


BAD_INPUTS = [
    ("subject without namespace", dict(service_accounts=["default"]), "default"),
    ("subject with extra colon", dict(service_accounts=["a:b:c"]), "a:b:c"),
    ("uppercase namespace", dict(service_accounts=["Project-A:default"]), "Project-A"),
    ("underscore sa", dict(service_accounts=["project-a:my_sa"]), "my_sa"),
    ("malformed system prefix", dict(service_accounts=["system:serviceaccount:project-a"]), "system:serviceaccount:project-a"),
    ("bad all_service_accounts_in", dict(all_service_accounts_in=["Bad_NS"]), "Bad_NS"),
    ("empty group", dict(groups=[""]), "group"),
    ("no subject", dict(), "at least one subject"),
    ("missing cluster role", dict(role="no-such-role", service_accounts=["a:default"]), "no-such-role"),
    ("missing role in namespace", dict(role="no-such-role", role_kind="Role", service_accounts=["a:default"]), "no-such-role"),
    ("protected binding name", dict(rolebinding_name="system:image-pullers", service_accounts=["a:default"]), "system:image-pullers"),
]


@pytest.mark.parametrize("case,args,expected", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_fails_clearly_and_writes_nothing(audit, connection, namespace, case, args, expected):
    with audit.capture() as seen:
        run = run_module("image_puller_binding", dict(connection, namespace=namespace, **args))
    assert run.failed, case
    assert expected.lower() in run.msg.lower(), run.msg
    assert "Traceback" not in run.output
    assert module_writes(seen, [namespace]) == []


def test_nonexistent_namespace_fails_with_nothing_written(audit, connection, namespace):
    missing = unique("missing")
    with audit.capture() as seen:
        run = run_module("image_puller_binding", dict(connection, namespaces=[namespace, missing], service_accounts=["a:default"]))
    assert run.failed and missing in run.msg
    assert module_writes(seen, [namespace, missing]) == []


def test_conflicting_rolebinding_name_fails_with_nothing_written(api, audit, connection, namespace):
    api.create(binding_path(namespace), {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                         "metadata": {"name": "taken"},
                                         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                                         "subjects": []})
    with audit.capture() as seen:
        run = run_module("image_puller_binding", dict(connection, namespace=namespace, rolebinding_name="taken",
                                                      service_accounts=["a:default"]))
    assert run.failed and "taken" in run.msg and "view" in run.msg
    assert module_writes(seen, [namespace]) == []
