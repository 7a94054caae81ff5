"""The seed's delegated authentication pair on a real node: a private registry whose authentication is
delegated to a separate token server, and the two pull secrets the seed creates (one for the
authentication server, one for the registry).

What the node really does: the kubelet picks credentials by the image's registry host only, and
containerd sends that credential to the token server named in the registry's challenge. So the
registry's entry is the one that decides (it reaches the authentication server), and the
authentication server's own entry is never sent — the test shows it by giving the two entries
different users and reading which one the token server saw.
"""

import pytest

from helpers.delegated_auth import DelegatedRegistry
from helpers.pods import IMAGE_REPOSITORY, assert_refused_401, assert_runs
from helpers.runner import register_secret, run_module

SSO_USER, SSO_PASSWORD = "fake-sso-user", register_secret("fake-sso-pass-2b8e")
DEV_USER, DEV_PASSWORD = "fake-registry-dev", register_secret("fake-registry-dev-pass-7f15")


@pytest.fixture(scope="module")
def delegated(node, tmp_path_factory, image_layout):
    registry = DelegatedRegistry(tmp_path_factory.mktemp("delegated"), {SSO_USER: SSO_PASSWORD, DEV_USER: DEV_PASSWORD})
    registry.start()
    try:
        registry.push(image_layout, IMAGE_REPOSITORY + ":latest", DEV_USER, DEV_PASSWORD)
        node.trust_registry(registry.host, registry.ca_cert)
        yield registry
    finally:
        registry.close()


def link(connection, namespace, name, server, user, password):
    run = run_module("pull_secret", dict(connection, name=name, namespace=namespace, service_accounts=["default"],
                                         registries=[dict(server=server, username=user, password=password,
                                                          email="unused")]))
    assert not run.failed, run.msg


@pytest.mark.parametrize("secrets", ["both", "registry-only", "auth-server-only"])
def test_the_registry_entry_is_what_reaches_the_auth_server(api, connection, namespace, node, delegated, secrets, timings):
    image = "%s/%s:latest" % (delegated.host, IMAGE_REPOSITORY)
    if secrets in ("both", "auth-server-only"):
        link(connection, namespace, "delegated-sso", delegated.token_server.host, SSO_USER, SSO_PASSWORD)
    if secrets in ("both", "registry-only"):
        link(connection, namespace, "private-registry", delegated.host, DEV_USER, DEV_PASSWORD)

    since = len(delegated.token_server.claims)
    if secrets == "auth-server-only":
        assert_refused_401(api, namespace, node, image)
        # containerd asked the token server anonymously: the entry for the server itself was never sent.
        assert delegated.token_server.claimed_users(since) == [None]
    else:
        assert_runs(api, namespace, node, image, timings)
        assert delegated.token_server.claimed_users(since) == [DEV_USER]
