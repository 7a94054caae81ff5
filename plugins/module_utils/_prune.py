# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Decisions of the prune module: what an owner manages that its declaration no longer holds.

Pure functions over the objects listed from the server. Only objects that carry the managed-by label
and the owner's marker are candidates (_ownership.owned_by); a RoleBinding is changed only for the
subjects the owner recorded on it, and a subject another owner recorded too stays. For each pull
secret the plan puts every unlink from a service account before the delete, so that no service
account is left referencing a secret that is gone.
"""

from __future__ import annotations

import copy

from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import DELETE, UNLINK, UPDATE
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError
from ansible_collections.ocp.registry_access.plugins.module_utils._pull_secret import linked_for, secret_view, unlink_plan
from ansible_collections.ocp.registry_access.plugins.module_utils._subjects import (
    AUTOUPDATE_ANNOTATION, PROTECTED_BINDINGS, subject_to_string,
)


def _meta(obj):
    return obj.get('metadata') or {}


def where(obj):
    """(namespace, name) of an object."""
    meta = _meta(obj)
    return meta.get('namespace'), meta.get('name')


def declared_secrets(entries):
    """{(namespace, name)} of the declared pull secrets, from entries such as pull_secret's RV(secrets) results.

    An entry of a secret deleted by its own declaration (action deleted) declares nothing.
    """
    found = set()
    for index, entry in enumerate(entries or []):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) and entry.get(k) for k in ('namespace', 'name')):
            raise InputError('declared_secrets[%d] must be a dict with the strings namespace and name (as pull_secret '
                             'returns in secrets), got %r' % (index, entry))
        if entry.get('action') != 'deleted':
            found.add((entry['namespace'], entry['name']))
    return found


def declared_grants(entries):
    """{(namespace, role_kind, role, subject)} of the declared grants, from image_puller_binding's RV(grants) results."""
    found = set()
    for index, entry in enumerate(entries or []):
        keys = ('namespace', 'subject', 'role')
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) and entry.get(k) for k in keys):
            raise InputError('declared_grants[%d] must be a dict with the strings namespace, subject and role (and '
                             'role_kind; as image_puller_binding returns in grants), got %r' % (index, entry))
        found.add((entry['namespace'], entry.get('role_kind') or 'ClusterRole', entry['role'], entry['subject']))
    return found


class Step(object):
    """One write: unlink a secret from a service account, delete a secret, update or delete a RoleBinding."""

    def __init__(self, kind, action, namespace, name, body=None, resource_version=None, secret=None,
                 removed=(), subjects_after=(), current=None):
        self.kind = kind            # 'serviceaccount', 'secret' or 'rolebinding'
        self.action = action        # UNLINK, DELETE or UPDATE
        self.namespace = namespace
        self.name = name
        self.body = body            # UPDATE: the object to PUT
        self.current = current      # UNLINK: the service account as listed (the read of its read-modify-write)
        self.resource_version = resource_version
        self.secret = secret        # UNLINK: the secret unlinked
        self.removed = list(removed)
        self.subjects_after = list(subjects_after)

    def __repr__(self):
        return 'Step(%s %s %s/%s)' % (self.action, self.kind, self.namespace, self.name)


class SecretPrune(object):
    """A secret to delete and the unlinks that must come first."""

    def __init__(self, secret, unlinks, linked):
        self.secret = secret
        self.namespace, self.name = where(secret)
        self.unlinks = unlinks
        self.linked = linked        # {service account: ['pull', 'mount']} before the run
        self.delete = Step('secret', DELETE, self.namespace, self.name,
                           resource_version=_meta(secret).get('resourceVersion'))

    def steps(self):
        return list(self.unlinks) + [self.delete]


def secrets_to_prune(secrets, owner, declared):
    """The secrets owner manages that are not declared for their namespace, sorted by namespace and name.

    A secret without the managed-by label, or with another owner's marker (or none), is never one of them.
    """
    found = [s for s in secrets if own.owned_by(s, owner) and where(s) not in declared]
    return sorted(found, key=where)


