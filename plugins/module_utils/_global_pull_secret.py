# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Decisions of the global_pull_secret module, as pure functions over the objects read from the server.

What the cluster-wide pull secret becomes (add/update, remove, or replace), the Telemetry guard on
cloud.openshift.com, backup names and pruning, the hosted control plane check and whether the
MachineConfigPools have rolled out a new rendered config. The module only reads, calls these and
writes, so check mode, diffs and the unit tests share them with the real run.
"""

from __future__ import annotations

import base64
import copy
import json
import re

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_keys as rk
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import MANAGED_BY, UNCHANGED, UPDATE, is_change
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import PlanError  # noqa: F401 (gps.PlanError)

DEFAULT_NAMESPACE = 'openshift-config'
DEFAULT_NAME = 'pull-secret'
HOSTED_NAMESPACE = 'kube-system'
HOSTED_NAME = 'additional-pull-secret'
SECRET_TYPE, DATA_KEY = dc.TYPES['dockerconfigjson']
TELEMETRY_REGISTRY = 'cloud.openshift.com'
# label keys take a DNS subdomain prefix, so not the collection name with its underscore
BACKUP_LABEL = 'ocp-registry-access/backup-of'
# Secret names are lower case (RFC 1123), so the UTC timestamp is written 20260102t030405z.
BACKUP_TIME_FORMAT = '%Y%m%dt%H%M%Sz'
DEGRADED_CONDITIONS = ('Degraded', 'NodeDegraded', 'RenderDegraded')

TELEMETRY_GUIDANCE = (
    'the %s entry identifies the cluster to OpenShift Cluster Manager: changing or removing it without first '
    'initiating a cluster transfer in OpenShift Cluster Manager makes the cluster stop reporting Telemetry '
    'metrics there. Initiate the transfer (Transferring cluster ownership, in the OpenShift Cluster Manager '
    'documentation) and then run again with allow_telemetry_change: true' % TELEMETRY_REGISTRY)

HOSTED_GUIDANCE = (
    'this cluster has a hosted control plane (Infrastructure cluster reports controlPlaneTopology: External, '
    'as on HyperShift and ROSA with HCP): the control plane overwrites %s/%s, so a change there is lost. '
    'Put additional registries in the Secret %s/%s instead (create it first, type %s): set namespace: %s '
    'and name: %s' % (DEFAULT_NAMESPACE, DEFAULT_NAME, HOSTED_NAMESPACE, HOSTED_NAME, SECRET_TYPE,
                      HOSTED_NAMESPACE, HOSTED_NAME))


def is_default_target(namespace, name):
    """Whether namespace/name (None: the default) is openshift-config/pull-secret, which a hosted control plane overwrites.

    Spelling the default out must not switch off the hosted control plane guard: only another Secret does.
    """
    return (namespace or DEFAULT_NAMESPACE, name or DEFAULT_NAME) == (DEFAULT_NAMESPACE, DEFAULT_NAME)


class Plan(object):
    """What the global pull secret becomes: action UPDATE or UNCHANGED (the plan vocabulary of _constants);
    data is the document to write (bytes), None when nothing changes."""

    def __init__(self, action, auths_before, auths_after, extra_after, added, updated, removed, data):
        self.action, self.auths_before, self.auths_after, self.extra_after = action, auths_before, auths_after, extra_after
        self.added, self.updated, self.removed, self.data = added, updated, removed, data

    @property
    def changed(self):
        return is_change(self.action)


# -- reading the secret ------------------------------------------------------------------------

def check_secret(secret, where):
    """Raise PlanError when the Secret is missing or not a dockerconfigjson Secret (never repairable here)."""
    if secret is None:
        raise PlanError('Secret %s not found: the pull secret must exist (OpenShift creates %s/%s at install; on a '
                        'hosted control plane create %s/%s first, for example with ocp.registry_access.pull_secret)'
                        % (where, DEFAULT_NAMESPACE, DEFAULT_NAME, HOSTED_NAMESPACE, HOSTED_NAME))
    if secret.get('type') != SECRET_TYPE:
        raise PlanError('Secret %s has type %s, not %s: it is not a pull secret the nodes read; point namespace and '
                        'name at the cluster pull secret' % (where, secret.get('type'), SECRET_TYPE))


def _raw_document(secret):
    blob = ((secret or {}).get('data') or {}).get(DATA_KEY)
    if blob is None:
        return None
    try:
        return base64.b64decode(blob)
    except (TypeError, ValueError):
        return None


def _auths_of(document):
    """(the auths value, the top-level keys spelling it) of a parsed document.

    Go matches field names case-insensitively, the last spelling winning: "Auths" is the auths object too.
    """
    spellings = [k for k in document if k.lower() == 'auths'] if isinstance(document, dict) else []
    return (document[spellings[-1]] if spellings else None), spellings


def read_document(secret):
    """(DockerConfig, None) of a dockerconfigjson Secret, or (None, why) when the node's container runtime cannot read it.

    Read as containers/image reads it (cl.containers_image_parse): an entry no pull can use (null, an
    empty key, an auth that does not decode) does not make the document unreadable; it is kept as it
    is and reported by warnings().
    """
    raw = _raw_document(secret)
    if raw is None:
        return None, 'it has no valid %s key' % DATA_KEY
    parsed = cl.containers_image_parse(raw)
    if parsed.error is not None:
        return None, parsed.error
    try:
        document = json.loads(raw.decode('utf-8'))
    except ValueError:  # also UnicodeDecodeError
        return None, 'it is not valid JSON'
    auths, spellings = _auths_of(document)
    if not isinstance(auths, dict):
        return None, "it has no 'auths' object"
    return dc.DockerConfig(auths=auths, layout='dockerconfigjson',
                           extra=dict((k, v) for k, v in document.items() if k not in spellings)), None


def warnings(auths, extra=None):
    """Why the node's container runtime cannot (fully) use entries of the document, one message per problem."""
    if auths is None:
        return []
    found = cl.entry_problems(dc.serialize(auths, layout='dockerconfigjson', extra=extra), cl.CONTAINERS_IMAGE)
    return ['%s (the node\'s container runtime)' % problem.message for key in sorted(found) for problem in found[key]
            if problem.code in _WARNED]


