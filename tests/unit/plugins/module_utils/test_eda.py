# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The event source's decisions: what an event means, coalescing, backoff, selectors, restricting a declaration."""

from __future__ import annotations

import importlib.util
import os

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _eda as eda
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError


def ns(name, labels=None, **meta):
    return {'metadata': dict(meta, name=name, labels=labels or {}, resourceVersion=meta.get('rv', '1'))}


def sa(namespace, name, secrets=(), rv='1'):
    return {'metadata': {'namespace': namespace, 'name': name, 'resourceVersion': rv},
            'imagePullSecrets': [{'name': s} for s in secrets]}


def secret(namespace, name, rv='1', manager='ocp.registry_access', time='2026-12-01T10:00:00Z'):
    return {'metadata': {'namespace': namespace, 'name': name, 'resourceVersion': rv,
                         'managedFields': [{'manager': manager, 'operation': 'Update', 'time': time}]}}


def binding(namespace, name='system:image-puller', role='system:image-puller', subjects=(('Group', None, 'g'),)):
    return {'metadata': {'namespace': namespace, 'name': name}, 'roleRef': {'kind': 'ClusterRole', 'name': role},
            'subjects': [{'kind': k, 'namespace': n, 'name': m} for k, n, m in subjects]}


@pytest.fixture
def tracker():
    t = eda.Tracker(namespace_selector='team=a', exclude_namespaces=['kube-*'])
    t.relist(eda.NAMESPACES, [ns('a1', {'team': 'a'}), ns('b1', {'team': 'b'}), ns('kube-a', {'team': 'a'})])
    t.relist(eda.SERVICE_ACCOUNTS, [sa('a1', 'default', ['pull']), sa('b1', 'default')])
    t.relist(eda.SECRETS, [secret('a1', 'pull')])
    t.relist(eda.ROLE_BINDINGS, [binding('a1'), binding('a1', 'edit', role='edit')])
    return t


# ---------------------------------------------------------------- what an event means

def test_initial_lists_select_by_label_and_exclusion(tracker):
    assert sorted(tracker.namespace_labels) == ['a1']


def test_new_selected_namespace_is_an_event(tracker):
    assert tracker.observe(eda.NAMESPACES, eda.ADDED, ns('a2', {'team': 'a'})) == ({'a2'}, 'namespace added')


@pytest.mark.parametrize('obj', [ns('b2', {'team': 'b'}), ns('kube-x', {'team': 'a'}),
                                 ns('a3', {'team': 'a'}, deletionTimestamp='2026-12-01T10:00:00Z')])
def test_unselected_excluded_or_terminating_namespace_is_no_event(tracker, obj):
    assert tracker.observe(eda.NAMESPACES, eda.ADDED, obj) == (set(), None)


def test_relabelled_namespace_is_selected_then_dropped(tracker):
    assert tracker.observe(eda.NAMESPACES, eda.MODIFIED, ns('b1', {'team': 'a'})) == ({'b1'}, 'namespace selected')
    assert tracker.observe(eda.NAMESPACES, eda.MODIFIED, ns('b1', {'team': 'a', 'x': 'y'})) == \
        ({'b1'}, 'namespace labels changed')
    assert tracker.observe(eda.NAMESPACES, eda.MODIFIED, ns('b1', {'team': 'a', 'x': 'y'})) == (set(), None)
    assert tracker.observe(eda.NAMESPACES, eda.MODIFIED, ns('b1', {'team': 'b'})) == (set(), None)
    assert not tracker.managed('b1')


def test_deleted_namespace_is_no_longer_managed(tracker):
    assert tracker.observe(eda.NAMESPACES, eda.DELETED, ns('a1', {'team': 'a'})) == (set(), None)
    assert not tracker.managed('a1')


def test_service_account_added_in_managed_namespace_only(tracker):
    assert tracker.observe(eda.SERVICE_ACCOUNTS, eda.ADDED, sa('a1', 'builder')) == \
        ({'a1'}, 'service account builder added')
    assert tracker.observe(eda.SERVICE_ACCOUNTS, eda.ADDED, sa('b1', 'builder')) == (set(), None)


