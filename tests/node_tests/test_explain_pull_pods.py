"""The collection's "explain a pull" (registry_access_info's images:, run as Ansible runs it) names the credentials
the real kubelet sends, in the order it sends them.

Each case links two pull secrets (written by pull_secret) to a namespace's default service account,
starts a pod, and compares the module's `attempts` for the image with the user names the
registry (RecordingRegistry: Basic auth, any authenticated user may pull) saw, in order: the kubelet
tries the credentials one by one until the registry accepts one, so the registry sees exactly the
attempts up to the first right password — and the pod runs if and only if there is one.
"""

import base64
import json
import os

import pytest

from helpers.integrated_registry import RecordingRegistry
from helpers.pods import IMAGE_REPOSITORY, assert_refused_401, assert_runs
from helpers.runner import register_secret, run_module

USERS = {"fake-alice": register_secret("fake-alice-pass-0a1f"), "fake-bob": register_secret("fake-bob-pass-6e2c"),
         "fake-dave": register_secret("fake-dave-pass-93b7")}
WRONG = register_secret("fake-wrong-pass-44d0")

CASES = {
    # name: [(secret, user, right password?, server suffix)] in link order
    "wrong-password-first": [("first", "fake-alice", False, ""), ("second", "fake-bob", True, "")],
    "path-scoped-key": [("first", "fake-bob", True, ""), ("second", "fake-dave", True, "/pulltest")],
    "no-right-password": [("first", "fake-alice", False, ""), ("second", "fake-bob", False, "")],
}


@pytest.fixture(scope="module")
def recording_registry(api, node, tmp_path_factory, image_layout):
    registry = RecordingRegistry(api, tmp_path_factory.mktemp("recording"), USERS).start()
    registry.add_repository(IMAGE_REPOSITORY, image_layout)
    node.trust_registry(registry.host, registry.ca_cert)
    yield registry
    registry.stop()


def explain(connection, namespace, image, global_name="none"):
    """registry_access_info's answer for image as the namespace's default service account; global_name: the secret
    of the namespace standing for the global pull secret (none: nodes without a config.json)."""
    run = run_module("registry_access_info", dict(connection, namespace=namespace, images=[image], include_global=False,
                                                  global_namespace=namespace, global_name=global_name))
    assert not run.failed, run.msg
    [answer] = run.result["namespaces"][0]["pulls"]
    return answer


@pytest.mark.parametrize("case", sorted(CASES))
def test_explain_pull_names_what_the_kubelet_sends(api, connection, namespace, node, recording_registry, case, timings):
    host = recording_registry.host
    for secret, user, right, suffix in CASES[case]:
        run = run_module("pull_secret", dict(connection, name=secret, namespace=namespace, service_accounts=["default"],
                                             registries=[dict(server=host + suffix, username=user,
                                                              password=USERS[user] if right else WRONG)]))
        assert not run.failed, run.msg
    image = "%s/%s:latest" % (host, IMAGE_REPOSITORY)
    valid = {user for _secret, user, right, _suffix in CASES[case] if right}

    since = len(recording_registry.claims)
    if valid:
        outcome = assert_runs(api, namespace, node, image, timings)
    else:
        outcome = assert_refused_401(api, namespace, node, image)
    seen = recording_registry.claimed_users(since)

    answer = explain(connection, namespace, image)
    assert answer["error"] is None
    predicted = [attempt["username"] for attempt in answer["attempts"]]
    assert all("password" not in attempt for attempt in answer["attempts"]), "the answer must never hold a password"
    expected = []
    for user in predicted:
        expected.append(user)
        if user in valid:
            break
    if answer["ordered"]:
        assert seen == expected, "the module predicted %s, the registry saw %s" % (predicted, seen)
    else:
        assert set(seen) == set(expected), "the module predicted %s (unordered), the registry saw %s" % (predicted, seen)


def test_explain_pull_puts_the_nodes_credentials_after_the_pods(api, connection, namespace, node, recording_registry,
                                                                timings):
    """The node's config.json (on OpenShift the rolled-out global pull secret) comes after the pod's secrets."""
    host = recording_registry.host
    run = run_module("pull_secret", dict(connection, name="first", namespace=namespace, service_accounts=["default"],
                                         registries=[dict(server=host, username="fake-alice", password=WRONG)]))
    assert not run.failed, run.msg
    node_config = json.dumps({"auths": {host: {"auth": base64.b64encode(
        ("fake-dave:" + USERS["fake-dave"]).encode()).decode()}}}).encode()
    with open(node.config_json + ".tmp", "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(node_config)
    os.rename(node.config_json + ".tmp", node.config_json)
    node.restart_kubelet()  # its node keyring caches config.json for five minutes
    try:
        image = "%s/%s:latest" % (host, IMAGE_REPOSITORY)
        since = len(recording_registry.claims)
        outcome = assert_runs(api, namespace, node, image, timings)
        seen = recording_registry.claimed_users(since)
        # the module reads the global pull secret from a Secret: the same document, in the test's namespace
        api.create("/api/v1/namespaces/%s/secrets" % namespace, {
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "metadata": {"name": "node-config"},
            "data": {".dockerconfigjson": base64.b64encode(node_config).decode()}})
        answer = explain(connection, namespace, image, global_name="node-config")
        assert [a["username"] for a in answer["attempts"]] == seen == ["fake-alice", "fake-dave"]
        assert answer["ordered"]
    finally:
        os.remove(node.config_json)
        node.restart_kubelet()
