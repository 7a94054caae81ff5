# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _subjects as subj

PULLER = subj.role_ref('system:image-puller')
BUILDER = subj.role_ref('system:image-builder')
EDIT = subj.role_ref('edit')

SA_A = {'kind': 'ServiceAccount', 'name': 'default', 'namespace': 'project-a'}
SA_B = {'kind': 'ServiceAccount', 'name': 'builder', 'namespace': 'project-b'}
ALL_A = {'kind': 'Group', 'apiGroup': subj.RBAC_API_GROUP, 'name': 'system:serviceaccounts:project-a'}
ALICE = {'kind': 'User', 'apiGroup': subj.RBAC_API_GROUP, 'name': 'alice'}
DEVS = {'kind': 'Group', 'apiGroup': subj.RBAC_API_GROUP, 'name': 'devs'}


def binding(name, ref, subjects, **metadata):
    metadata = dict(metadata, name=name)
    return {'metadata': metadata, 'roleRef': copy.deepcopy(ref), 'subjects': copy.deepcopy(subjects)}


def actions_by_name(actions):
    return {action['name']: action for action in actions}


def changes(actions):
    return [action for action in actions if action['action'] != 'unchanged']


# ---------------------------------------------------------------- parsing subjects

@pytest.mark.parametrize('value', [
    'project-a:default',
    'system:serviceaccount:project-a:default',
    {'namespace': 'project-a', 'name': 'default'},
])
def test_service_account_accepts_every_documented_form(value):
    assert subj.service_account_subject(value) == SA_A


def test_service_account_subject_has_namespace_and_no_api_group_as_oc_writes_it():
    subject = subj.service_account_subject('project-a:default')
    assert set(subject) == {'kind', 'name', 'namespace'}


def test_service_account_name_may_be_a_dns_subdomain():
    assert subj.service_account_subject('ns:robot.v2')['name'] == 'robot.v2'


@pytest.mark.parametrize('value, fragment', [
    ('Project-a:default', "'Project-a'"),
    ('project_a:default', "'project_a'"),
    ('project-a:Default', "'Default'"),
    ('-project:default', "'-project'"),
    ('project-:default', "'project-'"),
    ('%s:default' % ('a' * 64), 'DNS-1123 label'),
    ('ns:%s' % ('a' * 254), 'DNS-1123 subdomain'),
    ('ns:robot..v2', "'robot..v2'"),
    ('a:b:c', 'NAMESPACE:NAME'),
    ('default', 'NAMESPACE:NAME'),
    (':default', 'NAMESPACE:NAME'),
    ('project-a:', 'NAMESPACE:NAME'),
    ('system:serviceaccount:project-a', 'system:serviceaccount:NAMESPACE:NAME'),
    ('system:serviceaccount:project-a:', 'system:serviceaccount:NAMESPACE:NAME'),
    ('system:serviceaccount:a:b:c', 'system:serviceaccount:NAMESPACE:NAME'),
    ('system:serviceaccounts:project-a', 'all_service_accounts_in'),
    ('', 'must not be empty'),
    ('   ', 'must not be empty'),
    (' project-a:default', 'whitespace'),
    (42, 'must be a string'),
    (None, 'must be a string'),
    ({'namespace': 'project-a'}, 'namespace and name'),
    ({'namespace': 'project-a', 'name': 'default', 'ns': 'x'}, 'namespace and name'),
    ({'namespace': 'project-a', 'name': 7}, 'must be a string'),
])
def test_service_account_rejects_malformed_values_naming_them(value, fragment):
    with pytest.raises(subj.SubjectError) as error:
        subj.service_account_subject(value)
    assert fragment in str(error.value)


def test_subject_error_is_a_value_error():
    assert issubclass(subj.SubjectError, ValueError)


@pytest.mark.parametrize('name', ['a', 'project-a', 'a' * 63, '0abc'])
def test_validate_namespace_accepts_dns_labels(name):
    assert subj.validate_namespace(name) == name


@pytest.mark.parametrize('name', ['A', 'a_b', 'a' * 64, '', '-a', 'a-', 'a.b', 'a\n', 3])
def test_validate_namespace_rejects_non_labels(name):
    with pytest.raises(subj.SubjectError):
        subj.validate_namespace(name)


