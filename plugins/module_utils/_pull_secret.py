# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Decisions of the pull_secret module: what a Secret and a service account should become.

Pure functions over the objects read from the server (plus the service account wait, which only
reads), so check mode, diffs and the unit tests share them with the real run.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import copy
import time

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils._cluster import resource_path

LINK_FIELDS = (('pull', 'imagePullSecrets'), ('mount', 'secrets'))
REGISTRY_PULL_SECRET_REF = 'openshift.io/internal-registry-pull-secret-ref'


class PlanError(Exception):
    """The desired state cannot be reached without the user's say (nothing is written)."""


def read_secret_config(secret):
    """(DockerConfig, error) of a Secret read from the server: None when it holds no valid docker config."""
    for secret_type, key in dc.TYPES.values():
        if secret.get('type') == secret_type:
            blob = (secret.get('data') or {}).get(key)
            if blob is None:
                return None, 'it has no %s key' % key
            try:
                return dc.parse_config(base64.b64decode(blob)), None
            except (TypeError, ValueError) as e:  # DockerConfigError is a ValueError
                return None, str(e)
    return None, 'its type is %s' % secret.get('type')


def read_secret_auths(secret):
    """(auths, error) of a Secret read from the server: auths is None when it holds no valid docker config."""
    config, error = read_secret_config(secret)
    return (config.auths if config else None), error


def same_auths(a, b):
    """Equal registries with equal decoded credentials, keys compared normalised."""
    if a is None or b is None:
        return False
    norm_a = dict((dc.normalize_key(k), v) for k, v in a.items())
    norm_b = dict((dc.normalize_key(k), v) for k, v in b.items())
    return set(norm_a) == set(norm_b) and all(dc.entries_equal(norm_a[k], norm_b[k]) for k in norm_a)


def secret_view(secret):
    """What results and diffs may show of a Secret: never a credential."""
    if secret is None:
        return None
    auths, error = read_secret_auths(secret)
    view = {'type': secret.get('type')}
    if auths is None:
        view['invalid'] = error
    else:
        view['registries'] = dc.summarize(auths)
        view['fingerprint'] = dc.fingerprint_config(auths)
    return view


def _subset(wanted, present):
    return all((present or {}).get(k) == v for k, v in (wanted or {}).items())


class SecretPlan(object):
    def __init__(self, namespace, name, action, body, auths_after, auths_given, secret_type, labels, resource_version=None):
        self.namespace = namespace
        self.name = name
        self.action = action
        self.body = body
        self.auths_after = auths_after
        self.auths_given = auths_given
        self.labels = labels
        self.resource_version = resource_version
        self.view = {'type': secret_type, 'registries': dc.summarize(auths_after),
                     'fingerprint': dc.fingerprint_config(auths_after)}

    def result(self):
        return dict(namespace=self.namespace, name=self.name, action=self.action,
                    registries=list(self.auths_after), fingerprint=self.view['fingerprint'])


def encode(auths, layout, extra=None):
    return base64.b64encode(dc.serialize(auths, layout=layout, extra=extra)).decode('ascii')


def new_secret(namespace, name, secret_type, data_key, auths, layout, labels, annotations, immutable=False, extra=None):
    metadata = {'name': name, 'namespace': namespace, 'labels': dict(labels)}
    if annotations:
        metadata['annotations'] = dict(annotations)
    secret = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': metadata, 'type': secret_type,
              'data': {data_key: encode(auths, layout, extra)}}
    if immutable:
        secret['immutable'] = True
    return secret


