"""The prune run (_prune_apply) in the module frame, against an API server in memory."""

import base64
import json
from urllib.parse import quote

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError
from ansible_collections.ocp.registry_access.plugins.module_utils._prune_apply import CLUSTER_WIDE_HINT, Prune
from ansible_collections.ocp.registry_access.plugins.modules.prune import ARGUMENT_SPEC

from memory_api import MemoryClient, run
from test_frame import frame

OWNER = 'team-a/enforce'
OTHER = 'team-b/enforce'
PASSWORD = 'fake-Prune-pa55word-quux'
SERVER = 'registry.example.com'
RBAC = '/apis/rbac.authorization.k8s.io/v1'
PULLER = {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole', 'name': 'system:image-puller'}


def secret_path(ns, name):
    return '/api/v1/namespaces/%s/secrets/%s' % (ns, name)


def sa_path(ns, name='default'):
    return '/api/v1/namespaces/%s/serviceaccounts/%s' % (ns, name)


def binding_path(ns, name='system:image-puller'):
    return '%s/namespaces/%s/rolebindings/%s' % (RBAC, ns, quote(name, safe=''))


def dockerconfig():
    auth = base64.b64encode(('robot:%s' % PASSWORD).encode()).decode()
    doc = {'auths': {SERVER: {'username': 'robot', 'password': PASSWORD, 'auth': auth}}}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def add_secret(client, ns, name, owner=OWNER, managed=True):
    """A pull secret: owner's (marked), managed without owner (owner None), or not the collection's (managed False)."""
    if not managed:
        labels, annotations = {}, {}
    else:
        labels, annotations = own.marked_metadata({}, owner)
    client.add(secret_path(ns, name), {
        'apiVersion': 'v1', 'kind': 'Secret', 'type': 'kubernetes.io/dockerconfigjson',
        'metadata': {'name': name, 'namespace': ns, 'labels': labels, 'annotations': annotations},
        'data': {'.dockerconfigjson': dockerconfig()}})


def add_sa(client, ns, name='default', pull=(), mount=()):
    sa = {'apiVersion': 'v1', 'kind': 'ServiceAccount', 'metadata': {'name': name, 'namespace': ns}}
    if pull:
        sa['imagePullSecrets'] = [{'name': n} for n in pull]
    if mount:
        sa['secrets'] = [{'name': n} for n in mount]
    client.add(sa_path(ns, name), sa)


def sa_subject(ns, name='default'):
    return {'kind': 'ServiceAccount', 'name': name, 'namespace': ns}


def add_binding(client, ns, subjects, grants, name='system:image-puller', created=False, owner=OWNER):
    """A RoleBinding recording grants ({owner: subject strings}); created: the collection created it (managed-by)."""
    binding = {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'RoleBinding',
               'metadata': {'name': name, 'namespace': ns}, 'roleRef': PULLER, 'subjects': subjects}
    labels, annotations = own.with_grants(binding, dict((o, set(s)) for o, s in grants.items()))
    if created:
        labels, annotations = own.marked_metadata({'labels': labels, 'annotations': annotations}, owner)
    binding['metadata']['labels'], binding['metadata']['annotations'] = labels, annotations
    client.add(binding_path(ns, name), binding)


def module_for(args, client, check_mode=False, diff=False):
    """memory_api.module_for, but not namespaced: prune's module has no namespace options (namespaces is its own)."""
    module = frame(dict(args, _ansible_diff=diff), ARGUMENT_SPEC, check_mode=check_mode)
    client.dry_run = module.check_mode
    client.redact = module.redact
    module.client = client
    return module


def prune(client, check_mode=False, diff=False, **args):
    args = dict(dict(owner=OWNER), **args)
    module = module_for(args, client, check_mode=check_mode, diff=diff)
    outcome, result = run(module, lambda: Prune(module).run())
    text = json.dumps(result) + ' '.join(module.warnings)
    assert PASSWORD not in text and dockerconfig() not in text
    assert base64.b64encode(PASSWORD.encode()).decode() not in text
    return outcome, result


def test_unlinks_every_service_account_before_the_delete_and_keeps_other_entries():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', 'default', pull=['first', 'old', 'last'], mount=['tok', 'old'])
    add_sa(client, 'a', 'builder', pull=['old'], mount=['b-tok'])
    add_sa(client, 'a', 'deployer', pull=['other'])
    outcome, result = prune(client)
    assert outcome == 'exit' and result['changed']
    assert secret_path('a', 'old') not in client.objects
    assert client.objects[sa_path('a', 'default')]['imagePullSecrets'] == [{'name': 'first'}, {'name': 'last'}]
    assert client.objects[sa_path('a', 'default')]['secrets'] == [{'name': 'tok'}]
    assert client.objects[sa_path('a', 'builder')]['imagePullSecrets'] == []
    assert client.objects[sa_path('a', 'builder')]['secrets'] == [{'name': 'b-tok'}]
    assert client.objects[sa_path('a', 'deployer')]['imagePullSecrets'] == [{'name': 'other'}]
    writes = client.writes()
    assert sorted(writes[:2]) == [('PUT', sa_path('a', 'builder')), ('PUT', sa_path('a', 'default'))]
    assert writes[2:] == [('DELETE', secret_path('a', 'old'))]
    assert result['secrets'] == [dict(namespace='a', name='old', action='deleted', unlinked_from=['builder', 'default'])]
    assert sorted((r['name'], r['unlinked_for']) for r in result['service_accounts']) == \
        [('builder', ['pull']), ('default', ['pull', 'mount'])]
    assert all(r['action'] == 'unlinked' and r['secret'] == 'old' for r in result['service_accounts'])
    client.calls = []
    outcome, result = prune(client)
    assert outcome == 'exit' and not result['changed'] and client.writes() == []
    assert result['secrets'] == [] and result['service_accounts'] == [] and result['bindings'] == []


def test_declared_unmanaged_and_other_owners_secrets_are_untouched():
    client = MemoryClient()
    add_secret(client, 'a', 'declared')
    add_secret(client, 'a', 'gone')
    add_secret(client, 'a', 'by-hand', managed=False)
    add_secret(client, 'a', 'no-owner', owner=None)
    add_secret(client, 'a', 'theirs', owner=OTHER)
    add_secret(client, 'b', 'declared')  # declared for a only: b's copy goes
    add_sa(client, 'a', pull=['declared', 'gone', 'by-hand', 'no-owner', 'theirs'])
    add_sa(client, 'b', pull=['declared'])
    before = dict((p, o) for p, o in client.objects.items() if p.startswith('/api/v1/namespaces/a/secrets/'))
    declared = [dict(namespace='a', name='declared', action='unchanged'), dict(namespace='a', name='gone', action='deleted')]
    outcome, result = prune(client, declared_secrets=declared)
    assert outcome == 'exit' and result['changed']
    assert sorted((s['namespace'], s['name']) for s in result['secrets']) == [('a', 'gone'), ('b', 'declared')]
    for path in (secret_path('a', n) for n in ('declared', 'by-hand', 'no-owner', 'theirs')):
        assert client.objects[path] == before[path]
    assert secret_path('a', 'gone') not in client.objects and secret_path('b', 'declared') not in client.objects
    assert client.objects[sa_path('a')]['imagePullSecrets'] == \
        [{'name': n} for n in ('declared', 'by-hand', 'no-owner', 'theirs')]
    assert client.objects[sa_path('b')]['imagePullSecrets'] == []
    assert sorted(client.writes()) == sorted([('PUT', sa_path('a')), ('DELETE', secret_path('a', 'gone')),
                                              ('PUT', sa_path('b')), ('DELETE', secret_path('b', 'declared'))])


def test_check_mode_says_what_would_be_pruned_and_writes_nothing():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', pull=['keep', 'old'])
    add_binding(client, 'b', [sa_subject('a'), sa_subject('c')],
                {OWNER: ['system:serviceaccount:a:default']})
    before = json.dumps(client.objects, sort_keys=True)
    outcome, result = prune(client, check_mode=True, diff=True)
    assert outcome == 'exit' and result['changed'] and client.writes() == []
    assert json.dumps(client.objects, sort_keys=True) == before
    assert result['secrets'] == [dict(namespace='a', name='old', action='deleted', unlinked_from=['default'])]
    assert [(r['name'], r['secret']) for r in result['service_accounts']] == [('default', 'old')]
    assert result['bindings'] == [dict(namespace='b', name='system:image-puller', action='updated',
                                       removed=['system:serviceaccount:a:default'],
                                       subjects=['system:serviceaccount:c:default'])]
    diff = result['diff']
    assert diff['after']['a']['secrets'] == {'old': None}
    assert diff['before']['a']['secrets']['old']['type'] == 'kubernetes.io/dockerconfigjson'
    assert SERVER in json.dumps(diff['before']['a']['secrets']['old'])
    assert diff['before']['a']['service_accounts'] == {'default': {'old': 'pull'}}
    assert diff['after']['a']['service_accounts'] == {'default': {'old': 'not linked'}}
    assert diff['before']['b']['bindings'] == {'system:image-puller': ['system:serviceaccount:a:default',
                                                                       'system:serviceaccount:c:default']}
    assert diff['after']['b']['bindings'] == {'system:image-puller': ['system:serviceaccount:c:default']}
    text = json.dumps(diff)
    assert PASSWORD not in text and dockerconfig() not in text and 'robot:' not in text


def test_revokes_from_a_shared_binding_and_deletes_an_emptied_binding_it_created():
    client = MemoryClient()
    me, them, hand = 'system:serviceaccount:a:default', 'system:serviceaccount:c:default', 'group:devs'
    group = {'kind': 'Group', 'apiGroup': 'rbac.authorization.k8s.io', 'name': 'devs'}
    # shared: mine, one the other owner granted too (stays), theirs, one made by hand
    add_binding(client, 'b', [sa_subject('a'), sa_subject('d'), sa_subject('c'), group],
                {OWNER: [me, 'system:serviceaccount:d:default'], OTHER: [them, 'system:serviceaccount:d:default']})
    add_binding(client, 'e', [sa_subject('a')], {OWNER: [me]}, name='pullers-a', created=True)
    add_binding(client, 'f', [sa_subject('a')], {OWNER: [me]}, name='declared')
    add_binding(client, 'g', [sa_subject('a')], {OTHER: [me]}, name='others')
    declared = [dict(namespace='f', subject=me, role='system:image-puller', role_kind='ClusterRole')]
    outcome, result = prune(client, declared_grants=declared)
    assert outcome == 'exit' and result['changed']
    shared = client.objects[binding_path('b')]
    assert shared['subjects'] == [sa_subject('d'), sa_subject('c'), group]
    # owner's record goes; the subject the other owner granted too stays, recorded for them only
    assert own.read_grants(shared) == {OTHER: {them, 'system:serviceaccount:d:default'}}
    assert own.grants_label(OWNER) not in shared['metadata']['labels'] and own.grants_label(OTHER) in shared['metadata']['labels']
    assert binding_path('e', 'pullers-a') not in client.objects
    assert client.objects[binding_path('f', 'declared')]['subjects'] == [sa_subject('a')]
    assert client.objects[binding_path('g', 'others')]['subjects'] == [sa_subject('a')]
    assert sorted(client.writes()) == [('DELETE', binding_path('e', 'pullers-a')), ('PUT', binding_path('b'))]
    assert sorted((r['namespace'], r['action'], r['removed'], r['subjects']) for r in result['bindings']) == [
        ('b', 'updated', [me], ['system:serviceaccount:d:default', them, hand]),
        ('e', 'deleted', [me], [])]
    client.calls = []
    outcome, result = prune(client, declared_grants=declared)
    assert outcome == 'exit' and not result['changed'] and client.writes() == []


def test_an_emptied_binding_kept_empty_on_purpose_is_updated_not_deleted():
    client = MemoryClient()
    add_binding(client, 'e', [sa_subject('a')], {OWNER: ['system:serviceaccount:a:default']}, name='keep', created=True)
    path = binding_path('e', 'keep')
    client.objects[path]['metadata']['annotations']['rbac.authorization.kubernetes.io/autoupdate'] = 'false'
    outcome, result = prune(client)
    assert outcome == 'exit' and client.writes() == [('PUT', path)]
    assert client.objects[path]['subjects'] == [] and own.read_grants(client.objects[path]) == {}


def test_a_conflict_on_the_service_account_update_reads_again_and_is_done():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', pull=['old'])
    # someone links another secret meanwhile: the retry must keep it
    client.objects[sa_path('a')]['imagePullSecrets'].append({'name': 'new'})
    client.objects[sa_path('a')]['metadata']['resourceVersion'] = '99'
    client.fail('PUT', sa_path('a'), ApiError(409, 'Conflict', 'the object has been modified'))
    outcome, result = prune(client)
    assert outcome == 'exit' and result['changed']
    assert client.writes() == [('PUT', sa_path('a')), ('PUT', sa_path('a')), ('DELETE', secret_path('a', 'old'))]
    assert client.objects[sa_path('a')]['imagePullSecrets'] == [{'name': 'new'}]
    assert secret_path('a', 'old') not in client.objects


def test_a_conflict_on_the_delete_reads_again_and_is_done():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', pull=['old'])
    client.fail('DELETE', secret_path('a', 'old'), ApiError(409, 'Conflict', 'the object has been modified'))
    outcome, result = prune(client)
    assert outcome == 'exit' and result['changed']
    assert client.writes() == [('PUT', sa_path('a')), ('DELETE', secret_path('a', 'old')),
                               ('DELETE', secret_path('a', 'old'))]
    assert secret_path('a', 'old') not in client.objects
    assert client.objects[sa_path('a')]['imagePullSecrets'] == []
    assert [r['name'] for r in result['service_accounts']] == ['default']
    assert result['secrets'][0]['action'] == 'deleted'


def test_unlinked_from_survives_a_conflict_on_the_delete():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', pull=['old'])
    client.fail('DELETE', secret_path('a', 'old'), ApiError(409, 'Conflict', 'the object has been modified'))
    outcome, result = prune(client)
    assert outcome == 'exit' and result['secrets'][0]['unlinked_from'] == ['default']


def test_a_conflict_on_a_binding_plans_again():
    client = MemoryClient()
    me = 'system:serviceaccount:a:default'
    add_binding(client, 'b', [sa_subject('a'), sa_subject('c')], {OWNER: [me]})
    client.fail('PUT', binding_path('b'), ApiError(409, 'Conflict', 'the object has been modified'))
    outcome, result = prune(client)
    assert outcome == 'exit' and client.writes() == [('PUT', binding_path('b'))] * 2
    assert client.objects[binding_path('b')]['subjects'] == [sa_subject('c')]
    assert result['bindings'][0]['action'] == 'updated'


def test_a_secret_that_changed_hands_after_the_list_is_kept():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', pull=['old'])
    client.fail('DELETE', secret_path('a', 'old'), ApiError(409, 'Conflict', 'the object has been modified'))
    original = client.request

    def request(method, path, body=None, query=None, content_type='application/json'):
        if method == 'GET' and path == secret_path('a', 'old'):  # the re-read after the conflict: now someone else's
            client.objects[path]['metadata']['annotations'][own.OWNER_ANNOTATION] = OTHER
        return original(method, path, body, query, content_type)

    client.request = request
    outcome, result = prune(client)
    assert outcome == 'exit'
    assert secret_path('a', 'old') in client.objects
    assert result['secrets'] == [dict(namespace='a', name='old', action='kept', unlinked_from=['default'])]
    assert client.writes() == [('PUT', sa_path('a')), ('DELETE', secret_path('a', 'old'))]


@pytest.mark.parametrize('status', [500, 403])
def test_one_failed_delete_is_named_and_the_others_are_done(status):
    client = MemoryClient()
    for name in ('one', 'two', 'three'):
        add_secret(client, 'a', name)
    add_sa(client, 'a', pull=['one', 'two', 'three', 'keep'])
    add_binding(client, 'b', [sa_subject('a')], {OWNER: ['system:serviceaccount:a:default']}, created=True)
    client.fail('DELETE', secret_path('a', 'two'), ApiError(status, 'Boom', 'cannot delete'))
    outcome, result = prune(client)
    assert outcome == 'fail' and result['changed']
    assert 'secret a/two' in result['msg'] and 'cannot delete' in result['msg'] and '1 of 4 prunes failed' in result['msg']
    assert sorted(s['name'] for s in result['secrets']) == ['one', 'three']
    assert secret_path('a', 'one') not in client.objects and secret_path('a', 'three') not in client.objects
    assert secret_path('a', 'two') in client.objects
    assert binding_path('b') not in client.objects and result['bindings'][0]['action'] == 'deleted'
    # unlinked before the delete was tried: never a service account referencing a secret that is gone
    assert client.objects[sa_path('a')]['imagePullSecrets'] == [{'name': 'keep'}]


def test_a_failed_unlink_leaves_the_secret_in_place():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', pull=['old'])
    client.fail('PUT', sa_path('a'), ApiError(500, 'Boom', 'cannot update'))
    outcome, result = prune(client)
    assert outcome == 'fail' and not result['changed']
    assert 'secret a/old' in result['msg'] and 'not deleted' in result['msg']
    assert client.writes() == [('PUT', sa_path('a'))] and secret_path('a', 'old') in client.objects


@pytest.mark.parametrize('forbidden', ['/api/v1/secrets', RBAC + '/rolebindings'])
def test_a_forbidden_cluster_wide_list_gives_the_hint_and_writes_nothing(forbidden):
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', pull=['old'])
    client.fail('GET', forbidden, ApiError(403, 'Forbidden', 'cannot list at the cluster scope'))
    outcome, result = prune(client)
    assert outcome == 'fail' and CLUSTER_WIDE_HINT in result['msg'] and 'cannot list' in result['msg']
    assert client.writes() == [] and secret_path('a', 'old') in client.objects


def test_another_list_error_is_not_the_hint():
    client = MemoryClient()
    client.fail('GET', '/api/v1/secrets', ApiError(500, 'Boom', 'etcd is down'))
    outcome, result = prune(client)
    assert outcome == 'fail' and 'etcd is down' in result['msg'] and CLUSTER_WIDE_HINT not in result['msg']


def test_namespaces_lists_in_each_namespace_only():
    client = MemoryClient()
    for ns in ('a', 'b', 'c'):
        add_secret(client, ns, 'old')
        add_sa(client, ns, pull=['old'])
        add_binding(client, ns, [sa_subject('x')], {OWNER: ['system:serviceaccount:x:default']}, created=True)
    outcome, result = prune(client, namespaces=['b', 'a', 'b'])
    assert outcome == 'exit'
    lists = sorted(path for method, path in client.calls if method == 'GET' and path.endswith(('/secrets', '/rolebindings')))
    assert lists == ['/api/v1/namespaces/a/secrets', '/api/v1/namespaces/b/secrets',
                     RBAC + '/namespaces/a/rolebindings', RBAC + '/namespaces/b/rolebindings']
    assert sorted(s['namespace'] for s in result['secrets']) == ['a', 'b']
    assert secret_path('c', 'old') in client.objects and binding_path('c') in client.objects
    assert client.objects[sa_path('c')]['imagePullSecrets'] == [{'name': 'old'}]
    assert not any(path.startswith(('/api/v1/namespaces/c/', RBAC + '/namespaces/c/')) for _m, path in client.writes())


def test_a_forbidden_namespace_list_fails_without_writing():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    client.fail('GET', '/api/v1/namespaces/b/secrets', ApiError(403, 'Forbidden', 'no access to b'))
    outcome, result = prune(client, namespaces=['a', 'b'])
    assert outcome == 'fail' and 'no access to b' in result['msg'] and client.writes() == []


def test_an_invalid_declaration_changes_nothing():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    outcome, result = prune(client, declared_secrets=[dict(namespace='a')])
    assert outcome == 'fail' and 'declared_secrets[0]' in result['msg'] and 'nothing was changed' in result['msg']
    assert client.calls == []


def test_the_unlinks_before_a_failed_delete_are_in_the_result():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', pull=['old'])
    client.fail('DELETE', secret_path('a', 'old'), ApiError(500, 'Boom', 'cannot delete'))
    outcome, result = prune(client)
    assert outcome == 'fail' and client.objects[sa_path('a')]['imagePullSecrets'] == []  # the service account was written
    assert result['changed'] and [r['name'] for r in result['service_accounts']] == ['default']


def test_a_secret_deleted_by_someone_else_after_a_conflict_counts_as_deleted():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_sa(client, 'a', pull=['old'])
    client.fail('DELETE', secret_path('a', 'old'), ApiError(409, 'Conflict', 'the object has been modified'))
    original = client.request

    def request(method, path, body=None, query=None, content_type='application/json'):
        if method == 'GET' and path == secret_path('a', 'old'):  # the re-read after the conflict: gone meanwhile
            client.objects.pop(path, None)
        return original(method, path, body, query, content_type)

    client.request = request
    outcome, result = prune(client)
    assert outcome == 'exit' and result['secrets'][0]['action'] == 'deleted'
    assert client.writes() == [('PUT', sa_path('a')), ('DELETE', secret_path('a', 'old'))]


def test_a_failed_binding_update_is_named_and_the_secrets_are_still_pruned():
    client = MemoryClient()
    add_secret(client, 'a', 'old')
    add_binding(client, 'b', [sa_subject('a'), sa_subject('c')], {OWNER: ['system:serviceaccount:a:default']})
    client.fail('PUT', binding_path('b'), ApiError(500, 'Boom', 'cannot update'))
    outcome, result = prune(client)
    assert outcome == 'fail' and 'role binding b/system:image-puller' in result['msg'] and 'cannot update' in result['msg']
    assert secret_path('a', 'old') not in client.objects and result['secrets'][0]['action'] == 'deleted'
    assert client.objects[binding_path('b')]['subjects'] == [sa_subject('a'), sa_subject('c')]
    assert result['bindings'] == []
