"""The cluster_pull_secret role through playbooks/enforce.yml: cluster_pull_secret_remove_servers removes exactly the
entries of its servers, and the deprecated old name cluster_pull_secret_absent still does, with a deprecation
warning. The role is pointed at a pull secret of a test namespace: other tests edit openshift-config/pull-secret."""

import base64
import json

from helpers.runner import register_secret, run_playbook

PLAYBOOK = "playbooks/enforce.yml"
NAME = "cluster-pull"
PASSWORD = register_secret("fake-cluster-role-pass-7c3e")
SERVERS = ["keep.example.com", "old-a.example.com", "old-b.example.com"]
DEPRECATION = "[DEPRECATION WARNING] The variable cluster_pull_secret_absent is deprecated"


def seed(api, namespace):
    auths = {server: {"auth": base64.b64encode(("robot:" + PASSWORD).encode()).decode(), "email": "robot@example.com"}
             for server in SERVERS}
    api.create("/api/v1/namespaces/%s/secrets" % namespace, {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "metadata": {"name": NAME},
        "data": {".dockerconfigjson": base64.b64encode(json.dumps({"auths": auths}).encode()).decode()}})


def servers(api, namespace):
    secret = api.get("/api/v1/namespaces/%s/secrets/%s" % (namespace, NAME))
    return sorted(json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"])


def enforce(cluster, namespace, **variables):
    variables.update(cluster_pull_secret_namespace=namespace, cluster_pull_secret_name=NAME)
    return run_playbook(PLAYBOOK, extra_vars=[variables, "registry_access_kubeconfig=%s" % cluster.kubeconfig])


def test_remove_servers_removes_their_entries_and_nothing_else(api, cluster, namespace_factory):
    namespace = namespace_factory("cps-role")
    seed(api, namespace)
    run = enforce(cluster, namespace, cluster_pull_secret_remove_servers=["old-a.example.com"])
    assert run.rc == 0, run.output[-3000:]
    assert servers(api, namespace) == ["keep.example.com", "old-b.example.com"]
    assert DEPRECATION not in run.output

    again = enforce(cluster, namespace, cluster_pull_secret_remove_servers=["old-a.example.com"])
    assert again.rc == 0, again.output[-3000:]
    assert again.changed_tasks() == []


def test_deprecated_absent_still_removes_its_servers_with_a_warning(api, cluster, namespace_factory):
    namespace = namespace_factory("cps-role")
    seed(api, namespace)
    run = enforce(cluster, namespace, cluster_pull_secret_absent=["old-b.example.com"])
    assert run.rc == 0, run.output[-3000:]
    assert servers(api, namespace) == ["keep.example.com", "old-a.example.com"]
    assert DEPRECATION in run.output and "cluster_pull_secret_remove_servers" in run.output


def test_old_and_new_names_together_remove_the_servers_of_both(api, cluster, namespace_factory):
    namespace = namespace_factory("cps-role")
    seed(api, namespace)
    run = enforce(cluster, namespace, cluster_pull_secret_remove_servers=["old-a.example.com"],
                  cluster_pull_secret_absent=["old-b.example.com"])
    assert run.rc == 0, run.output[-3000:]
    assert servers(api, namespace) == ["keep.example.com"]
    assert DEPRECATION in run.output