@pytest.mark.parametrize('name', ['a', 'a.b-c', '.'.join(['a' * 63] * 4)[:253]])
def test_validate_service_account_name_accepts_dns_subdomains(name):
    assert subj.validate_service_account_name(name) == name


@pytest.mark.parametrize('name', ['A', 'a_b', 'a' * 254, '', '.a', 'a.', 'a..b', None])
def test_validate_service_account_name_rejects_non_subdomains(name):
    with pytest.raises(subj.SubjectError):
        subj.validate_service_account_name(name)


def test_group_and_user_subjects_carry_the_rbac_api_group_as_oc_writes_them():
    assert subj.group_subject('devs') == DEVS
    assert subj.user_subject('alice') == ALICE


def test_user_in_service_account_form_becomes_a_service_account_as_in_oc():
    assert subj.user_subject('system:serviceaccount:project-a:default') == SA_A


@pytest.mark.parametrize('name', ['system:serviceaccount:project-a', 'system:serviceaccount:Bad:x'])
def test_user_with_malformed_service_account_form_is_rejected(name):
    with pytest.raises(subj.SubjectError):
        subj.user_subject(name)


def test_user_named_like_a_service_account_group_is_rejected():
    with pytest.raises(subj.SubjectError, match='group name'):
        subj.user_subject('system:serviceaccounts:project-a')


@pytest.mark.parametrize('make', [subj.group_subject, subj.user_subject])
@pytest.mark.parametrize('name', ['', '  ', '\t', None, 5])
def test_group_and_user_reject_empty_or_non_text_names(make, name):
    with pytest.raises(subj.SubjectError):
        make(name)


def test_all_service_accounts_of_a_project_is_the_serviceaccounts_group():
    assert subj.all_service_accounts_subject('project-a') == ALL_A


def test_all_service_accounts_validates_the_namespace():
    with pytest.raises(subj.SubjectError, match='Project-A'):
        subj.all_service_accounts_subject('Project-A')


def test_build_subjects_orders_by_option_and_drops_duplicates():
    subjects = subj.build_subjects(
        service_accounts=['project-a:default', 'system:serviceaccount:project-a:default', {'namespace': 'project-b', 'name': 'builder'}],
        all_service_accounts_in=['project-a', 'project-a'],
        groups=['devs', 'system:serviceaccounts:project-a'],
        users=['alice', 'system:serviceaccount:project-b:builder', 'alice'],
    )
    assert subjects == [SA_A, SA_B, ALL_A, DEVS, ALICE]


def test_build_subjects_treats_none_as_no_subjects():
    assert subj.build_subjects(None, None, None, None) == []
    assert subj.build_subjects() == []


def test_subjects_compare_on_kind_name_and_namespace_ignoring_api_group():
    without_group = {'kind': 'User', 'name': 'alice'}
    assert subj.subject_key(without_group) == subj.subject_key(ALICE) == ('User', 'alice', '')
    assert subj.subject_key(SA_A) == ('ServiceAccount', 'default', 'project-a')
    assert subj.subject_key({'kind': 'Group', 'name': 'alice'}) != subj.subject_key(ALICE)


@pytest.mark.parametrize('subject, text', [
    (SA_A, 'system:serviceaccount:project-a:default'),
    ({'kind': 'ServiceAccount', 'name': 'robot'}, 'serviceaccount:robot'),
    (DEVS, 'group:devs'),
    (ALICE, 'user:alice'),
    ({'kind': 'Odd', 'name': 'x'}, 'odd:x'),
])
def test_subject_to_string_is_readable_and_names_the_kind(subject, text):
    assert subj.subject_to_string(subject) == text


def test_role_ref_defaults_to_a_cluster_role():
    assert subj.role_ref('system:image-puller') == {'apiGroup': subj.RBAC_API_GROUP, 'kind': 'ClusterRole', 'name': 'system:image-puller'}
    assert subj.role_ref('puller', 'Role')['kind'] == 'Role'


@pytest.mark.parametrize('role, kind', [('', 'ClusterRole'), (None, 'ClusterRole'), ('x', 'ClusterRoleBinding')])
def test_role_ref_rejects_bad_input(role, kind):
    with pytest.raises(subj.SubjectError):
        subj.role_ref(role, kind)


