"""Pods on a real node pull (or fail to pull) with what pull_secret wrote.

The chain under test is the real one: the ServiceAccount admission plugin copies the service
account's imagePullSecrets into the pod, the kubelet (as system:node:<name>, so the Node
authorizer lets it read only its pods' secrets) builds its keyring from them, containerd pulls,
and the registry (htpasswd) accepts or answers 401.

The kubelet's KubeletEnsureSecretPulledImages (beta, on by default) re-checks credentials before a
pod may use an image already on the node, so a negative test cannot pass through the node's image
cache: the refusals below use imagePullPolicy IfNotPresent with the image present on the node, and
assert that it is present.
"""

import pytest

from helpers.pods import (IMAGE_REPOSITORY, REGISTRY_PASSWORD, REGISTRY_USER, assert_refused_401, assert_runs,
                          image_on_node, pulled_with, start_registry)
from helpers.runner import register_secret, run_module

WRONG_PASSWORD = register_secret("fake-node-registry-wrong-pass-91aa")
ROTATED_PASSWORD = register_secret("fake-node-registry-rotated-pass-3e0f")
SECRET = "node-registry"


def pull_secret(connection, namespace, server, password, link=True, state="present"):
    args = dict(connection, name=SECRET, namespace=namespace, state=state)
    if state == "present":
        args["registries"] = [dict(server=server, username=REGISTRY_USER, password=password)]
        args["service_accounts"] = ["default"] if link else []
    run = run_module("pull_secret", args)
    assert not run.failed, "pull_secret failed (rc %d): %s" % (run.rc, run.msg)
    return run


@pytest.fixture
def image(registry):
    return "%s/%s:latest" % (registry.host, IMAGE_REPOSITORY)


def test_linked_pull_secret_lets_a_pod_pull(api, connection, namespace, node, registry, image, timings):
    pull_secret(connection, namespace, registry.host, REGISTRY_PASSWORD)
    outcome = assert_runs(api, namespace, node, image, timings)
    # The pod names no secret: the ServiceAccount admission plugin copied the link into it.
    assert outcome.pod["spec"].get("imagePullSecrets") == [{"name": SECRET}]
    assert outcome.pod["spec"]["serviceAccountName"] == "default"


def test_unlinked_secret_gets_401_even_with_the_image_on_the_node(api, connection, namespace_factory, node, registry,
                                                                  image, timings):
    linked = namespace_factory("linked")
    pull_secret(connection, linked, registry.host, REGISTRY_PASSWORD)
    assert_runs(api, linked, node, image, timings)
    assert image_on_node(node, image), "the image should be in the node's cache after a pull"

    unlinked = namespace_factory("unlinked")
    pull_secret(connection, unlinked, registry.host, REGISTRY_PASSWORD, link=False)
    # IfNotPresent and the image cached: only the kubelet's credential check stands between the pod and the image.
    outcome = assert_refused_401(api, unlinked, node, image, policy="IfNotPresent")
    assert not outcome.pod["spec"].get("imagePullSecrets")
    assert image_on_node(node, image)
    # The kubelet's record of who pulled the image: the linked namespace's secret, never the unlinked one.
    recorded = pulled_with(image)
    assert (linked, SECRET) in recorded
    assert not any(namespace == unlinked for namespace, _name in recorded)


def test_wrong_password_gets_401(api, connection, namespace_factory, node, registry, image, timings):
    good = namespace_factory("good")
    pull_secret(connection, good, registry.host, REGISTRY_PASSWORD)
    assert_runs(api, good, node, image, timings)

    wrong = namespace_factory("wrong")
    pull_secret(connection, wrong, registry.host, WRONG_PASSWORD)
    outcome = assert_refused_401(api, wrong, node, image, policy="IfNotPresent")
    assert outcome.pod["spec"].get("imagePullSecrets") == [{"name": SECRET}]


def test_rotated_registry_password_pulls_after_pull_secret_runs_again(api, connection, namespace, node, image_layout,
                                                                      tmp_path, timings):
    registry = start_registry(node, tmp_path, {REGISTRY_USER: REGISTRY_PASSWORD}, image_layout,
                              (REGISTRY_USER, REGISTRY_PASSWORD))
    try:
        own_image = "%s/%s:latest" % (registry.host, IMAGE_REPOSITORY)
        pull_secret(connection, namespace, registry.host, REGISTRY_PASSWORD)
        assert_runs(api, namespace, node, own_image, timings)

        registry.rotate({REGISTRY_USER: ROTATED_PASSWORD})
        # The secret still holds the old password: the registry now refuses it.
        assert_refused_401(api, namespace, node, own_image)

        run = pull_secret(connection, namespace, registry.host, ROTATED_PASSWORD)
        assert run.changed
        assert_runs(api, namespace, node, own_image, timings)
        # A pod that may use the cached image (IfNotPresent) runs too: its credential was verified.
        assert_runs(api, namespace, node, own_image, timings, policy="IfNotPresent")
    finally:
        registry.stop()


def test_absent_pull_secret_makes_pulls_fail_again(api, connection, namespace, node, registry, image, timings):
    pull_secret(connection, namespace, registry.host, REGISTRY_PASSWORD)
    assert_runs(api, namespace, node, image, timings)

    run = pull_secret(connection, namespace, registry.host, None, state="absent")
    assert run.changed
    sa = api.get("/api/v1/namespaces/%s/serviceaccounts/default" % namespace)
    assert {"name": SECRET} not in (sa.get("imagePullSecrets") or [])
    assert image_on_node(node, image)
    outcome = assert_refused_401(api, namespace, node, image, policy="IfNotPresent")
    assert not outcome.pod["spec"].get("imagePullSecrets")
