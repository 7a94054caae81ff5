"""The pull_secret run (_pull_secret_apply) in the module frame, against an API server in memory."""

import base64
import json

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _pull_secret as ps
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError, PlanError
from ansible_collections.ocp.registry_access.plugins.module_utils._pull_secret_apply import PullSecret, wait_for_service_accounts
from ansible_collections.ocp.registry_access.plugins.modules.pull_secret import ARGUMENT_SPEC

from memory_api import MemoryClient, module_for, run

PASSWORD = 'fake-Apply-pa55word-zork'
SERVER = 'registry.example.com'
REGISTRIES = [dict(server=SERVER, username='robot', password=PASSWORD)]
KEY = '.dockerconfigjson'


def secret_path(ns, name='pull'):
    return '/api/v1/namespaces/%s/secrets/%s' % (ns, name)


def sa_path(ns, name='default'):
    return '/api/v1/namespaces/%s/serviceaccounts/%s' % (ns, name)


def cluster(*namespaces, service_accounts=('default',)):
    client = MemoryClient()
    for ns in namespaces:
        client.add('/api/v1/namespaces/%s' % ns, {'metadata': {'name': ns}})
        for sa in service_accounts:
            client.add(sa_path(ns, sa), {'metadata': {'name': sa, 'namespace': ns}})
    return client


def pull_secret(client, check_mode=False, diff=False, **args):
    args = dict((k, v) for k, v in dict(dict(name='pull', registries=REGISTRIES), **args).items() if v is not None)
    module = module_for(ARGUMENT_SPEC, args, client, check_mode=check_mode, diff=diff,
                        mutually_exclusive=[('registries', 'content', 'src')])
    outcome, result = run(module, lambda: PullSecret(module).run())
    text = json.dumps(result) + ' '.join(module.warnings)
    assert PASSWORD not in text and base64.b64encode(PASSWORD.encode()).decode() not in text
    return outcome, result


def auths_of(client, ns, name='pull'):
    secret = client.objects[secret_path(ns, name)]
    return json.loads(base64.b64decode(secret['data'][KEY]))['auths']


def test_creates_links_then_changes_nothing():
    client = cluster('a', 'b')
    outcome, result = pull_secret(client, namespaces=['a', 'b'], service_accounts=['default'])
    assert outcome == 'exit' and result['changed']
    assert [s['action'] for s in result['secrets']] == ['created', 'created']
    assert [s['action'] for s in result['service_accounts']] == ['linked', 'linked']
    assert dc.decode_entry(auths_of(client, 'a')[SERVER])['password'] == PASSWORD
    assert client.objects[sa_path('b')]['imagePullSecrets'] == [{'name': 'pull'}]
    client.calls = []
    outcome, result = pull_secret(client, namespaces=['a', 'b'], service_accounts=['default'])
    assert outcome == 'exit' and not result['changed'] and client.writes() == []


def test_check_mode_writes_nothing_and_says_what_would_change():
    client = cluster('a')
    outcome, result = pull_secret(client, check_mode=True, diff=True, namespace='a', service_accounts=['default'])
    assert outcome == 'exit' and result['changed'] and client.writes() == []
    assert result['secrets'][0]['action'] == 'created' and result['service_accounts'][0]['action'] == 'linked'
    assert result['diff']['after']['a']['service_accounts'] == {'default': 'pull'}
    assert secret_path('a') not in client.objects


def test_a_conflict_reads_again_and_plans_again():
    client = cluster('a')
    pull_secret(client, namespace='a')
    client.fail('PUT', secret_path('a'), ApiError(409, 'Conflict', 'modified'))
    outcome, result = pull_secret(client, namespace='a', merge=True,
                                  registries=[dict(server='quay.io', username='u', password=PASSWORD)])
    assert outcome == 'exit' and result['secrets'][0]['action'] == 'updated'
    assert [c for c in client.calls if c == ('PUT', secret_path('a'))] == [('PUT', secret_path('a'))] * 2
    assert sorted(auths_of(client, 'a')) == ['quay.io', SERVER]


