"""Every lookup the unit tests of _credential_lookup make, asked of the oracles too.

The unit tests (tests/unit/plugins/module_utils/test_credential_lookup.py) state the named
regression cases of issue 13 as the model's answers; here each of those tests runs with
kubelet_lookup and containers_image_lookup wrapped so that every call is also sent to the
consumer's own code, and any difference fails. So the regression cases are facts about the
kubelet and containers/image, not only about the model.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
from pathlib import Path

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl

import compare

UNIT_TESTS = Path(__file__).resolve().parents[1] / 'unit' / 'plugins' / 'module_utils' / 'test_credential_lookup.py'


def _load_unit_tests():
    spec = importlib.util.spec_from_file_location('unit_credential_lookup', UNIT_TESTS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _calls(function):
    """Every argument dict pytest would call function with (its stacked parametrize marks)."""
    marks = [m for m in getattr(function, 'pytestmark', []) if m.name == 'parametrize']
    axes = []
    for mark in marks:
        names = [n.strip() for n in mark.args[0].split(',')] if isinstance(mark.args[0], str) else list(mark.args[0])
        values = [v if len(names) > 1 else (v,) for v in mark.args[1]]
        axes.append([dict(zip(names, v)) for v in values])
    for combo in itertools.product(*axes):
        arguments = {}
        for part in combo:
            arguments.update(part)
        yield arguments


def test_unit_regression_cases_hold_for_the_real_consumers(kubelet_oracle, containers_image_oracle, monkeypatch, case_counts):
    module = _load_unit_tests()
    model_kubelet, model_containers_image = cl.kubelet_lookup, cl.containers_image_lookup
    mismatches, asked = [], {'kubelet': 0, 'containers-image': 0}

    def kubelet_lookup(secrets, image, node_config=None):
        model = model_kubelet(secrets, image, node_config)
        asked['kubelet'] += 1
        want = compare.kubelet_oracle(kubelet_oracle.lookup(image, list(secrets), node_config))
        if want != compare.kubelet_model(model):
            mismatches.append(('kubelet', image, secrets, node_config, want, compare.kubelet_model(model)))
        return model

    def containers_image_lookup(authfile, image):
        model = model_containers_image(authfile, image)
        asked['containers-image'] += 1
        raw = authfile if isinstance(authfile, (bytes, str)) else __import__('json').dumps(authfile)
        want = compare.containers_image_oracle(containers_image_oracle.lookup(image, raw))
        if want != compare.containers_image_model(model):
            mismatches.append(('containers-image', image, authfile, want, compare.containers_image_model(model)))
        return model

    monkeypatch.setattr(cl, 'kubelet_lookup', kubelet_lookup)
    monkeypatch.setattr(cl, 'containers_image_lookup', containers_image_lookup)
    ran = 0
    for name, function in inspect.getmembers(module, inspect.isfunction):
        # Unit tests take no fixtures: every parameter comes from a parametrize mark.
        if not name.startswith('test_'):
            continue
        for arguments in _calls(function):
            function(**arguments)
            ran += 1
    case_counts['unit regression cases']['(all)'] += ran
    assert asked['kubelet'] > 50 and asked['containers-image'] > 30, asked
    assert not mismatches, mismatches[:5]
