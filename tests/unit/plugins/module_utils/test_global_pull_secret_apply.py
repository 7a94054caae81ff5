"""The global_pull_secret run (_global_pull_secret_apply) in the module frame, against an API server in memory."""

import base64
import copy
import json

from ansible_collections.ocp.registry_access.plugins.module_utils import _global_pull_secret as gps
from ansible_collections.ocp.registry_access.plugins.module_utils import _global_pull_secret_apply as apply
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError
from ansible_collections.ocp.registry_access.plugins.modules.global_pull_secret import ARGUMENT_SPEC

from memory_api import MemoryClient, run
from test_frame import frame

PASSWORD = 'fake-GlobalApply-pa55word-xyzzy'
SECRET = '/api/v1/namespaces/openshift-config/secrets/pull-secret'
SECRETS = '/api/v1/namespaces/openshift-config/secrets'
POOLS = '/apis/machineconfiguration.openshift.io/v1/machineconfigpools'
INFRA = '/apis/config.openshift.io/v1/infrastructures/cluster'
REGISTRY = dict(server='privateregistry.example.com', username='robot', password=PASSWORD)
OCM = {'auth': base64.b64encode(b'ocm:fake-ocm-token').decode(), 'email': 'owner@example.com'}


class ClusterClient(MemoryClient):
    """MemoryClient with lists of cluster-scoped objects too (MachineConfigPools)."""

    def _list(self, path, field_selector):
        prefix, rest = self._split(path)
        scoped = [copy.deepcopy(obj) for key, obj in sorted(self.objects.items())
                  if self._split(key) == (prefix, rest + [obj['metadata']['name']]) and rest[0] != 'namespaces']
        return scoped or super()._list(path, field_selector)


def cluster(document=None, pools=()):
    client = ClusterClient()
    raw = json.dumps(document or {'auths': {'cloud.openshift.com': OCM}}).encode()
    client.add(SECRET, {'apiVersion': 'v1', 'kind': 'Secret', 'type': gps.SECRET_TYPE,
                        'metadata': {'name': 'pull-secret', 'namespace': 'openshift-config'},
                        'data': {gps.DATA_KEY: base64.b64encode(raw).decode()}})
    for pool in pools:
        client.add('%s/%s' % (POOLS, pool['metadata']['name']), pool)
    return client


def global_pull_secret(client, check_mode=False, **args):
    args = dict((k, v) for k, v in dict(dict(registries=[REGISTRY]), **args).items() if v is not None)
    module = frame(dict(args, _ansible_diff=True), ARGUMENT_SPEC, check_mode=check_mode,
                   mutually_exclusive=[('registries', 'content', 'src')], required_one_of=[('registries', 'content', 'src')])
    client.dry_run, client.redact, module.client = module.check_mode, module.redact, client
    outcome, result = run(module, lambda: apply.GlobalPullSecret(module).run())
    text = json.dumps(result) + ' '.join(module.warnings)
    assert PASSWORD not in text and base64.b64encode(('robot:' + PASSWORD).encode()).decode() not in text
    return outcome, result, module.warnings


def auths(client):
    return json.loads(base64.b64decode(client.objects[SECRET]['data'][gps.DATA_KEY]))['auths']


def pool(name, rendered, updated=True, degraded=None):
    conditions = [{'type': 'Updated', 'status': 'True' if updated else 'False'},
                  {'type': 'Updating', 'status': 'False' if updated else 'True'}]
    if degraded:
        conditions.append({'type': 'Degraded', 'status': 'True', 'message': degraded})
    return {'metadata': {'name': name, 'generation': 1}, 'spec': {'configuration': {'name': rendered}},
            'status': {'configuration': {'name': rendered}, 'observedGeneration': 1, 'conditions': conditions,
                       'machineCount': 1, 'updatedMachineCount': 1 if updated else 0}}


def test_check_mode_backs_up_and_writes_nothing_then_the_run_does():
    client = cluster()
    outcome, result, _warnings = global_pull_secret(client, check_mode=True, backup=True, wait=True)
    assert outcome == 'exit' and result['changed'] and result['added'] == ['privateregistry.example.com']
    assert result['backup_name'].startswith('pull-secret-backup-') and result['rollout'] == []
    assert client.writes() == [] and POOLS not in [p for _m, p in client.calls]
    assert result['diff']['after']['registries']['privateregistry.example.com']['username'] == 'robot'

    outcome, result, _warnings = global_pull_secret(client, backup=True)
    assert outcome == 'exit' and result['changed'] and 'privateregistry.example.com' in auths(client)
    assert '%s/%s' % (SECRETS, result['backup_name']) in client.objects
    assert global_pull_secret(client, backup=True)[1]['changed'] is False


def test_a_conflict_plans_again_from_the_fresh_secret():
    client = cluster()
    client.fail('PUT', SECRET, ApiError(409, 'Conflict', 'modified'))
    outcome, result, _warnings = global_pull_secret(client)
    assert outcome == 'exit' and result['changed']
    assert [m for m, p in client.calls if p == SECRET] == ['GET', 'PUT', 'GET', 'PUT']
    assert set(auths(client)) == {'cloud.openshift.com', 'privateregistry.example.com'}


