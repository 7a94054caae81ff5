# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Who holds an object: the managed-by label, the owner marker of a declaration, and the grants an owner made.

Pure functions over objects read from the server. An owner is a declaration's identity (for example
``team-a/enforce``). Every object the collection writes for an owner carries:

- the label ``app.kubernetes.io/managed-by: ocp.registry_access``;
- the label ``ocp.registry-access/owner`` with a label-safe form of the owner (selection by label);
- the annotation ``ocp.registry-access/owner`` with the owner exactly (the label-safe form of a long
  or unusual owner is shortened and hashed, so the annotation is what is compared).

A RoleBinding is shared: oc and several owners may put subjects in it. It records which owner added
which subject in the annotation ``ocp.registry-access/grants`` (JSON: owner -> subjects) and carries a
label ``grants.ocp.registry-access/<label-safe owner>`` per owner, so that an owner's bindings are
found by label. Only a binding the collection created carries the managed-by label.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

from ansible_collections.ocp.registry_access.plugins.module_utils._constants import CREATE, DELETE, MANAGED_BY, UNCHANGED, UPDATE
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError, PlanError
from ansible_collections.ocp.registry_access.plugins.module_utils._subjects import subject_to_string

OWNER_LABEL = 'ocp.registry-access/owner'
OWNER_ANNOTATION = 'ocp.registry-access/owner'
GRANTS_ANNOTATION = 'ocp.registry-access/grants'
GRANTS_LABEL_PREFIX = 'grants.ocp.registry-access/'
MANAGED_BY_KEY, MANAGED_BY_VALUE = list(MANAGED_BY.items())[0]

# What pull_secret (and image_puller_binding, for a named binding) does with an object of the same name that the
# collection did not create, or that another owner holds.
FAIL, ADOPT, OVERWRITE = 'fail', 'adopt', 'overwrite'
POLICIES = (FAIL, ADOPT, OVERWRITE)
# How the result names who held the object (ownership).
CREATED, MANAGED, ADOPTED, OVERWRITTEN = 'created', 'managed', 'adopted', 'overwritten'
OWNERSHIPS = (CREATED, MANAGED, ADOPTED, OVERWRITTEN)

OWNER_MAX_LENGTH = 253
LABEL_VALUE_MAX = 63
_LABEL_VALUE = re.compile(r'([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?')
_HASH_DIGITS = 10


class OwnershipConflict(PlanError):
    """The object is held by someone else and the policy is fail (nothing is written)."""


def validate_owner(owner):
    """owner if it can be recorded (printable, no surrounding space, at most 253 characters), else InputError."""
    if owner is None:
        return None
    if not isinstance(owner, str) or not owner.strip():
        raise InputError('owner must be a non-empty string, got %r' % (owner,))
    if owner != owner.strip() or len(owner) > OWNER_MAX_LENGTH or any(ord(c) < 0x20 or ord(c) == 0x7f for c in owner):
        raise InputError('owner %r must be at most %d printable characters without leading or trailing spaces'
                         % (owner, OWNER_MAX_LENGTH))
    return owner


def is_label_value(text):
    return len(text) <= LABEL_VALUE_MAX and _LABEL_VALUE.fullmatch(text) is not None


def owner_label_value(owner):
    """The label-safe form of owner: owner itself when it is a valid label value, else a readable part and a hash.

    Two owners may (by design of a malicious name only) share a form; the annotation holds the exact owner and
    owned_by compares it, so selection by label finds candidates and the annotation decides.
    """
    if is_label_value(owner):
        return owner
    digest = hashlib.sha256(owner.encode('utf-8')).hexdigest()[:_HASH_DIGITS]
    readable = re.sub(r'[^-A-Za-z0-9_.]+', '.', owner)
    readable = readable[:LABEL_VALUE_MAX - _HASH_DIGITS - 2].strip('-_.')
    return '%s--%s' % (readable, digest) if readable else 'h--%s' % digest