def test_same_role_ref_compares_kind_and_name_only():
    assert subj.same_role_ref(PULLER, {'kind': 'ClusterRole', 'name': 'system:image-puller'})
    assert not subj.same_role_ref(PULLER, subj.role_ref('system:image-puller', 'Role'))
    assert not subj.same_role_ref(PULLER, BUILDER)
    assert not subj.same_role_ref(PULLER, None)


def test_protected_bindings_include_openshifts_default_bindings():
    assert {'system:image-pullers', 'system:image-builders', 'system:deployers'} <= subj.PROTECTED_BINDINGS


def test_binding_summary_shows_role_and_readable_subjects():
    summary = subj.binding_summary(binding('system:image-puller', PULLER, [SA_A, DEVS]))
    assert summary == {
        'name': 'system:image-puller', 'role': 'system:image-puller', 'role_kind': 'ClusterRole',
        'subjects': ['system:serviceaccount:project-a:default', 'group:devs'],
    }


# ---------------------------------------------------------------- plan_add

def test_add_without_bindings_creates_the_role_named_binding():
    actions = subj.plan_add([], PULLER, [SA_A])
    assert actions == [{
        'action': 'create', 'name': 'system:image-puller',
        'binding': {
            'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'RoleBinding',
            'metadata': {'name': 'system:image-puller'}, 'roleRef': PULLER, 'subjects': [SA_A],
        },
        'added': [SA_A], 'removed': [],
    }]


def test_add_is_satisfied_by_openshifts_image_pullers_binding():
    pullers = binding('system:image-pullers', PULLER, [ALL_A])
    actions = subj.plan_add([pullers], PULLER, [ALL_A])
    assert changes(actions) == []
    assert [(a['action'], a['name']) for a in actions] == [('unchanged', 'system:image-pullers')]


def test_add_is_satisfied_by_a_binding_with_another_name_and_the_same_role():
    actions = subj.plan_add([binding('custom', PULLER, [SA_A])], PULLER, [SA_A])
    assert [(a['action'], a['name']) for a in actions] == [('unchanged', 'custom')]


def test_add_ignores_subjects_bound_to_another_role():
    actions = subj.plan_add([binding('builders', BUILDER, [SA_A])], PULLER, [SA_A])
    assert [(a['action'], a['name']) for a in actions] == [('create', 'system:image-puller')]


def test_add_matches_existing_subjects_regardless_of_api_group():
    existing = binding('system:image-puller', PULLER, [{'kind': 'User', 'name': 'alice'}])
    assert changes(subj.plan_add([existing], PULLER, [ALICE])) == []


def test_add_appends_to_the_role_named_binding_keeping_its_subjects_in_order():
    existing = binding('system:image-puller', PULLER, [DEVS, ALICE])
    action, = subj.plan_add([existing], PULLER, [SA_A, DEVS])
    assert action['action'] == 'update'
    assert action['binding']['subjects'] == [DEVS, ALICE, SA_A]
    assert action['added'] == [SA_A]
    assert action['removed'] == []


def test_add_only_grants_what_no_binding_grants_yet():
    pullers = binding('system:image-pullers', PULLER, [ALL_A])
    actions = subj.plan_add([pullers], PULLER, [ALL_A, SA_B])
    assert [(a['action'], a['name']) for a in actions] == [('create', 'system:image-puller'), ('unchanged', 'system:image-pullers')]
    assert actions[0]['binding']['subjects'] == [SA_B]


def test_add_update_carries_resource_version_and_metadata():
    existing = binding('system:image-puller', PULLER, [DEVS], resourceVersion='41', uid='u-1', namespace='project-b',
                       labels={'team': 'x'}, annotations={'note': 'y'}, managedFields=[{'manager': 'oc'}])
    action, = subj.plan_add([existing], PULLER, [SA_A])
    metadata = action['binding']['metadata']
    assert metadata['resourceVersion'] == '41'
    assert metadata['uid'] == 'u-1'
    assert metadata['labels'] == {'team': 'x'}
    assert metadata['annotations'] == {'note': 'y'}
    assert 'managedFields' not in metadata
    assert action['binding']['apiVersion'] == 'rbac.authorization.k8s.io/v1'
    assert action['binding']['kind'] == 'RoleBinding'