# What makes an entry useless (or harmful) to the node: everything else in cl.problems is advice.
_WARNED = ('no-credential', 'dead-key', 'bad-auth', 'host-case')


def raw_auths(secret):
    """The auths object of a Secret's document as far as it is JSON (entries not validated), or None."""
    raw = _raw_document(secret)
    try:
        document = json.loads(raw.decode('utf-8')) if raw is not None else None
    except ValueError:  # also UnicodeDecodeError
        return None
    auths, _spellings = _auths_of(document)
    return auths if isinstance(auths, dict) else None


# Every credential a Secret's document holds, valid or not ("Auths" too), to hide from any output: the one
# Secret-to-strings step of redaction, also behind the module frame's hide_secrets.
secret_values_of = dc.secret_object_values


# -- what the document becomes -----------------------------------------------------------------

def lookup_key(server):
    """The key to write for server: the one containers/image looks up (cl.lookup_key_for); DockerConfigError if none."""
    try:
        return cl.lookup_key_for(server)
    except ValueError as e:
        raise dc.DockerConfigError(str(e))


def _validate_new_keys(keys, existing):
    """A new key of a replacement must be one the node's container runtime looks up as written."""
    for key in keys:
        if key not in existing:
            wanted = lookup_key(key)
            if wanted != key:
                raise dc.DockerConfigError('registry %s is not a key the node\'s container runtime looks up as written; '
                                           'write %r' % (cl._shown(key), wanted))


def _lookup_entries(entries):
    """{lookup key: entry} for {server: entry}; DockerConfigError when two servers name the same key."""
    found, given = {}, {}
    for server, entry in entries.items():
        key = lookup_key(server)
        if key in found:
            raise dc.DockerConfigError('%s and %s name the same registry (%s); give it once'
                                       % (cl._shown(given[key]), cl._shown(server), key))
        found[key], given[key] = entry, server
    return found


def _entry_of(auths, server):
    key = rk.find_key(auths, server, cl.CONTAINERS_IMAGE) if auths is not None else None
    return None if key is None else auths[key]