def test_service_account_losing_a_link_is_an_event_gaining_one_is_not(tracker):
    assert tracker.observe(eda.SERVICE_ACCOUNTS, eda.MODIFIED, sa('a1', 'default', ['pull', 'other'])) == (set(), None)
    assert tracker.observe(eda.SERVICE_ACCOUNTS, eda.MODIFIED, sa('a1', 'default', ['other'])) == \
        ({'a1'}, 'service account default lost a pull secret link')
    assert tracker.observe(eda.SERVICE_ACCOUNTS, eda.DELETED, sa('a1', 'default')) == (set(), None)


def test_managed_secret_deleted_or_changed_by_someone_else(tracker):
    assert tracker.observe(eda.SECRETS, eda.MODIFIED, secret('a1', 'pull', rv='2')) == (set(), None)
    assert tracker.observe(eda.SECRETS, eda.MODIFIED, secret('a1', 'pull', rv='3', manager='kubectl-edit')) == \
        ({'a1'}, 'managed secret pull changed')
    assert tracker.observe(eda.SECRETS, eda.DELETED, secret('a1', 'pull')) == ({'a1'}, 'managed secret pull deleted')
    assert tracker.observe(eda.SECRETS, eda.ADDED, secret('a1', 'pull')) == (set(), None)


def test_last_writer_is_the_latest_managed_fields_entry(tracker):
    obj = secret('a1', 'pull', rv='5', manager='kubectl-edit', time='2026-12-01T10:00:01Z')
    obj['metadata']['managedFields'].append({'manager': 'ocp.registry_access', 'time': '2026-12-01T10:00:00Z'})
    assert tracker.observe(eda.SECRETS, eda.MODIFIED, obj)[0] == {'a1'}
    obj = secret('a1', 'pull', rv='6')
    obj['metadata']['managedFields'] = []
    assert tracker.observe(eda.SECRETS, eda.MODIFIED, obj)[0] == {'a1'}


def test_image_puller_binding_deleted_or_losing_a_subject(tracker):
    two = binding('a1', subjects=(('Group', None, 'g'), ('ServiceAccount', 'x', 'default')))
    assert tracker.observe(eda.ROLE_BINDINGS, eda.MODIFIED, two) == (set(), None)
    assert tracker.observe(eda.ROLE_BINDINGS, eda.MODIFIED, binding('a1')) == \
        ({'a1'}, 'image-puller binding system:image-puller lost a subject')
    assert tracker.observe(eda.ROLE_BINDINGS, eda.DELETED, binding('a1')) == \
        ({'a1'}, 'image-puller binding system:image-puller deleted')


def test_binding_of_another_role_is_ignored(tracker):
    assert tracker.observe(eda.ROLE_BINDINGS, eda.DELETED, binding('a1', 'edit', role='edit')) == (set(), None)
    assert tracker.observe(eda.ROLE_BINDINGS, eda.ADDED, binding('a1', 'view', role='view')) == (set(), None)


def test_relist_after_gone_finds_what_the_watch_missed(tracker):
    found, reasons = tracker.relist(eda.NAMESPACES, [ns('a1', {'team': 'a'}), ns('a9', {'team': 'a'})])
    assert found == {'a9'} and reasons == ['namespace added']
    assert tracker.relist(eda.SECRETS, []) == ({'a1'}, ['managed secret pull deleted'])
    found, reasons = tracker.relist(eda.ROLE_BINDINGS, [binding('a1', 'edit', role='edit')])
    assert found == {'a1'} and reasons == ['image-puller binding system:image-puller deleted']
    found, _reasons = tracker.relist(eda.NAMESPACES, [ns('a9', {'team': 'a'})])
    assert found == set() and not tracker.managed('a1')


def test_relist_with_nothing_changed_is_no_event(tracker):
    assert tracker.relist(eda.SERVICE_ACCOUNTS, [sa('a1', 'default', ['pull']), sa('b1', 'default')]) == (set(), [])


# ---------------------------------------------------------------- coalescing, backoff, events

