"""The watch cut, and the API server restarted under it: no event is lost.

On a cluster of its own (.cluster-eda, PORT_BASE 27000): restarting the shared cluster's API server
would break the other suites' tests. Removed at the end.
"""

import os
import time

import pytest

from cluster import Cluster
from eda_rulebook import SECRET, declaration, wait_until
from helpers.audit import AuditLog
from helpers.faultproxy import FaultProxy, _rst_close, proxied_kubeconfig
from helpers.kube import Api, unique
from helpers.runner import REPO

PORT_BASE = int(os.environ.get("EDA_PORT_BASE", "27000"))


@pytest.fixture(scope="module")
def eda_cluster():
    c = Cluster(cluster_dir=os.path.join(REPO, ".cluster-eda"), port_base=PORT_BASE)
    c.up()
    yield c
    c.down(quiet=True)


def _linked(api, namespace):
    sa = api.get_or_none("/api/v1/namespaces/%s/serviceaccounts/default" % namespace)
    secret = api.get_or_none("/api/v1/namespaces/%s/secrets/%s" % (namespace, SECRET))
    return bool(sa and secret and {"name": SECRET} in (sa.get("imagePullSecrets") or []))


def _namespace(api, label):
    name = unique("eda-restart")
    api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": name, "labels": {"eda-test": label}}})
    return name


def _cut(proxy):
    """Reset every open connection through the proxy, and every new one until _restore."""
    proxy.reset = 1.0
    with proxy._lock:  # pylint: disable=protected-access
        sockets = list(proxy._open)  # pylint: disable=protected-access
    for sock in sockets:
        _rst_close(sock)


def _restore(proxy):
    proxy.reset = 0.0


def _secret_creates(capture):
    return set(e.namespace for e in capture.writes(user_agent_prefix="ocp.registry_access", resource="secrets")
               if e.verb == "create" and e.name == SECRET and e.code in (200, 201))


def test_no_event_is_lost_while_the_watch_is_cut_or_the_api_server_restarts(eda_cluster, start_rulebook, label, tmp_path):
    """The source and its playbooks reach the API server through a proxy the test cuts; the test's changes do not.

    1. cut, changes, restore: the watches resume from their resourceVersion and replay what they missed;
    2. cut, changes, API server restarted (its watch cache starts anew: the old resourceVersion is
       410 Gone), more changes, restore: the watches relist and the differences are found.
    """
    api = Api(eda_cluster.server, eda_cluster.ca_cert, token=eda_cluster.admin_token)
    audit = AuditLog(eda_cluster.audit_log, api)
    with FaultProxy(eda_cluster.api_port, lifetime=900) as proxy:
        kubeconfig = proxied_kubeconfig(eda_cluster.kubeconfig, proxy, tmp_path / "proxied-kubeconfig")
        rulebook = start_rulebook(kubeconfig, {
            "registry_access_declaration": declaration(label, tmp_path / "registry-access.yml"),
            "registry_access_namespace_selector": "eda-test=%s" % label})
        rulebook.wait_for_runs(1, timeout=180)
        first = _namespace(api, label)
        wait_until(lambda: _linked(api, first), 120, what="enforced before any cut")
        runs = rulebook.settle(quiet=3)

        with audit.capture() as capture:
            _cut(proxy)
            missed = _namespace(api, label)
            api.delete("/api/v1/namespaces/%s/secrets/%s" % (first, SECRET))
            time.sleep(3)
            assert rulebook.runs() == runs and not _linked(api, missed), "nothing can reach the source while cut"
            _restore(proxy)
            for name in (first, missed):
                wait_until(lambda: _linked(api, name), 120, what="%s enforced after the cut" % name)
        assert _secret_creates(capture) == set([first, missed]), capture.summary()
        assert "resumed from resourceVersion" in rulebook.output

        with audit.capture() as capture:
            _cut(proxy)
            before_restart = _namespace(api, label)
            api.delete("/api/v1/namespaces/%s/secrets/%s" % (missed, SECRET))
            eda_cluster.restart("kube-apiserver")
            after_restart = [_namespace(api, label), _namespace(api, label)]
            time.sleep(2)
            _restore(proxy)
            for name in [missed, before_restart] + after_restart:
                wait_until(lambda: _linked(api, name), 180, what="%s enforced after the restart" % name)
        assert _secret_creates(capture) == set([missed, before_restart] + after_restart), capture.summary()
        assert "410 Gone), relisted" in rulebook.output, rulebook.output[-3000:]
        assert rulebook.proc.poll() is None, "the rulebook kept running"
