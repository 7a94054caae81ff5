# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # The key of the fingerprints the modules that read or write pull secrets return.
    DOCUMENTATION = r'''
options:
  fingerprint_key:
    description:
      - Key of the fingerprints in results and diffs. A fingerprint is the first 12 hex digits of HMAC-SHA256, keyed
        with this key, over the decoded credentials of an entry (or over the entries of a document); equal credentials
        have equal fingerprints, and without the key a fingerprint cannot be checked against guessed passwords.
      - Not set (the default) - a random key is drawn for each module run. Within one result (and one diff) entries that
        carry the same credential share a fingerprint and a changed credential shows as a changed fingerprint, but
        fingerprints of two runs cannot be compared, and nobody can test a guessed password against them, not even
        whoever holds the result.
      - Set - fingerprints are stable across runs, hosts and reports made with the same key (to see drift between two
        audits, or that two clusters hold the same credential), and whoever holds the key and a fingerprint can test
        guessed passwords offline. Keep it as secret as the credentials (an Ansible Vault or AWX credential), make it
        long and random (32 characters or more), and give the same key to every run whose fingerprints are compared.
      - Can also be set with the E(OCP_REGISTRY_ACCESS_FINGERPRINT_KEY) environment variable.
    type: str
'''
