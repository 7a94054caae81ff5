"""Smoke run on one ansible-core (tests/compat/compat.py runs it in each venv of matrix.txt): every module
once in check mode and once for real on the local cluster, and the demo playbook, judged by the server's
objects and the audit log. Only the modules' public names and options: this is what users' playbooks use.

Each test works in namespaces of its own; the global pull secret only inside seeded_cluster_config.
"""

import base64
import json
import os
import subprocess

import pytest
import yaml

from helpers.baseline import seeded_cluster_config
from helpers.runner import BIN, REPO, register_secret, run_module, run_playbook

PASSWORD = register_secret("fake-compat-pass-6e2b")
FINGERPRINT_KEY = register_secret("fake-compat-fingerprint-key-0c4d")  # the same fingerprints in both runs
MODULE_AGENT = "ocp.registry_access/"
GLOBAL = "/api/v1/namespaces/openshift-config/secrets/pull-secret"
register_secret("demo-password-not-secret", "demo-legacy-password-not-secret", "demo-fingerprint-key-not-secret")


def writes(seen, namespaces):
    return seen.summary(seen.writes(namespaces=namespaces, user_agent_prefix=MODULE_AGENT))


def global_auths(api):
    return json.loads(base64.b64decode(api.get(GLOBAL)["data"][".dockerconfigjson"]))["auths"]


def can_pull(api, sa_namespace, image_namespace):
    return api.can_i("get", "imagestreams", image_namespace, group="image.openshift.io", subresource="layers",
                     user="system:serviceaccount:%s:default" % sa_namespace,
                     groups=["system:serviceaccounts", "system:serviceaccounts:%s" % sa_namespace, "system:authenticated"])


def test_the_venv_runs_the_pinned_ansible_core():
    expected = os.environ.get("OCP_COMPAT_ANSIBLE_CORE")
    if not expected:
        pytest.skip("not run by tests/compat/compat.py")
    out = subprocess.run([os.path.join(BIN, "ansible"), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0].endswith("[core %s]" % expected), out


def test_pull_secret(api, audit, connection, namespace):
    args = dict(connection, name="compat", namespace=namespace, service_accounts=["default"],
                registries=[dict(server="quay.io", username="u", password=PASSWORD)])
    with audit.capture() as seen:
        run = run_module("pull_secret", args, check=True)
    assert run.changed and not run.failed, run.msg
    assert writes(seen, [namespace]) == []
    with audit.capture() as seen:
        run = run_module("pull_secret", args)
    assert run.changed and not run.failed, run.msg
    assert "create secrets %s/compat 201" % namespace in writes(seen, [namespace])
    secret = api.get("/api/v1/namespaces/%s/secrets/compat" % namespace)
    assert json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]["quay.io"]["password"] == PASSWORD
    sa = api.get("/api/v1/namespaces/%s/serviceaccounts/default" % namespace)
    assert {"name": "compat"} in sa["imagePullSecrets"]


def test_image_puller_binding(api, audit, connection, namespace_factory):
    a, b = namespace_factory("compat-a"), namespace_factory("compat-b")
    args = dict(connection, namespace=b, service_accounts=["%s:default" % a])
    with audit.capture() as seen:
        run = run_module("image_puller_binding", args, check=True)
    assert run.changed and not run.failed, run.msg
    assert writes(seen, [b]) == []
    assert not can_pull(api, a, b)
    with audit.capture() as seen:
        run = run_module("image_puller_binding", args)
    assert run.changed and not run.failed, run.msg
    assert writes(seen, [b]) == ["create rolebindings %s/system:image-puller 201" % b]
    assert can_pull(api, a, b)


def test_global_pull_secret(api, audit, cluster, connection):
    args = dict(connection, registries=[dict(server="compat.example.com", username="u", password=PASSWORD)])
    with seeded_cluster_config(api, cluster):
        before = api.get(GLOBAL)
        with audit.capture() as seen:
            run = run_module("global_pull_secret", args, check=True)
        assert run.changed and not run.failed, run.msg
        assert run.result["added"] == ["compat.example.com"]
        assert writes(seen, ["openshift-config"]) == []
        assert api.get(GLOBAL)["data"] == before["data"]
        run = run_module("global_pull_secret", args)
        assert run.changed and not run.failed, run.msg
        auths = global_auths(api)
        assert auths["compat.example.com"]["password"] == PASSWORD
        assert set(auths) > set(json.loads(base64.b64decode(before["data"][".dockerconfigjson"]))["auths"])


def test_registry_access_info(audit, connection, namespace):
    run_module("pull_secret", dict(connection, name="compat", namespace=namespace, service_accounts=["default"],
                                   registries=[dict(server="quay.io", username="u", password=PASSWORD)]))
    results = []
    for check in (True, False):
        with audit.capture() as seen:
            run = run_module("registry_access_info", dict(connection, namespace=namespace, include_global=False,
                                                          fingerprint_key=FINGERPRINT_KEY), check=check)
        assert not run.failed and not run.changed, run.msg
        assert [e for e in seen.writes(namespaces=[namespace], user_agent_prefix=MODULE_AGENT)
                if e.resource != "subjectaccessreviews"] == []
        [ns] = run.result["namespaces"]
        assert [s["name"] for s in ns["pull_secrets"]] == ["compat"]
        results.append(run.result["namespaces"])
    assert results[0] == results[1]


def test_demo_playbook_in_namespaces_of_its_own(api, cluster, namespace_factory, tmp_path):
    """playbooks/demo.yml with its project-a and project-b renamed; a second run changes nothing."""
    a, b = namespace_factory("compat-demo-a"), namespace_factory("compat-demo-b")
    with open(os.path.join(REPO, "playbooks", "vars", "demo.yml")) as f:
        demo_vars = yaml.safe_load(f.read().replace("project-a", a).replace("project-b", b))
    demo_vars.update(registry_access_kubeconfig=cluster.kubeconfig, audit_report_dir=str(tmp_path / "reports"))
    playbook = os.path.join(REPO, "playbooks", "demo.yml")
    with seeded_cluster_config(api, cluster):
        first = run_playbook(playbook, [demo_vars], diff=False)
        assert first.rc == 0, first.output[-3000:]
        second = run_playbook(playbook, [demo_vars], diff=False)
        assert second.rc == 0, second.output[-3000:]
        assert second.changed_tasks() == []
        assert "quay.io/repository-main" in global_auths(api)
    sa = api.get("/api/v1/namespaces/%s/serviceaccounts/default" % a)
    assert {"private-registry", "redhat-connect-sso"} <= set(s["name"] for s in sa["imagePullSecrets"])
    assert api.get("/api/v1/namespaces/%s/secrets/legacy-registry" % a)["type"] == "kubernetes.io/dockercfg"
    assert can_pull(api, a, b)
    assert (tmp_path / "reports" / "registry-access-localhost.json").exists()
