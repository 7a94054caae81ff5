"""The image_puller_binding run (_image_puller_binding_apply) in the module frame, against an API server in memory."""

from urllib.parse import quote

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError
from ansible_collections.ocp.registry_access.plugins.module_utils._image_puller_binding_apply import ImagePullerBinding
from ansible_collections.ocp.registry_access.plugins.modules.image_puller_binding import ARGUMENT_SPEC

from memory_api import MemoryClient, module_for, run

RBAC = '/apis/rbac.authorization.k8s.io/v1'
PULLER = {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole', 'name': 'system:image-puller'}
SA_A = {'kind': 'ServiceAccount', 'name': 'default', 'namespace': 'a'}


def binding_path(ns, name='system:image-puller'):
    return '%s/namespaces/%s/rolebindings/%s' % (RBAC, ns, quote(name, safe=''))


def cluster(*namespaces):
    client = MemoryClient()
    client.add('%s/clusterroles/system%%3Aimage-puller' % RBAC, {'metadata': {'name': 'system:image-puller'}})
    for ns in namespaces:
        client.add('/api/v1/namespaces/%s' % ns, {'metadata': {'name': ns}})
    return client


def pullers(ns):
    """OpenShift's own binding: every service account of ns may pull."""
    return {'metadata': {'name': 'system:image-pullers', 'namespace': ns}, 'roleRef': PULLER,
            'subjects': [{'kind': 'Group', 'apiGroup': 'rbac.authorization.k8s.io', 'name': 'system:serviceaccounts:%s' % ns}]}


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def sleep(self, seconds):
        self.now += seconds

    def __call__(self):
        return self.now


def binding(client, check_mode=False, diff=False, **args):
    module = module_for(ARGUMENT_SPEC, dict(dict(service_accounts=['a:default']), **args), client,
                        check_mode=check_mode, diff=diff, fingerprints=False)
    clock = Clock()
    return run(module, lambda: ImagePullerBinding(module, sleep=clock.sleep, clock=clock).run()) + (module.warnings,)


def test_grants_then_changes_nothing():
    client = cluster('b', 'c')
    outcome, result, _warnings = binding(client, namespaces=['b', 'c'], diff=True)
    assert outcome == 'exit' and [r['action'] for r in result['bindings']] == ['created', 'created']
    assert client.objects[binding_path('b')]['subjects'] == [SA_A]
    assert result['diff']['after']['b'] == {'system:image-puller': ['system:serviceaccount:a:default']}
    client.calls = []
    outcome, result, _warnings = binding(client, namespaces=['b', 'c'])
    assert outcome == 'exit' and not result['changed'] and client.writes() == []


def test_check_mode_writes_nothing():
    client = cluster('b')
    outcome, result, _warnings = binding(client, check_mode=True, namespace='b', verify=True)
    assert outcome == 'exit' and result['bindings'][0]['action'] == 'created' and result['verification'] == []
    assert client.writes() == [] and binding_path('b') not in client.objects


def test_a_conflict_lists_again_and_plans_again():
    client = cluster('b')
    client.add(binding_path('b'), {'metadata': {'name': 'system:image-puller', 'namespace': 'b'}, 'roleRef': PULLER,
                                   'subjects': []})
    client.fail('PUT', binding_path('b'), ApiError(409, 'Conflict', 'modified'))
    outcome, result, _warnings = binding(client, namespace='b')
    assert outcome == 'exit' and result['bindings'][0]['action'] == 'updated'
    assert client.writes() == [('PUT', binding_path('b'))] * 2


def test_absent_deletes_and_reports_the_access_openshift_keeps():
    client = cluster('b')
    binding(client, namespace='b')
    client.add(binding_path('b', 'system:image-pullers'), pullers('b'))
    outcome, result, warnings = binding(client, namespace='b', state='absent', service_accounts=['b:builder'])
    assert outcome == 'exit' and result['bindings'] == []
    assert result['access_remains'][0]['binding'] == 'system:image-pullers'
    assert any('(OpenShift restores it)' in w for w in warnings)
    outcome, result, _warnings = binding(client, namespace='b', state='absent')
    assert result['bindings'] == [dict(namespace='b', name='system:image-puller', action='deleted', subjects=[],
                                       ownership='managed')]
    assert binding_path('b') not in client.objects


def test_verify_asks_the_api_server_and_fails_when_it_disagrees():
    client = cluster('b')
    outcome, result, _warnings = binding(client, namespace='b', verify=True)
    assert outcome == 'exit' and result['verification'][0]['ok']
    client.reviews = lambda review: {'allowed': False, 'reason': ''}
    outcome, result, _warnings = binding(client, namespace='b', verify=True)
    assert outcome == 'fail' and result['msg'].startswith('verification failed: 1 of 1 checks; expected that the subjects may pull')
    assert result['bindings'][0]['action'] == 'unchanged'


def test_verify_after_absent_expects_no_grant_by_the_managed_binding():
    client = cluster('b')
    binding(client, namespace='b')
    reason = 'RBAC: allowed by RoleBinding "system:image-puller/b" of ClusterRole "system:image-puller" to ServiceAccount'
    client.reviews = lambda review: {'allowed': True, 'reason': reason}
    outcome, result, _warnings = binding(client, namespace='b', state='absent', verify=True)
    assert outcome == 'fail' and 'may no longer pull through system:image-puller bindings' in result['msg']
    client.reviews = lambda review: {'allowed': True, 'reason': 'RBAC: allowed by ClusterRoleBinding "x"'}
    outcome, result, warnings = binding(client, namespace='b', state='absent', verify=True)
    assert outcome == 'exit' and result['verification'][0]['access_remains']
    assert any('access remains: system:serviceaccount:a:default may still pull from b' in w for w in warnings)


def test_verify_without_the_right_to_ask_says_so():
    client = cluster('b')
    client.fail('POST', '/apis/authorization.k8s.io/v1/namespaces/b/localsubjectaccessreviews',
                ApiError(403, 'Forbidden', 'no'))
    outcome, result, _warnings = binding(client, namespace='b', verify=True)
    assert outcome == 'fail' and result['msg'].startswith('the role bindings were changed (see bindings); cannot verify '
                                                          '(verify needs the right to create localsubjectaccessreviews')


@pytest.mark.parametrize('args, message', [
    (dict(service_accounts=[]), 'give at least one subject'),
    (dict(service_accounts=['nonsense']), "invalid service account 'nonsense'"),
    (dict(rolebinding_name='system:image-pullers'), 'rolebinding_name system:image-pullers is managed by OpenShift'),
    (dict(role='missing-role'), 'ClusterRole missing-role does not exist; nothing was changed'),
    (dict(role='local', role_kind='Role'), 'Role local does not exist in b; nothing was changed'),
    (dict(namespaces=['b', 'gone']), 'namespace not found: gone; nothing was changed'),
])
def test_bad_input_fails_before_any_write(args, message):
    client = cluster('b')
    outcome, result, _warnings = binding(client, **dict(dict(namespace='b'), **args) if 'namespaces' not in args else args)
    assert outcome == 'fail' and message in result['msg'] and client.writes() == []


def test_a_binding_name_taken_by_another_role_is_refused_in_every_namespace():
    client = cluster('b')
    client.add(binding_path('b', 'mine'), {'metadata': {'name': 'mine', 'namespace': 'b'},
                                           'roleRef': dict(PULLER, name='edit'), 'subjects': []})
    outcome, result, _warnings = binding(client, namespace='b', rolebinding_name='mine')
    assert outcome == 'fail' and result['msg'].startswith('nothing was changed: b: rolebinding mine exists for ClusterRole edit')


def test_a_failed_namespace_is_reported_with_what_the_others_did():
    client = cluster('b', 'c')
    client.fail('POST', '%s/namespaces/c/rolebindings' % RBAC, ApiError(500, 'InternalError', 'boom'))
    outcome, result, _warnings = binding(client, namespaces=['b', 'c'])
    assert outcome == 'fail' and result['msg'].startswith('1 of 2 namespaces failed: c: ')
    assert [r['namespace'] for r in result['bindings']] == ['b']