def test_conflicts_without_end_give_up_naming_the_secret():
    client = cluster('a')
    pull_secret(client, namespace='a')
    client.fail('PUT', secret_path('a'), *[ApiError(409, 'Conflict', 'modified')] * 10)
    outcome, result = pull_secret(client, namespace='a', registries=[dict(server='quay.io', username='u', password=PASSWORD)])
    assert outcome == 'fail' and 'secret a/pull kept changing; try again' in result['msg']


def test_force_recreates_a_secret_of_another_type_and_restores_it_when_the_create_fails():
    client = cluster('a')
    client.add(secret_path('a'), {'metadata': {'name': 'pull', 'namespace': 'a'}, 'type': 'Opaque', 'data': {'x': 'eA=='}})
    # a Secret the collection did not create: taken over only when asked (unmanaged: adopt)
    outcome, result = pull_secret(client, namespace='a', unmanaged='adopt')
    assert outcome == 'fail' and 'set force: true' in result['msg'] and client.writes() == []
    client.fail('POST', '/api/v1/namespaces/a/secrets', ApiError(403, 'Forbidden', 'quota'))
    outcome, result = pull_secret(client, namespace='a', force=True, unmanaged='adopt')
    assert outcome == 'fail' and 'the previous secret was restored' in result['msg']
    assert result['secrets'][0]['action'] == 'restored'
    assert client.objects[secret_path('a')]['type'] == 'Opaque'
    outcome, result = pull_secret(client, namespace='a', force=True, unmanaged='adopt')
    assert outcome == 'exit' and result['secrets'][0]['action'] == 'recreated'
    assert client.objects[secret_path('a')]['type'] == 'kubernetes.io/dockerconfigjson'


def test_a_recreate_whose_restore_fails_says_the_secret_was_deleted():
    client = cluster('a')
    client.add(secret_path('a'), {'metadata': {'name': 'pull', 'namespace': 'a'}, 'type': 'Opaque', 'data': {}})
    client.fail('POST', '/api/v1/namespaces/a/secrets', ApiError(403, 'Forbidden', 'quota'), ApiError(403, 'Forbidden', 'quota'))
    outcome, result = pull_secret(client, namespace='a', force=True, unmanaged='adopt')
    assert outcome == 'fail' and 'restoring the previous secret failed too' in result['msg']
    assert result['secrets'][0]['action'] == 'deleted' and secret_path('a') not in client.objects


def test_a_failed_write_leaves_the_service_accounts_of_that_namespace_unlinked():
    client = cluster('a', 'b')
    client.fail('POST', '/api/v1/namespaces/b/secrets', ApiError(500, 'InternalError', 'boom'))
    outcome, result = pull_secret(client, namespaces=['a', 'b'], service_accounts=['default'])
    assert outcome == 'fail' and result['msg'].startswith('1 of 3 operations failed: secret b/pull: ')
    assert 'service accounts in b were not linked' in result['msg']
    assert 'imagePullSecrets' not in client.objects[sa_path('b')]


def test_absent_unlinks_then_deletes_and_keeps_a_secret_still_referenced():
    client = cluster('a', 'b')
    pull_secret(client, namespaces=['a', 'b'], service_accounts=['default'])
    client.fail('PUT', sa_path('b'), ApiError(403, 'Forbidden', 'no'))
    outcome, result = pull_secret(client, namespaces=['a', 'b'], state='absent', registries=None)
    assert outcome == 'fail' and 'not deleted, because service account(s) default could not be unlinked' in result['msg']
    assert secret_path('a') not in client.objects and secret_path('b') in client.objects
    assert client.objects[sa_path('a')]['imagePullSecrets'] == []
    outcome, result = pull_secret(client, namespaces=['a', 'b'], state='absent', registries=None)
    assert outcome == 'exit' and [s['action'] for s in result['secrets']] == ['unchanged', 'deleted']


