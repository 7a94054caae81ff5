"""The audit role through playbooks/audit.yml (and ansible-playbook ocp.registry_access.audit): JSON and
Markdown reports on the controller without a credential, private file modes, a stable report for an
unchanged cluster, nothing written to the cluster, and bad variables rejected before any request."""

import base64
import json
import os
import stat

import pytest

from helpers.kube import unique
from helpers.runner import assert_no_leak, register_secret, run_playbook

PLAYBOOK = "playbooks/audit.yml"
PASSWORD = register_secret("fake-audit-role-pass-e2c4")
MODULE_AGENT = "ocp.registry_access/"
# Fingerprints are keyed, by a random key per report unless one is given: with this one, two reports of the same
# cluster state are identical.
FINGERPRINT_KEY = register_secret("fake-audit-role-fingerprint-key-8d1f6b2a4c")
READ_TASK = "Read pull secrets, service account links, image pullers, the global pull secret, and explain the pulls"


def report_files(report_dir):
    return report_dir / "registry-access-localhost.json", report_dir / "registry-access-localhost.md"


@pytest.fixture
def audited(api, namespace_factory):
    """project-a holds a pull secret linked to default plus a dangling link; project-b lets project-a:default pull."""
    a = namespace_factory("audit-a", wait_for_default_sa=True)
    b = namespace_factory("audit-b", wait_for_default_sa=True)
    config = {"auths": {"privateregistry.example.com": {
        "username": "developer@example.com", "password": PASSWORD, "email": "dev@example.com",
        "auth": base64.b64encode(("developer@example.com:" + PASSWORD).encode()).decode()}}}
    api.create("/api/v1/namespaces/%s/secrets" % a, {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "metadata": {"name": "private-registry"},
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}})
    sa = api.get("/api/v1/namespaces/%s/serviceaccounts/default" % a)
    sa["imagePullSecrets"] = [{"name": "private-registry"}, {"name": "gone"}]
    api.replace("/api/v1/namespaces/%s/serviceaccounts/default" % a, sa)
    # the role is pointed at this copy of a cluster-wide pull secret: other tests edit openshift-config/pull-secret
    global_config = {"auths": {"quay.io": {"auth": base64.b64encode(("quay-user:" + PASSWORD).encode()).decode(),
                                           "email": "owner@example.com"}}}
    api.create("/api/v1/namespaces/%s/secrets" % b, {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "metadata": {"name": "global-copy"},
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(global_config).encode()).decode()}})
    api.create("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % b, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "system:image-puller"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": a}]})
    return a, b


def audit_vars(a, b, report_dir):
    return [{"audit_namespaces": [a, b], "audit_fingerprint_key": FINGERPRINT_KEY},
            {"audit_can_pull": [{"service_account": "%s:default" % a, "from_namespace": b},
                                {"service_account": "%s:default" % b, "from_namespace": a}]},
            {"audit_images": ["privateregistry.example.com/app:1", "quay.io/org/app", "elsewhere.example.com/app"]},
            "audit_report_dir=%s" % report_dir, "audit_global_namespace=%s" % b, "audit_global_name=global-copy"]