def test_add_uses_suffix_zero_when_the_role_name_is_taken_by_another_role():
    taken = binding('system:image-puller', EDIT, [ALICE])
    action, = subj.plan_add([taken], PULLER, [SA_A])
    assert (action['action'], action['name']) == ('create', 'system:image-puller-0')
    assert action['binding']['metadata']['name'] == 'system:image-puller-0'


def test_add_uses_the_next_suffix_when_zero_is_taken_too():
    bindings = [binding('system:image-puller', EDIT, []), binding('system:image-puller-0', BUILDER, [])]
    action, = subj.plan_add(bindings, PULLER, [SA_A])
    assert (action['action'], action['name']) == ('create', 'system:image-puller-1')


def test_add_reuses_a_suffixed_binding_that_holds_the_role():
    bindings = [binding('system:image-puller', EDIT, []), binding('system:image-puller-0', PULLER, [DEVS])]
    action, = subj.plan_add(bindings, PULLER, [SA_A])
    assert (action['action'], action['name']) == ('update', 'system:image-puller-0')
    assert action['binding']['subjects'] == [DEVS, SA_A]


def test_add_prefers_an_existing_suffixed_binding_of_the_role_over_a_free_lower_name():
    bindings = [binding('system:image-puller', EDIT, []), binding('system:image-puller-1', PULLER, [])]
    action, = subj.plan_add(bindings, PULLER, [SA_A])
    assert (action['action'], action['name']) == ('update', 'system:image-puller-1')


def all_names_taken():
    names = ['system:image-puller'] + ['system:image-puller-%d' % index for index in range(100)]
    return [binding(name, EDIT, []) for name in names]


def test_add_fails_when_all_hundred_names_are_taken_by_other_roles():
    with pytest.raises(subj.SubjectError, match='rolebinding_name'):
        subj.plan_add(all_names_taken(), PULLER, [SA_A])


def test_add_with_all_names_taken_succeeds_when_nothing_must_be_created():
    bindings = all_names_taken() + [binding('custom', PULLER, [SA_A])]
    assert changes(subj.plan_add(bindings, PULLER, [SA_A])) == []


def test_add_never_changes_a_protected_binding():
    bindings = [binding('system:image-pullers', PULLER, [ALL_A]), binding('system:deployers', PULLER, [])]
    actions = subj.plan_add(bindings, PULLER, [ALL_A, SA_A], exclusive=True)
    assert {a['name'] for a in changes(actions)} == {'system:image-puller'}


def test_add_with_rolebinding_name_creates_that_binding():
    action, = subj.plan_add([], PULLER, [SA_A], rolebinding_name='pull-from-a')
    assert (action['action'], action['name']) == ('create', 'pull-from-a')


def test_add_with_rolebinding_name_is_satisfied_only_by_that_binding():
    bindings = [binding('system:image-pullers', PULLER, [ALL_A]), binding('pull-from-a', PULLER, [DEVS])]
    actions = subj.plan_add(bindings, PULLER, [ALL_A], rolebinding_name='pull-from-a')
    assert [(a['action'], a['name']) for a in actions] == [('update', 'pull-from-a')]
    assert actions[0]['binding']['subjects'] == [DEVS, ALL_A]


def test_add_with_rolebinding_name_unchanged_when_it_grants_everything():
    actions = subj.plan_add([binding('pull-from-a', PULLER, [SA_A, DEVS])], PULLER, [SA_A], rolebinding_name='pull-from-a')
    assert [(a['action'], a['name']) for a in actions] == [('unchanged', 'pull-from-a')]


def test_add_with_rolebinding_name_of_another_role_fails():
    with pytest.raises(subj.SubjectError, match='pull-from-a exists for ClusterRole edit'):
        subj.plan_add([binding('pull-from-a', EDIT, [])], PULLER, [SA_A], rolebinding_name='pull-from-a')


