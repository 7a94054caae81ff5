"""Fixtures shared by the suites that run against the real local control plane (tests/cluster/cluster.py):
tests/integration and tests/reliability. Unit tests never ask for them, so they start nothing."""

import os

import pytest

from cluster import Cluster
from helpers.audit import AuditLog
from helpers.kube import Api, unique


@pytest.fixture(scope="session")
def cluster():
    """The local cluster, started if it is not running (one starter among xdist workers)."""
    c = Cluster()
    if not c.healthy():
        c.up()  # takes the cluster's lock: one starter
    return c


@pytest.fixture(scope="session")
def api(cluster):
    return Api(cluster.server, cluster.ca_cert, token=cluster.admin_token)


@pytest.fixture(scope="session")
def audit(cluster, api):
    return AuditLog(cluster.audit_log, api)


@pytest.fixture
def namespace_factory(api, request):
    """Creates uniquely named namespaces (optionally labelled), settled (Api.settle_namespace), and deletes them after
    the test. wait_for_default_sa=False returns at once, for tests about what happens before the controllers act."""
    created = []

    def make(prefix="t", labels=None, wait_for_default_sa=True):
        name = unique(prefix)[:63]
        api.create("/api/v1/namespaces",
                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}})
        created.append(name)
        if wait_for_default_sa:
            api.settle_namespace(name)
        return name

    yield make
    for name in created:
        api.delete("/api/v1/namespaces/" + name)


@pytest.fixture
def namespace(namespace_factory):
    return namespace_factory()


@pytest.fixture(scope="session")
def connection(cluster):
    """Module arguments that point the collection at the local cluster."""
    return {"kubeconfig": cluster.kubeconfig}


@pytest.fixture(scope="session")
def kubectl(cluster):
    """argv prefix of the kubectl built with the cluster, pointed at it."""
    from cluster import build
    return [os.path.join(build(), "kubectl"), "--kubeconfig", cluster.kubeconfig]
