"""A pod with no pull secret pulls with the global pull secret once it has rolled out to the node.

global_pull_secret writes openshift-config/pull-secret and waits for the MachineConfigPools (the
MCO simulator, tests/helpers/mco.py); the node config writer (tests/helpers/node_writer.py)
writes the rolled-out document to the node's /var/lib/kubelet/config.json, as the machine config
daemon does. The registry's credential exists only there: the pod's namespace has no secret and
its service account links none.
"""

import json

import pytest

from helpers.kube import ApiError
from helpers.mco import POOLS_PATH, MachineConfigOperator, cluster_config_lock
from helpers.node_writer import NodeConfigWriter
from helpers.pods import IMAGE_REPOSITORY, assert_refused_401, assert_runs, image_on_node, start_registry
from helpers.runner import register_secret, run_module

GLOBAL_USER = "fake-global-registry-user"
GLOBAL_PASSWORD = register_secret("fake-global-registry-pass-d3a9")
SECRET_PATH = "/api/v1/namespaces/openshift-config/secrets/pull-secret"


@pytest.fixture
def rollout(api, cluster, node):
    """The MCO simulator and the node config writer, with the global pull secret put back afterwards."""
    with cluster_config_lock(cluster):
        saved = api.get(SECRET_PATH)
        mco = MachineConfigOperator(api, step=1.0)
        writer = NodeConfigWriter(api, node)
        mco.start()
        writer.start()
        try:
            yield writer
        finally:
            writer.stop()
            mco.stop()
            current = api.get(SECRET_PATH)
            current["data"] = saved["data"]
            try:
                api.replace(SECRET_PATH, current)
            except ApiError as e:
                pytest.fail("could not put the global pull secret back: %s" % e)
            assert not mco.errors, mco.errors
            assert not writer.errors, writer.errors


def worker_rendered(api):
    return api.get(POOLS_PATH + "/worker")["status"]["configuration"]["name"]


def global_pull_secret(connection, registries, state="present"):
    run = run_module("global_pull_secret", dict(connection, registries=registries, state=state, wait=True,
                                                wait_timeout=120))
    assert not run.failed, "global_pull_secret failed (rc %d): %s" % (run.rc, run.msg)
    return run


def test_pod_without_pull_secret_pulls_with_the_rolled_out_global_secret(api, connection, namespace, node, image_layout,
                                                                         tmp_path, rollout, timings):
    registry = start_registry(node, tmp_path, {GLOBAL_USER: GLOBAL_PASSWORD}, image_layout, (GLOBAL_USER, GLOBAL_PASSWORD))
    try:
        image = "%s/%s:latest" % (registry.host, IMAGE_REPOSITORY)
        # Before: no credential anywhere for this registry.
        assert_refused_401(api, namespace, node, image)

        run = global_pull_secret(connection, [dict(server=registry.host, username=GLOBAL_USER, password=GLOBAL_PASSWORD)])
        assert run.changed and registry.host in run.result["added"]
        rollout.wait_applied(worker_rendered(api))
        with open(node.config_json) as f:
            assert registry.host in json.load(f)["auths"]
        sa = api.get("/api/v1/namespaces/%s/serviceaccounts/default" % namespace)
        assert not sa.get("imagePullSecrets")
        outcome = assert_runs(api, namespace, node, image, timings)
        assert not outcome.pod["spec"].get("imagePullSecrets")

        run = global_pull_secret(connection, [dict(server=registry.host)], state="absent")
        assert run.changed and registry.host in run.result["removed"]
        rollout.wait_applied(worker_rendered(api))
        with open(node.config_json) as f:
            assert registry.host not in json.load(f)["auths"]
        # Always: the registry decides.
        assert_refused_401(api, namespace, node, image)
        # What the removal does not reach: the kubelet recorded the image as pulled with the node's own credentials,
        # which makes it usable by every pod of the node without asking the registry (KubeletEnsureSecretPulledImages).
        assert image_on_node(node, image)
        assert_runs(api, namespace, node, image, timings, policy="IfNotPresent")
    finally:
        registry.stop()
