# Unit tests of the module layer: the error hierarchy, the constants and plan vocabulary, the poller
# and the frame every module runs in (_errors, _constants, _poll, _module).

import contextlib
import json

import pytest

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode('utf-8')
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.ocp.registry_access.plugins.module_utils import _cluster
from ansible_collections.ocp.registry_access.plugins.module_utils import _constants as const
from ansible_collections.ocp.registry_access.plugins.module_utils import _errors as errors
from ansible_collections.ocp.registry_access.plugins.module_utils import _poll as poll
from ansible_collections.ocp.registry_access.plugins.module_utils._module import (
    NAMESPACE_ARG_SPEC, RegistryAccessModule, module_arg_spec,
)

PASSWORD = 'fake-Frame-pa55word-quux'
HOST = 'http://127.0.0.1:1'


# -- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('status, flags', [
    (401, {'unauthorized', 'denied'}), (403, {'forbidden', 'denied'}), (404, {'not_found'}),
    (409, {'conflict'}), (410, {'gone'}), (422, set()), (None, set()),
])
def test_api_error_properties_name_the_status(status, flags):
    error = errors.ApiError(status, 'Reason', 'message')
    names = ('unauthorized', 'forbidden', 'denied', 'not_found', 'conflict', 'gone')
    assert set(n for n in names if getattr(error, n)) == flags


def test_every_error_has_the_one_base_and_input_errors_are_value_errors():
    for cls in (errors.ApiError, errors.PlanError, errors.InputError, errors.ConfigError):
        assert issubclass(cls, errors.RegistryAccessError)
    assert issubclass(errors.InputError, ValueError)
    assert _cluster.ApiError is errors.ApiError and _cluster.ConfigError is errors.ConfigError
    assert errors.PlanError('why', result={'changed': True}).result == {'changed': True}


def test_api_error_is_one_line_with_where_and_code():
    assert str(errors.ApiError(404, 'NotFound', 'gone', 'GET', '/x')) == 'GET /x: HTTP 404 NotFound: gone'
    assert str(errors.ApiError(None, None, 'no route')) == 'no route'


# -- constants --------------------------------------------------------------------------------------

def test_every_plan_action_has_its_reported_word():
    assert set(const.REPORTED) == set(const.ACTIONS)
    assert const.reported(const.CREATE) == 'created' and const.reported('created') == 'created'
    assert const.is_change(const.DELETE) and not const.is_change(const.UNCHANGED) and not const.is_change(None)
    assert const.WRITES == frozenset(const.ACTIONS) - {const.UNCHANGED}


def test_text_helpers_are_shared_by_both_layers():
    assert _cluster.one_line is const.one_line and _cluster.resource_path is const.resource_path
    assert const.one_line('a\n  b', limit=2) == 'a ...'
    assert const.resource_path('secrets', 'ns a', 'n/1') == '/api/v1/namespaces/ns%20a/secrets/n%2F1'


# -- poller -------------------------------------------------------------------------------------------

class Clock(object):
    def __init__(self):
        self.now, self.slept = 0.0, []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def test_poll_stops_when_the_probe_is_done():
    clock, answers = Clock(), iter([False, False, True])
    assert poll.poll(lambda: next(answers), 30, poll.steady(1), sleep=clock.sleep, clock=clock) is True
    assert clock.slept == [1, 1]


def test_poll_times_out_and_never_sleeps_past_the_timeout():
    clock = Clock()
    assert poll.poll(lambda: False, 2.5, poll.steady(1), sleep=clock.sleep, clock=clock) is False
    assert clock.slept == [1, 1, 0.5]


def test_poll_with_no_time_probes_once():
    clock, calls = Clock(), []
    assert poll.poll(lambda: calls.append(1), 0, sleep=clock.sleep, clock=clock) is False
    assert calls == [1] and clock.slept == []


def test_pauses_double_or_slow_down_up_to_a_cap():
    assert [poll.doubling(0.1, 1.0)(n, 0) for n in range(5)] == [0.1, 0.2, 0.4, 0.8, 1.0]
    assert [poll.slowing(1, 1 / 30.0, 10)(0, e) for e in (0, 30, 600)] == [1, 2, 10]


# -- frame --------------------------------------------------------------------------------------------

class Exit(Exception):
    pass


class Fail(Exception):
    pass


