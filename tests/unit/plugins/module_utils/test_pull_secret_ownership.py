"""pull_secret's owner and unmanaged options (_pull_secret_apply), against an API server in memory."""

import base64
import json

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own

from test_pull_secret_apply import SERVER, auths_of, cluster, pull_secret, sa_path, secret_path

MANAGED = {'app.kubernetes.io/managed-by': 'ocp.registry_access'}


def existing(client, ns, labels=None, annotations=None, server='other.example.com'):
    document = {'auths': {server: {'username': 'theirs', 'password': 'fake-theirs-pass'}}}
    client.add(secret_path(ns), {'metadata': {'name': 'pull', 'namespace': ns, 'labels': dict(labels or {}),
                                              'annotations': dict(annotations or {}), 'resourceVersion': '1'},
                                 'type': 'kubernetes.io/dockerconfigjson',
                                 'data': {'.dockerconfigjson': base64.b64encode(json.dumps(document).encode()).decode()}})


def other_owner(owner='team-b'):
    labels, annotations = own.owner_marks(owner)
    return dict(labels=labels, annotations=annotations)


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_fail_names_every_secret_held_by_someone_else_and_writes_nothing(state):
    client = cluster('a', 'b', 'c')
    existing(client, 'a', labels={'team': 'x'})
    existing(client, 'b', **other_owner())
    client.objects[sa_path('a')]['imagePullSecrets'] = [{'name': 'pull'}]
    outcome, result = pull_secret(client, namespaces=['a', 'b', 'c'], owner='team-a', state=state,
                                  service_accounts=['default'])
    assert outcome == 'fail' and client.writes() == []
    assert 'a/pull (it is held by someone else' in result['msg'] and 'b/pull (it is held by the owner team-b)' in result['msg']
    assert 'c/pull' not in result['msg'] and 'unmanaged: adopt' in result['msg']


def test_adopt_marks_the_secret_and_applies_the_declaration_with_the_usual_rules():
    client = cluster('a')
    existing(client, 'a', labels={'team': 'x'}, annotations={'note': 'kept'})
    outcome, result = pull_secret(client, namespace='a', owner='team-a', unmanaged='adopt', merge=True)
    assert outcome == 'exit' and [(s['action'], s['ownership']) for s in result['secrets']] == [('updated', 'adopted')]
    meta = client.objects[secret_path('a')]['metadata']
    assert meta['labels'] == dict(MANAGED, team='x', **{own.OWNER_LABEL: 'team-a'})
    assert meta['annotations'] == {'note': 'kept', own.OWNER_ANNOTATION: 'team-a'}
    assert sorted(auths_of(client, 'a')) == ['other.example.com', SERVER]
    outcome, result = pull_secret(client, namespace='a', owner='team-a', merge=True)
    assert outcome == 'exit' and not result['changed'] and result['secrets'][0]['ownership'] == 'managed'


def test_overwrite_replaces_content_labels_and_annotations():
    client = cluster('a')
    existing(client, 'a', labels={'team': 'x'}, annotations={'note': 'gone'}, **{})
    outcome, result = pull_secret(client, namespace='a', owner='team-a', unmanaged='overwrite', merge=True,
                                  labels={'mine': 'yes'})
    assert outcome == 'exit' and result['secrets'][0]['ownership'] == 'overwritten'
    meta = client.objects[secret_path('a')]['metadata']
    assert meta['labels'] == dict(MANAGED, mine='yes', **{own.OWNER_LABEL: 'team-a'})
    assert meta['annotations'] == {own.OWNER_ANNOTATION: 'team-a'}
    assert sorted(auths_of(client, 'a')) == [SERVER]


def test_adopting_another_owners_secret_without_an_owner_removes_its_marker():
    client = cluster('a')
    existing(client, 'a', server=SERVER, **other_owner())
    outcome, result = pull_secret(client, namespace='a', unmanaged='adopt')
    assert outcome == 'exit' and result['secrets'][0]['ownership'] == 'adopted'
    meta = client.objects[secret_path('a')]['metadata']
    assert meta['labels'] == MANAGED and meta['annotations'] == {}


def test_a_managed_secret_without_owner_is_claimed_and_created_ones_are_marked():
    client = cluster('a', 'b')
    existing(client, 'a', labels=MANAGED, server=SERVER)
    outcome, result = pull_secret(client, namespaces=['a', 'b'], owner='team/a')
    assert outcome == 'exit' and [s['ownership'] for s in result['secrets']] == ['managed', 'created']
    for ns in ('a', 'b'):
        assert own.owned_by(client.objects[secret_path(ns)], 'team/a')


def test_check_mode_plans_the_same_and_writes_nothing():
    client = cluster('a')
    existing(client, 'a')
    outcome, result = pull_secret(client, namespace='a', owner='team-a', unmanaged='overwrite', check_mode=True)
    assert outcome == 'exit' and result['changed'] and result['secrets'][0]['ownership'] == 'overwritten'
    assert client.writes() == []


def test_a_bad_owner_is_refused_before_any_request():
    client = cluster('a')
    outcome, result = pull_secret(client, namespace='a', owner='bad\nowner')
    assert outcome == 'fail' and 'owner' in result['msg'] and client.writes() == []