def test_audit_playbook_writes_json_and_markdown_reports(audit, cluster, audited, tmp_path):
    a, b = audited
    report_dir = tmp_path / "reports"
    with audit.capture() as seen:
        run = run_playbook(PLAYBOOK, extra_vars=audit_vars(a, b, report_dir) + ["registry_access_kubeconfig=%s" % cluster.kubeconfig])
    assert run.rc == 0, run.output[-3000:]
    json_file, md_file = report_files(report_dir)

    report = json.loads(json_file.read_text())
    assert report["cluster"] == "localhost"
    assert [ns["name"] for ns in report["namespaces"]] == sorted([a, b])
    ns_a = report["namespaces"][sorted([a, b]).index(a)]
    [secret] = ns_a["pull_secrets"]
    assert secret["name"] == "private-registry" and secret["invalid"] is None
    assert secret["registries"][0]["server"] == "privateregistry.example.com"
    assert secret["registries"][0]["username"] == "developer@example.com"
    assert ns_a["service_accounts"][0]["missing"] == ["gone"]
    assert [c["allowed"] for c in report["can_pull"]] == [True, False]
    assert report["global_pull_secret"]["readable"] is True
    assert [(r["server"], r["username"]) for r in report["global_pull_secret"]["registries"]] == [("quay.io", "quay-user")]
    assert report["problems"] == ["service account %s/default references pull secret gone, which does not exist" % a]
    assert report["summary"]["dangling_references"] == 1
    # why ImagePullBackOff: the default service account's secret for its registry, the global pull secret for quay.io
    pulls = dict((p["image"], p) for p in ns_a["pulls"])
    assert [(t["from"], t["secret"], t["username"]) for t in pulls["privateregistry.example.com/app:1"]["attempts"]] == [
        ("service_account", "private-registry", "developer@example.com")]
    assert [(t["from"], t["username"]) for t in pulls["quay.io/org/app"]["attempts"]] == [("global_pull_secret", "quay-user")]
    assert pulls["elsewhere.example.com/app"]["anonymous"]

    markdown = md_file.read_text()
    assert "# Registry access audit: localhost" in markdown
    assert "| `private-registry` | kubernetes.io/dockerconfigjson | `privateregistry.example.com` | developer@example.com |" in markdown
    assert "**missing** `gone`" in markdown
    assert "| `system:image-puller` | ClusterRole `system:image-puller` | `system:serviceaccount:%s:default` | no |" % a in markdown
    assert "`system:serviceaccount:%s:default` | `%s` | yes |" % (a, b) in markdown
    assert "## Global pull secret" in markdown and "`%s/global-copy`" % b in markdown
    assert "| `quay.io` | quay-user | owner@example.com |" in markdown
    assert "### Image pulls (as service account `default`)" in markdown and "#### `quay.io/org/app`" in markdown
    assert "| 1 | service account | `private-registry` | `privateregistry.example.com` | developer@example.com |" in markdown
    assert "| 1 | global pull secret | - | `quay.io` | quay-user |" in markdown
    assert "No credential: the image is pulled anonymously." in markdown
    assert "pull secret gone does not exist: the kubelet skips it" in markdown
    # the reports hold usernames: private to their owner; no credential in them
    assert_no_leak(json_file.read_text() + markdown)
    assert stat.S_IMODE(os.stat(json_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(md_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(report_dir).st_mode) == 0o700

    # the printed summary, and the fact for later tasks
    assert "2 namespace(s) audited: 2 pull secret(s) (0 invalid)" in run.output
    assert "problems: 1" in run.output and "reports: %s" % json_file in run.output
    facts = [r["ansible_facts"]["audit_result"] for r in run.results if "audit_result" in r.get("ansible_facts", {})]
    assert facts and facts[0]["summary"] == report["summary"]
    assert [r for r in run.results if r.get("_task", "").endswith(READ_TASK)]

    # read-only: nothing written in the audited namespaces or cluster-wide, except the LocalSubjectAccessReviews
    # for audit_can_pull (a 'create' that only asks the authorizer; it stores nothing)
    writes = [e for e in seen.writes(user_agent_prefix=MODULE_AGENT)
              if (e.namespace in (a, b) or e.namespace is None)
              and e.resource not in ("subjectaccessreviews", "localsubjectaccessreviews")]
    assert writes == []

    # same cluster state and the same fingerprint key, same report: the report tasks do not change (no timestamp)
    again = run_playbook(PLAYBOOK, extra_vars=audit_vars(a, b, report_dir) + ["registry_access_kubeconfig=%s" % cluster.kubeconfig])
    assert again.rc == 0, again.output[-3000:]
    assert again.changed_tasks() == []


def test_collection_playbook_with_k8s_auth_env_in_check_mode_writes_no_file(cluster, audited, tmp_path):
    a, b = audited
    report_dir = tmp_path / "not-written"
    run = run_playbook("ocp.registry_access.audit", extra_vars=audit_vars(a, b, report_dir), check=True,
                       env={"K8S_AUTH_KUBECONFIG": cluster.kubeconfig})
    assert run.rc == 0, run.output[-3000:]
    assert "2 namespace(s) audited" in run.output
    assert not report_dir.exists()
    # the --diff of the report that would be written shows registries and usernames (scanned for credentials by run_playbook)
    assert "privateregistry.example.com" in run.output


BAD_VARIABLES = [
    ("namespaces not a list", {"audit_namespaces": {"not": "a list"}}, ["audit_namespaces", "list"]),
    ("include_global not a bool", {"audit_namespaces": ["x"], "audit_include_global": "perhaps"}, ["audit_include_global"]),
    ("can_pull item without from_namespace", {"audit_namespaces": ["x"], "audit_can_pull": [{"service_account": "a:b"}]},
     ["audit_can_pull", "from_namespace"]),
    ("can_pull item with an unknown key", {"audit_namespaces": ["x"],
                                           "audit_can_pull": [{"service_account": "a:b", "from_namespace": "c", "from": "d"}]},
     ["audit_can_pull.from. Supported parameters include: from_namespace, service_account"]),
    ("can_pull not a list of dicts", {"audit_namespaces": ["x"], "audit_can_pull": ["a:b"]}, ["audit_can_pull"]),
    ("namespaces and selector", {"audit_namespaces": ["x"], "audit_namespace_selector": "team=a"},
     ["audit_namespaces", "audit_namespace_selector"]),
    ("no namespaces", {}, ["audit_namespaces", "audit_namespace_selector"]),
]


@pytest.mark.parametrize("case,variables,named", BAD_VARIABLES, ids=[c[0] for c in BAD_VARIABLES])
def test_bad_variable_fails_with_its_name_before_any_request(audit, cluster, tmp_path, case, variables, named):
    missing = unique("never-read")
    variables = dict(variables)
    if variables.get("audit_namespaces") == ["x"]:
        variables["audit_namespaces"] = [missing]
    with audit.capture() as seen:
        run = run_playbook(PLAYBOOK, extra_vars=[variables, "audit_report_dir=%s" % tmp_path,
                                                 "registry_access_kubeconfig=%s" % cluster.kubeconfig])
    assert run.rc != 0, case
    [failed] = [r for r in run.results if r.get("_status") == "failed"]
    for name in named:
        assert name in failed["msg"], (case, failed["msg"])
    assert "Traceback" not in run.output
    # the audit module never ran, no request reached the API server, no file was written
    assert [r for r in run.results if r.get("_task", "").endswith(READ_TASK)] == []
    assert [e for e in seen.select(user_agent_prefix=MODULE_AGENT) if missing in (e.namespace, e.name)] == []
    assert os.listdir(tmp_path) == []
