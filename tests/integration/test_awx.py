"""AWX / Automation Controller: the execution environment metadata, and enforce.yml run with only
what the "OpenShift or Kubernetes API Bearer Token" credential injects (no kubeconfig)."""

import json
import os
import subprocess

from helpers.runner import BIN, REPO, register_secret, run_playbook

PASSWORD = register_secret("fake-awx-pass-0e4d")


def test_ansible_builder_introspect_accepts_the_collection():
    proc = subprocess.run([os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize",
                           os.path.join(REPO, ".build", "collections")], capture_output=True, text=True, check=True)
    assert "kubernetes>=24.2.0  # from collection ocp.registry_access" in proc.stdout
    assert "python3 [platform:rpm]  # from collection ocp.registry_access" in proc.stdout


def bearer_token_credential_env(api, cluster, namespace, home):
    """The variables AWX's Kubernetes bearer token credential injects, for a dedicated service account."""
    api.create("/api/v1/namespaces/%s/serviceaccounts" % namespace,
               {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "awx"}})
    api.create("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % namespace, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "awx-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "awx", "namespace": namespace}]})
    token = register_secret(api.token_for(namespace, "awx"))
    return {"K8S_AUTH_HOST": cluster.server, "K8S_AUTH_API_KEY": token, "K8S_AUTH_VERIFY_SSL": "true",
            "K8S_AUTH_SSL_CA_CERT": cluster.ca_cert,
            # nothing to fall back on: no kubeconfig anywhere
            "KUBECONFIG": str(home / "no-kubeconfig"), "HOME": str(home)}


def test_enforce_with_only_the_bearer_token_credential(api, audit, cluster, namespace, tmp_path):
    api.wait_for("/api/v1/namespaces/%s/serviceaccounts/default" % namespace)
    env = bearer_token_credential_env(api, cluster, namespace, tmp_path)
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps({
        "project_access_pull_secrets": [{"name": "awx-registry", "namespace": namespace, "service_accounts": ["default"],
                                         "registries": [{"server": "registry.example.com", "username": "awx",
                                                         "password": PASSWORD}]}]}))
    with audit.capture() as seen:
        run = run_playbook("playbooks/enforce.yml", extra_vars=["@%s" % vars_file], env=env)
    assert run.rc == 0, run.output[-3000:]
    assert api.get("/api/v1/namespaces/%s/secrets/awx-registry" % namespace)["type"] == "kubernetes.io/dockerconfigjson"
    writes = seen.writes(namespaces=[namespace], user_agent_prefix="ocp.registry_access/")
    assert {e.user for e in writes} == {"system:serviceaccount:%s:awx" % namespace}

    run = run_playbook("playbooks/enforce.yml", extra_vars=["@%s" % vars_file], env=env)
    assert run.rc == 0 and run.changed_tasks() == [], run.changed_tasks()
