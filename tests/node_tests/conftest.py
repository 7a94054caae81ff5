"""Fixtures of the node suite: pods on a real kubelet + containerd (tests/node/node.py) pulling from a
real registry (Debian's docker-registry, htpasswd + TLS) with the credentials the collection wrote.

The node is started here if `make node` (or `node.py run -- pytest ...`) did not start it, and then
torn down at the end of the session; on a machine that cannot run it (no root, no overlayfs, no
cgroups, missing packages) every test here is skipped with the reason. The tests of this suite run one at a time: each holds
a lock file beside the node's directory, whatever pytest-xdist does.
"""

import fcntl
import json
import os
import sys
import time

import pytest

from helpers import oci_image
from helpers.pods import REGISTRY_PASSWORD, REGISTRY_USER, SECRET_RACES, start_registry
from helpers.runner import REPO

sys.path.insert(0, os.path.join(REPO, "tests", "node"))
from node import HOST_LOCK, Node, NodeError, missing_requirements  # noqa: E402  pylint: disable=wrong-import-position

LOCK_TIMEOUT = 1800


@pytest.fixture(scope="session")
def node(cluster):
    """The test node: the one `make node` / `node.py run` started, else started here (taking the machine's node
    lock, so node suites of other checkouts wait their turn) and torn down at the end of the session."""
    reasons = missing_requirements()
    if reasons:
        pytest.skip("the test node cannot run on this machine: " + "; ".join(reasons))
    n = Node(cluster)
    if n.healthy():
        yield n
        return
    with open(HOST_LOCK, "w") as lock:
        deadline = time.time() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.time() > deadline:
                    pytest.fail("another test node held %s for %ds" % (HOST_LOCK, LOCK_TIMEOUT))
                time.sleep(1)
        if n.healthy():  # another pytest process of this checkout started it meanwhile
            yield n
            return
        try:
            n.up()
        except NodeError as e:
            pytest.fail("starting the test node failed: %s" % e)
        try:
            yield n
        finally:
            n.down()


@pytest.fixture(autouse=True)
def one_node_test_at_a_time(node):
    with open(node.dir + ".tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def image_layout(tmp_path_factory):
    layout = str(tmp_path_factory.mktemp("oci") / "app")
    oci_image.build_layout(layout, tag="latest", label="app")
    return layout


@pytest.fixture(scope="session")
def registry(node, tmp_path_factory, image_layout):
    """One registry for the session, holding the test image at pulltest/app:latest."""
    r = start_registry(node, tmp_path_factory.mktemp("registry"), {REGISTRY_USER: REGISTRY_PASSWORD}, image_layout,
                       (REGISTRY_USER, REGISTRY_PASSWORD))
    yield r
    r.stop()


@pytest.fixture(scope="session")
def timings(node):
    """Pull-to-running seconds of the pods that ran (and how many pods met the secret race, see pods.pull_once),
    written to .build/node/timings.json for the notes."""
    values = []
    yield values
    if values:
        os.makedirs(os.path.join(REPO, ".build", "node"), exist_ok=True)
        with open(os.path.join(REPO, ".build", "node", "timings.json"), "w") as f:
            json.dump({"pull_to_running_seconds": sorted(round(v, 2) for v in values),
                       "pods_restarted_for_the_secret_race": len(SECRET_RACES)}, f)
