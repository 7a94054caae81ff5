# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Decisions of the pull_secret module: what a Secret and a service account should become.

Pure functions over the objects read from the server, so check mode, diffs and the unit tests share
them with the real run; _pull_secret_apply reads, waits and writes.
"""

from __future__ import annotations

import base64
import copy
import functools

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import (
    CREATE, RECREATE, RESTORE, UNCHANGED, UPDATE, reported,
)
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import PlanError

LINK_FIELDS = (('pull', 'imagePullSecrets'), ('mount', 'secrets'))
REGISTRY_PULL_SECRET_REF = 'openshift.io/internal-registry-pull-secret-ref'


def _secret_document(secret):
    """(raw document, None) of a pull secret read from the server, or (None, why not)."""
    for secret_type, key in dc.TYPES.values():
        if secret.get('type') == secret_type:
            blob = (secret.get('data') or {}).get(key)
            if blob is None:
                return None, 'it has no %s key' % key
            try:
                return base64.b64decode(blob), None
            except (TypeError, ValueError):
                return None, 'its %s key is not base64' % key
    return None, 'its type is %s' % secret.get('type')


def read_secret_config(secret):
    """(DockerConfig, error) of a Secret read from the server: None when it holds no valid docker config.

    The entries of either layout are read (so that merge can keep them), but a layout the kubelet does
    not read for the Secret's type is an error too: the kubelet finds no registry in it.
    """
    raw, error = _secret_document(secret)
    if raw is None:
        return None, error
    try:
        config = dc.parse_config(raw)
    except dc.DockerConfigError as e:
        return None, str(e)
    return config, layout_error(raw, secret.get('type'))


# The same declaration gives the same document in every namespace: the kubelet's reading of a document
# is kept for the last few documents seen, so that 10,000 namespaces cost one reading (a rerun over
# 10,000 spent most of its time reading the same Secret again and again).
KUBELET_READINGS_KEPT = 64


@functools.lru_cache(maxsize=KUBELET_READINGS_KEPT)
def layout_error(raw, secret_type):
    """Why the kubelet reads no registry from raw for a Secret of secret_type (the other layout), or None."""
    for problem in cl.document_problems(raw, cl.KUBELET, secret_type):
        if problem.code == 'layout-mismatch':
            return problem.message
    return None


def read_secret_auths(secret):
    """(auths, error) of a Secret read from the server: auths is None when it holds no valid docker config."""
    config, error = read_secret_config(secret)
    return (config.auths if config and not error else None), error


def kubelet_view(auths, layout):
    """What the kubelet reads from auths written in layout (cl.consumer_view): the basis of "unchanged".

    The value is shared between calls with the same document: compare it, never change it.
    """
    return _kubelet_view_of(dc.serialize(auths, layout=layout), dc.TYPES[layout][0])


@functools.lru_cache(maxsize=KUBELET_READINGS_KEPT)
def _kubelet_view_of(document, secret_type):
    return cl.consumer_view(document, cl.KUBELET, secret_type)


def same_auths(a, b, layout='dockerconfigjson'):
    """True when the kubelet gives every image the same credentials from a and from b (written in layout).

    Spelling, base64 text and key order do not count; a second key for the same registry does (the
    kubelet tries both).
    """
    if a is None or b is None:
        return False
    return kubelet_view(a, layout) == kubelet_view(b, layout)


def kubelet_warnings(auths, layout):
    """Why the kubelet cannot (fully) use some entries of auths written in layout, one message each."""
    secret_type = dc.TYPES[layout][0]
    found = cl.entry_problems(dc.serialize(auths, layout=layout), cl.KUBELET, secret_type)
    return ['%s (the kubelet)' % problem.message for key in found for problem in found[key]
            if problem.code in ('no-credential', 'dead-key', 'ignored-key', 'host-case')]


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
        self.previous = None  # RECREATE: the Secret as it was, to restore if the new one cannot be created
        self.ownership = None  # who held the Secret (_ownership: created, managed, adopted, overwritten)
        self.view = {'type': secret_type, 'registries': dc.summarize(auths_after),
                     'fingerprint': dc.fingerprint_config(auths_after)}

    def result(self):
        return dict(namespace=self.namespace, name=self.name, action=reported(self.action),
                    registries=list(self.auths_after), fingerprint=self.view['fingerprint'], ownership=self.ownership)


SERVER_SET_METADATA = ('uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields',
                       'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds')


def restorable(secret):
    """The Secret as a create request that puts it back as it was: its data, type and metadata, not
    what the server sets (uid, resourceVersion, timestamps, managed fields)."""
    body = copy.deepcopy(secret)
    body.setdefault('apiVersion', 'v1')
    body.setdefault('kind', 'Secret')
    metadata = body.setdefault('metadata', {})
    for field in SERVER_SET_METADATA:
        metadata.pop(field, None)
    return body


def restored_result(plan, previous_view):
    """The result entry of a recreate that failed and was undone: the Secret holds what it held before."""
    view = previous_view or {}
    return dict(namespace=plan.namespace, name=plan.name, action=reported(RESTORE),
                registries=[entry['server'] for entry in view.get('registries') or []],
                fingerprint=view.get('fingerprint', ''), ownership=plan.ownership)


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


def _metadata_after(meta, labels, annotations, exact):
    """(labels, annotations) the Secret carries after the run: the given ones added to its own, or exactly them."""
    if exact:
        return dict(labels), dict(annotations or {})
    return dict(meta.get('labels') or {}, **labels), dict(meta.get('annotations') or {}, **(annotations or {}))


def plan_secret(namespace, name, existing, auths, layout, merge, labels, annotations, force, exact_metadata=False):
    """The SecretPlan for one namespace; PlanError when only force (or the user) can resolve it.

    exact_metadata: the Secret carries exactly labels and annotations (the caller computed them from what it
    holds, for example to mark who holds it or to remove another owner's marker), not them added to its own.
    """
    secret_type, data_key = dc.TYPES[layout]
    if existing is None:
        body = new_secret(namespace, name, secret_type, data_key, auths, layout, labels, annotations)
        return SecretPlan(namespace, name, CREATE, body, auths, auths, secret_type, labels)

    current, error = read_secret_config(existing)
    current_auths = current.auths if current else None
    # A layout the kubelet does not read for this type holds no registry for it: it is rewritten.
    readable = current_auths if current and not error else None
    extra = None
    if merge:
        if current_auths is None and existing.get('type') == secret_type:
            raise PlanError('it holds no valid docker config to merge into (%s); run with merge: false to replace it' % error)
        after = dc.merge(current_auths or {}, auths, consumer=cl.KUBELET)[0]
        # merging keeps the rest of the document too (credsStore, HttpHeaders...)
        extra = current.extra if current and layout == 'dockerconfigjson' else None
    else:
        # exactly the given registries: a dead key the kubelet skips is dropped too
        kept = readable is not None and len(readable) == len(auths) and same_auths(readable, auths, layout)
        after = readable if kept else auths

    type_changes = existing.get('type') != secret_type
    data_same = not type_changes and same_auths(readable, after, layout)
    meta = existing.get('metadata') or {}
    labels_after, annotations_after = _metadata_after(meta, labels, annotations, exact_metadata)
    meta_same = labels_after == (meta.get('labels') or {}) and annotations_after == (meta.get('annotations') or {})
    rv = meta.get('resourceVersion')
    if data_same and meta_same:
        return SecretPlan(namespace, name, UNCHANGED, None, current_auths, auths, secret_type, labels, rv)
    if type_changes or (existing.get('immutable') and not data_same):
        if not force:
            why = ('its type is %s, not %s' % (existing.get('type'), secret_type) if type_changes
                   else 'it is immutable and its registries differ')
            raise PlanError('%s; a Secret cannot change that in place: set force: true to delete and recreate it' % why)
        body = new_secret(namespace, name, secret_type, data_key, after, layout, labels_after, annotations_after,
                          immutable=existing.get('immutable', False), extra=extra)
        plan = SecretPlan(namespace, name, RECREATE, body, after, auths, secret_type, labels, rv)
        plan.previous = restorable(existing)
        return plan

    body = copy.deepcopy(existing)
    body.setdefault('metadata', {})
    body['metadata']['labels'] = labels_after
    if annotations_after or 'annotations' in body['metadata']:
        body['metadata']['annotations'] = annotations_after
    if not data_same:
        body['data'] = dict(body.get('data') or {}, **{data_key: encode(after, layout, extra)})
    return SecretPlan(namespace, name, UPDATE, body, after, auths, secret_type, labels, rv)


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


# -- OpenShift's integrated-registry pull secret of a service account ------------------------------
#
# As openshift-controller-manager provisions it (pkg/serviceaccounts/controllers/create_dockercfg_secrets.go
# up to 4.15, pkg/internalregistry/controllers/service_account_controller.go and
# image_pull_secret_controller.go from 4.16):
# - the Secret's name is names.SimpleNameGenerator.GenerateName(naming.GetName(<sa>, "dockercfg-", 58)),
#   so a long service account name is shortened and hashed;
# - up to 4.15 the Secret is created with its token first, then linked into imagePullSecrets and secrets;
# - from 4.16 the service account gets the pull-secret-ref annotation and both references first, the
#   Secret is then created holding an empty "{}" document, and a second controller writes the token
#   into it later. Only then can a pod use it.

GENERATED_PREFIX_MAX_LENGTH = 58  # 63, the longest name, less the 5 random characters GenerateName adds
DOCKERCFG_TYPE = 'kubernetes.io/dockercfg'


def fnv32a(text):
    """FNV-1a, 32 bits, of the UTF-8 bytes of text (Go's hash/fnv New32a), as 8 hex digits."""
    value = 0x811c9dc5
    for byte in bytearray(text.encode('utf-8')):
        value = ((value ^ byte) * 0x01000193) & 0xffffffff
    return '%08x' % value


def generated_name(base, suffix, max_length):
    """openshift/library-go pkg/build/naming.GetName: "<base>-<suffix>", shortened with a hash when too long.

    Too long and the suffix fits: the base is cut so that "<base cut>-<hash of base>-<suffix>" is exactly
    max_length. Too long for the suffix as well: "<base cut>-<hash of base-suffix>", cut to max_length.
    """
    if max_length <= 0:
        return ''
    name = '%s-%s' % (base, suffix)
    if len(name) <= max_length:
        return name
    base_length = max_length - 10 - len(suffix)  # 10: the two dashes around the 8-digit hash
    if base_length <= 0:
        short = '%s-%s' % (base[:max(0, max_length - 9)], fnv32a(name))
        return short[:max_length]
    return '%s-%s-%s' % (base[:base_length], fnv32a(base), suffix)


def dockercfg_prefix(service_account_name):
    """How the name of OpenShift's generated pull secret of this service account starts (5 random characters follow)."""
    return generated_name(service_account_name, 'dockercfg-', GENERATED_PREFIX_MAX_LENGTH)


def _references(service_account, field):
    return [(ref or {}).get('name') or '' for ref in service_account.get(field) or []]


def provisioned_secret_name(service_account):
    """The name of OpenShift's pull secret for this service account, or None while it has none.

    4.16+: the pull-secret-ref annotation. Before: an imagePullSecrets entry named with the generated
    prefix (the controller links the two lists together; the pull list is the one pods use).
    """
    metadata = service_account.get('metadata') or {}
    annotated = (metadata.get('annotations') or {}).get(REGISTRY_PULL_SECRET_REF)
    if annotated:
        return annotated
    prefix = dockercfg_prefix(metadata.get('name') or '')
    for name in _references(service_account, 'imagePullSecrets'):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name
    return None


def is_provisioned(service_account):
    """OpenShift has named the service account's integrated-registry pull secret (the Secret itself not read).

    What registry_access_info reports; the pull_secret wait also reads the Secret (provisioning_gap).
    """
    return provisioned_secret_name(service_account) is not None


def _holds_a_credential(secret):
    config, _error = read_secret_config(secret)
    if config is None:
        return False
    for key, entry in config.auths.items():
        decoded = dc.decode_entry(entry, key)
        if decoded['password'] or decoded['identitytoken']:
            return True
    return False


def provisioning_gap(service_account, secret):
    """Why OpenShift's pull secret of the service account cannot be used yet, or None once it can.

    secret is the Secret named by provisioned_secret_name() as read from the server (None: not found).
    Usable means: referenced from imagePullSecrets, the Secret exists, and it holds a registry
    credential (the 4.16+ controller first writes an empty "{}" document and the token only later).
    """
    name = provisioned_secret_name(service_account)
    if name is None:
        return 'no pull secret yet (neither the %s annotation nor a %s* secret in imagePullSecrets)' % (
            REGISTRY_PULL_SECRET_REF, dockercfg_prefix(service_account['metadata']['name']))
    if name not in _references(service_account, 'imagePullSecrets'):
        return 'its pull secret %s is not in imagePullSecrets yet' % name
    if secret is None:
        return 'its pull secret %s does not exist yet' % name
    if not _holds_a_credential(secret):
        return 'its pull secret %s holds no registry credential yet' % name
    return None


def service_account_gaps(found, keys, mode, pull_secrets):
    """{key: why not ready} for the keys of found (service accounts by (namespace, name)) that are not ready.

    Ready means existing; for mode 'provisioned' also provisioned (pull_secrets: the Secret each one's
    pull secret name gives, as read from the server).
    """
    gaps = {}
    for key in keys:
        if found[key] is None:
            gaps[key] = 'does not exist'
        elif mode == 'provisioned':
            gap = provisioning_gap(found[key], pull_secrets.get(key))
            if gap:
                gaps[key] = gap
    return gaps


def service_accounts_not_found(pending):
    """The PlanError of wait_for none: the service accounts that do not exist."""
    return PlanError('service account not found: %s' % _names(pending))


def wait_timed_out(mode, timeout, pending, gaps):
    """The PlanError of a wait for service accounts that ran out of time."""
    if mode == 'provisioned':
        return PlanError('timed out after %ds waiting for service accounts to be provisioned by OpenShift '
                         '(their integrated-registry pull secret, named by the %s annotation or %s, '
                         'linked, created and holding its token): %s' % (
                             timeout, REGISTRY_PULL_SECRET_REF, '<sa>-dockercfg-*', _gaps(pending, gaps)))
    return PlanError('timed out after %ds waiting for service accounts to exist: %s' % (timeout, _names(pending)))


def _gaps(keys, gaps, limit=10):
    shown = ['%s/%s: %s' % (key[0], key[1], gaps.get(key, 'not ready')) for key in keys[:limit]]
    if len(keys) > limit:
        shown.append('... and %d more' % (len(keys) - limit))
    return '; '.join(shown)


def _names(keys, limit=10):
    shown = ['%s/%s' % k for k in keys[:limit]]
    if len(keys) > limit:
        shown.append('... and %d more' % (len(keys) - limit))
    return ', '.join(shown)


def diff_of(before, after, secret_results, sa_results):
    """Safe before/after of what changed, keyed by namespace."""
    b, a = {}, {}
    for r in secret_results:
        if r['action'] != 'unchanged':
            b.setdefault(r['namespace'], {})['secret'] = before.get(r['namespace'])
            a.setdefault(r['namespace'], {})['secret'] = \
                before.get(r['namespace']) if r['action'] == 'restored' else after.get(r['namespace'])
    for r in sa_results:
        if r['action'] != 'unchanged':
            b.setdefault(r['namespace'], {}).setdefault('service_accounts', {})[r['name']] = \
                'not linked' if r['action'] == 'linked' else 'linked'
            a.setdefault(r['namespace'], {}).setdefault('service_accounts', {})[r['name']] = \
                ', '.join(r['linked_for']) or 'not linked'
    return {'before': b, 'after': a}
