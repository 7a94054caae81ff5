# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Owner markers, the ownership decision for an existing object, and the grants recorded on a RoleBinding."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError

MANAGED = {'app.kubernetes.io/managed-by': 'ocp.registry_access'}


def obj(labels=None, annotations=None):
    return {'metadata': {'name': 'x', 'namespace': 'ns', 'labels': labels or {}, 'annotations': annotations or {}}}


def marked(owner):
    labels, annotations = own.owner_marks(owner)
    return obj(labels, annotations)


owners = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2fff, blacklist_characters='\x7f'),
                 min_size=1, max_size=120).map(str.strip).filter(bool)


@given(owners)
@settings(max_examples=300, deadline=None)
def test_every_owner_gets_a_valid_label_value_and_is_recognised(owner):
    value = own.owner_label_value(owner)
    assert own.is_label_value(value) and value
    assert own.owned_by(marked(owner), owner)


@given(owners, owners)
@settings(max_examples=300, deadline=None)
def test_two_owners_never_hold_each_others_objects(a, b):
    if a != b:
        assert not own.owned_by(marked(a), b)
        assert not own.owned_by(marked(b), a)


def test_a_label_safe_owner_is_its_own_label_and_others_are_hashed():
    assert own.owner_label_value('team-a.enforce') == 'team-a.enforce'
    value = own.owner_label_value('team-a/enforce')
    assert value.startswith('team-a.enforce--') and len(value) == len('team-a.enforce--') + 10
    assert own.owner_label_value('x' * 200) != own.owner_label_value('x' * 201)
    assert own.owner_selector('team-a/enforce') == (
        'app.kubernetes.io/managed-by=ocp.registry_access,ocp.registry-access/owner=' + value)


@pytest.mark.parametrize('owner', ['', '   ', ' team', 'team\n', 'a\x00b', 'x' * 254, 3])
def test_bad_owners_are_refused(owner):
    with pytest.raises(InputError):
        own.validate_owner(owner)


def test_an_owner_label_without_the_managed_by_label_is_not_owned():
    labels, annotations = own.owner_marks('team-a')
    del labels['app.kubernetes.io/managed-by']
    assert not own.owned_by(obj(labels, annotations), 'team-a')


def test_a_label_whose_annotation_names_another_owner_is_not_owned():
    labels = own.owner_marks('team-a')[0]
    assert not own.owned_by(obj(labels, {own.OWNER_ANNOTATION: 'team-b'}), 'team-a')


@pytest.mark.parametrize('existing, owner, expected', [
    (None, 'team-a', own.CREATED),
    (None, None, own.CREATED),
    (obj(MANAGED), 'team-a', own.MANAGED),        # managed, no owner yet: the declaration claims it
    (obj(MANAGED), None, own.MANAGED),
    (marked('team-a'), 'team-a', own.MANAGED),
])
def test_ownership_of_objects_this_declaration_may_write(existing, owner, expected):
    for policy in own.POLICIES:
        assert own.ownership(existing, owner, policy) == expected


@pytest.mark.parametrize('existing, owner', [
    (obj(), 'team-a'), (obj(), None),              # the collection did not create it
    (marked('team-b'), 'team-a'),                  # another owner holds it
    (marked('team-b'), None),
])
def test_ownership_of_objects_someone_else_holds_follows_the_policy(existing, owner):
    with pytest.raises(own.OwnershipConflict):
        own.ownership(existing, owner, own.FAIL)
    assert own.ownership(existing, owner, own.ADOPT) == own.ADOPTED
    assert own.ownership(existing, owner, own.OVERWRITE) == own.OVERWRITTEN


def test_conflict_message_names_every_namespace_and_the_option():
    msg = own.conflict_message([('a/s', 'held by someone else'), ('b/s', 'held by the owner x')], 'secrets')
    assert 'a/s' in msg and 'b/s' in msg and 'unmanaged: adopt' in msg and 'unmanaged: overwrite' in msg
    assert msg.startswith('nothing was changed')


