"""pull_secret when some writes fail for real on the local cluster (a ResourceQuota, RBAC that forbids one
verb, a ValidatingAdmissionPolicy): each namespace is left consistent - no service account references a
secret that is not there, no secret is lost - and the failure still reports `changed` and what was written."""

import base64
import json
import time

import pytest

from helpers.kube import ApiError, unique
from helpers.runner import register_secret, run_module

PASSWORD = register_secret("fake-fail-pass-6a3d")
OLD_PASSWORD = register_secret("fake-fail-old-pass-0e9b")
MODULE_AGENT = "ocp.registry_access/"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
ADMISSION = "/apis/admissionregistration.k8s.io/v1"


def sa_path(ns, name):
    return "/api/v1/namespaces/%s/serviceaccounts/%s" % (ns, name)


def secret_path(ns, name):
    return "/api/v1/namespaces/%s/secrets/%s" % (ns, name)


def registry(password=PASSWORD):
    return dict(server="registry.example.com", username="robot", password=password)


def pull_refs(api, ns, name="default"):
    return [r["name"] for r in api.get(sa_path(ns, name)).get("imagePullSecrets") or []]


def module_writes(seen, namespaces):
    return seen.summary(seen.writes(namespaces=namespaces, user_agent_prefix=MODULE_AGENT))


# -- present: no link where the secret was not written ------------------------------------------------


def test_present_does_not_link_where_the_secret_write_failed(api, audit, connection, namespace_factory):
    ok, full = namespace_factory("ok", wait_for_default_sa=True), namespace_factory("full", wait_for_default_sa=True)
    quota = api.create("/api/v1/namespaces/%s/resourcequotas" % full, {
        "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "no-secrets"},
        "spec": {"hard": {"count/secrets": "0"}}})
    # the local cluster runs no resource quota controller: record the usage it would (no secret yet), so that the
    # API server's quota admission refuses the create as "exceeded quota"
    quota["status"] = {"hard": {"count/secrets": "0"}, "used": {"count/secrets": "0"}}
    api.replace("/api/v1/namespaces/%s/resourcequotas/no-secrets/status" % full, quota)

    with audit.capture() as seen:
        run = run_module("pull_secret", dict(connection, name="p", namespaces=[ok, full], registries=[registry()],
                                             service_accounts=["default"]))
    assert run.failed
    # linked where the secret is, nothing dangling where it is not
    assert api.get_or_none(secret_path(full, "p")) is None
    assert "p" not in pull_refs(api, full)
    assert module_writes(seen, [full]) == ["create secrets %s/p 403" % full]
    assert pull_refs(api, ok) == ["p"]
    # the failure says why and reports what was written
    assert "secret %s/p" % full in run.msg and "exceeded quota" in run.msg, run.msg
    assert "service accounts in %s were not linked" % full in run.msg
    assert run.result["changed"] is True
    assert [(s["namespace"], s["action"]) for s in run.result["secrets"]] == [(ok, "created")]
    assert [(s["namespace"], s["name"], s["action"]) for s in run.result["service_accounts"]] == [(ok, "default", "linked")]


# -- absent: no delete where the unlink failed -------------------------------------------------------