def frame(args, spec=None, namespaced=False, check_mode=False, **kwargs):
    args = dict(args, host=HOST)
    if check_mode:
        args['_ansible_check_mode'] = True
    with patch_module_args(args):
        module = RegistryAccessModule(spec or {}, namespaced=namespaced, supports_check_mode=True, **kwargs)

    def exit_json(**result):
        raise Exit(result)

    def fail_json(**result):
        raise Fail(result)

    module.ansible.exit_json, module.ansible.fail_json = exit_json, fail_json
    module.warnings = []
    module.ansible.warn = module.warnings.append
    return module


def test_the_frame_adds_the_connection_fingerprint_and_namespace_options():
    spec = module_arg_spec({'x': dict(type='str')}, namespaced=True)
    assert set(NAMESPACE_ARG_SPEC) | {'x', 'fingerprint_key'} | set(_cluster.CONNECTION_ARG_SPEC) == set(spec)
    assert 'namespace' not in module_arg_spec({})
    assert 'fingerprint_key' not in module_arg_spec({}, fingerprints=False)


def test_the_namespace_rules_apply(capsys):
    with pytest.raises(SystemExit):
        frame(dict(namespace='a', namespaces=['b']), namespaced=True)
    assert 'mutually exclusive' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        frame({}, namespaced=True)
    assert 'one of the following is required' in capsys.readouterr().out


def test_run_exits_with_the_result_and_the_api_warnings():
    module = frame({})

    def body():
        module.client.warnings.append('deprecated API')
        return dict(changed=False)

    with pytest.raises(Exit) as done:
        module.run(body)
    assert done.value.args[0] == dict(changed=False, warnings_from_api=['deprecated API'])
    assert module.warnings == ['deprecated API']
    assert module.client.dry_run is False


def test_check_mode_gives_a_dry_run_client():
    module = frame({}, check_mode=True)
    client = module.connect()
    assert client.dry_run and client is module.connect()
    assert client.create('/api/v1/namespaces/a/secrets', {'kind': 'Secret'}) == {'kind': 'Secret'}
    assert client.replace('/x', {'a': 1}) == {'a': 1} and client.requests_sent == 0


def test_every_registry_access_error_fails_once_redacted_with_its_result():
    module = frame({})

    def body():
        module.hide([PASSWORD, '', None])
        raise errors.PlanError('it holds %s' % PASSWORD, result=dict(changed=True))

    with pytest.raises(Fail) as failed:
        module.run(body)
    result = failed.value.args[0]
    assert PASSWORD not in result['msg'] and result['msg'].startswith('it holds ')
    assert result['changed'] is True and result['warnings_from_api'] == []
    assert PASSWORD in module.ansible.no_log_values


def test_a_bad_connection_fails_before_the_body_runs():
    with patch_module_args(dict(host='ftp://nowhere')):
        module = RegistryAccessModule({})

    def fail_json(**result):
        raise Fail(result)

    module.ansible.fail_json = fail_json
    ran = []
    with pytest.raises(Fail) as failed:
        module.run(lambda: ran.append(1))
    assert 'must start with https:// or http://' in failed.value.args[0]['msg'] and ran == []


def test_secrets_are_hidden_like_strings():
    module = frame({})
    blob = 'eyJhdXRocyI6e319Cg=='
    module.hide_secrets([None, {'data': {'.dockerconfigjson': blob}}])
    assert blob in module.secret_values
    module.warn('saw %s' % blob)
    assert module.warnings == ['saw ********']


class FakeClient(object):
    def __init__(self, all_names, existing):
        self.all_names, self.existing = all_names, existing

    def namespaces(self, namespace, namespaces, selector, exclude):
        return sorted([namespace] if namespace else namespaces or self.all_names)

    def existing_namespaces(self, names):
        return set(names) & self.existing


def test_target_namespaces_refuses_a_missing_named_namespace():
    module = frame(dict(namespaces=['a', 'b']), namespaced=True)
    module.client = FakeClient([], {'a'})
    assert module.namespaces() == (['a', 'b'], {'a'})
    with pytest.raises(errors.InputError, match='^namespace not found: b; nothing was changed$'):
        module.target_namespaces()


def test_selected_namespaces_exist_by_definition():
    module = frame(dict(namespace_selector='team=x'), namespaced=True)
    module.client = FakeClient(['a', 'b'], set())
    assert module.target_namespaces() == ['a', 'b']
