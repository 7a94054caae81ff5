# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The one poller of the collection: every wait (service accounts, MachineConfigPool rollout, verify) is a poll."""

from __future__ import annotations

import time

MIN_PAUSE = 0.1


def steady(seconds):
    """The same pause every round."""
    return lambda rounds, elapsed: seconds


def doubling(first, cap):
    """first, then twice as long each round, at most cap."""
    return lambda rounds, elapsed: min(first * (2 ** rounds), cap)


def slowing(first, per_second, cap):
    """first, growing with the time waited already (per_second more per second), at most cap: for long waits."""
    return lambda rounds, elapsed: min(first + elapsed * per_second, cap)


def poll(probe, timeout, pause=steady(1), sleep=time.sleep, clock=time.time):
    """Run probe() until it returns a true value or timeout seconds have passed; True if it did, False on timeout.

    probe runs at once (timeout 0: once only) and again after each pause; pause(rounds done, seconds
    elapsed) gives the pause, cut to what is left of timeout (at least MIN_PAUSE). A probe stops the
    wait early by raising.
    """
    start, rounds = clock(), 0
    while True:
        if probe():
            return True
        elapsed = clock() - start
        if elapsed >= timeout:
            return False
        sleep(min(pause(rounds, elapsed), max(MIN_PAUSE, timeout - elapsed)))
        rounds += 1