def _credentials(entry):
    try:
        return dc.decode_entry(entry)
    except dc.DockerConfigError:
        return entry  # undecodable: compared as it is written


def telemetry_guard(before_auths, after_auths, allow):
    """Raise PlanError when the cloud.openshift.com entry changes (appears, goes or gets new credentials) and not allow.

    before_auths None means the current document cannot be read, so a change cannot be ruled out.
    """
    if allow:
        return
    after = _entry_of(after_auths, TELEMETRY_REGISTRY)
    if before_auths is None:
        raise PlanError('the current document cannot be read, so whether the %s entry changes cannot be checked; %s'
                        % (TELEMETRY_REGISTRY, TELEMETRY_GUIDANCE))
    before = _entry_of(before_auths, TELEMETRY_REGISTRY)
    if before is None and after is None:
        return
    if before is None or after is None or _credentials(before) != _credentials(after):
        what = 'add' if before is None else ('remove' if after is None else 'change')
        raise PlanError('this would %s the %s entry of the global pull secret; %s' % (what, TELEMETRY_REGISTRY, TELEMETRY_GUIDANCE))


def document_bytes(auths, extra):
    """The document to write, checked as the nodes will read it: valid JSON, an auths object, every auth decodes."""
    data = dc.serialize(auths, layout='dockerconfigjson', extra=extra)
    config, error = read_document({'data': {DATA_KEY: base64.b64encode(data).decode('ascii')}})
    if error or set(config.auths) != set(auths):
        raise dc.DockerConfigError('the document to write does not read back as written')
    return data


def _plan(before, auths_after, extra_after, added, updated, removed):
    changed = bool(added or updated or removed)
    data = document_bytes(auths_after, extra_after) if changed else None
    return Plan(UPDATE if changed else UNCHANGED, before.auths, auths_after if changed else before.auths,
                extra_after if changed else before.extra, sorted(added), sorted(updated), sorted(removed), data)


def _node_reads_the_same(key, before, after):
    """Unchanged: the node reads the same credential from both entries and no other field differs."""
    def others(entry):
        return dict((k, v) for k, v in entry.items() if k.lower() not in dc.STRING_FIELDS or k == 'email')

    def node_view(entry):
        return cl.consumer_view({'auths': {key: entry}}, cl.CONTAINERS_IMAGE)
    return others(before) == others(after) and node_view(before) == node_view(after)


def plan_present(current, entries, allow_telemetry_change=False):
    """Add or update the given registries; every other entry, field and top-level key kept as it is.

    Each registry is written under the key the node's container runtime looks up (cl.lookup_key_for)
    unless keys serving it exist: those are updated (every spelling, so none keeps an old credential).
    """
    wanted = _lookup_entries(entries)
    auths, added, updated, _unchanged = dc.merge(current.auths, wanted, update=dc.update_entry,
                                                 consumer=cl.CONTAINERS_IMAGE, same=_node_reads_the_same)
    telemetry_guard(current.auths, auths, allow_telemetry_change)
    return _plan(current, auths, current.extra, added, updated, [])


def plan_absent(current, servers, allow_telemetry_change=False):
    """Remove every key that still serves one of servers for the node (Docker Hub's aliases, https://host/path);
    everything else kept as it is."""
    auths, removed = dc.remove(current.auths, servers, consumer=cl.CONTAINERS_IMAGE)
    telemetry_guard(current.auths, auths, allow_telemetry_change)
    return _plan(current, auths, current.extra, [], [], removed)


def _same_entry(a, b):
    """Same credentials and the same other fields (a full replacement also owns the fields the runtime ignores)."""
    def others(entry):
        return dict((k, v) for k, v in entry.items() if k not in dc.STRING_FIELDS)
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return a is None and b is None
    try:
        return dc.entries_equal(a, b) and others(a) == others(b)
    except dc.DockerConfigError:  # an entry of a corrupt document
        return False


def _scope(key):
    return cl.registry_scope(key, cl.CONTAINERS_IMAGE) or ('dead', key)


