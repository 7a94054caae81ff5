"""The registry_access_info run (_registry_access_info_apply) in the module frame, against an API server in memory."""

import base64
import json

from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError
from ansible_collections.ocp.registry_access.plugins.module_utils._registry_access_info_apply import RegistryAccessInfo
from ansible_collections.ocp.registry_access.plugins.modules.registry_access_info import ARGUMENT_SPEC

from memory_api import MemoryClient, module_for, run

PASSWORD = 'fake-InfoApply-pa55word-plover'
GLOBAL = '/api/v1/namespaces/openshift-config/secrets/pull-secret'


def document(user):
    auth = base64.b64encode(('%s:%s' % (user, PASSWORD)).encode()).decode()
    return base64.b64encode(json.dumps({'auths': {'quay.io': {'auth': auth}}}).encode()).decode()


class TypedClient(MemoryClient):
    """MemoryClient that also answers the type= field selector the audit lists secrets with."""

    def _list(self, path, field_selector):
        if field_selector and field_selector.startswith('type='):
            items = super()._list(path, None)
            return None if items is None else [i for i in items if i.get('type') == field_selector[5:]]
        return super()._list(path, field_selector)


def cluster():
    client = TypedClient(reviews=lambda review: {'allowed': False, 'reason': 'no binding'})
    for ns in ('a', 'b'):
        client.add('/api/v1/namespaces/%s' % ns, {'metadata': {'name': ns}})
    client.add('/api/v1/namespaces/a/secrets/pull', {'metadata': {'name': 'pull', 'namespace': 'a'},
                                                     'type': 'kubernetes.io/dockerconfigjson',
                                                     'data': {'.dockerconfigjson': document('robot')}})
    client.add('/api/v1/namespaces/a/secrets/opaque', {'metadata': {'name': 'opaque', 'namespace': 'a'}, 'type': 'Opaque'})
    client.add('/api/v1/namespaces/a/serviceaccounts/default',
               {'metadata': {'name': 'default', 'namespace': 'a'},
                'imagePullSecrets': [{'name': 'pull'}, {'name': 'gone'}, {'name': 'opaque'}]})
    client.add(GLOBAL, {'metadata': {'name': 'pull-secret', 'namespace': 'openshift-config'},
                        'type': 'kubernetes.io/dockerconfigjson', 'data': {'.dockerconfigjson': document('node')}})
    return client


def info(client, check_mode=False, **args):
    module = module_for(ARGUMENT_SPEC, args, client, check_mode=check_mode)
    outcome, result = run(module, lambda: RegistryAccessInfo(module).run())
    assert PASSWORD not in json.dumps(result) + ' '.join(module.warnings)
    return outcome, result


def test_the_audit_reads_in_one_batch_and_shows_no_credential():
    client = cluster()
    outcome, result = info(client, check_mode=True, namespaces=['a', 'b', 'missing'], images=['quay.io/org/app'],
                           can_pull=[dict(service_account='a:default', from_namespace='b')])
    assert outcome == 'exit' and not result['changed']
    views = dict((n['name'], n) for n in result['namespaces'])
    assert views['missing']['exists'] is False and views['a']['exists'] is True
    assert [s['name'] for s in views['a']['pull_secrets']] == ['pull']
    assert result['global_pull_secret']['readable'] and result['can_pull'][0]['allowed'] is False
    assert views['a']['pulls'][0]['attempts'][0]['username'] == 'robot'
    assert client.writes() == [('POST', '/apis/authorization.k8s.io/v1/namespaces/b/localsubjectaccessreviews')]


def test_a_forbidden_review_says_which_right_is_missing():
    client = cluster()
    client.fail('POST', '/apis/authorization.k8s.io/v1/namespaces/b/localsubjectaccessreviews',
                ApiError(403, 'Forbidden', 'no'))
    outcome, result = info(client, namespace='a', can_pull=[dict(service_account='a:default', from_namespace='b')])
    assert outcome == 'fail' and result['msg'].startswith('can_pull needs the right to create localsubjectaccessreviews')


def test_a_forbidden_global_pull_secret_is_reported_not_fatal():
    client = cluster()
    client.fail('GET', GLOBAL, ApiError(403, 'Forbidden', 'not yours'))
    outcome, result = info(client, namespace='a')
    assert outcome == 'exit' and result['global_pull_secret']['reason'] == 'forbidden: not yours'