def grants_label(owner):
    """The label key that marks a RoleBinding in which owner granted subjects."""
    return GRANTS_LABEL_PREFIX + owner_label_value(owner)


def owner_selector(owner):
    """Label selector of the objects an owner manages (secrets): managed-by and the owner label."""
    return '%s=%s,%s=%s' % (MANAGED_BY_KEY, MANAGED_BY_VALUE, OWNER_LABEL, owner_label_value(owner))


def _metadata(obj):
    return (obj or {}).get('metadata') or {}


def is_managed(obj):
    """Whether the collection created (or adopted) the object: it carries the managed-by label."""
    return (_metadata(obj).get('labels') or {}).get(MANAGED_BY_KEY) == MANAGED_BY_VALUE


def owner_of(obj):
    """The owner recorded on an object, exactly, or None (an object written without owner, or not by us).

    The annotation holds the exact owner; a label without it (edited by hand) counts as its label-safe value.
    """
    meta = _metadata(obj)
    annotated = (meta.get('annotations') or {}).get(OWNER_ANNOTATION)
    if annotated:
        return annotated
    return (meta.get('labels') or {}).get(OWNER_LABEL) or None


def owned_by(obj, owner):
    """Whether owner manages obj: the managed-by label, the owner label in its label-safe form and the exact owner."""
    if owner is None or not is_managed(obj):
        return False
    labels = _metadata(obj).get('labels') or {}
    return labels.get(OWNER_LABEL) == owner_label_value(owner) and owner_of(obj) == owner


def holder(obj):
    """Who holds an existing object, in words, for messages: 'someone else' or 'owner X'."""
    if not is_managed(obj):
        return 'someone else: it lacks the label %s=%s' % (MANAGED_BY_KEY, MANAGED_BY_VALUE)
    return 'the owner %s' % owner_of(obj)


def ownership(existing, owner, policy):
    """How a declaration of owner (None: no owner) may write an existing object: CREATED, MANAGED, ADOPTED or
    OVERWRITTEN; OwnershipConflict when someone else holds it and policy is FAIL.

    Held by someone else: not managed by the collection, or managed for another owner. A managed object
    without an owner belongs to no declaration yet: it is MANAGED, and an owner that declares it claims it.
    """
    if existing is None:
        return CREATED
    recorded = owner_of(existing) if is_managed(existing) else None
    if is_managed(existing) and (recorded is None or recorded == owner):
        return MANAGED
    if policy == ADOPT:
        return ADOPTED
    if policy == OVERWRITE:
        return OVERWRITTEN
    raise OwnershipConflict('it is held by %s' % holder(existing))


def conflict_message(conflicts, what, option='unmanaged'):
    """One message naming every conflicting object (where, why) and the option that changes the outcome."""
    shown = ['%s (%s)' % (where, why) for where, why in conflicts[:10]]
    if len(conflicts) > 10:
        shown.append('... and %d more' % (len(conflicts) - 10))
    return ('nothing was changed: %s of that name that this declaration does not hold: %s; set %s: adopt to take '
            'them over (what the declaration does not set stays), or %s: overwrite to replace them with the '
            'declaration' % (what, '; '.join(shown), option, option))


def marked_metadata(metadata, owner):
    """(labels, annotations) of an object written for owner: the managed-by label and the owner marker set, the
    marker of another owner removed (owner None: no marker at all)."""
    labels = dict(metadata.get('labels') or {})
    annotations = dict(metadata.get('annotations') or {})
    labels.update(MANAGED_BY)
    if owner is None:
        labels.pop(OWNER_LABEL, None)
        annotations.pop(OWNER_ANNOTATION, None)
    else:
        labels[OWNER_LABEL] = owner_label_value(owner)
        annotations[OWNER_ANNOTATION] = owner
    return labels, annotations