@pytest.mark.parametrize('args, message', [
    (dict(registries=[dict(server='https://robot:x@quay.io', username='u', password=PASSWORD)]), "registries: registry 'https://***@quay.io'"),
    (dict(name='Bad_Name'), 'invalid secret name'),
    (dict(service_accounts=['Bad_SA']), 'invalid service account name'),
    (dict(registries=None, content={'auths': {}}), 'content holds no registry'),
    (dict(registries=None, content='{not json'), 'content is not a valid docker config'),
    (dict(namespaces=['a', 'missing']), 'namespace not found: missing; nothing was changed'),
])
def test_bad_input_fails_before_any_write(args, message):
    client = cluster('a')
    outcome, result = pull_secret(client, **dict(dict(namespace='a'), **args) if 'namespaces' not in args else args)
    assert outcome == 'fail' and message in result['msg'] and client.writes() == []


def test_wait_for_none_fails_at_once_when_a_service_account_is_missing():
    client = cluster('a', service_accounts=())
    outcome, result = pull_secret(client, namespace='a', service_accounts=['builder'], wait_for='none')
    assert outcome == 'fail' and result['msg'] == 'service account not found: a/builder; nothing was changed'
    assert client.writes() == []


# -- wait_for_service_accounts -------------------------------------------------------------------

class FakeClock(object):
    """Time that moves only when slept."""

    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


class FakeClient(object):
    """The three client methods the wait uses; service accounts appear on a schedule of GET rounds."""

    def __init__(self, initial, later=None, secrets=None):
        self.initial = initial      # {(ns, name): object or None} seen by the first list
        self.later = later or {}    # {(ns, name): [object or None per GET round]}
        self.secrets = secrets or {}  # {(ns, name): Secret}, read by the provisioned wait
        self.lists = []
        self.gets = []

    def objects_by_namespace(self, resource, name, namespaces):
        self.lists.append((resource, name, tuple(namespaces)))
        return dict((ns, self.initial.get((ns, name))) for ns in namespaces)

    def get(self, path):
        self.gets.append(path)
        parts = path.split('/')
        ns, name = parts[4], parts[6]
        if parts[5] == 'secrets':
            return self.secrets.get((ns, name))
        assert parts[5] == 'serviceaccounts'
        answers = self.later.get((ns, name), [None])
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def parallel(self, func, items):
        results = []
        for item in items:
            try:
                results.append(func(item))
            except Exception as e:  # pylint: disable=broad-except
                # as the real client does
                results.append(e)
        return results


def sa_in(ns, name, provisioned=False):
    sa = {'apiVersion': 'v1', 'kind': 'ServiceAccount', 'metadata': {'name': name, 'namespace': ns, 'resourceVersion': '3'}}
    if provisioned:
        sa['imagePullSecrets'] = [{'name': '%s-dockercfg-abcde' % name}]
    return sa


def wait(client, namespaces, names, mode='exists', timeout=30, clock=None):
    clock = clock or FakeClock()
    return wait_for_service_accounts(client, namespaces, names, mode, timeout, sleep=clock.sleep, clock=clock.clock)


def test_wait_returns_at_once_when_every_service_account_exists():
    initial = dict(((ns, n), sa_in(ns, n)) for ns in ('a', 'b') for n in ('default', 'builder'))
    client = FakeClient(initial)
    clock = FakeClock()
    found = wait(client, ['a', 'b'], ['default', 'builder'], clock=clock)
    assert found == initial
    assert client.lists == [('serviceaccounts', 'default', ('a', 'b')), ('serviceaccounts', 'builder', ('a', 'b'))]
    assert client.gets == [] and clock.slept == []


def test_wait_polls_missing_service_accounts_until_they_appear():
    client = FakeClient({('a', 'default'): sa_in('a', 'default')},
                        later={('b', 'default'): [None, None, sa_in('b', 'default')]})
    clock = FakeClock()
    found = wait(client, ['a', 'b'], ['default'], clock=clock)
    assert found[('b', 'default')]['metadata']['namespace'] == 'b'
    assert found[('a', 'default')]['metadata']['namespace'] == 'a'
    assert client.gets == ['/api/v1/namespaces/b/serviceaccounts/default'] * 3
    assert clock.slept == [1, 1, 1]