def test_a_backup_of_the_same_second_gets_the_next_name_and_old_ones_are_pruned(monkeypatch):
    client = cluster()
    stamp = apply.GlobalPullSecret.now()
    monkeypatch.setattr(apply.GlobalPullSecret, 'now', staticmethod(lambda: stamp))
    first = gps.backup_name('pull-secret', stamp)
    client.add('%s/%s' % (SECRETS, first), {'metadata': {'name': first, 'labels': {gps.BACKUP_LABEL: 'pull-secret'}}})
    outcome, result, _warnings = global_pull_secret(client, backup=True, backup_keep=1)
    assert outcome == 'exit' and result['backup_name'] == gps.backup_name('pull-secret', stamp, 1)
    assert result['pruned_backups'] == [first] and '%s/%s' % (SECRETS, first) not in client.objects


def test_backups_of_the_same_second_without_end_fail_with_nothing_changed(monkeypatch):
    client = cluster()
    for _attempt in range(apply.MAX_CONFLICT_ATTEMPTS):
        client.fail('POST', SECRETS, ApiError(409, 'AlreadyExists', 'exists'))
    outcome, result, _warnings = global_pull_secret(client, backup=True)
    assert outcome == 'fail' and 'backups of the same second exist; nothing was changed' in result['msg']
    assert client.writes() == [('POST', SECRETS)] * apply.MAX_CONFLICT_ATTEMPTS and 'privateregistry.example.com' not in auths(client)


def test_a_failed_prune_is_a_warning():
    client = cluster()
    client.fail('GET', SECRETS, ApiError(403, 'Forbidden', 'no list'))
    outcome, result, warnings = global_pull_secret(client, backup=True)
    assert outcome == 'exit' and result['changed'] and any('pruning its old backups failed' in w for w in warnings)


def test_a_hosted_control_plane_is_refused_and_a_forbidden_check_is_a_warning():
    client = cluster()
    client.add(INFRA, {'metadata': {'name': 'cluster'}, 'status': {'controlPlaneTopology': 'External'}})
    outcome, result, _warnings = global_pull_secret(client)
    assert outcome == 'fail' and 'hosted control plane' in result['msg'] and client.writes() == []
    client.fail('GET', INFRA, ApiError(403, 'Forbidden', 'no'))
    outcome, result, warnings = global_pull_secret(client)
    assert outcome == 'exit' and any('was not checked' in w for w in warnings)


def test_bad_input_fails_before_any_request():
    client = cluster()
    for args, message in ((dict(backup_keep=0), 'backup_keep must be at least 1'),
                          (dict(wait_timeout=0), 'wait_timeout must be at least 1 second'),
                          (dict(registries=[]), 'registries is empty'),
                          (dict(registries=[dict(server='')], state='absent'), 'registries: a registry key (server) is empty'),
                          (dict(registries=None, content='{not json'), 'nothing was changed')):
        outcome, result, _warnings = global_pull_secret(client, **args)
        assert outcome == 'fail' and message in result['msg'], result['msg']
    assert client.calls == []


def test_wait_follows_the_rollout_and_reports_each_pool(monkeypatch):
    client = cluster(pools=[pool('master', 'rendered-1')])
    # the rollout: the pool gets a new rendered config while the module waits
    rounds = []

    def sleep(seconds):
        rounds.append(seconds)
        client.add('%s/master' % POOLS, pool('master', 'rendered-2'))

    monkeypatch.setattr(apply, 'poll', lambda probe, timeout, pause: apply_poll(probe, timeout, pause, sleep))
    outcome, result, _warnings = global_pull_secret(client, wait=True)
    assert outcome == 'exit' and result['rollout'] == [dict(name='master', rendered_before='rendered-1',
                                                            rendered_after='rendered-2', done=True)]
    assert rounds == [1]


def apply_poll(probe, timeout, pause, sleep):
    from ansible_collections.ocp.registry_access.plugins.module_utils import _poll
    clock = [0.0]

    def tick(seconds):
        sleep(seconds)
        clock[0] += seconds
    return _poll.poll(probe, timeout, pause, sleep=tick, clock=lambda: clock[0])


def test_wait_fails_on_a_degraded_pool_and_on_the_timeout(monkeypatch):
    monkeypatch.setattr(apply, 'poll', lambda probe, timeout, pause: apply_poll(probe, timeout, pause, lambda s: None))
    client = cluster(pools=[pool('worker', 'rendered-1', degraded='disk full')])
    outcome, result, _warnings = global_pull_secret(client, wait=True)
    assert outcome == 'fail' and 'the pull secret was updated, but MachineConfigPool worker is degraded' in result['msg']
    assert result['changed'] and result['rollout'][0]['name'] == 'worker'
    client = cluster(pools=[pool('worker', 'rendered-1', updated=False)])
    outcome, result, _warnings = global_pull_secret(client, wait=True, wait_timeout=3)
    assert outcome == 'fail' and 'timed out after 3s waiting for the MachineConfigPools' in result['msg']


def test_without_machineconfigpools_there_is_nothing_to_wait_for():
    client = cluster()
    client.fail('GET', POOLS, ApiError(404, 'NotFound', 'no such API'))
    outcome, result, warnings = global_pull_secret(client, wait=True)
    assert outcome == 'exit' and any('no MachineConfigPool API' in w for w in warnings)
