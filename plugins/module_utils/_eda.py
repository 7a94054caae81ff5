# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The decisions of the event source (extensions/eda/plugins/event_source/watch.py), without I/O.

- Tracker: what the source knows of the watched objects, and which namespaces each watch event
  (or each difference found by a relist) makes worth enforcing again;
- Coalescer: namespaces collected over a short window, handed out as one batch;
- backoff_delay: the bounded, jittered pause before a reconnect;
- label selectors (parse, match) and restrict_declaration: the part of a declaration that
  concerns some namespaces (the ocp.registry_access.restrict_declaration filter).
"""

from __future__ import annotations

import copy
import fnmatch
import re

from ansible_collections.ocp.registry_access.plugins.module_utils._constants import MANAGED_BY
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError

NAMESPACES, SERVICE_ACCOUNTS, SECRETS, ROLE_BINDINGS = 'namespaces', 'serviceaccounts', 'secrets', 'rolebindings'
KINDS = (NAMESPACES, SERVICE_ACCOUNTS, SECRETS, ROLE_BINDINGS)
ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = 'ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'
IMAGE_PULLER = 'system:image-puller'
MANAGED_SELECTOR = ','.join('%s=%s' % item for item in sorted(MANAGED_BY.items()))


# -------------------------------------------------------------------- label selectors

_KEY = r'[A-Za-z0-9][-A-Za-z0-9_./]*'
_VALUE = r'[-A-Za-z0-9_.]*'
_SET_TERM = re.compile(r'^\s*(%s)\s+(in|notin)\s+\(([^()]*)\)\s*$' % _KEY)
_EQ_TERM = re.compile(r'^\s*(%s)\s*(==|=|!=)\s*(%s)\s*$' % (_KEY, _VALUE))
_EXISTS_TERM = re.compile(r'^\s*(!?)\s*(%s)\s*$' % _KEY)


def _split_terms(selector):
    """The comma-separated terms of a selector; commas inside (...) belong to a set."""
    terms, depth, current = [], 0, ''
    for char in selector:
        if char == '(':
            depth += 1
        elif char == ')':
            depth -= 1
        if char == ',' and depth == 0:
            terms.append(current)
            current = ''
        else:
            current += char
    terms.append(current)
    return terms


def parse_selector(selector):
    """A Kubernetes label selector as a list of (key, operator, values); InputError if malformed.

    Operators: '=' (also '=='), '!=', 'in', 'notin', 'exists', '!exists'. An empty selector selects all.
    """
    if selector is None or not str(selector).strip():
        return []
    requirements = []
    for term in _split_terms(str(selector)):
        match = _SET_TERM.match(term)
        if match:
            values = frozenset(v.strip() for v in match.group(3).split(',') if v.strip())
            requirements.append((match.group(1), match.group(2), values))
            continue
        match = _EQ_TERM.match(term)
        if match:
            operator = '!=' if match.group(2) == '!=' else '='
            requirements.append((match.group(1), operator, frozenset([match.group(3)])))
            continue
        match = _EXISTS_TERM.match(term)
        if match:
            requirements.append((match.group(2), '!exists' if match.group(1) else 'exists', frozenset()))
            continue
        raise InputError('invalid label selector %r: cannot read %r' % (selector, term.strip()))
    return requirements


def selector_matches(requirements, labels):
    """Whether labels satisfy every requirement of a parsed selector (as the API server decides)."""
    labels = labels or {}
    for key, operator, values in requirements:
        present = key in labels
        if operator == 'exists' and not present:
            return False
        if operator == '!exists' and present:
            return False
        if operator in ('=', 'in') and (not present or labels[key] not in values):
            return False
        if operator in ('!=', 'notin') and present and labels[key] in values:
            return False
    return True


def excluded(name, patterns):
    """Whether a namespace name matches one of the shell patterns (exclude_namespaces)."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns or [])


# -------------------------------------------------------------------- what an event means

def _meta(obj):
    return (obj or {}).get('metadata') or {}


def object_key(kind, obj):
    """The identity of an object in the tracker: (namespace, name); namespaces have no namespace."""
    meta = _meta(obj)
    return (None if kind == NAMESPACES else meta.get('namespace'), meta.get('name'))


def _pull_secret_names(service_account):
    return frozenset((ref or {}).get('name') for ref in (service_account or {}).get('imagePullSecrets') or []
                     if isinstance(ref, dict))


def _subject_keys(binding):
    return frozenset((s.get('kind'), s.get('namespace'), s.get('name')) for s in (binding or {}).get('subjects') or []
                     if isinstance(s, dict))


