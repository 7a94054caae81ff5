"""The local control plane is real: version, controllers, authentication, RBAC and audit."""

import socket
import ssl
import subprocess
import urllib.parse

import pytest

from helpers.kube import unique
from helpers.mco import cluster_config_lock


def test_version_is_kubernetes_1_36(api):
    assert api.get("/version")["gitVersion"].startswith("v1.36.")


def test_strict_x509_verification_accepts_cluster_certificate(cluster):
    """Python 3.13 verifies with VERIFY_X509_STRICT by default; the CA and serving cert must be made as a real
    cluster's are (critical basicConstraints, keyUsage, key identifiers) for modules to connect there."""
    ca_key_usage = subprocess.run(["openssl", "x509", "-in", cluster.ca_cert, "-noout", "-ext", "keyUsage"],
                                  check=True, capture_output=True, text=True).stdout
    if "Certificate Sign" not in ca_key_usage:
        pytest.skip("the cluster's CA predates strict-verification PKI (no keyUsage); "
                    "restart the cluster: make cluster-down cluster")
    ctx = ssl.create_default_context(cafile=cluster.ca_cert)
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    server = urllib.parse.urlsplit(cluster.server)
    with socket.create_connection((server.hostname, server.port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=server.hostname) as tls:
            assert tls.getpeercert()["subject"] == ((("commonName", "kube-apiserver"),),)


def test_new_namespace_gets_default_service_account_from_controller(api, namespace):
    sa = api.wait_for("/api/v1/namespaces/%s/serviceaccounts/default" % namespace, timeout=30)
    assert sa["metadata"]["namespace"] == namespace


def test_new_namespace_gets_root_ca_configmap(api, namespace):
    cm = api.wait_for("/api/v1/namespaces/%s/configmaps/kube-root-ca.crt" % namespace, timeout=30)
    assert "BEGIN CERTIFICATE" in cm["data"]["ca.crt"]


def test_anonymous_request_is_refused(api, namespace):
    status, body = api.with_token(None).raw("GET", "/api/v1/namespaces/%s/secrets" % namespace)
    assert status == 403
    assert "system:anonymous" in body["message"]


def test_token_bound_only_to_view_cannot_create_secret(api, namespace):
    api.create("/api/v1/namespaces/%s/serviceaccounts" % namespace,
               {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "viewer"}})
    api.create("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % namespace, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "viewer-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "viewer", "namespace": namespace}]})
    viewer = api.with_token(api.token_for(namespace, "viewer"))

    status, _body = viewer.raw("GET", "/api/v1/namespaces/%s/configmaps" % namespace)
    assert status == 200
    status, body = viewer.raw("POST", "/api/v1/namespaces/%s/secrets" % namespace,
                              {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "nope"}})
    assert status == 403, body
    assert api.get_or_none("/api/v1/namespaces/%s/secrets/nope" % namespace) is None


def test_audit_log_shows_create_made_by_test(api, audit, namespace):
    name = unique("cm")
    with audit.capture() as seen:
        api.create("/api/v1/namespaces/%s/configmaps" % namespace,
                   {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    creates = [e for e in seen.writes(namespaces=[namespace]) if e.name == name]
    assert [(e.verb, e.resource, e.code) for e in creates] == [("create", "configmaps", 201)]
    assert creates[0].user_agent.startswith("ocp-registry-access-tests")


def test_openshift_shapes_are_loaded(api, cluster):
    with cluster_config_lock(cluster):  # another test may be switching the topology for a moment
        shapes_are_loaded(api)


def shapes_are_loaded(api):
    role = api.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/system:image-puller")
    assert role["rules"] == [{"apiGroups": ["", "image.openshift.io"], "resources": ["imagestreams/layers"],
                              "verbs": ["get"]}]
    secret = api.get("/api/v1/namespaces/openshift-config/secrets/pull-secret")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    infra = api.get("/apis/config.openshift.io/v1/infrastructures/cluster")
    assert infra["status"]["controlPlaneTopology"] == "HighlyAvailable"
    pools = api.get("/apis/machineconfiguration.openshift.io/v1/machineconfigpools")["items"]
    assert sorted(p["metadata"]["name"] for p in pools) == ["master", "worker"]
    api.get("/apis/image.openshift.io/v1/namespaces/default/imagestreams")