def owner_marks(owner):
    """(labels, annotations) every object written for owner carries (managed-by included)."""
    return marked_metadata({}, owner)


# -- grants recorded on RoleBindings ------------------------------------------------------------

def read_grants(binding):
    """{owner: set of subject strings} recorded on a RoleBinding ({} when none, or when the record is unreadable:
    an unreadable record grants nothing, so prune never acts on it)."""
    text = (_metadata(binding).get('annotations') or {}).get(GRANTS_ANNOTATION)
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return dict((owner, set(s for s in subjects if isinstance(s, str)))
                for owner, subjects in raw.items() if isinstance(owner, str) and isinstance(subjects, list))


def with_grants(binding, grants):
    """A copy of binding's metadata labels and annotations carrying grants ({owner: subjects}) and one label per owner."""
    meta = _metadata(binding)
    labels = dict((k, v) for k, v in (meta.get('labels') or {}).items() if not k.startswith(GRANTS_LABEL_PREFIX))
    annotations = dict(meta.get('annotations') or {})
    kept = dict((owner, sorted(subjects)) for owner, subjects in grants.items() if subjects)
    if kept:
        annotations[GRANTS_ANNOTATION] = json.dumps(kept, sort_keys=True, separators=(',', ':'))
        for owner in kept:
            labels[grants_label(owner)] = 'true'
    else:
        annotations.pop(GRANTS_ANNOTATION, None)
    return labels, annotations


def recorded_grants(grants, owner, added, held):
    """grants ({owner: subjects}) once owner's declaration is applied to a binding.

    added: subject strings this run adds to the binding (recorded for owner); held: subject strings the declaration
    asks for that the binding already holds - recorded for owner too when another owner recorded them (a grant the
    collection made, which owner now shares), never when nobody did (a grant someone else made by hand).
    """
    grants = dict((o, set(s)) for o, s in grants.items())
    recorded_by_anyone = set().union(*grants.values()) if grants else set()
    mine = grants.setdefault(owner, set())
    mine.update(added)
    mine.update(s for s in held if s in recorded_by_anyone)
    return grants


def forget_subjects(grants, removed):
    """grants without the removed subject strings (a subject taken out of a binding is nobody's grant any more)."""
    removed = set(removed)
    return dict((o, set(s) - removed) for o, s in grants.items())


def _subject_strings(subjects):
    return [subject_to_string(s) for s in subjects or []]


def mark_bindings(actions, owner, requested=(), claim=None):
    """The actions of _subjects.plan_add / plan_remove with the records and marks their bindings must carry.

    Each binding written records which subjects owner granted (none without owner) and forgets the subjects taken
    out of it; a binding this run creates, and the one named claim (a rolebinding_name that owner manages, adopts
    or overwrites), also gets the managed-by label and owner's marker. requested: the subject strings the
    declaration asks for. An 'unchanged' action whose records or marks change becomes an 'update'.
    """
    marked = []
    for action in actions:
        if action['action'] == DELETE:
            marked.append(action)
            continue
        binding = copy.deepcopy(action['binding'])
        present = set(_subject_strings(binding.get('subjects')))
        added = _subject_strings(action.get('added'))
        grants = forget_subjects(read_grants(binding), _subject_strings(action.get('removed')))
        if owner is not None:
            held = [s for s in requested if s in present and s not in added]
            grants = recorded_grants(grants, owner, added, held)
        meta = binding.setdefault('metadata', {})
        labels, annotations = with_grants(binding, grants)
        if action['action'] == CREATE or action['name'] == claim:
            labels, annotations = marked_metadata({'labels': labels, 'annotations': annotations}, owner)
        changed = labels != (meta.get('labels') or {}) or annotations != (meta.get('annotations') or {})
        meta['labels'], meta['annotations'] = labels, annotations
        kind = UPDATE if action['action'] == UNCHANGED and changed else action['action']
        marked.append(dict(action, action=kind, binding=binding))
    return marked