class Tracker(object):
    """What the source knows of the watched objects, and the namespaces worth enforcing after each change.

    A namespace is worth enforcing when it appears or its labels change (a declaration may select
    it now), when a service account appears in it or loses one of its image pull secrets, when a
    managed secret in it is deleted or changed by someone else, or when an image-puller binding in
    it is deleted or loses a subject. The collection's own writes (links added, a secret rewritten
    as declared) cause no event: they add, and a managed secret last written by the collection
    itself is recognised by its managedFields.
    """

    def __init__(self, namespace_selector=None, exclude_namespaces=None, binding_roles=(IMAGE_PULLER,),
                 own_manager='ocp.registry_access'):
        self.selector = parse_selector(namespace_selector)
        self.exclude = list(exclude_namespaces or [])
        self.binding_roles = frozenset(binding_roles)
        self.own_manager = own_manager
        self.namespace_labels = {}          # managed namespace -> labels
        self.state = dict((kind, {}) for kind in KINDS)   # kind -> key -> what the decisions compare

    def managed(self, namespace):
        """Whether namespace is one the source enforces (selected, not excluded, not being deleted)."""
        return namespace in self.namespace_labels

    def _selected(self, namespace):
        meta = _meta(namespace)
        if excluded(meta.get('name') or '', self.exclude) or meta.get('deletionTimestamp'):
            return False
        return selector_matches(self.selector, meta.get('labels'))

    def _written_by_us(self, obj):
        """Whether the last write to obj (by managedFields time) is the collection's own."""
        fields = [f for f in _meta(obj).get('managedFields') or [] if isinstance(f, dict) and f.get('time')]
        if not fields:
            return False
        latest = max(f['time'] for f in fields)
        return any(f.get('manager') == self.own_manager for f in fields if f['time'] == latest)

    def _summary(self, kind, obj):
        if kind == NAMESPACES:
            return dict(_meta(obj).get('labels') or {})
        if kind == SERVICE_ACCOUNTS:
            return _pull_secret_names(obj)
        if kind == ROLE_BINDINGS:
            return _subject_keys(obj)
        return _meta(obj).get('resourceVersion')

    def observe(self, kind, event_type, obj):
        """Apply one watch event; returns (set of namespaces worth enforcing, reason or None)."""
        key = object_key(kind, obj)
        known = self.state[kind]
        before = known.get(key)
        had = key in known
        # roleRef is immutable: a binding of another role is never tracked (a deleted one is known by its key)
        if kind == ROLE_BINDINGS and not (had and event_type == DELETED) and \
                ((obj or {}).get('roleRef') or {}).get('name') not in self.binding_roles:
            return set(), None
        if event_type == DELETED:
            known.pop(key, None)
        else:
            known[key] = self._summary(kind, obj)
        if kind == NAMESPACES:
            return self._observe_namespace(event_type, obj, before, had)
        namespace = key[0]
        if not self.managed(namespace):
            return set(), None
        reason = self._reason(kind, event_type, obj, before, had)
        return ({namespace}, reason) if reason else (set(), None)

    def _observe_namespace(self, event_type, obj, before, had):
        name = _meta(obj).get('name')
        if event_type == DELETED or not self._selected(obj):
            self.namespace_labels.pop(name, None)
            return set(), None
        labels = dict(_meta(obj).get('labels') or {})
        was_managed = name in self.namespace_labels
        self.namespace_labels[name] = labels
        if not was_managed:
            return {name}, 'namespace %s' % ('selected' if had else 'added')
        if had and before != labels:
            return {name}, 'namespace labels changed'
        return set(), None

    def _reason(self, kind, event_type, obj, before, had):
        what = {SERVICE_ACCOUNTS: 'service account', SECRETS: 'managed secret', ROLE_BINDINGS: 'image-puller binding'}[kind]
        name = _meta(obj).get('name')
        if event_type == DELETED:
            return None if kind == SERVICE_ACCOUNTS else '%s %s deleted' % (what, name)
        if not had:
            # a new service account needs its links; a new managed secret or binding is someone's write
            if kind == SERVICE_ACCOUNTS:
                return '%s %s added' % (what, name)
            return None
        if kind == SERVICE_ACCOUNTS and before - _pull_secret_names(obj):
            return '%s %s lost a pull secret link' % (what, name)
        if kind == ROLE_BINDINGS and before - _subject_keys(obj):
            return '%s %s lost a subject' % (what, name)
        if kind == SECRETS and before != _meta(obj).get('resourceVersion') and not self._written_by_us(obj):
            return '%s %s changed' % (what, name)
        return None

    def relist(self, kind, objects):
        """Compare a fresh list with what is known (after 410 Gone or a reconnect): the events it implies, applied.

        Returns (set of namespaces worth enforcing, [reasons]).
        """
        listed = dict((object_key(kind, obj), obj) for obj in objects)
        events = [(DELETED, {'metadata': self._deleted_meta(kind, key)}) for key in list(self.state[kind]) if key not in listed]
        for key, obj in listed.items():
            events.append((MODIFIED if key in self.state[kind] else ADDED, obj))
        namespaces, reasons = set(), []
        for event_type, obj in events:
            found, reason = self.observe(kind, event_type, obj)
            namespaces |= found
            if reason:
                reasons.append(reason)
        return namespaces, reasons

    @staticmethod
    def _deleted_meta(kind, key):
        namespace, name = key
        return {'name': name} if kind == NAMESPACES else {'namespace': namespace, 'name': name}


