"""image_puller_binding's owner and unmanaged options (_image_puller_binding_apply), against an API server in memory."""

from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own

from test_image_puller_binding_apply import PULLER, SA_A, binding, binding_path, cluster

SA_B = {'kind': 'ServiceAccount', 'name': 'default', 'namespace': 'x'}


def by_hand(client, ns, name, subjects, **metadata):
    client.add(binding_path(ns, name), {'metadata': dict(metadata, name=name, namespace=ns), 'roleRef': dict(PULLER),
                                        'subjects': list(subjects)})


def test_grants_are_recorded_per_owner_and_returned_for_prune():
    client = cluster('b')
    outcome, result, _w = binding(client, namespace='b', owner='team-a')
    assert outcome == 'exit' and result['grants'] == [
        dict(namespace='b', subject='system:serviceaccount:a:default', role='system:image-puller', role_kind='ClusterRole')]
    created = client.objects[binding_path('b')]
    assert own.read_grants(created) == {'team-a': {'system:serviceaccount:a:default'}}
    assert created['metadata']['labels'][own.grants_label('team-a')] == 'true' and own.is_managed(created)
    # a second owner declaring the same grant shares it; a third run changes nothing
    outcome, result, _w = binding(client, namespace='b', owner='team-b')
    assert outcome == 'exit' and result['changed']
    assert own.read_grants(client.objects[binding_path('b')]) == {'team-a': {'system:serviceaccount:a:default'},
                                                                  'team-b': {'system:serviceaccount:a:default'}}
    outcome, result, _w = binding(client, namespace='b', owner='team-b')
    assert outcome == 'exit' and not result['changed']
    assert [r['action'] for r in result['bindings']] == ['unchanged']


def test_a_grant_made_by_hand_is_never_recorded():
    client = cluster('b')
    by_hand(client, 'b', 'system:image-puller', [SA_A])
    outcome, result, _w = binding(client, namespace='b', owner='team-a')
    assert outcome == 'exit' and not result['changed'] and result['bindings'][0]['ownership'] == 'shared'
    assert own.read_grants(client.objects[binding_path('b')]) == {}


def test_a_named_binding_someone_else_holds_fails_unless_adopted_or_overwritten():
    client = cluster('b', 'c')
    by_hand(client, 'b', 'mine', [SA_B])
    by_hand(client, 'c', 'mine', [SA_B], labels=own.owner_marks('team-b')[0], annotations=own.owner_marks('team-b')[1])
    calls = len(client.writes())
    outcome, result, _w = binding(client, namespaces=['b', 'c'], rolebinding_name='mine', owner='team-a')
    assert outcome == 'fail' and 'b/mine' in result['msg'] and 'c/mine' in result['msg'] and 'team-b' in result['msg']
    assert len(client.writes()) == calls
    outcome, result, _w = binding(client, namespace='b', rolebinding_name='mine', owner='team-a', unmanaged='adopt')
    assert outcome == 'exit' and [(r['action'], r['ownership']) for r in result['bindings']] == [('updated', 'adopted')]
    assert client.objects[binding_path('b', 'mine')]['subjects'] == [SA_B, SA_A]
    assert own.owned_by(client.objects[binding_path('b', 'mine')], 'team-a')
    outcome, result, _w = binding(client, namespace='c', rolebinding_name='mine', owner='team-a', unmanaged='overwrite')
    assert outcome == 'exit' and result['bindings'][0]['ownership'] == 'overwritten'
    assert client.objects[binding_path('c', 'mine')]['subjects'] == [SA_A]
    outcome, result, _w = binding(client, namespaces=['b', 'c'], rolebinding_name='mine', owner='team-a')
    assert outcome == 'exit' and [r['ownership'] for r in result['bindings']] == ['managed', 'managed']


def test_removing_a_subject_forgets_its_record():
    client = cluster('b')
    binding(client, namespace='b', owner='team-a', service_accounts=['a:default', 'x:default'])
    outcome, result, _w = binding(client, namespace='b', state='absent', service_accounts=['x:default'])
    assert outcome == 'exit' and result['grants'] == []
    assert own.read_grants(client.objects[binding_path('b')]) == {'team-a': {'system:serviceaccount:a:default'}}