def plan_secret(secret, service_accounts):
    """SecretPrune for one secret: an unlink of every service account of its namespace that references it."""
    namespace, name = where(secret)
    unlinks, linked = [], {}
    for sa in sorted(service_accounts, key=lambda o: _meta(o).get('name') or ''):
        if _meta(sa).get('namespace') not in (None, namespace):
            continue
        desired = unlink_plan(sa, name)
        if desired is None:
            continue
        sa_name = _meta(sa).get('name')
        linked[sa_name] = linked_for(sa, name)
        unlinks.append(Step('serviceaccount', UNLINK, namespace, sa_name, current=sa,
                            resource_version=_meta(sa).get('resourceVersion'), secret=name))
    return SecretPrune(secret, unlinks, linked)


def _keeps_empty(binding):
    return (_meta(binding).get('annotations') or {}).get(AUTOUPDATE_ANNOTATION) == 'false'


def plan_binding(binding, owner, declared):
    """The Step that revokes the grants owner recorded on binding and no longer declares, or None.

    A subject another owner recorded too stays in the binding (only owner's record goes); the binding is
    deleted only when no subject is left, the collection created it and it is not kept empty on purpose
    (autoupdate "false"); OpenShift's own bindings are never touched.
    """
    namespace, name = where(binding)
    if name in PROTECTED_BINDINGS or owner is None:
        return None
    grants = own.read_grants(binding)
    mine = grants.get(owner) or set()
    ref = binding.get('roleRef') or {}
    undeclared = set(s for s in mine if (namespace, ref.get('kind'), ref.get('name'), s) not in declared)
    if not undeclared:
        return None
    others = set().union(*[s for o, s in grants.items() if o != owner]) if len(grants) > 1 else set()
    revoked = undeclared - others
    grants = dict(grants)
    grants[owner] = mine - undeclared
    kept = [s for s in binding.get('subjects') or [] if subject_to_string(s) not in revoked]
    removed = [subject_to_string(s) for s in binding.get('subjects') or [] if subject_to_string(s) in revoked]
    rv = _meta(binding).get('resourceVersion')
    if not kept and own.is_managed(binding) and not _keeps_empty(binding):
        return Step('rolebinding', DELETE, namespace, name, resource_version=rv, removed=removed)
    body = copy.deepcopy(binding)
    body.setdefault('apiVersion', 'rbac.authorization.k8s.io/v1')
    body.setdefault('kind', 'RoleBinding')
    body['metadata'].pop('managedFields', None)
    body['metadata']['labels'], body['metadata']['annotations'] = own.with_grants(binding, grants)
    body['subjects'] = kept
    return Step('rolebinding', UPDATE, namespace, name, body=body, resource_version=rv, removed=removed,
                subjects_after=[subject_to_string(s) for s in kept])


def bindings_to_prune(bindings, owner, declared):
    """Steps for every binding with grants of owner that are no longer declared, sorted by namespace and name."""
    steps = [plan_binding(b, owner, declared) for b in sorted(bindings, key=where)]
    return [step for step in steps if step is not None]


def diff_of(prunes, secrets_out, sas_out, bindings, bindings_out):
    """Per namespace: the secrets, service account references and binding subjects before and after (safe views)."""
    before, after = {}, {}
    listed = dict(((p.namespace, p.name), p.secret) for p in prunes)
    for r in secrets_out:
        if r['action'] == 'deleted':
            before.setdefault(r['namespace'], {}).setdefault('secrets', {})[r['name']] = \
                secret_view(listed[(r['namespace'], r['name'])])
            after.setdefault(r['namespace'], {}).setdefault('secrets', {})[r['name']] = None
    for r in sas_out:
        before.setdefault(r['namespace'], {}).setdefault('service_accounts', {}).setdefault(r['name'], {})[r['secret']] = \
            ', '.join(r['unlinked_for'])
        after.setdefault(r['namespace'], {}).setdefault('service_accounts', {}).setdefault(r['name'], {})[r['secret']] = \
            'not linked'
    subjects_before = dict((where(b), b.get('subjects') or []) for b in bindings)
    for r in bindings_out:
        was = subjects_before.get((r['namespace'], r['name']), [])
        before.setdefault(r['namespace'], {}).setdefault('bindings', {})[r['name']] = [subject_to_string(s) for s in was]
        after.setdefault(r['namespace'], {}).setdefault('bindings', {})[r['name']] = \
            None if r['action'] == 'deleted' else r['subjects']
    return {'before': before, 'after': after}
