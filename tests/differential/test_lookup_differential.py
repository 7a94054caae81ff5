"""The pure model (plugins/module_utils/_credential_lookup.py) against the consumers' own code.

For every generated case the model's answer must equal the oracle's: for the kubelet, the image's
repository and every order of credentials it may try (or that the pull fails); for
containers/image, every outcome it may give (credential, none, or error). Half of each bulk run
uses a fixed seed, half a new one per run (DIFFERENTIAL_SEED replays it); the hypothesis tests are
derandomized, so they shrink a failure to a small case.
"""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl

import cases
import compare

FIXED_SEED, RUN_SEED = cases.FIXED_SEED, cases.RUN_SEED
BULK = int(os.environ.get('DIFFERENTIAL_BULK', '9500'))
EXAMPLES = int(os.environ.get('DIFFERENTIAL_EXAMPLES', '500'))
DERANDOMIZED = settings(derandomize=True, max_examples=EXAMPLES, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck))


def _seeds():
    return [(FIXED_SEED, BULK // 2), (RUN_SEED, BULK - BULK // 2)]


def _count(counts, consumer, classes):
    counts[consumer]['(all)'] += 1
    counts[consumer].update(classes)


def _shown(secrets, image, node=None):
    return {'image': image, 'secrets': secrets, 'node_config': node}


def check_kubelet(oracle, secrets, image, node):
    response = oracle.lookup(image, secrets, node)
    model = cl.kubelet_lookup(secrets, image, node)
    want, got = compare.kubelet_oracle(response), compare.kubelet_model(model)
    return want == got, want, got


def check_containers_image(oracle, authfile, image):
    response = oracle.lookup(image, authfile)
    model = cl.containers_image_lookup(authfile, image)
    want, got = compare.containers_image_oracle(response), compare.containers_image_model(model)
    return want == got, want, got


def test_kubelet_bulk_agrees(kubelet_oracle, case_counts):
    disagreements = []
    for seed, count in _seeds():
        rng = random.Random(seed)
        for attempt in range(count):
            secrets, image, node, classes = cases.kubelet_case(cases.Chooser(rng))
            _count(case_counts, cl.KUBELET, classes)
            ok, want, got = check_kubelet(kubelet_oracle, secrets, image, node)
            if not ok:
                disagreements.append((seed, _shown(secrets, image, node), want, got))
    assert not disagreements, 'run seed %d: %d disagreements, first: %r' % (RUN_SEED, len(disagreements), disagreements[:3])


def test_containers_image_bulk_agrees(containers_image_oracle, case_counts):
    disagreements = []
    for seed, count in _seeds():
        rng = random.Random(seed)
        for attempt in range(count):
            authfile, image, classes = cases.containers_image_case(cases.Chooser(rng))
            _count(case_counts, cl.CONTAINERS_IMAGE, classes)
            ok, want, got = check_containers_image(containers_image_oracle, authfile, image)
            if not ok:
                disagreements.append((seed, {'image': image, 'authfile': authfile}, want, got))
    assert not disagreements, 'run seed %d: %d disagreements, first: %r' % (RUN_SEED, len(disagreements), disagreements[:3])


@DERANDOMIZED
@given(st.data())
def test_kubelet_agrees(kubelet_oracle, case_counts, data):
    secrets, image, node, classes = cases.kubelet_case(cases.DrawChooser(data.draw))
    _count(case_counts, cl.KUBELET, classes)
    ok, want, got = check_kubelet(kubelet_oracle, secrets, image, node)
    assert ok, (want, got)


@DERANDOMIZED
@given(st.data())
def test_containers_image_agrees(containers_image_oracle, case_counts, data):
    authfile, image, classes = cases.containers_image_case(cases.DrawChooser(data.draw))
    _count(case_counts, cl.CONTAINERS_IMAGE, classes)
    ok, want, got = check_containers_image(containers_image_oracle, authfile, image)
    assert ok, (want, got)