@pytest.mark.parametrize('name', sorted(subj.PROTECTED_BINDINGS))
def test_add_with_a_protected_rolebinding_name_fails(name):
    with pytest.raises(subj.SubjectError, match='managed by OpenShift'):
        subj.plan_add([], PULLER, [SA_A], rolebinding_name=name)


@pytest.mark.parametrize('name', ['', 'a/b', '..', 5])
def test_add_with_an_invalid_rolebinding_name_fails(name):
    with pytest.raises(subj.SubjectError):
        subj.plan_add([], PULLER, [SA_A], rolebinding_name=name)


def test_exclusive_removes_extras_only_from_the_managed_binding():
    bindings = [
        binding('system:image-puller', PULLER, [ALICE, SA_A, DEVS]),
        binding('custom', PULLER, [ALICE]),
        binding('system:image-pullers', PULLER, [ALL_A]),
    ]
    actions = subj.plan_add(bindings, PULLER, [SA_A, SA_B], exclusive=True)
    assert [(a['action'], a['name']) for a in actions] == [('update', 'system:image-puller')]
    assert actions[0]['binding']['subjects'] == [SA_A, SA_B]
    assert actions[0]['added'] == [SA_B]
    assert actions[0]['removed'] == [ALICE, DEVS]


def test_exclusive_grants_in_the_managed_binding_even_when_granted_elsewhere():
    bindings = [binding('system:image-pullers', PULLER, [ALL_A])]
    action, = subj.plan_add(bindings, PULLER, [ALL_A], exclusive=True)
    assert (action['action'], action['name']) == ('create', 'system:image-puller')


def test_exclusive_with_rolebinding_name_manages_that_binding():
    bindings = [binding('system:image-puller', PULLER, [ALICE]), binding('mine', PULLER, [DEVS, SA_A])]
    action, = subj.plan_add(bindings, PULLER, [SA_A], rolebinding_name='mine', exclusive=True)
    assert (action['action'], action['name']) == ('update', 'mine')
    assert action['binding']['subjects'] == [SA_A]
    assert action['removed'] == [DEVS]


def test_exclusive_unchanged_when_the_binding_holds_exactly_the_subjects():
    actions = subj.plan_add([binding('system:image-puller', PULLER, [SA_A, DEVS])], PULLER, [DEVS, SA_A], exclusive=True)
    assert [(a['action'], a['name']) for a in actions] == [('unchanged', 'system:image-puller')]


def test_exclusive_drops_duplicate_entries():
    action, = subj.plan_add([binding('system:image-puller', PULLER, [SA_A, SA_A])], PULLER, [SA_A], exclusive=True)
    assert action['binding']['subjects'] == [SA_A]
    assert action['removed'] == [SA_A]


def test_exclusive_without_subjects_empties_the_binding_and_creates_nothing():
    action, = subj.plan_add([binding('system:image-puller', PULLER, [SA_A])], PULLER, [], exclusive=True)
    assert action['action'] == 'update'
    assert action['binding']['subjects'] == []
    assert subj.plan_add([], PULLER, [], exclusive=True) == []


def test_add_without_subjects_does_nothing():
    assert subj.plan_add([binding('system:image-puller', PULLER, [SA_A])], PULLER, []) == []


def test_add_deduplicates_requested_subjects():
    action, = subj.plan_add([], PULLER, [SA_A, dict(SA_A), {'kind': 'ServiceAccount', 'name': 'default', 'namespace': 'project-a', 'apiGroup': ''}])
    assert action['binding']['subjects'] == [SA_A]


def test_add_reports_every_binding_already_granting_a_subject():
    bindings = [binding('system:image-puller', PULLER, [SA_A]), binding('custom', PULLER, [DEVS]), binding('other', PULLER, [ALICE])]
    actions = subj.plan_add(bindings, PULLER, [SA_A, DEVS])
    assert [(a['action'], a['name']) for a in actions] == [('unchanged', 'system:image-puller'), ('unchanged', 'custom')]


def test_add_distinguishes_role_from_cluster_role_of_the_same_name():
    local = subj.role_ref('system:image-puller', 'Role')
    actions = subj.plan_add([binding('system:image-puller', PULLER, [SA_A])], local, [SA_A])
    assert [(a['action'], a['name']) for a in actions] == [('create', 'system:image-puller-0')]
    assert actions[0]['binding']['roleRef'] == local


