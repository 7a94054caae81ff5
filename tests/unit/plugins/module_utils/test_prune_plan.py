# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The prune planner: only an owner's own objects, unlink before delete, shared grants kept."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own
from ansible_collections.ocp.registry_access.plugins.module_utils import _prune as pr
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import DELETE, UNLINK, UPDATE
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError

MANAGED = {'app.kubernetes.io/managed-by': 'ocp.registry_access'}
PULLER = {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole', 'name': 'system:image-puller'}


def secret(ns, name, owner=None, managed=True):
    labels, annotations = own.owner_marks(owner) if owner else (dict(MANAGED) if managed else {}, {})
    if not managed:
        labels.pop('app.kubernetes.io/managed-by', None)
    return {'metadata': {'namespace': ns, 'name': name, 'labels': labels, 'annotations': annotations,
                         'resourceVersion': '7'}, 'type': 'kubernetes.io/dockerconfigjson'}


def sa(ns, name, pull=(), mount=()):
    return {'metadata': {'namespace': ns, 'name': name, 'resourceVersion': '3'},
            'imagePullSecrets': [{'name': n} for n in pull], 'secrets': [{'name': n} for n in mount]}


def sa_subject(ns, name='default'):
    return {'kind': 'ServiceAccount', 'namespace': ns, 'name': name}


def binding(ns, name, subjects, grants, managed=True, **annotations):
    labels, notes = own.with_grants({'metadata': {'labels': dict(MANAGED) if managed else {}}}, grants)
    notes.update(annotations)
    return {'metadata': {'namespace': ns, 'name': name, 'labels': labels, 'annotations': notes, 'resourceVersion': '9'},
            'roleRef': dict(PULLER), 'subjects': list(subjects)}


def test_only_the_owners_undeclared_secrets_are_pruned():
    listed = [secret('a', 'old', 'team-a'), secret('a', 'kept', 'team-a'), secret('b', 'old', 'team-b'),
              secret('c', 'old'), secret('d', 'old', managed=False)]
    doomed = pr.secrets_to_prune(listed, 'team-a', {('a', 'kept')})
    assert [pr.where(s) for s in doomed] == [('a', 'old')]


def test_a_secret_declared_in_another_namespace_is_pruned_where_it_fell_out():
    listed = [secret('a', 's', 'o'), secret('b', 's', 'o')]
    assert [pr.where(s) for s in pr.secrets_to_prune(listed, 'o', {('a', 's')})] == [('b', 's')]


def test_every_unlink_comes_before_the_delete_and_others_entries_stay():
    accounts = [sa('a', 'default', pull=['default-dockercfg-x', 'old']), sa('a', 'builder', mount=['old']),
                sa('a', 'deployer', pull=['other'])]
    plan = pr.plan_secret(secret('a', 'old', 'o'), accounts)
    steps = plan.steps()
    assert [(s.action, s.kind, s.name) for s in steps] == [
        (UNLINK, 'serviceaccount', 'builder'), (UNLINK, 'serviceaccount', 'default'), (DELETE, 'secret', 'old')]
    assert plan.linked == {'builder': ['mount'], 'default': ['pull']}
    assert plan.delete.resource_version == '7'


def test_declared_inputs_are_validated():
    assert pr.declared_secrets([{'namespace': 'a', 'name': 's', 'action': 'created', 'registries': []},
                                {'namespace': 'b', 'name': 's', 'action': 'deleted'}]) == {('a', 's')}
    assert pr.declared_grants([{'namespace': 'a', 'subject': 'group:g', 'role': 'r'}]) == {('a', 'ClusterRole', 'r', 'group:g')}
    for bad in ([{'namespace': 'a'}], ['a/s'], [{'namespace': '', 'name': 's'}]):
        with pytest.raises(InputError):
            pr.declared_secrets(bad)
    with pytest.raises(InputError):
        pr.declared_grants([{'namespace': 'a', 'subject': 'group:g'}])


def test_a_grant_only_this_owner_made_is_revoked_and_the_last_one_deletes_the_binding():
    s1 = sa_subject('x')
    b = binding('img', 'system:image-puller', [s1], {'o': ['system:serviceaccount:x:default']})
    step = pr.plan_binding(b, 'o', set())
    assert (step.action, step.removed) == (DELETE, ['system:serviceaccount:x:default'])
    declared = {('img', 'ClusterRole', 'system:image-puller', 'system:serviceaccount:x:default')}
    assert pr.plan_binding(b, 'o', declared) is None


def test_a_grant_shared_with_another_owner_stays_and_hand_made_subjects_stay():
    s1, s2, s3 = sa_subject('x'), sa_subject('y'), sa_subject('by-hand')
    b = binding('img', 'system:image-puller', [s3, s1, s2],
                {'o': ['system:serviceaccount:x:default', 'system:serviceaccount:y:default'],
                 'p': ['system:serviceaccount:y:default']})
    step = pr.plan_binding(b, 'o', set())
    assert step.action == UPDATE and step.removed == ['system:serviceaccount:x:default']
    assert step.subjects_after == ['system:serviceaccount:by-hand:default', 'system:serviceaccount:y:default']
    assert own.read_grants(step.body) == {'p': {'system:serviceaccount:y:default'}}
    assert own.grants_label('o') not in step.body['metadata']['labels']
    assert step.body['metadata']['labels'][own.grants_label('p')] == 'true'


@pytest.mark.parametrize('managed, annotations', [(False, {}), (True, {'rbac.authorization.kubernetes.io/autoupdate': 'false'})])
def test_an_emptied_binding_the_collection_did_not_create_or_kept_on_purpose_is_not_deleted(managed, annotations):
    b = binding('img', 'system:image-puller', [sa_subject('x')], {'o': ['system:serviceaccount:x:default']},
                managed=managed, **annotations)
    step = pr.plan_binding(b, 'o', set())
    assert step.action == UPDATE and step.body['subjects'] == []


def test_openshift_bindings_and_other_owners_grants_are_never_touched():
    grants = {'o': ['group:system:serviceaccounts:x']}
    assert pr.plan_binding(binding('img', 'system:image-pullers', [], grants), 'o', set()) is None
    assert pr.plan_binding(binding('img', 'b', [], grants), 'p', set()) is None
    bad = binding('img', 'b', [sa_subject('x')], {})
    bad['metadata']['annotations'][own.GRANTS_ANNOTATION] = 'not json'
    assert pr.plan_binding(bad, 'o', set()) is None


# -- properties ---------------------------------------------------------------------------------

names = st.sampled_from(['s1', 's2', 's3'])
namespaces = st.sampled_from(['a', 'b', 'c'])
owner_choice = st.sampled_from(['o', 'p', None, 'unmanaged'])


def make_secret(ns, name, who):
    if who == 'unmanaged':
        return secret(ns, name, managed=False)
    return secret(ns, name, who)


@given(st.lists(st.tuples(namespaces, names, owner_choice), unique_by=lambda t: t[:2]),
       st.sets(st.tuples(namespaces, names)))
@settings(max_examples=300, deadline=None)
def test_prune_touches_exactly_the_owners_undeclared_secrets(objects, declared):
    listed = [make_secret(*t) for t in objects]
    doomed = set(pr.where(s) for s in pr.secrets_to_prune(listed, 'o', declared))
    assert doomed == set((ns, n) for ns, n, who in objects if who == 'o' and (ns, n) not in declared)


subjects = st.sampled_from(['a', 'b', 'c', 'd'])


@given(st.lists(subjects, unique=True), st.dictionaries(st.sampled_from(['o', 'p']), st.sets(subjects)),
       st.sets(subjects), st.booleans())
@settings(max_examples=300, deadline=None)
def test_revoking_never_removes_a_subject_someone_else_holds(present, grants, declared_of_o, managed):
    subject_objs = [sa_subject(s) for s in present]
    b = binding('img', 'rb', subject_objs, dict((o, ['system:serviceaccount:%s:default' % s for s in ss])
                                                for o, ss in grants.items()), managed=managed)
    declared = set(('img', 'ClusterRole', 'system:image-puller', 'system:serviceaccount:%s:default' % s)
                   for s in declared_of_o)
    step = pr.plan_binding(b, 'o', declared)
    mine = set(grants.get('o', ()))
    others = set(grants.get('p', ()))
    revoked = (mine - declared_of_o) - others
    if not mine - declared_of_o:
        assert step is None
        return
    removed = set(s.split(':')[2] for s in step.removed)
    assert removed == revoked & set(present)
    after = set(present) - removed
    if step.action == DELETE:
        assert not after and managed
    else:
        assert set(s.split(':')[2] for s in step.subjects_after) == after
        recorded = own.read_grants(step.body)
        assert recorded.get('o', set()) == set('system:serviceaccount:%s:default' % s for s in mine & declared_of_o)
        assert recorded.get('p', set()) == set('system:serviceaccount:%s:default' % s for s in others)
    assert json.dumps(b)  # the input is left as it was (plain data)
