"""Every module's RETURN documents exactly the keys a real result has, nested ones included."""

import ast
import base64
import json
import os

import pytest
import yaml

from helpers.baseline import seeded_cluster_config
from helpers.runner import REPO, register_secret, run_module

MODULES_DIR = os.path.join(REPO, "plugins", "modules")
# Keys Ansible itself adds to every result.
ANSIBLE_KEYS = {"changed", "diff", "invocation", "failed", "msg", "warnings", "deprecations", "_status", "_task",
                "_ansible_no_log", "_ansible_verbose_always", "_ansible_delegated_vars", "ansible_facts"}
PASSWORD = register_secret("fake-return-docs-pass-3c9b")


def module_names():
    return sorted(f[:-3] for f in os.listdir(MODULES_DIR) if f.endswith(".py") and not f.startswith("_"))


def documented(module):
    with open(os.path.join(MODULES_DIR, module + ".py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "RETURN":
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no RETURN" % module)


def mismatches(doc, value, where=""):
    """Differences between a RETURN (sub)tree and a real value."""
    problems = []
    contains = doc.get("contains") if isinstance(doc, dict) else None
    if contains and isinstance(value, dict):
        return mismatches(contains, value, where)
    if isinstance(value, dict):
        real, docs = set(value) - ANSIBLE_KEYS, set(doc)
        problems += ["%s%s returned but not documented" % (where, k) for k in sorted(real - docs)]
        for key in sorted(real & docs):
            problems += mismatches(doc[key], value[key], "%s%s." % (where, key))
        return problems
    if contains and isinstance(value, list):
        for item in value:
            problems += mismatches(contains, item, where)
    return problems


def args_for(module, connection, namespace):
    registry = {"server": "quay.io", "username": "u", "password": PASSWORD}
    return {
        "pull_secret": dict(connection, name="docs", namespace=namespace, registries=[registry],
                            service_accounts=["default"]),
        "image_puller_binding": dict(connection, namespace=namespace, service_accounts=["%s:default" % namespace],
                                     verify=True),
        "global_pull_secret": dict(connection, registries=[dict(registry, server="docs.example.com")]),
        "registry_access_info": dict(connection, namespace=namespace,
                                     can_pull=[{"service_account": "%s:default" % namespace, "from_namespace": namespace}],
                                     images=["quay.io/openshift/app:1", "nginx"]),
        "prune": dict(connection, owner="docs", namespaces=[namespace]),
    }[module]


def prepare(module, api, namespace):
    """What a module's result needs in the namespace to show every key: for prune, a pull secret of the owner
    linked from default, and a binding in which the owner granted one of two subjects."""
    if module != "prune":
        return
    managed = {"app.kubernetes.io/managed-by": "ocp.registry_access"}
    document = json.dumps({"auths": {"quay.io": {"username": "u", "password": PASSWORD}}})
    api.create("/api/v1/namespaces/%s/secrets" % namespace, {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": "docs-old", "labels": dict(managed, **{"ocp.registry-access/owner": "docs"}),
                     "annotations": {"ocp.registry-access/owner": "docs"}},
        "data": {".dockerconfigjson": base64.b64encode(document.encode()).decode()}})
    sa = api.get("/api/v1/namespaces/%s/serviceaccounts/default" % namespace)
    sa["imagePullSecrets"] = (sa.get("imagePullSecrets") or []) + [{"name": "docs-old"}]
    api.replace("/api/v1/namespaces/%s/serviceaccounts/default" % namespace, sa)
    groups = ["system:serviceaccounts:%s-%s" % (namespace, n) for n in ("a", "b")]
    api.create("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % namespace, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "docs-pullers",
                     "labels": dict(managed, **{"grants.ocp.registry-access/docs": "true"}),
                     "annotations": {"ocp.registry-access/grants": json.dumps(
                         {"docs": ["group:" + groups[0]], "other": ["group:" + groups[1]]})}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups]})


@pytest.mark.parametrize("module", module_names())
def test_return_documents_every_key_of_a_real_result(module, api, cluster, connection, namespace_factory):
    namespace = namespace_factory("docs", wait_for_default_sa=True)
    prepare(module, api, namespace)
    # check mode on the global pull secret: a real result without touching shared objects, from the
    # seeded cluster-wide configuration, while no other test is changing it
    with seeded_cluster_config(api, cluster):
        run = run_module(module, args_for(module, connection, namespace), check=(module == "global_pull_secret"))
    assert not run.failed, run.msg
    doc = documented(module)
    assert mismatches(doc, run.result) == []
    missing = sorted(set(doc) - set(run.result))
    assert missing == [], "documented as returned but absent: %s" % missing