@pytest.mark.parametrize('kwargs', [{}, {'exclusive': True}, {'rolebinding_name': 'system:image-puller'}])
def test_add_does_not_mutate_its_input(kwargs):
    bindings = [
        binding('system:image-puller', PULLER, [ALICE], resourceVersion='7', managedFields=[{'manager': 'oc'}]),
        binding('system:image-pullers', PULLER, [ALL_A]),
    ]
    subjects = [SA_A, DEVS]
    before = copy.deepcopy((bindings, subjects, PULLER))
    actions = subj.plan_add(bindings, PULLER, subjects, **kwargs)
    assert (bindings, subjects, PULLER) == before
    for action in actions:
        action['binding']['subjects'].append('x')
        action['binding']['metadata']['name'] = 'x'
        for subject in action['added']:
            subject['name'] = 'x'
    assert (bindings, subjects, PULLER) == before


# ---------------------------------------------------------------- plan_remove

def test_remove_takes_subjects_out_of_every_binding_of_the_role():
    bindings = [
        binding('system:image-puller', PULLER, [SA_A, DEVS], resourceVersion='3'),
        binding('custom', PULLER, [ALICE, SA_A]),
        binding('builders', BUILDER, [SA_A]),
    ]
    actions = actions_by_name(subj.plan_remove(bindings, PULLER, [SA_A]))
    assert set(actions) == {'system:image-puller', 'custom'}
    assert actions['system:image-puller']['action'] == 'update'
    assert actions['system:image-puller']['binding']['subjects'] == [DEVS]
    assert actions['system:image-puller']['binding']['metadata']['resourceVersion'] == '3'
    assert actions['system:image-puller']['removed'] == [SA_A]
    assert actions['custom']['binding']['subjects'] == [ALICE]


def test_remove_deletes_a_binding_left_without_subjects():
    action, = subj.plan_remove([binding('system:image-puller', PULLER, [SA_A])], PULLER, [SA_A])
    assert (action['action'], action['name'], action['removed'], action['added']) == ('delete', 'system:image-puller', [SA_A], [])


def test_remove_keeps_an_emptied_binding_with_autoupdate_false():
    existing = binding('system:image-puller', PULLER, [SA_A], annotations={subj.AUTOUPDATE_ANNOTATION: 'false'})
    action, = subj.plan_remove([existing], PULLER, [SA_A])
    assert action['action'] == 'update'
    assert action['binding']['subjects'] == []


def test_remove_deletes_an_emptied_binding_with_autoupdate_true():
    existing = binding('system:image-puller', PULLER, [SA_A], annotations={subj.AUTOUPDATE_ANNOTATION: 'true'})
    action, = subj.plan_remove([existing], PULLER, [SA_A])
    assert action['action'] == 'delete'


def test_remove_never_touches_system_image_pullers():
    bindings = [binding('system:image-pullers', PULLER, [ALL_A]), binding('system:image-puller', PULLER, [ALL_A])]
    actions = subj.plan_remove(bindings, PULLER, [ALL_A])
    assert [(a['action'], a['name']) for a in actions] == [('delete', 'system:image-puller')]
    assert subj.protected_grants(bindings, PULLER, [ALL_A]) == ['system:image-pullers']


def test_remove_is_a_no_op_when_no_binding_grants_the_subjects():
    bindings = [binding('system:image-puller', PULLER, [DEVS]), binding('builders', BUILDER, [SA_A])]
    assert subj.plan_remove(bindings, PULLER, [SA_A]) == []
    assert subj.plan_remove([], PULLER, [SA_A]) == []


def test_remove_matches_subjects_regardless_of_api_group():
    existing = binding('system:image-puller', PULLER, [{'kind': 'Group', 'name': 'devs'}, ALICE])
    action, = subj.plan_remove([existing], PULLER, [DEVS])
    assert action['binding']['subjects'] == [ALICE]


