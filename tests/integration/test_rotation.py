"""A credential rotation on the local cluster, proven by the audit's rotation report (docs/rotation.md).

50 namespaces and the global pull secret hold credential OLD for one registry (put there by
playbooks/enforce.yml). The report, given the new declaration, flags all 51 places; enforce writes NEW
everywhere but one excluded namespace; the report then shows NEW only, and flags the namespace left
behind by name. Every step is checked on the server's objects and the API server's audit log too, and
every output is scanned for both credentials.
"""

import base64
import concurrent.futures
import json
import os

import pytest
import yaml

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from helpers.baseline import PULL_SECRET, seeded_cluster_config
from helpers.kube import unique
from helpers.runner import REPO, assert_no_leak, register_secret, run_module, run_playbook

COUNT = 50
REGISTRY = "rotation.example.com"
SECRET = "rotation-registry"
USERNAME = "rotation-robot"
OLD = register_secret("fake-rotation-old-pass-7c1e")
NEW = register_secret("fake-rotation-new-pass-2f9a")
# One key for every run: fingerprints compare across the reports, and the test computes them.
FINGERPRINT_KEY = register_secret("fake-rotation-fingerprint-key-5b8d0e2a4c6f1a3e")
MODULE_AGENT = "ocp.registry_access/"


def fingerprint(password):
    return dc.fingerprint_entry(dc.build_entry(username=USERNAME, password=password), key=FINGERPRINT_KEY)


def credential(password):
    return {"server": REGISTRY, "username": USERNAME, "password": password}


def password_in(secret, key=".dockerconfigjson"):
    """The password the secret's entry for REGISTRY gives (decoded here, independently of the collection)."""
    document = json.loads(base64.b64decode(secret["data"][key]))
    username, password = base64.b64decode(document["auths"][REGISTRY]["auth"]).decode().split(":", 1)
    assert username == USERNAME
    return password


@pytest.fixture
def fleet(api):
    """COUNT namespaces labelled rotation=<id>, created and settled in parallel, deleted after the test."""
    label = unique("rot")
    names = ["%s-%02d" % (label, i) for i in range(COUNT)]

    def create(name):
        api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                          "metadata": {"name": name, "labels": {"rotation": label}}})
        api.settle_namespace(name)

    def delete(name):
        api.delete("/api/v1/namespaces/" + name)  # 404 is fine: a create that failed

    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(create, names))
        yield "rotation=%s" % label, names
    finally:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(delete, names))


def declaration(selector, password, exclude=()):
    """The variables of playbooks/enforce.yml (and of the audit role, which compares with them)."""
    return {
        "project_access_pull_secrets": [{"name": SECRET, "namespace_selector": selector, "exclude_namespaces": list(exclude),
                                         "registries": [credential(password)], "service_accounts": ["default"]}],
        "cluster_pull_secret_registries": [credential(password)],
    }


def expected(selector, password, exclude=()):
    """The registry_access_info option `expected` for the same declaration."""
    return {"pull_secrets": [{"name": SECRET, "namespace_selector": selector, "exclude_namespaces": list(exclude),
                              "registries": [credential(password)]}],
            "global_registries": [credential(password)]}


def enforce(cluster, variables):
    run = run_playbook("playbooks/enforce.yml", extra_vars=[variables, {"registry_access_kubeconfig": cluster.kubeconfig}])
    assert run.rc == 0, run.output[-3000:]
    return run


def server_passwords(api, names):
    """{namespace: password of its SECRET}, and the global pull secret's password for REGISTRY."""
    secrets = api.get("/api/v1/secrets?fieldSelector=metadata.name%3D" + SECRET)["items"]
    found = dict((s["metadata"]["namespace"], password_in(s)) for s in secrets if s["metadata"]["namespace"] in names)
    return found, password_in(api.get(PULL_SECRET))


def rotation_entry(result):
    [registry] = [r for r in result["rotation"]["registries"] if r["registry"] == REGISTRY]
    return registry


def places(items):
    return sorted("global" if item["global"] else item["namespace"] for item in items)