def plan_replace(current, current_raw_auths, replacement, allow_telemetry_change=False):
    """Replace the whole document with replacement (a DockerConfig); current None when the current one is corrupt.

    Keys the current document already has are kept whatever their form; new keys are validated strictly.
    Nothing changes when the replacement holds the same keys, credentials, fields and top-level keys.
    """
    if not replacement.auths:
        raise PlanError('the replacement document holds no registry')
    new_auths = replacement.auths
    extra = replacement.extra if replacement.layout == 'dockerconfigjson' else {}
    # a corrupt document may still be JSON: its keys and its cloud.openshift.com entry are then known
    readable = current.auths if current is not None else current_raw_auths
    known = readable or {}
    _validate_new_keys(list(new_auths), known)
    telemetry_guard(readable, new_auths, allow_telemetry_change)
    if current is not None and set(current.auths) == set(new_auths) and current.extra == extra \
            and all(_same_entry(current.auths[k], new_auths[k]) for k in new_auths):
        return _plan(current, current.auths, current.extra, [], [], [])

    before = dict((_scope(k), k) for k in known)
    after = dict((_scope(k), k) for k in new_auths)
    added = [after[n] for n in after if n not in before]
    removed = [before[n] for n in before if n not in after]
    updated = [after[n] for n in after if n in before and (
        before[n] != after[n] or not _same_entry(known[before[n]], new_auths[after[n]]))]
    if not (added or removed or updated):
        updated = sorted(new_auths)  # only top-level keys (or key spelling) differ: still a write
    base = current if current is not None else dc.DockerConfig(auths=None, layout='dockerconfigjson', extra={})
    return Plan(UPDATE, base.auths, new_auths, extra, sorted(added), sorted(updated), sorted(removed),
                document_bytes(new_auths, extra))


def plan_change(secret, where, mode, given, allow_telemetry_change=False):
    """The Plan for a Secret read from the server; PlanError when it cannot be made.

    mode 'present' (given: {server: entry}), 'absent' (given: servers) or 'replace' (given: a DockerConfig).
    A corrupt current document stops 'present' and 'absent'; a full replacement may repair it.
    """
    check_secret(secret, where)
    current, error = read_document(secret)
    try:
        if mode == 'replace':
            return plan_replace(current, raw_auths(secret), given, allow_telemetry_change)
        if current is None:
            raise PlanError('Secret %s holds no valid docker config (%s); it was left as it is. Repair it with a full '
                            'replacement (content or src, for example the data of a backup)' % (where, error))
        if mode == 'present':
            return plan_present(current, given, allow_telemetry_change)
        return plan_absent(current, given, allow_telemetry_change)
    except dc.DockerConfigError as e:
        raise PlanError(str(e))


def updated_secret(secret, data):
    """The Secret read from the server with the new document (its resourceVersion, metadata and other data kept)."""
    body = copy.deepcopy(secret)
    body['data'] = dict(body.get('data') or {})
    body['data'][DATA_KEY] = base64.b64encode(data).decode('ascii')
    return body


def view(auths, invalid=None):
    """What diffs may show of a document: per registry the username, email and fingerprint, never a credential."""
    if auths is None:
        return {'invalid': invalid or 'the document cannot be read'}
    registries = dict((s['server'], {'username': s['username'], 'email': s['email'], 'fingerprint': s['fingerprint']})
                      for s in dc.summarize(auths))
    return {'registries': registries, 'fingerprint': dc.fingerprint_config(auths)}


# -- backups -----------------------------------------------------------------------------------

def backup_name(name, now, attempt=0):
    """<name>-backup-<UTC timestamp>, with -<n> when a backup of the same second exists; names sort by age."""
    base = '%s-backup-%s' % (name, now.strftime(BACKUP_TIME_FORMAT))
    return base if attempt == 0 else '%s-%d' % (base, attempt + 1)


def backup_secret(secret, name):
    """A Secret holding the same type and data as secret, labelled as a backup of it."""
    source = secret['metadata']
    labels = dict(MANAGED_BY)
    labels[BACKUP_LABEL] = source['name']
    return {'apiVersion': 'v1', 'kind': 'Secret', 'type': secret.get('type'), 'data': dict(secret.get('data') or {}),
            'metadata': {'name': name, 'namespace': source.get('namespace'), 'labels': labels,
                         'annotations': {BACKUP_LABEL + '-resource-version': source.get('resourceVersion', '')}}}


