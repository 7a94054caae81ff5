"""Fixtures of the EDA suite: ansible-rulebook processes (eda_rulebook.Rulebook), one label per module."""

import pytest

from eda_rulebook import Rulebook
from helpers.kube import unique


@pytest.fixture(scope="module")
def start_rulebook(tmp_path_factory):
    started = []
    workdir = tmp_path_factory.mktemp("rulebook")

    def start(kubeconfig, variables, env=None):
        rulebook = Rulebook(workdir, kubeconfig, variables, env)
        started.append(rulebook)
        return rulebook

    yield start
    for rulebook in started:
        rulebook.stop()


@pytest.fixture(scope="module")
def label():
    return unique("eda")[-12:]