def test_rotation_across_fifty_namespaces_and_the_global_pull_secret(api, audit, cluster, connection, fleet, tmp_path):
    selector, names = fleet
    left_behind = names[-1]
    with seeded_cluster_config(api, cluster):
        # -- the vault held OLD: enforce put it everywhere
        enforce(cluster, declaration(selector, OLD))
        in_namespaces, in_global = server_passwords(api, names)
        assert in_namespaces == dict((ns, OLD) for ns in names) and in_global == OLD

        # -- the vault now holds NEW: before enforce, the report flags every place that still holds OLD
        # at -vvvv: the declaration's credentials are module arguments; run_module scans all output for OLD and NEW
        before = run_module("registry_access_info", dict(connection, namespace_selector=selector, fingerprint_key=FINGERPRINT_KEY,
                                                         expected=expected(selector, NEW)), verbosity=4)
        assert not before.failed, before.msg
        registry = rotation_entry(before.result)
        assert registry["declared"] is True and registry["declared_fingerprints"] == [fingerprint(NEW)]
        [old] = registry["credentials"]
        assert (old["fingerprint"], old["declared"], old["namespaces"], old["global"]) == (fingerprint(OLD), False, names, True)
        stale = before.result["rotation"]["stale"]
        assert len(stale) == COUNT + 1 and places(stale) == ["global"] + names
        assert set((s["secret"], s["fingerprint"], s["username"]) for s in stale if not s["global"]) == {
            (SECRET, fingerprint(OLD), USERNAME)}
        assert places(before.result["rotation"]["missing"]) == ["global"] + names
        assert before.result["summary"]["stale_credentials"] == COUNT + 1
        assert before.result["summary"]["missing_credentials"] == COUNT + 1
        assert "secret %s/%s still holds credential %s (username %s) for registry %s, not the declared %s" % (
            names[0], SECRET, fingerprint(OLD), USERNAME, REGISTRY, fingerprint(NEW)) in before.result["problems"]

        # -- enforce NEW, leaving one namespace out: it writes exactly the 49 secrets and the global pull secret
        with audit.capture() as seen:
            enforce(cluster, declaration(selector, NEW, exclude=[left_behind]))
        secret_writes = seen.writes(user_agent_prefix=MODULE_AGENT, resource="secrets")
        assert sorted(e.namespace for e in secret_writes if e.namespace in names) == sorted(names[:-1])
        assert [e.name for e in secret_writes if e.namespace == "openshift-config"] == ["pull-secret"]
        in_namespaces, in_global = server_passwords(api, names)
        assert in_namespaces == dict([(ns, NEW) for ns in names[:-1]] + [(left_behind, OLD)]) and in_global == NEW

        # -- the audit role, given the same variables as enforce: NEW only, nothing flagged
        report_dir = tmp_path / "reports"
        audit_vars = [declaration(selector, NEW, exclude=[left_behind]),
                      {"audit_namespace_selector": selector, "audit_exclude_namespaces": [left_behind],
                       "audit_fingerprint_key": FINGERPRINT_KEY, "audit_report_dir": str(report_dir),
                       "registry_access_kubeconfig": cluster.kubeconfig}]
        run = run_playbook("playbooks/audit.yml", extra_vars=audit_vars, verbosity=3)
        assert run.rc == 0, run.output[-3000:]
        report = json.loads((report_dir / "registry-access-localhost.json").read_text())
        markdown = (report_dir / "registry-access-localhost.md").read_text()
        assert_no_leak(json.dumps(report) + markdown)
        registry = rotation_entry(report)
        [new] = registry["credentials"]
        assert (new["fingerprint"], new["declared"], new["namespaces"], new["global"]) == (
            fingerprint(NEW), True, names[:-1], True)
        assert report["rotation"]["stale"] == [] and report["rotation"]["missing"] == []
        assert report["problems"] == [] and report["summary"]["stale_credentials"] == 0
        assert "## Rotation" in markdown and "`%s`" % fingerprint(NEW) in markdown
        assert "No namespace and no global pull secret holds a credential other than the declared one" in markdown

        # -- the whole fleet: the namespace left behind is flagged by name, and only it
        run = run_playbook("playbooks/audit.yml", extra_vars=audit_vars + [{"audit_exclude_namespaces": []}])
        assert run.rc == 0, run.output[-3000:]
        report = json.loads((report_dir / "registry-access-localhost.json").read_text())
        [stale] = report["rotation"]["stale"]
        assert (stale["namespace"], stale["secret"], stale["fingerprint"], stale["expected"]) == (
            left_behind, SECRET, fingerprint(OLD), [fingerprint(NEW)])
        assert report["problems"] == [stale["message"]] and left_behind in stale["message"]
        assert "secret %s/%s still holds credential %s" % (left_behind, SECRET, fingerprint(OLD)) in run.output
        markdown = (report_dir / "registry-access-localhost.md").read_text()
        assert "| `%s` | `%s` | `%s` |" % (left_behind, SECRET, REGISTRY) in markdown

        # -- explain a pull: a pod of the default service account sends NEW, from its secret, then from the node
        explained = run_module("registry_access_info", dict(connection, namespace=names[0], fingerprint_key=FINGERPRINT_KEY,
                                                            images=["%s/team/app:1" % REGISTRY], service_account="default"))
        [pull] = explained.result["namespaces"][0]["pulls"]
        assert [(a["from"], a["secret"], a["username"], a["fingerprint"]) for a in pull["attempts"]] == [
            ("service_account", SECRET, USERNAME, fingerprint(NEW)), ("global_pull_secret", None, USERNAME, fingerprint(NEW))]
        assert pull["error"] is None