def test_wait_polls_only_what_is_still_pending():
    client = FakeClient({}, later={('a', 'default'): [sa_in('a', 'default')],
                                   ('b', 'default'): [None, sa_in('b', 'default')]})
    wait(client, ['a', 'b'], ['default'])
    assert client.gets == ['/api/v1/namespaces/a/serviceaccounts/default',
                           '/api/v1/namespaces/b/serviceaccounts/default',
                           '/api/v1/namespaces/b/serviceaccounts/default']


def test_wait_provisioned_waits_for_the_generated_pull_secret():
    token = {'image-registry.openshift-image-registry.svc:5000': dc.build_entry(username='serviceaccount', password=PASSWORD)}
    cfg_type, cfg_key = dc.TYPES['dockercfg']
    generated = {'type': cfg_type, 'data': {cfg_key: base64.b64encode(dc.serialize(token, layout='dockercfg')).decode()}}
    client = FakeClient({('a', 'default'): sa_in('a', 'default')},
                        later={('a', 'default'): [sa_in('a', 'default'), sa_in('a', 'default', provisioned=True)]},
                        secrets={('a', 'default-dockercfg-abcde'): generated})
    clock = FakeClock()
    found = wait(client, ['a'], ['default'], mode='provisioned', clock=clock)
    assert ps.is_provisioned(found[('a', 'default')])
    assert client.gets[-1] == '/api/v1/namespaces/a/secrets/default-dockercfg-abcde'
    assert len(client.gets) == 3 and clock.slept == [1, 1]


def test_wait_exists_does_not_wait_for_provisioning():
    client = FakeClient({('a', 'default'): sa_in('a', 'default')})
    found = wait(client, ['a'], ['default'], mode='exists')
    assert not ps.is_provisioned(found[('a', 'default')])
    assert client.gets == []


def test_wait_mode_none_fails_at_once_naming_the_missing_ones():
    client = FakeClient({('a', 'default'): sa_in('a', 'default')})
    clock = FakeClock()
    with pytest.raises(PlanError) as err:
        wait(client, ['a', 'b', 'c'], ['default', 'builder'], mode='none', clock=clock)
    assert str(err.value) == 'service account not found: a/builder, b/builder, b/default, c/builder, c/default'
    assert client.gets == [] and clock.slept == []


def test_wait_mode_none_succeeds_when_all_exist():
    client = FakeClient({('a', 'default'): sa_in('a', 'default')})
    assert list(wait(client, ['a'], ['default'], mode='none')) == [('a', 'default')]


def test_wait_times_out_naming_what_is_missing():
    client = FakeClient({('a', 'default'): sa_in('a', 'default')})
    clock = FakeClock()
    with pytest.raises(PlanError) as err:
        wait(client, ['a', 'b'], ['default'], timeout=5, clock=clock)
    message = str(err.value)
    assert message.startswith('timed out after 5s waiting for service accounts to exist: b/default')
    assert clock.slept == [1] * 5
    assert len(client.gets) == 5


def test_wait_provisioned_timeout_explains_what_was_awaited():
    client = FakeClient({('a', 'default'): sa_in('a', 'default')}, later={('a', 'default'): [sa_in('a', 'default')]})
    with pytest.raises(PlanError) as err:
        wait(client, ['a'], ['default'], mode='provisioned', timeout=3)
    message = str(err.value)
    assert 'timed out after 3s' in message
    assert 'dockercfg' in message and ps.REGISTRY_PULL_SECRET_REF in message
    assert ': a/default: no pull secret yet (neither the %s annotation nor a default-dockercfg-* secret' % (
        ps.REGISTRY_PULL_SECRET_REF) in message


def test_wait_timeout_message_shortens_a_long_list():
    namespaces = ['ns-%02d' % i for i in range(12)]
    with pytest.raises(PlanError) as err:
        wait(FakeClient({}), namespaces, ['default'], timeout=0)
    message = str(err.value)
    assert 'ns-09/default' in message and 'ns-10/default' not in message
    assert message.endswith('... and 2 more')


def test_wait_raises_an_error_from_a_read():
    class Boom(Exception):
        pass

    class Failing(FakeClient):
        def get(self, path):
            raise Boom('HTTP 403 Forbidden')

    with pytest.raises(Boom):
        wait(Failing({}), ['a'], ['default'])