def plan_secret(namespace, name, existing, auths, layout, merge, labels, annotations, force):
    """The SecretPlan for one namespace; PlanError when only force (or the user) can resolve it."""
    secret_type, data_key = dc.TYPES[layout]
    if existing is None:
        body = new_secret(namespace, name, secret_type, data_key, auths, layout, labels, annotations)
        return SecretPlan(namespace, name, 'created', body, auths, auths, secret_type, labels)

    current, error = read_secret_config(existing)
    current_auths = current.auths if current else None
    extra = None
    if merge:
        if current_auths is None and existing.get('type') == secret_type:
            raise PlanError('it holds no valid docker config to merge into (%s); run with merge: false to replace it' % error)
        after = dc.merge(current_auths or {}, auths)[0]
        # merging keeps the rest of the document too (credsStore, HttpHeaders...)
        extra = current.extra if current and layout == 'dockerconfigjson' else None
    else:
        after = current_auths if same_auths(current_auths, auths) else auths

    type_changes = existing.get('type') != secret_type
    data_same = not type_changes and same_auths(current_auths, after)
    meta = existing.get('metadata') or {}
    meta_same = _subset(labels, meta.get('labels')) and _subset(annotations, meta.get('annotations'))
    rv = meta.get('resourceVersion')
    if data_same and meta_same:
        return SecretPlan(namespace, name, 'unchanged', None, current_auths, auths, secret_type, labels, rv)
    if type_changes or (existing.get('immutable') and not data_same):
        if not force:
            why = ('its type is %s, not %s' % (existing.get('type'), secret_type) if type_changes
                   else 'it is immutable and its registries differ')
            raise PlanError('%s; a Secret cannot change that in place: set force: true to delete and recreate it' % why)
        keep_labels = dict(meta.get('labels') or {})
        keep_labels.update(labels)
        keep_annotations = dict(meta.get('annotations') or {})
        keep_annotations.update(annotations or {})
        body = new_secret(namespace, name, secret_type, data_key, after, layout, keep_labels, keep_annotations,
                          immutable=existing.get('immutable', False), extra=extra)
        return SecretPlan(namespace, name, 'recreated', body, after, auths, secret_type, labels, rv)

    body = copy.deepcopy(existing)
    body.setdefault('metadata', {})
    body['metadata'].setdefault('labels', {})
    body['metadata']['labels'] = dict(body['metadata'].get('labels') or {}, **labels)
    if annotations:
        body['metadata']['annotations'] = dict(body['metadata'].get('annotations') or {}, **annotations)
    if not data_same:
        body['data'] = dict(body.get('data') or {}, **{data_key: encode(after, layout, extra)})
    return SecretPlan(namespace, name, 'updated', body, after, auths, secret_type, labels, rv)


def linked_for(service_account, secret_name):
    """Where a service account references the secret: 'pull' and/or 'mount', in that order."""
    return [kind for kind, field in LINK_FIELDS
            if any((ref or {}).get('name') == secret_name for ref in service_account.get(field) or [])]


def link_plan(service_account, secret_name, link_for):
    """(desired service account or None, linked_for after): references appended, nothing else moved."""
    desired = copy.deepcopy(service_account)
    changed = False
    for kind, field in LINK_FIELDS:
        if kind not in link_for:
            continue
        refs = desired.get(field) or []
        if not any((ref or {}).get('name') == secret_name for ref in refs):
            refs.append({'name': secret_name})
            desired[field] = refs
            changed = True
    return (desired if changed else None), linked_for(desired, secret_name)


def unlink_plan(service_account, secret_name):
    """The service account without references to the secret, or None if it has none."""
    if not linked_for(service_account, secret_name):
        return None
    desired = copy.deepcopy(service_account)
    for _kind, field in LINK_FIELDS:
        if desired.get(field):
            desired[field] = [ref for ref in desired[field] if (ref or {}).get('name') != secret_name]
    return desired


def is_provisioned(service_account):
    """OpenShift has given the service account its integrated-registry pull secret."""
    name = service_account['metadata']['name']
    if REGISTRY_PULL_SECRET_REF in (service_account['metadata'].get('annotations') or {}):
        return True
    return any((ref or {}).get('name', '').startswith(name + '-dockercfg-')
               for ref in service_account.get('imagePullSecrets') or [])


def wait_for_service_accounts(client, namespaces, names, mode, timeout, sleep=time.sleep, clock=time.time):
    """{(namespace, name): service account}, once each exists (and is provisioned, if asked).

    Reads only: one list per service account name, then GETs of the ones still missing.
    """
    found = {}
    for name in names:
        for ns, obj in client.objects_by_namespace('serviceaccounts', name, namespaces).items():
            found[(ns, name)] = obj

    def ready(obj):
        return obj is not None and (mode != 'provisioned' or is_provisioned(obj))

    pending = sorted(k for k, obj in found.items() if not ready(obj))
    if pending and mode == 'none':
        raise PlanError('service account not found: %s' % _names(pending))
    deadline = clock() + timeout
    while pending:
        if clock() >= deadline:
            what = 'be provisioned by OpenShift (a <sa>-dockercfg-* pull secret or the %s annotation)' % REGISTRY_PULL_SECRET_REF \
                if mode == 'provisioned' else 'exist'
            raise PlanError('timed out after %ds waiting for service accounts to %s: %s' % (timeout, what, _names(pending)))
        sleep(1)
        results = client.parallel(lambda key: client.get(resource_path('serviceaccounts', key[0], key[1])), pending)
        for key, obj in zip(pending, results):
            if isinstance(obj, Exception):
                raise obj
            found[key] = obj
        pending = [k for k in pending if not ready(found[k])]
    return found


def _names(keys, limit=10):
    shown = ['%s/%s' % k for k in keys[:limit]]
    if len(keys) > limit:
        shown.append('... and %d more' % (len(keys) - limit))
    return ', '.join(shown)
