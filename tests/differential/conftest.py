"""Session-scoped oracles (tests/helpers/oracles.py) and the per-class case counts of the differential run.

The oracles are the kubelet's and containers/image's own Go code (tests/oracle/, built and cached
by tests/oracle/build.sh on first use). ORACLE_BIN_DIR points at prebuilt binaries instead.
"""

from __future__ import annotations

import collections
import os
import time

import pytest

from helpers.oracles import ContainersImageOracle, KubeletOracle

import cases

# consumer -> class -> number of generated cases holding that class; filled by the tests.
CASES: dict = collections.defaultdict(collections.Counter)
STARTED = time.monotonic()


def _binary(name: str):
    directory = os.environ.get('ORACLE_BIN_DIR')
    return os.path.join(directory, name) if directory else None


@pytest.fixture(scope='session')
def kubelet_oracle():
    with KubeletOracle(_binary(KubeletOracle.binary_name)) as oracle:
        yield oracle


@pytest.fixture(scope='session')
def containers_image_oracle():
    with ContainersImageOracle(_binary(ContainersImageOracle.binary_name)) as oracle:
        yield oracle


@pytest.fixture(scope='session')
def case_counts():
    return CASES


def pytest_terminal_summary(terminalreporter):
    if not CASES:
        return
    write = terminalreporter.write_line
    total = sum(counter['(all)'] for counter in CASES.values())
    write('differential cases: %d in %.1fs (seeds %d and %d; DIFFERENTIAL_SEED=%d replays this run)'
          % (total, time.monotonic() - STARTED, cases.FIXED_SEED, cases.RUN_SEED, cases.RUN_SEED))
    for consumer in sorted(CASES):
        counter = CASES[consumer]
        write('  %s: %d cases' % (consumer, counter['(all)']))
        for name, count in sorted(counter.items()):
            if name != '(all)':
                write('    %-32s %6d' % (name, count))