def test_burst_is_coalesced_into_few_batches():
    c = eda.Coalescer(quiet=1.0, window=5.0)
    batches = []
    for i in range(200):  # one namespace every 0.1 s for 20 s
        now = i * 0.1
        if c.due_in(now) == 0:
            batches.append(c.flush()[0])
        c.add(['ns-%03d' % i], 'namespace added', now)
    batches.append(c.flush()[0])
    assert len(batches) == 4
    assert sorted(n for b in batches for n in b) == ['ns-%03d' % i for i in range(200)]


def test_batch_due_after_quiet_or_window():
    c = eda.Coalescer(quiet=1.0, window=3.0)
    assert c.due_in(0) is None
    c.add(['a'], 'x', 10.0)
    c.add(['a', 'b', ''], 'y', 10.5)
    c.add(['b'], 'y', 10.6)
    assert c.due_in(10.6) == pytest.approx(1.0)
    assert c.due_in(11.6) == 0
    c.add([], 'z', 12.9)
    c.add(['c'], None, 12.9)
    assert c.due_in(12.9) == pytest.approx(0.1)
    assert c.flush() == (['a', 'b', 'c'], {'a': ['x', 'y'], 'b': ['y'], 'c': []})
    assert c.due_in(13) is None


@pytest.mark.parametrize('quiet, window', [(-1, 1), (2, 1)])
def test_coalescer_refuses_bad_windows(quiet, window):
    with pytest.raises(InputError):
        eda.Coalescer(quiet, window)


def test_backoff_doubles_and_is_bounded():
    assert [eda.backoff_delay(n, base=0.5, cap=30, rand=0.999999) for n in (1, 2, 3)] == pytest.approx([0.5, 1, 2])
    assert eda.backoff_delay(100, cap=30, rand=0.999999) == pytest.approx(30)
    assert eda.backoff_delay(0, base=1, rand=0) == 0.5
    assert eda.backoff_delay(10 ** 6, cap=7, rand=0) == 3.5


def test_watch_error_gone():
    assert eda.watch_error_is_gone({'kind': 'Status', 'code': 410, 'reason': 'Expired'})
    assert eda.watch_error_is_gone({'reason': 'Gone'})
    assert not eda.watch_error_is_gone({'code': 500})
    assert not eda.watch_error_is_gone('x')


def test_batch_event_names_the_namespaces():
    event = eda.batch_event(['a'], {'a': ['namespace added']}, {'a': {'team': 'a'}, 'b': {}})
    assert event == {'registry_access': {'full': False, 'namespaces': ['a'], 'reasons': {'a': ['namespace added']},
                                         'namespace_labels': {'a': {'team': 'a'}}}}


# ---------------------------------------------------------------- selectors

@pytest.mark.parametrize('selector, labels, expected', [
    ('', {}, True),
    (None, {'a': 'b'}, True),
    ('team=a', {'team': 'a'}, True),
    ('team==a', {'team': 'b'}, False),
    ('team!=a', {}, True),
    ('team!=a', {'team': 'a'}, False),
    ('team in (a, b),env', {'team': 'b', 'env': 'x'}, True),
    ('team in (a,b)', {}, False),
    ('team notin (a,b)', {'team': 'c'}, True),
    ('team notin (a,b)', {'team': 'a'}, False),
    ('!legacy', {'legacy': ''}, False),
    ('!legacy', {}, True),
    ('example.com/team', {}, False),
    ('team=a,env=prod', {'team': 'a', 'env': 'dev'}, False),
])
def test_selector_matches_as_the_api_server(selector, labels, expected):
    assert eda.selector_matches(eda.parse_selector(selector), labels) is expected


@pytest.mark.parametrize('selector', ['team=a=b', 'team in a', '=a', 'a,,b'])
def test_malformed_selector_is_refused(selector):
    with pytest.raises(InputError, match='invalid label selector'):
        eda.parse_selector(selector)


# ---------------------------------------------------------------- restricting a declaration