def backups_to_prune(secrets, name, keep):
    """Names of the backups of name beyond the newest keep (oldest first)."""
    pattern = re.compile(r'^%s-backup-\d{8}t\d{6}z(?:-\d+)?$' % re.escape(name))
    backups = [s['metadata']['name'] for s in secrets
               if pattern.match(s['metadata']['name']) and (s['metadata'].get('labels') or {}).get(BACKUP_LABEL) == name]

    def age(backup):
        # a -<n> suffix is a later backup of the same second: after the plain name, and -10 after -9
        stamp, _z, suffix = backup.rpartition('z')
        return stamp, int(suffix[1:]) if suffix else 0

    backups.sort(key=age)
    return backups[:max(0, len(backups) - keep)]


# -- hosted control planes ---------------------------------------------------------------------

def is_hosted_control_plane(infrastructure):
    """True when the Infrastructure object says the control plane runs outside the cluster (HyperShift, ROSA HCP)."""
    return ((infrastructure or {}).get('status') or {}).get('controlPlaneTopology') == 'External'


# -- MachineConfigPool rollout -----------------------------------------------------------------

def _condition(pool, kind):
    for cond in (pool.get('status') or {}).get('conditions') or []:
        if cond.get('type') == kind:
            return cond
    return {}


def rendered_configs(pools):
    """{pool name: spec.configuration.name}, recorded before the write."""
    return dict((p['metadata']['name'], ((p.get('spec') or {}).get('configuration') or {}).get('name')) for p in pools)


def pool_progress(pool, rendered_before, require_new=True):
    """dict(name, rendered_before, rendered_after, done, degraded, waiting_for) of one MachineConfigPool.

    done: the pool runs a rendered config newer than rendered_before (unless not require_new) on every machine:
    status.configuration.name == spec.configuration.name, observedGeneration == generation, Updated=True,
    Updating=False, Degraded=False, updatedMachineCount == machineCount. degraded: the message of a True
    Degraded, NodeDegraded or RenderDegraded condition, else None.
    """
    spec = ((pool.get('spec') or {}).get('configuration') or {}).get('name')
    status = pool.get('status') or {}
    current = (status.get('configuration') or {}).get('name')
    degraded = None
    for kind in DEGRADED_CONDITIONS:
        cond = _condition(pool, kind)
        if cond.get('status') == 'True':
            degraded = '%s: %s' % (kind, cond.get('message') or cond.get('reason') or 'no message')
            break
    machines, updated_machines = status.get('machineCount'), status.get('updatedMachineCount')
    checks = [
        ('a new rendered config', not require_new or (spec is not None and spec != rendered_before)),
        ('status.configuration.name to reach %s' % spec, current == spec),
        ('observedGeneration to reach generation', status.get('observedGeneration') == pool['metadata'].get('generation')),
        ('Updated=True', _condition(pool, 'Updated').get('status') == 'True'),
        ('Updating=False', _condition(pool, 'Updating').get('status') == 'False'),
        ('Degraded=False', degraded is None),
        ('%s of %s machines updated' % (updated_machines, machines), machines is not None and updated_machines == machines),
    ]
    waiting = [what for what, ok in checks if not ok]
    if (pool.get('spec') or {}).get('paused'):
        waiting.append('the pool is paused (spec.paused: true)')
    return dict(name=pool['metadata']['name'], rendered_before=rendered_before, rendered_after=current,
                done=not waiting, degraded=degraded, waiting_for=waiting)


def rollout_state(pools, before, require_new=True):
    """Progress of every pool (sorted by name); pools created after the write need no new name."""
    return [pool_progress(p, before.get(p['metadata']['name']), require_new and p['metadata']['name'] in before)
            for p in sorted(pools, key=lambda p: p['metadata']['name'])]


def rollout_result(progress):
    """The module's rollout return value: name, rendered config before and after, done."""
    return [dict((k, p[k]) for k in ('name', 'rendered_before', 'rendered_after', 'done')) for p in progress]


def describe_pending(progress):
    return '; '.join('%s (waiting for %s)' % (p['name'], ', '.join(p['waiting_for'])) for p in progress if not p['done'])
