"""Many clusters: one inventory host per cluster, auth in host vars, enforced in one run with forks."""

import base64
import json
import os

import pytest

from cluster import Cluster
from helpers.kube import Api, unique
from helpers.runner import register_secret, run_playbook

PASSWORD = register_secret("fake-multi-cluster-pass-a8f0")


@pytest.fixture(scope="module")
def second_cluster(cluster):
    """A second local control plane beside the first (own directory and ports), removed afterwards."""
    other = Cluster(cluster_dir=cluster.dir + "-second", port_base=int(os.environ.get("PORT_BASE", 16000)) + 1000)
    other.up()
    yield other
    other.down(quiet=True)


def test_enforce_two_clusters_in_one_run_each_gets_its_own_state(cluster, second_cluster, api, tmp_path):
    name = unique("per-cluster")
    hosts = {}
    for host, c, server in (("cluster-one", cluster, "one.registry.example.com"),
                            ("cluster-two", second_cluster, "two.registry.example.com")):
        hosts[host] = {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "registry_access_kubeconfig": c.kubeconfig,
            "project_access_pull_secrets": [{"name": name, "namespace": "default", "service_accounts": ["default"],
                                             "registries": [{"server": server, "username": host, "password": PASSWORD}]}],
        }
    inventory = tmp_path / "clusters.json"
    inventory.write_text(json.dumps({"all": {"children": {"clusters": {"hosts": hosts}}}}))

    run = run_playbook("playbooks/enforce.yml", extra_vars=["target=clusters"], inventory=str(inventory),
                       env={"ANSIBLE_FORKS": "2"})
    try:
        assert run.rc == 0, run.output[-3000:]
        for c, server in ((cluster, "one.registry.example.com"), (second_cluster, "two.registry.example.com")):
            client = Api(c.server, c.ca_cert, token=c.admin_token)
            secret = client.get("/api/v1/namespaces/default/secrets/%s" % name)
            assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ocp.registry_access"
            assert {"name": name} in client.get("/api/v1/namespaces/default/serviceaccounts/default")["imagePullSecrets"]
            config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
            assert list(config["auths"]) == [server], "each cluster got its own registry"
        assert "cluster-one" in run.output and "cluster-two" in run.output
        rerun = run_playbook("playbooks/enforce.yml", extra_vars=["target=clusters"], inventory=str(inventory))
        assert rerun.rc == 0 and rerun.changed_tasks() == []
    finally:
        for c in (cluster, second_cluster):
            client = Api(c.server, c.ca_cert, token=c.admin_token)
            client.delete("/api/v1/namespaces/default/secrets/%s" % name)
            sa = client.get("/api/v1/namespaces/default/serviceaccounts/default")
            sa["imagePullSecrets"] = [r for r in sa.get("imagePullSecrets") or [] if r["name"] != name]
            client.replace("/api/v1/namespaces/default/serviceaccounts/default", sa)