BAD_DECLARATIONS = [
    ("registry without a password", {"pull_secrets": [{"name": SECRET, "namespace": "x", "registries": [
        {"server": REGISTRY, "username": USERNAME}]}]}, "expected.pull_secrets[0].registries[0]"),
    ("auth and password", {"global_registries": [dict(credential(OLD), auth="Zm9vOmJhcg==")]},
     "expected.global_registries[0]"),
    ("two namespace choices", {"pull_secrets": [{"namespace": "x", "namespace_selector": "a=b", "registries": [credential(OLD)]}]},
     "mutually exclusive"),
    ("no namespace", {"pull_secrets": [{"name": SECRET, "registries": [credential(OLD)]}]}, "one of the following is required"),
]


@pytest.mark.parametrize("case,declaration_,named", BAD_DECLARATIONS, ids=[c[0] for c in BAD_DECLARATIONS])
def test_a_bad_declaration_fails_naming_it_before_any_namespace_is_read(audit, connection, namespace, case, declaration_, named):
    with audit.capture() as seen:
        run = run_module("registry_access_info", dict(connection, namespace=namespace, expected=declaration_))
    assert run.failed and named in run.msg, (case, run.msg)
    assert "Traceback" not in run.output
    # nothing about the audited namespace was read (run_module also scanned every output for OLD)
    assert [e for e in seen.select(user_agent_prefix=MODULE_AGENT) if e.namespace == namespace] == []


def test_an_auditor_who_cannot_list_namespaces_still_finds_the_old_credential(api, cluster, namespace_factory, tmp_path):
    """A project auditor (rbac/audit-clusterrole.yaml bound in two projects) cannot resolve a declaration's
    namespace_selector: the audit warns, still flags the project holding the old credential, reports nothing missing."""
    old_ns, new_ns, home = namespace_factory("rot-old"), namespace_factory("rot-new"), namespace_factory("rot-auditor")
    for ns, password in ((old_ns, OLD), (new_ns, NEW)):
        document = {"auths": {REGISTRY: dc.build_entry(username=USERNAME, password=password)}}
        api.create("/api/v1/namespaces/%s/secrets" % ns, {
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "metadata": {"name": SECRET},
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()}})
    with open(os.path.join(REPO, "rbac", "audit-clusterrole.yaml")) as f:
        role = yaml.safe_load(f)
    role["metadata"] = {"name": unique("rotation-auditor")}
    api.create("/apis/rbac.authorization.k8s.io/v1/clusterroles", role)
    try:
        api.create("/api/v1/namespaces/%s/serviceaccounts" % home,
                   {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "auditor"}})
        for ns in (old_ns, new_ns):
            api.create("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % ns, {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "auditor"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]},
                "subjects": [{"kind": "ServiceAccount", "name": "auditor", "namespace": home}]})
        token = register_secret(api.token_for(home, "auditor"))
        env = {"K8S_AUTH_HOST": cluster.server, "K8S_AUTH_API_KEY": token, "K8S_AUTH_SSL_CA_CERT": cluster.ca_cert,
               "KUBECONFIG": str(tmp_path / "none"), "HOME": str(tmp_path)}
        run = run_module("registry_access_info", {
            "namespaces": [old_ns, new_ns], "include_global": False, "fingerprint_key": FINGERPRINT_KEY,
            "expected": {"pull_secrets": [{"name": SECRET, "namespace_selector": "team=payments",
                                           "registries": [credential(NEW)]}]}}, env=env)
    finally:
        api.delete("/apis/rbac.authorization.k8s.io/v1/clusterroles/" + role["metadata"]["name"])
    assert not run.failed, run.msg
    [stale] = run.result["rotation"]["stale"]
    assert (stale["namespace"], stale["fingerprint"], stale["expected"]) == (old_ns, fingerprint(OLD), [fingerprint(NEW)])
    assert run.result["rotation"]["missing"] == []
    assert any("expected.pull_secrets[0]: the namespaces of namespace_selector team=payments cannot be listed" in w
               for w in run.result.get("warnings", [])), run.result.get("warnings")