# -------------------------------------------------------------------- coalescing and backoff

class Coalescer(object):
    """Namespaces collected over a short window and handed out as one batch.

    A batch is due when no new namespace came for `quiet` seconds, or `window` seconds after its
    first one, whichever is first, so a burst of namespaces gives a few batches, not one each.
    Times come from the caller (a monotonic clock).
    """

    def __init__(self, quiet=1.0, window=5.0):
        if quiet < 0 or window < quiet:
            raise InputError('coalescing needs 0 <= quiet (%s) <= window (%s)' % (quiet, window))
        self.quiet, self.window = quiet, window
        self.namespaces, self.reasons = {}, {}
        self.first = self.last = None

    def add(self, namespaces, reason, now):
        """Add namespaces (an iterable of names) seen at time now with why."""
        namespaces = [n for n in namespaces if n]
        if not namespaces:
            return
        if self.first is None:
            self.first = now
        self.last = now
        for name in namespaces:
            self.namespaces.setdefault(name, None)
            reasons = self.reasons.setdefault(name, [])
            if reason and reason not in reasons:
                reasons.append(reason)

    def due_in(self, now):
        """Seconds until the batch is due (0 if due now), None if there is no batch."""
        if self.first is None:
            return None
        return max(0.0, min(self.last + self.quiet, self.first + self.window) - now)

    def flush(self):
        """The batch as (sorted namespaces, {namespace: [reasons]}); the coalescer is empty afterwards."""
        names = sorted(self.namespaces)
        reasons = dict((n, self.reasons.get(n, [])) for n in names)
        self.namespaces, self.reasons = {}, {}
        self.first = self.last = None
        return names, reasons


def backoff_delay(attempt, base=0.5, cap=30.0, rand=0.5):
    """Seconds before reconnect attempt number attempt (1, 2, ...): doubling from base, at most cap.

    rand (0 <= rand < 1, random.random() in use) spreads reconnects: the delay is between half and
    all of the doubled value, so many sources restarted together do not reconnect in step.
    """
    attempt = max(1, int(attempt))
    delay = min(cap, base * (2 ** min(attempt - 1, 32)))
    return delay * (0.5 + rand / 2)


def watch_error_is_gone(obj):
    """Whether a watch ERROR object (a Status) says the resourceVersion is too old (410 Gone): relist."""
    return isinstance(obj, dict) and (obj.get('code') == 410 or obj.get('reason') in ('Expired', 'Gone'))


def batch_event(namespaces, reasons, namespace_labels, full=False):
    """The event the source puts on the rulebook's queue for one batch."""
    return {'registry_access': {
        'full': bool(full),
        'namespaces': list(namespaces),
        'reasons': dict((n, list(reasons.get(n, []))) for n in namespaces),
        'namespace_labels': dict((n, dict(namespace_labels.get(n) or {})) for n in namespaces),
    }}


# -------------------------------------------------------------------- restricting a declaration

_NAMESPACE_OPTIONS = {
    'pull_secrets': ('namespace', 'namespaces', 'namespace_selector'),
    'image_pullers': ('image_namespace', 'image_namespaces', 'image_namespace_selector'),
}


def _targets(item, options, namespaces, namespace_labels):
    one, many, selector = options
    if item.get(one):
        candidates = [item[one]]
    elif item.get(many):
        candidates = list(item[many])
    elif item.get(selector) is not None:
        requirements = parse_selector(item[selector])
        candidates = [n for n in namespaces if selector_matches(requirements, namespace_labels.get(n))]
    else:
        candidates = []
    return sorted(set(n for n in candidates if n in namespaces and not excluded(n, item.get('exclude_namespaces'))))


def restrict_declaration(items, namespaces, namespace_labels=None, kind='pull_secrets'):
    """The items of a declaration (project_access_pull_secrets or _image_pullers) limited to namespaces.

    Each item targets the declared namespaces that are among namespaces (a selector item those
    whose labels, from namespace_labels, it selects), as an explicit namespace list; an item
    that targets none of them is left out. Nothing else of an item changes.
    """
    if kind not in _NAMESPACE_OPTIONS:
        raise InputError('kind must be one of %s, not %r' % (', '.join(sorted(_NAMESPACE_OPTIONS)), kind))
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InputError('the declaration must be a list of dicts')
    namespaces = set(namespaces or [])
    namespace_labels = namespace_labels or {}
    options = _NAMESPACE_OPTIONS[kind]
    restricted = []
    for item in items:
        targets = _targets(item, options, namespaces, namespace_labels)
        if not targets:
            continue
        limited = dict((k, copy.deepcopy(v)) for k, v in item.items() if k not in options)
        limited[options[1]] = targets
        restricted.append(limited)
    return restricted
