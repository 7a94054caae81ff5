"""The test node pulls as a node, not as an admin: its kubelet's identity (system:node:<name> in
system:nodes, a client certificate signed by the cluster CA) is held to its own pods' secrets by
the Node authorizer, as on a real cluster. So a pull that works here works because the pod's
service account linked the secret, not because the kubelet could read any secret."""

import os

import urllib3

from helpers.kube import unique
from helpers.pods import REGISTRY_PASSWORD, REGISTRY_USER, assert_runs, create_pod, delete_pod
from helpers.runner import run_module

SECRET = "node-identity-registry"


def as_node(node, cluster):
    pki = os.path.join(node.dir, "pki")
    http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=cluster.ca_cert,
                               cert_file=os.path.join(pki, "kubelet-client.crt"),
                               key_file=os.path.join(pki, "kubelet-client.key"))

    def get(path):
        return http.request("GET", cluster.server + path).status
    return get


def test_kubelet_reads_only_the_secrets_of_its_own_pods(api, cluster, connection, namespace, node, registry, timings):
    get = as_node(node, cluster)
    run = run_module("pull_secret", dict(connection, name=SECRET, namespace=namespace, service_accounts=["default"],
                                         registries=[dict(server=registry.host, username=REGISTRY_USER,
                                                          password=REGISTRY_PASSWORD)]))
    assert not run.failed, run.msg
    secret_path = "/api/v1/namespaces/%s/secrets/%s" % (namespace, SECRET)
    assert get("/api/v1/nodes/%s" % node.name) == 200
    assert get("/api/v1/namespaces/%s/secrets" % namespace) == 403
    assert get(secret_path) == 403, "no pod of this node references the secret yet"

    image = "%s/pulltest/app:latest" % registry.host
    # A pod bound to another node gives this node no right to its secrets.
    other = unique("elsewhere")
    create_pod(api, namespace, other, image, "some-other-node")
    assert get(secret_path) == 403
    delete_pod(api, namespace, other)

    outcome = assert_runs(api, namespace, node, image, timings, keep=True)
    assert get(secret_path) == 200, "a pod of this node references the secret: the Node authorizer lets the node read it"
    delete_pod(api, namespace, outcome.pod["metadata"]["name"])
