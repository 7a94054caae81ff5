# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Constants and text helpers that both the planning files and the client use (no I/O, no imports of the client).

The plan vocabulary: every plan names its action with one of the verbs below; a module reports
what it did with the past tense from REPORTED (the `action` of the results).
"""

from __future__ import annotations

from urllib.parse import quote

COLLECTION_VERSION = '0.1.0'
USER_AGENT = 'ocp.registry_access/%s' % COLLECTION_VERSION
MANAGED_BY = {'app.kubernetes.io/managed-by': 'ocp.registry_access'}
# How many times a write that ends in 409 Conflict is tried (the client's retry_on_conflict).
MAX_CONFLICT_ATTEMPTS = 10

# -- plan vocabulary -----------------------------------------------------------------------
CREATE = 'create'
UPDATE = 'update'
RECREATE = 'recreate'    # delete and create (a change the API refuses in place, with force)
RESTORE = 'restore'      # write back an earlier copy
DELETE = 'delete'
LINK = 'link'
UNLINK = 'unlink'
UNCHANGED = 'unchanged'

ACTIONS = (CREATE, UPDATE, RECREATE, RESTORE, DELETE, LINK, UNLINK, UNCHANGED)
WRITES = frozenset(ACTIONS) - frozenset([UNCHANGED])
REPORTED = {CREATE: 'created', UPDATE: 'updated', RECREATE: 'recreated', RESTORE: 'restored', DELETE: 'deleted',
            LINK: 'linked', UNLINK: 'unlinked', UNCHANGED: 'unchanged'}


def reported(action):
    """The past tense a result reports for a plan action (a reported word is returned as it is)."""
    return REPORTED.get(action, action)


def is_change(action):
    """Whether a plan action (or its reported word) writes anything."""
    return action not in (UNCHANGED, None)


# -- text and paths ------------------------------------------------------------------------

def one_line(text, limit=600):
    """text on one line, at most limit characters (for messages)."""
    text = ' '.join(str(text).split())
    return text if len(text) <= limit else text[:limit] + '...'


def resource_path(resource, namespace=None, name=None, group=None, version='v1', subresource=None):
    """URL path of a resource: core group when group is None."""
    base = '/api/%s' % version if not group else '/apis/%s/%s' % (group, version)
    if namespace:
        base += '/namespaces/%s' % quote(namespace, safe='')
    base += '/' + resource
    if name:
        base += '/' + quote(name, safe='')
    if subresource:
        base += '/' + subresource
    return base