DECLARATION = [
    {'name': 'one', 'namespace': 'a1', 'registries': [{'server': 'r'}]},
    {'name': 'many', 'namespaces': ['a1', 'a2', 'x'], 'exclude_namespaces': ['a2']},
    {'name': 'sel', 'namespace_selector': 'team=a', 'service_accounts': ['default']},
    {'name': 'none'},
]


def test_restrict_declaration_to_the_event_namespaces():
    labels = {'a1': {'team': 'a'}, 'a2': {'team': 'a'}, 'b1': {'team': 'b'}}
    restricted = eda.restrict_declaration(DECLARATION, ['a1', 'a2', 'b1'], labels)
    assert restricted == [
        {'name': 'one', 'registries': [{'server': 'r'}], 'namespaces': ['a1']},
        {'name': 'many', 'exclude_namespaces': ['a2'], 'namespaces': ['a1']},
        {'name': 'sel', 'service_accounts': ['default'], 'namespaces': ['a1', 'a2']},
    ]
    assert eda.restrict_declaration(restricted, ['a1', 'a2', 'b1'], labels) == restricted
    assert eda.restrict_declaration(DECLARATION, ['b1'], labels) == []


def test_restrict_image_pullers():
    items = [{'image_namespace_selector': 'team=b', 'all_service_accounts_in': ['a1']},
             {'image_namespaces': ['b1', 'a1'], 'service_accounts': ['a1:default']}]
    assert eda.restrict_declaration(items, ['b1'], {'b1': {'team': 'b'}}, kind='image_pullers') == [
        {'all_service_accounts_in': ['a1'], 'image_namespaces': ['b1']},
        {'service_accounts': ['a1:default'], 'image_namespaces': ['b1']}]


@pytest.mark.parametrize('items, kind', [([{}], 'other'), ('x', 'pull_secrets'), ([1], 'pull_secrets')])
def test_restrict_declaration_refuses_bad_input(items, kind):
    with pytest.raises(InputError):
        eda.restrict_declaration(items, ['a'], kind=kind)


# ---------------------------------------------------------------- the source's options

def _source():
    path = os.path.join(os.path.dirname(eda.__file__), '..', '..', 'extensions', 'eda', 'plugins', 'event_source', 'watch.py')
    spec = importlib.util.spec_from_file_location('ocp_registry_access_watch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_source_options_take_k8s_auth_variables(monkeypatch):
    monkeypatch.setenv('K8S_AUTH_HOST', 'https://api.example.com:6443')
    monkeypatch.setenv('K8S_AUTH_API_KEY', 'sha256~secret-token-value')
    monkeypatch.setenv('K8S_AUTH_VERIFY_SSL', 'no')
    options, secrets = _source().source_options({'exclude_namespaces': ['kube-*'], 'eda_feedback_queue': object()})
    assert options['host'] == 'https://api.example.com:6443' and options['validate_certs'] is False
    assert options['exclude_namespaces'] == ['kube-*'] and options['delay'] == 1.0
    assert 'sha256~secret-token-value' in secrets


@pytest.mark.parametrize('args, message', [
    ({'delay': 'soon'}, 'delay'),
    ({'bogus': 1}, 'bogus'),
    ({'namespace_selector': 'a in b'}, 'invalid label selector'),
    ({'delay': 10, 'max_delay': 1}, 'quiet'),
    ({'watch_timeout': 0}, 'positive'),
])
def test_bad_source_options_are_one_clear_error(args, message):
    source = _source()
    with pytest.raises(source.SourceError, match=message):
        source.source_options(args)


def test_bad_option_message_hides_the_token():
    source = _source()
    with pytest.raises(source.SourceError) as error:
        source.source_options({'api_key': 'sha256~do-not-show-me', 'delay': 'x'})
    assert 'do-not-show-me' not in str(error.value)


def test_missing_kubeconfig_is_a_clear_error():
    source = _source()
    options, secrets = source.source_options({'kubeconfig': '/nonexistent/kubeconfig'})
    with pytest.raises(source.SourceError, match='kubeconfig /nonexistent/kubeconfig does not exist'):
        source.make_client(options, secrets)