def test_marking_for_no_owner_removes_another_owners_marker():
    labels, annotations = own.owner_marks('team-b')
    labels['keep'] = 'me'
    labels2, annotations2 = own.marked_metadata({'labels': labels, 'annotations': annotations}, None)
    assert labels2 == dict(MANAGED, keep='me') and annotations2 == {}


# -- grants on RoleBindings ---------------------------------------------------------------------

def test_grants_round_trip_with_one_label_per_owner():
    labels, annotations = own.with_grants(obj({'other': 'x'}), {'team-a': {'s1', 's2'}, 'team/b': {'s2'}, 'empty': set()})
    binding = obj(labels, annotations)
    assert own.read_grants(binding) == {'team-a': {'s1', 's2'}, 'team/b': {'s2'}}
    assert labels == {'other': 'x', own.grants_label('team-a'): 'true', own.grants_label('team/b'): 'true'}
    labels, annotations = own.with_grants(binding, {})
    assert labels == {'other': 'x'} and own.GRANTS_ANNOTATION not in annotations


@pytest.mark.parametrize('text', ['not json', '[1]', '{"a": "b"}', '{"a": [1]}'])
def test_an_unreadable_grants_record_grants_nothing(text):
    grants = own.read_grants(obj(annotations={own.GRANTS_ANNOTATION: text}))
    assert all(not subjects for subjects in grants.values())


def test_recording_shares_a_collection_grant_but_never_claims_a_hand_made_one():
    binding = obj(annotations={own.GRANTS_ANNOTATION: json.dumps({'team-a': ['s1']})})
    grants = own.recorded_grants(own.read_grants(binding), 'team-b', added=['s3'], held=['s1', 'by-hand'])
    assert grants == {'team-a': {'s1'}, 'team-b': {'s1', 's3'}}
    assert own.forget_subjects(grants, ['s1']) == {'team-a': set(), 'team-b': {'s3'}}


# -- marking the actions of the binding planner -------------------------------------------------

from ansible_collections.ocp.registry_access.plugins.module_utils import _subjects as subj  # noqa: E402

PULLER = subj.role_ref('system:image-puller')
X = subj.all_service_accounts_subject('x')
Y = subj.all_service_accounts_subject('y')
XS, YS = subj.subject_to_string(X), subj.subject_to_string(Y)


def rb(name, subjects, grants=None):
    labels, annotations = own.with_grants({}, grants or {})
    return {'metadata': {'name': name, 'labels': labels, 'annotations': annotations},
            'roleRef': dict(PULLER), 'subjects': list(subjects)}


def test_a_created_binding_is_marked_and_records_its_owners_subjects():
    actions = own.mark_bindings(subj.plan_add([], PULLER, [X]), 'team-a', [XS])
    [action] = actions
    meta = action['binding']['metadata']
    assert action['action'] == 'create'
    assert meta['labels'][own.MANAGED_BY_KEY] == own.MANAGED_BY_VALUE and meta['annotations'][own.OWNER_ANNOTATION] == 'team-a'
    assert own.read_grants(action['binding']) == {'team-a': {XS}}


def test_a_second_owner_shares_a_collection_grant_but_not_one_made_by_hand():
    made = rb('system:image-puller', [X, Y], grants={'team-a': [XS]})
    actions = own.mark_bindings(subj.plan_add([made], PULLER, [X, Y]), 'team-b', [XS, YS])
    assert [a['action'] for a in actions] == ['update']
    assert own.read_grants(actions[0]['binding']) == {'team-a': {XS}, 'team-b': {XS}}
    # once recorded, nothing changes any more
    again = own.mark_bindings(subj.plan_add([actions[0]['binding']], PULLER, [X, Y]), 'team-b', [XS, YS])
    assert [a['action'] for a in again] == ['unchanged']


def test_without_owner_nothing_is_recorded_and_removed_subjects_are_forgotten():
    made = rb('system:image-puller', [X, Y], grants={'team-a': [XS, YS]})
    assert [a['action'] for a in own.mark_bindings(subj.plan_add([made], PULLER, [X]), None, [XS])] == ['unchanged']
    [action] = own.mark_bindings(subj.plan_remove([made], PULLER, [Y]), None)
    assert action['action'] == 'update' and own.read_grants(action['binding']) == {'team-a': {XS}}