class LimitedUser(object):
    """A user (reached by impersonation) with the shipped project rights in some namespaces and, in others, the
    same rights less `update serviceaccounts`."""

    def __init__(self, api):
        self.api = api
        self.name = unique("limited-user")
        self.created = []
        with open("rbac/project-access-clusterrole.yaml") as f:
            import yaml
            self.rules = [doc for doc in yaml.safe_load_all(f) if doc][0]["rules"]

    def grant(self, namespace, without_sa_update=False):
        rules = json.loads(json.dumps(self.rules))
        if without_sa_update:
            for rule in rules:
                if rule["resources"] == ["serviceaccounts"]:
                    rule["verbs"] = [v for v in rule["verbs"] if v != "update"]
        rules = [r for r in rules if r.get("resources") != ["clusterroles"]]  # bind on a cluster object: not in a Role
        name = unique("limited")
        self.api.create("%s/namespaces/%s/roles" % (RBAC, namespace),
                        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name},
                         "rules": rules})
        self.api.create("%s/namespaces/%s/rolebindings" % (RBAC, namespace), {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": self.name}]})
        deadline = time.time() + 10
        while not self.api.can_i("list", "secrets", namespace, user=self.name) and time.time() < deadline:
            time.sleep(0.2)


def test_absent_keeps_the_secret_where_unlinking_failed(api, audit, connection, namespace_factory):
    ok, locked = namespace_factory("ok", wait_for_default_sa=True), namespace_factory("locked", wait_for_default_sa=True)
    setup = run_module("pull_secret", dict(connection, name="p", namespaces=[ok, locked], registries=[registry()],
                                           service_accounts=["default"]))
    assert not setup.failed, setup.msg
    user = LimitedUser(api)
    user.grant(ok)
    user.grant(locked, without_sa_update=True)

    with audit.capture() as seen:
        run = run_module("pull_secret", dict(connection, name="p", namespaces=[ok, locked], state="absent",
                                             impersonate_user=user.name))
    assert run.failed
    # where unlinking failed the secret is still there for the reference that remains
    assert pull_refs(api, locked) == ["p"] and api.get_or_none(secret_path(locked, "p")) is not None
    assert not [w for w in module_writes(seen, [locked]) if w.startswith("delete")]
    assert "p" not in pull_refs(api, ok) and api.get_or_none(secret_path(ok, "p")) is None
    # the failure says why and reports what was written
    assert "service account %s/default" % locked in run.msg and "forbidden" in run.msg.lower(), run.msg
    assert "secret %s/p: not deleted, because service account(s) default could not be unlinked" % locked in run.msg
    assert run.result["changed"] is True
    assert [(s["namespace"], s["action"]) for s in run.result["secrets"]] == [(ok, "deleted")]
    assert [(s["namespace"], s["action"]) for s in run.result["service_accounts"]] == [(ok, "unlinked")]


# -- force: a failed recreate puts the previous secret back -------------------------------------------


class DenySecretCreates(object):
    """A ValidatingAdmissionPolicy (and its binding) that refuses to create the Secret `name` in one namespace,
    of one type or of any: what an admission webhook refusing the new object does."""

    def __init__(self, api, namespace, name, secret_type=None):
        self.api = api
        self.name = unique("deny-secret")
        condition = "object.metadata.name == '%s'" % name
        if secret_type:
            condition += " && object.type == '%s'" % secret_type
        api.create(ADMISSION + "/validatingadmissionpolicies", {
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": self.name},
            "spec": {"failurePolicy": "Fail",
                     "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                             "operations": ["CREATE"], "resources": ["secrets"]}]},
                     "validations": [{"expression": "!(%s)" % condition,
                                      "message": "secrets like this one are refused here (test policy)"}]}})
        api.create(ADMISSION + "/validatingadmissionpolicybindings", {
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": self.name},
            "spec": {"policyName": self.name, "validationActions": ["Deny"],
                     "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}}})
        self.wait_active(namespace, name, secret_type or "kubernetes.io/dockerconfigjson")

    def wait_active(self, namespace, name, secret_type):
        probe = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": secret_type,
                 "data": {".dockerconfigjson": base64.b64encode(b'{"auths":{}}').decode()} if secret_type.endswith("json")
                 else {".dockercfg": base64.b64encode(b"{}").decode()}}
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                self.api.create("/api/v1/namespaces/%s/secrets?dryRun=All" % namespace, probe)
            except ApiError as e:
                if "test policy" in e.body:
                    return
                if e.status != 409:
                    raise
                return  # the secret exists: a dry-run create cannot tell; the policy is there, give it a moment
            time.sleep(0.3)
        raise AssertionError("the test admission policy never took effect")

    def remove(self):
        self.api.delete(ADMISSION + "/validatingadmissionpolicybindings/" + self.name)
        self.api.delete(ADMISSION + "/validatingadmissionpolicies/" + self.name)


def old_dockercfg_secret(ns):
    document = {"registry.example.com": {"username": "robot", "password": OLD_PASSWORD,
                                         "auth": base64.b64encode(("robot:" + OLD_PASSWORD).encode()).decode()}}
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockercfg",
            "metadata": {"name": "p", "namespace": ns, "labels": {"team": "blue"}, "annotations": {"owner": "blue-team"}},
            "data": {".dockercfg": base64.b64encode(json.dumps(document).encode()).decode()}}


def test_force_restores_the_previous_secret_when_the_recreate_is_refused(api, audit, connection, namespace):
    old = api.create("/api/v1/namespaces/%s/secrets" % namespace, old_dockercfg_secret(namespace))
    policy = DenySecretCreates(api, namespace, "p", "kubernetes.io/dockerconfigjson")
    try:
        with audit.capture() as seen:
            # a Secret the collection did not create: taken over only when asked
            run = run_module("pull_secret", dict(connection, name="p", namespace=namespace, registries=[registry()],
                                                 force=True, unmanaged="adopt"))
    finally:
        policy.remove()
    assert run.failed
    after = api.get_or_none(secret_path(namespace, "p"))
    assert after is not None, "the secret was lost"
    assert after["type"] == "kubernetes.io/dockercfg" and after["data"] == old["data"]
    assert after["metadata"]["labels"] == old["metadata"]["labels"]
    assert after["metadata"]["annotations"] == old["metadata"]["annotations"]
    assert after["metadata"]["uid"] != old["metadata"]["uid"]
    assert "recreating it as kubernetes.io/dockerconfigjson failed" in run.msg and "test policy" in run.msg, run.msg
    assert "the previous secret was restored" in run.msg
    assert run.result["changed"] is True
    assert [(s["namespace"], s["action"], s["registries"]) for s in run.result["secrets"]] == [
        (namespace, "restored", ["registry.example.com"])]
    writes = seen.writes(namespaces=[namespace], user_agent_prefix=MODULE_AGENT)
    assert [(e.verb, e.name) for e in writes] == [("delete", "p"), ("create", "p"), ("create", "p")], seen.summary(writes)
    assert [e.code >= 400 for e in writes] == [False, True, False], seen.summary(writes)


def test_force_says_so_when_the_previous_secret_cannot_be_restored_either(api, connection, namespace):
    api.create("/api/v1/namespaces/%s/secrets" % namespace, old_dockercfg_secret(namespace))
    policy = DenySecretCreates(api, namespace, "p")
    try:
        run = run_module("pull_secret", dict(connection, name="p", namespace=namespace, registries=[registry()],
                                             force=True, unmanaged="adopt"))
    finally:
        policy.remove()
    assert run.failed and run.result["changed"] is True
    assert "restoring the previous secret failed too" in run.msg and "the secret was deleted" in run.msg, run.msg
    assert [(s["action"]) for s in run.result["secrets"]] == ["deleted"]
    assert api.get_or_none(secret_path(namespace, "p")) is None


@pytest.mark.parametrize("check", [True, False], ids=["check", "apply"])
def test_force_recreate_that_succeeds_is_unaffected(api, connection, namespace, check):
    api.create("/api/v1/namespaces/%s/secrets" % namespace, old_dockercfg_secret(namespace))
    run = run_module("pull_secret", dict(connection, name="p", namespace=namespace, registries=[registry()], force=True,
                                         unmanaged="adopt"), check=check)
    assert not run.failed, run.msg
    assert [s["action"] for s in run.result["secrets"]] == ["recreated"]
    assert api.get(secret_path(namespace, "p"))["type"] == (
        "kubernetes.io/dockercfg" if check else "kubernetes.io/dockerconfigjson")