def test_remove_with_rolebinding_name_touches_only_that_binding():
    bindings = [binding('system:image-puller', PULLER, [SA_A]), binding('mine', PULLER, [SA_A, DEVS])]
    action, = subj.plan_remove(bindings, PULLER, [SA_A], rolebinding_name='mine')
    assert (action['action'], action['name']) == ('update', 'mine')
    assert action['binding']['subjects'] == [DEVS]


def test_remove_with_a_missing_rolebinding_name_is_a_no_op():
    assert subj.plan_remove([binding('system:image-puller', PULLER, [SA_A])], PULLER, [SA_A], rolebinding_name='mine') == []


def test_remove_with_rolebinding_name_of_another_role_fails():
    with pytest.raises(subj.SubjectError, match='exists for ClusterRole edit'):
        subj.plan_remove([binding('mine', EDIT, [SA_A])], PULLER, [SA_A], rolebinding_name='mine')


def test_remove_with_a_protected_rolebinding_name_fails():
    with pytest.raises(subj.SubjectError, match='managed by OpenShift'):
        subj.plan_remove([], PULLER, [SA_A], rolebinding_name='system:image-pullers')


def test_remove_does_not_mutate_its_input():
    bindings = [binding('system:image-puller', PULLER, [SA_A, DEVS]), binding('custom', PULLER, [SA_A])]
    before = copy.deepcopy(bindings)
    for action in subj.plan_remove(bindings, PULLER, [SA_A]):
        action['binding']['subjects'].append('x')
        action['removed'][0]['name'] = 'x'
    assert bindings == before


# -- what absent cannot take away -------------------------------------------------------------------------------

def _binding(name, subjects, role='system:image-puller'):
    return {'metadata': {'name': name}, 'roleRef': subj.role_ref(role), 'subjects': subjects}


def test_remaining_grants_names_openshifts_image_pullers_binding_for_a_service_account_of_the_project():
    image_pullers = _binding('system:image-pullers', [{'apiGroup': subj.RBAC_API_GROUP, 'kind': 'Group',
                                                       'name': 'system:serviceaccounts:project-b'}])
    managed = _binding('system:image-puller', [{'kind': 'ServiceAccount', 'name': 'default', 'namespace': 'project-b'}])
    sa = subj.service_account_subject('project-b:default')
    ref = subj.role_ref('system:image-puller')
    actions = subj.plan_remove([image_pullers, managed], ref, [sa])
    assert [a['action'] for a in actions] == ['delete']
    assert subj.remaining_grants([image_pullers, managed], actions, ref, [sa], 'project-b') == [
        (sa, 'system:image-pullers', 'group:system:serviceaccounts:project-b')]


def test_remaining_grants_sees_the_group_itself_wider_groups_and_other_bindings_of_the_role():
    ref = subj.role_ref('system:image-puller')
    group = subj.all_service_accounts_subject('project-a')
    user = subj.user_subject('alice')
    bindings = [_binding('system:image-pullers', [subj.group_subject('system:serviceaccounts:project-a')]),
                _binding('everyone', [subj.group_subject('system:authenticated')]),
                _binding('other-role', [subj.user_subject('bob')], role='view'),
                _binding('bob-only', [subj.user_subject('bob')])]
    assert subj.remaining_grants(bindings, [], ref, [group, user], 'project-b') == [
        (group, 'everyone', 'group:system:authenticated'),
        (group, 'system:image-pullers', 'group:system:serviceaccounts:project-a'),
        (user, 'everyone', 'group:system:authenticated')]


def test_remaining_grants_is_empty_when_absent_took_every_grant_away():
    ref = subj.role_ref('system:image-puller')
    sa = subj.service_account_subject('project-a:default')
    bindings = [_binding('system:image-puller', [sa, subj.user_subject('carol')]),
                _binding('system:image-pullers', [subj.group_subject('system:serviceaccounts:project-b')]),
                _binding('same-ns-sa', [{'kind': 'ServiceAccount', 'name': 'default'}])]  # project-b's own default
    actions = subj.plan_remove(bindings, ref, [sa])
    assert subj.remaining_grants(bindings, actions, ref, [sa], 'project-b') == []
    own = subj.service_account_subject('project-b:default')
    assert [name for _s, name, _h in subj.remaining_grants(bindings, [], ref, [own], 'project-b')] == [
        'same-ns-sa', 'system:image-pullers']
