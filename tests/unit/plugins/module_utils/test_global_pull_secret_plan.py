"""Decisions of global_pull_secret: add/update/remove/replace plans, the Telemetry guard, backups, hosted control
planes and MachineConfigPool rollout evaluation."""

import base64
import datetime
import json

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _global_pull_secret as gps

PASSWORD = 'fake-gps-pass-4e1d'
WHERE = 'openshift-config/pull-secret'


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


OCM = {'auth': b64('ocm:fake-ocm-token'), 'email': 'owner@example.com'}
QUAY = {'auth': b64('quay:fake-quay-token'), 'email': 'owner@example.com', 'x-unknown': {'b': 1, 'a': [2]}}
HUB = {'username': 'hub', 'password': 'fake-hub-pass', 'auth': b64('hub:fake-hub-pass')}
DOCUMENT = {'auths': {'cloud.openshift.com': OCM, 'quay.io': QUAY, 'https://index.docker.io/v1/': HUB},
            'credHelpers': {'example.com': 'helper'}}


def secret(document=None, raw=None, type_=gps.SECRET_TYPE, name='pull-secret', namespace='openshift-config'):
    if raw is None:
        raw = json.dumps(DOCUMENT if document is None else document).encode()
    return {'apiVersion': 'v1', 'kind': 'Secret', 'type': type_,
            'metadata': {'name': name, 'namespace': namespace, 'resourceVersion': '42', 'labels': {'keep': 'me'}},
            'data': {gps.DATA_KEY: base64.b64encode(raw).decode()}}


def written(plan):
    return json.loads(plan.data)


def present(entries, **kwargs):
    return gps.plan_change(secret(), WHERE, 'present', entries, **kwargs)


# -- reading the secret ------------------------------------------------------------------------

def test_missing_secret_fails_with_guidance():
    with pytest.raises(gps.PlanError, match='not found.*additional-pull-secret'):
        gps.plan_change(None, WHERE, 'present', {})


def test_secret_of_another_type_fails_even_for_a_replacement():
    with pytest.raises(gps.PlanError, match='type Opaque, not kubernetes.io/dockerconfigjson'):
        gps.plan_change(secret(type_='Opaque'), WHERE, 'replace', dc.parse_config(DOCUMENT))


@pytest.mark.parametrize('raw,why', [
    (b'{not json', 'not valid JSON'),
    (b'{"quay.io":{"auth":"' + b64('a:b').encode() + b'"}}', "no 'auths'"),
    (b'{"auths":{"quay.io":{"auth":5}}}', 'string'),
])
def test_a_corrupt_document_stops_add_and_remove_and_is_left_as_is(raw, why):
    for mode, given in (('present', {'registry.example.com': dc.build_entry(username='u', password=PASSWORD)}),
                        ('absent', ['quay.io'])):
        with pytest.raises(gps.PlanError, match=why) as err:
            gps.plan_change(secret(raw=raw), WHERE, mode, given)
        assert 'left as it is' in str(err.value) and 'content or src' in str(err.value)


def test_a_secret_without_the_data_key_is_corrupt():
    broken = secret()
    broken['data'] = {}
    assert gps.read_document(broken) == (None, 'it has no valid .dockerconfigjson key')


def test_secret_values_of_hides_credentials_of_valid_and_broken_entries():
    values = gps.secret_values_of(secret({'auths': {'a.example.com': {'auth': '%%%bad', 'password': 'p1'}, 'q': OCM}}))
    assert {'%%%bad', 'p1', OCM['auth'], 'fake-ocm-token'} <= values
    # a document that is not JSON may still hold a credential: it is hidden whole, as sent and as text
    assert gps.secret_values_of(secret(raw=b'{not json')) == {'{not json', base64.b64encode(b'{not json').decode()}
    assert gps.secret_values_of(None) == set()


# -- add and update ------------------------------------------------------------------------------

def test_add_appends_new_registries_and_keeps_everything_else_byte_for_byte():
    repo = dc.build_entry(username='robot', password=PASSWORD, email='you@example.com')
    plan = present({'quay.io/repository-main': repo, 'privateregistry.example.com': dc.build_entry(auth=b64('dev:' + PASSWORD))})
    assert plan.changed and plan.added == ['privateregistry.example.com', 'quay.io/repository-main']
    assert (plan.updated, plan.removed) == ([], [])
    doc = written(plan)
    for key, entry in DOCUMENT['auths'].items():
        assert doc['auths'][key] == entry and list(doc['auths'][key]) == list(entry)
    assert doc['credHelpers'] == DOCUMENT['credHelpers']
    assert doc['auths']['quay.io/repository-main'] == repo
    text = plan.data.decode()
    assert '"quay.io":{"auth":"%s","email":"owner@example.com","x-unknown":{"b":1,"a":[2]}}' % QUAY['auth'] in text


def test_update_changes_credentials_and_keeps_email_and_unknown_fields():
    plan = present({'https://quay.io': dc.build_entry(username='quay', password='rotated')})
    assert (plan.added, plan.updated) == ([], ['quay.io'])
    assert written(plan)['auths']['quay.io'] == {'auth': b64('quay:rotated'), 'email': 'owner@example.com',
                                                 'x-unknown': {'b': 1, 'a': [2]}}


def test_update_rewrites_username_and_password_only_where_the_entry_has_them():
    plan = present({'index.docker.io': dc.build_entry(username='hub', password='new-hub-pass', email='hub@example.com')})
    assert plan.updated == ['https://index.docker.io/v1/']
    assert written(plan)['auths']['https://index.docker.io/v1/'] == {
        'username': 'hub', 'password': 'new-hub-pass', 'auth': b64('hub:new-hub-pass'), 'email': 'hub@example.com'}


def test_the_same_credentials_are_no_change_whatever_the_spelling():
    plan = present({'QUAY.io': dc.build_entry(auth=b64('quay:fake-quay-token'))})
    assert not plan.changed and plan.data is None
    assert plan.auths_after == DOCUMENT['auths'] and (plan.added, plan.updated, plan.removed) == ([], [], [])


@pytest.mark.parametrize('server,why', [
    ('user@new.example.com', "'@'"),
    ('new.example.com/repo:tag', 'does not name a registry or repository'),
    ('new.example.com/repo@sha256:abc', "'@'"),
    ('new.example.com/Repo', 'lower-case repository path'),
])
def test_new_keys_are_validated_as_the_container_runtime_requires(server, why):
    with pytest.raises(gps.PlanError, match=why):
        present({server: dc.build_entry(username='u', password=PASSWORD)})


def test_path_scoped_and_port_keys_are_accepted():
    plan = present({'quay.io/repository-main/sub': dc.build_entry(username='u', password=PASSWORD),
                    'registry.example.com:5000/team': dc.build_entry(username='u', password=PASSWORD)})
    assert plan.added == ['quay.io/repository-main/sub', 'registry.example.com:5000/team']


def test_an_existing_key_of_any_form_is_updated_in_place():
    plan = present({'https://index.docker.io/v1/': dc.build_entry(username='hub', password='other')})
    assert plan.updated == ['https://index.docker.io/v1/'] and 'index.docker.io' not in written(plan)['auths']


def test_the_same_registry_given_twice_fails():
    with pytest.raises(gps.PlanError, match='same registry'):
        present({'new.example.com': dc.build_entry(username='u', password='p'),
                 'NEW.example.com': dc.build_entry(username='u', password='q')})


# -- remove --------------------------------------------------------------------------------------

def test_remove_drops_the_named_registries_only():
    plan = gps.plan_change(secret(), WHERE, 'absent', ['index.docker.io', 'not-there.example.com'])
    assert plan.removed == ['https://index.docker.io/v1/']
    doc = written(plan)
    assert doc['auths'] == {'cloud.openshift.com': OCM, 'quay.io': QUAY} and doc['credHelpers'] == DOCUMENT['credHelpers']


def test_removing_an_absent_registry_is_no_change():
    assert not gps.plan_change(secret(), WHERE, 'absent', ['not-there.example.com']).changed


# -- Telemetry guard -----------------------------------------------------------------------------

@pytest.mark.parametrize('mode,given,what', [
    ('present', {'cloud.openshift.com': dc.build_entry(username='ocm', password='new-owner-token')}, 'change'),
    ('present', {'cloud.openshift.com': dc.build_entry(username='ocm', password='fake-ocm-token', email='new@example.com')},
     'change'),
    ('absent', ['cloud.openshift.com'], 'remove'),
    ('absent', ['https://cloud.openshift.com/'], 'remove'),
    ('replace', dc.parse_config({'auths': {'quay.io': QUAY}}), 'remove'),
    ('replace', dc.parse_config({'auths': {'cloud.openshift.com': {'auth': b64('other:owner')}, 'quay.io': QUAY}}), 'change'),
])
def test_changing_the_telemetry_entry_needs_allow_telemetry_change(mode, given, what):
    with pytest.raises(gps.PlanError) as err:
        gps.plan_change(secret(), WHERE, mode, given)
    message = str(err.value)
    assert 'would %s the cloud.openshift.com entry' % what in message
    assert 'Telemetry' in message and 'OpenShift Cluster Manager' in message and 'allow_telemetry_change: true' in message
    assert gps.plan_change(secret(), WHERE, mode, given, allow_telemetry_change=True).changed


def test_adding_a_telemetry_entry_is_guarded_too():
    without = {'auths': {'quay.io': QUAY}}
    with pytest.raises(gps.PlanError, match='would add'):
        gps.plan_change(secret(without), WHERE, 'present', {'cloud.openshift.com': dc.build_entry(username='a', password='b')})


def test_the_same_telemetry_credentials_pass_the_guard():
    plan = present({'cloud.openshift.com': dc.build_entry(auth=OCM['auth']), 'new.example.com': dc.build_entry(username='u', password='p')})
    assert plan.added == ['new.example.com'] and plan.updated == []


def test_a_replacement_of_an_unreadable_document_needs_allow_telemetry_change():
    document = {'auths': {'cloud.openshift.com': OCM, 'quay.io': QUAY}}
    with pytest.raises(gps.PlanError, match='cannot be read'):
        gps.plan_change(secret(raw=b'{not json'), WHERE, 'replace', dc.parse_config(document))
    plan = gps.plan_change(secret(raw=b'{not json'), WHERE, 'replace', dc.parse_config(document), allow_telemetry_change=True)
    assert plan.changed and plan.auths_before is None and written(plan) == document
    assert plan.added == ['cloud.openshift.com', 'quay.io']


def test_a_replacement_repairs_a_document_whose_other_entry_is_corrupt_without_the_flag():
    broken = {'auths': {'cloud.openshift.com': OCM, 'quay.io': {'auth': '%%%'}, 'https://index.docker.io/v1/': HUB}}
    plan = gps.plan_change(secret(broken), WHERE, 'replace', dc.parse_config(DOCUMENT))
    assert plan.changed and written(plan) == DOCUMENT
    # keys of the corrupt document are known, so its legacy https:// key passes as an existing one
    assert (plan.added, plan.updated, plan.removed) == ([], ['quay.io'], [])


# -- replace -------------------------------------------------------------------------------------

def test_replacing_with_the_same_document_is_no_change():
    same = json.loads(json.dumps(DOCUMENT))
    same['auths']['quay.io']['auth'] = b64('quay:fake-quay-token')
    plan = gps.plan_change(secret(), WHERE, 'replace', dc.parse_config(same))
    assert not plan.changed and plan.data is None


def test_replacing_reports_added_updated_removed_and_writes_exactly_the_replacement():
    replacement = {'auths': {'cloud.openshift.com': OCM, 'quay.io': dict(QUAY, **{'x-unknown': 'other'}),
                             'registry.example.com': {'auth': b64('u:' + PASSWORD)}}}
    plan = gps.plan_change(secret(), WHERE, 'replace', dc.parse_config(replacement))
    assert (plan.added, plan.updated, plan.removed) == (['registry.example.com'], ['quay.io'], ['https://index.docker.io/v1/'])
    assert written(plan) == replacement


def test_a_replacement_only_changing_top_level_keys_is_a_write():
    plan = gps.plan_change(secret(), WHERE, 'replace', dc.parse_config({'auths': DOCUMENT['auths']}))
    assert plan.changed and 'credHelpers' not in written(plan)


def test_a_replacement_keeps_existing_keys_of_any_form_and_validates_new_ones():
    assert gps.plan_change(secret(), WHERE, 'replace', dc.parse_config(DOCUMENT)).changed is False
    bad = json.loads(json.dumps(DOCUMENT))
    bad['auths']['https://new.example.com'] = {'auth': b64('u:p')}
    with pytest.raises(gps.PlanError, match="not a key the node's container runtime looks up as written; write 'new.example.com'"):
        gps.plan_change(secret(), WHERE, 'replace', dc.parse_config(bad))


def test_a_replacement_in_the_legacy_layout_is_written_with_auths():
    plan = gps.plan_change(secret(), WHERE, 'replace', dc.parse_config(DOCUMENT['auths']))
    assert written(plan) == {'auths': DOCUMENT['auths']}


def test_an_empty_replacement_fails():
    with pytest.raises(gps.PlanError, match='no registry'):
        gps.plan_change(secret(), WHERE, 'replace', dc.parse_config({'auths': {}}))


# -- writing -------------------------------------------------------------------------------------

def test_updated_secret_keeps_metadata_and_other_data():
    original = secret()
    original['data']['other'] = 'eA=='
    body = gps.updated_secret(original, b'{"auths":{}}')
    assert body['metadata'] == original['metadata'] and body['data']['other'] == 'eA=='
    assert base64.b64decode(body['data'][gps.DATA_KEY]) == b'{"auths":{}}'
    assert base64.b64decode(original['data'][gps.DATA_KEY]) != b'{"auths":{}}'


def test_document_bytes_checks_what_it_writes():
    assert gps.document_bytes({'q.example.com': {'auth': b64('a:b')}}, {}) == b'{"auths":{"q.example.com":{"auth":"YTpi"}}}'
    with pytest.raises(dc.DockerConfigError, match='read back'):
        gps.document_bytes({'q.example.com': {'auth': 5}}, {})


def test_view_shows_no_credential():
    shown = gps.view(DOCUMENT['auths'])
    text = json.dumps(shown)
    for value in dc.secret_values(DOCUMENT['auths']):
        assert value not in text
    assert shown['registries']['quay.io'] == {'username': 'quay', 'email': 'owner@example.com',
                                              'fingerprint': dc.fingerprint_entry(QUAY)}
    assert gps.view(None, 'bad JSON') == {'invalid': 'bad JSON'}


# -- backups -------------------------------------------------------------------------------------

def test_backup_names_are_lower_case_and_sort_by_age():
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert gps.backup_name('pull-secret', now) == 'pull-secret-backup-20260102t030405z'
    assert gps.backup_name('pull-secret', now, 1) == 'pull-secret-backup-20260102t030405z-2'


def test_backup_secret_copies_type_and_data_with_labels():
    source = secret()
    backup = gps.backup_secret(source, 'pull-secret-backup-20260102t030405z')
    assert backup['type'] == gps.SECRET_TYPE and backup['data'] == source['data']
    assert backup['metadata']['namespace'] == 'openshift-config'
    assert backup['metadata']['labels'] == {'app.kubernetes.io/managed-by': 'ocp.registry_access',
                                            'ocp-registry-access/backup-of': 'pull-secret'}
    assert 'keep' not in backup['metadata']['labels']


def test_backups_to_prune_keeps_the_newest_and_ignores_others():
    def backup(name, of='pull-secret'):
        return {'metadata': {'name': name, 'labels': {gps.BACKUP_LABEL: of}}}
    secrets = [backup('pull-secret-backup-20260102t030405z-10'), backup('pull-secret-backup-20260101t000000z'),
               backup('pull-secret-backup-20260102t030405z'), backup('pull-secret-backup-20260102t030405z-9'),
               backup('pull-secret-backup-manual'), backup('pull-secret-backup-20250101t000000z', of='other'),
               backup('other-backup-20200101t000000z', of='pull-secret')]
    assert gps.backups_to_prune(secrets, 'pull-secret', 2) == ['pull-secret-backup-20260101t000000z',
                                                               'pull-secret-backup-20260102t030405z']
    assert gps.backups_to_prune(secrets, 'pull-secret', 5) == []


# -- hosted control planes -----------------------------------------------------------------------

@pytest.mark.parametrize('infrastructure,hosted', [
    ({'status': {'controlPlaneTopology': 'External'}}, True),
    ({'status': {'controlPlaneTopology': 'HighlyAvailable'}}, False),
    ({'status': {'controlPlaneTopology': 'SingleReplica'}}, False),
    ({'spec': {}}, False),
    (None, False),
])
def test_is_hosted_control_plane(infrastructure, hosted):
    assert gps.is_hosted_control_plane(infrastructure) is hosted


def test_hosted_guidance_names_the_secret_to_use():
    assert 'kube-system' in gps.HOSTED_GUIDANCE and 'additional-pull-secret' in gps.HOSTED_GUIDANCE
    assert 'External' in gps.HOSTED_GUIDANCE


# -- MachineConfigPool rollout -------------------------------------------------------------------

def pool(name='worker', spec='rendered-worker-new', current='rendered-worker-new', generation=3, observed=3,
         machines=2, updated_machines=2, conditions=(('Updated', 'True'), ('Updating', 'False'), ('Degraded', 'False')),
         message='', paused=False):
    return {'metadata': {'name': name, 'generation': generation},
            'spec': {'configuration': {'name': spec}, 'paused': paused},
            'status': {'configuration': {'name': current}, 'observedGeneration': observed, 'machineCount': machines,
                       'updatedMachineCount': updated_machines,
                       'conditions': [{'type': t, 'status': s, 'message': message} for t, s in conditions]}}


def test_rendered_configs_records_spec_names():
    assert gps.rendered_configs([pool(), pool('master', spec='rendered-master-a')]) == {
        'worker': 'rendered-worker-new', 'master': 'rendered-master-a'}


def test_a_pool_on_a_new_rendered_config_everywhere_is_done():
    progress = gps.pool_progress(pool(), 'rendered-worker-old')
    assert progress['done'] and progress['degraded'] is None and progress['waiting_for'] == []
    assert gps.rollout_result([progress]) == [dict(name='worker', rendered_before='rendered-worker-old',
                                                   rendered_after='rendered-worker-new', done=True)]


@pytest.mark.parametrize('changes,waiting', [
    (dict(spec='rendered-worker-old', current='rendered-worker-old'), 'a new rendered config'),
    (dict(current='rendered-worker-old'), 'status.configuration.name to reach rendered-worker-new'),
    (dict(observed=2), 'observedGeneration'),
    (dict(conditions=(('Updated', 'False'), ('Updating', 'False'), ('Degraded', 'False'))), 'Updated=True'),
    (dict(conditions=(('Updated', 'True'), ('Updating', 'True'), ('Degraded', 'False'))), 'Updating=False'),
    (dict(conditions=(('Updating', 'False'), ('Degraded', 'False'))), 'Updated=True'),
    (dict(updated_machines=1), '1 of 2 machines updated'),
    (dict(paused=True), 'paused'),
])
def test_a_pool_not_done_says_what_it_waits_for(changes, waiting):
    progress = gps.pool_progress(pool(**changes), 'rendered-worker-old')
    assert not progress['done'] and any(waiting in w for w in progress['waiting_for'])
    assert waiting in gps.describe_pending([progress]) and gps.describe_pending([progress]).startswith('worker')


@pytest.mark.parametrize('kind', ['Degraded', 'NodeDegraded', 'RenderDegraded'])
def test_a_degraded_pool_carries_its_condition_message(kind):
    conditions = (('Updated', 'False'), ('Updating', 'True'), (kind, 'True'))
    progress = gps.pool_progress(pool(conditions=conditions, message='Node worker-1 is reporting: boom'), 'old')
    assert progress['degraded'] == '%s: Node worker-1 is reporting: boom' % kind and not progress['done']


def test_without_require_new_a_settled_pool_is_done():
    assert gps.pool_progress(pool(), 'rendered-worker-new', require_new=False)['done']
    assert not gps.pool_progress(pool(), 'rendered-worker-new')['done']


def test_rollout_state_sorts_pools_and_needs_no_new_name_from_a_new_pool():
    progress = gps.rollout_state([pool('worker'), pool('infra', spec='rendered-infra-1', current='rendered-infra-1')],
                                 {'worker': 'rendered-worker-old'})
    assert [(p['name'], p['done']) for p in progress] == [('infra', True), ('worker', True)]


@pytest.mark.parametrize('namespace, name, default', [
    (None, None, True),
    ('openshift-config', None, True),
    (None, 'pull-secret', True),
    ('openshift-config', 'pull-secret', True),  # spelled out: still the Secret a hosted control plane overwrites
    ('kube-system', 'additional-pull-secret', False),
    ('openshift-config', 'other', False),
    ('kube-system', None, False),
])
def test_only_another_target_than_the_default_skips_the_hosted_control_plane_guard(namespace, name, default):
    assert gps.is_default_target(namespace, name) is default


# -- the node's container runtime decides (issue 13) ---------------------------------------------

OLD = {'auth': b64('hub:fake-old-hub-pass')}
NEW = dc.build_entry(username='hub', password='fake-new-hub-pass')
HUB_ALIASES = ('docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/')


def plan_on(document, mode, given):
    return gps.plan_change(secret(document), WHERE, mode, given)


@pytest.mark.parametrize('server', HUB_ALIASES)
def test_removing_docker_hub_removes_every_alias(server):
    document = {'auths': dict([(k, OLD) for k in HUB_ALIASES] + [('quay.io', QUAY)])}
    plan = plan_on(document, 'absent', [server])
    assert sorted(plan.removed) == sorted(HUB_ALIASES)
    assert written(plan)['auths'] == {'quay.io': QUAY}


def test_removing_quay_io_removes_an_https_key_with_a_path_but_not_a_key_with_capitals():
    document = {'auths': {'https://quay.io/org': OLD, 'Quay.io': OLD, 'quay.io/team': QUAY}}
    plan = plan_on(document, 'absent', ['quay.io'])
    assert plan.removed == ['https://quay.io/org']
    assert sorted(written(plan)['auths']) == ['Quay.io', 'quay.io/team']


def test_a_dead_key_can_still_be_removed_by_its_exact_name():
    plan = plan_on({'auths': {'Quay.io': OLD, 'quay.io': QUAY}}, 'absent', ['Quay.io'])
    assert plan.removed == ['Quay.io'] and written(plan)['auths'] == {'quay.io': QUAY}


def test_adding_index_docker_io_updates_the_old_docker_io_entry():
    plan = plan_on({'auths': {'docker.io': OLD}}, 'present', {'index.docker.io': NEW})
    assert (plan.added, plan.updated) == ([], ['docker.io'])
    assert written(plan)['auths'] == {'docker.io': {'auth': NEW['auth']}}


@pytest.mark.parametrize('server,key', [
    ('https://new.example.com', 'new.example.com'),
    ('new.example.com/v1/', 'new.example.com'),
    ('new.example.com/repo/', 'new.example.com/repo'),
    ('NEW.example.com', 'new.example.com'),
    ('https://index.docker.io/v1/', 'docker.io'),
])
def test_new_keys_are_written_as_the_container_runtime_looks_them_up(server, key):
    plan = plan_on({'auths': {'quay.io': QUAY}}, 'present', {server: NEW})
    assert plan.added == [key] and written(plan)['auths'][key] == NEW


def test_a_key_with_capitals_is_not_updated_as_the_registry():
    plan = plan_on({'auths': {'Quay.io': OLD}}, 'present', {'quay.io': NEW})
    assert (plan.added, plan.updated) == (['quay.io'], [])
    assert any("'Quay.io'" in w for w in gps.warnings(plan.auths_after))


def test_the_same_lookup_key_given_twice_fails():
    with pytest.raises(gps.PlanError, match='same registry'):
        present({'https://new.example.com': NEW, 'new.example.com': NEW})


ODD_DOCUMENT = {'auths': {
    'quay.io': {'auth': QUAY['auth'][:8] + '\n' + QUAY['auth'][8:]},  # wrapped, as base64(1) writes it
    'broken.example.com': None,
    '': {'auth': b64('a:b')},
    'unpadded.example.com': {'auth': b64('u:fake-unpadded-pass').rstrip('=')},
    'nouser.example.com': {'username': 'u', 'password': 'fake-no-auth-pass'},
}}


def test_odd_entries_do_not_block_an_edit_and_are_kept_as_they_are():
    plan = plan_on(ODD_DOCUMENT, 'present', {'new.example.com': NEW})
    assert plan.added == ['new.example.com']
    doc = written(plan)['auths']
    assert dict((k, v) for k, v in doc.items() if k != 'new.example.com') == ODD_DOCUMENT['auths']


def test_odd_entries_are_warned_about_without_credentials():
    messages = gps.warnings(ODD_DOCUMENT['auths'])
    text = ' '.join(messages)
    assert "'unpadded.example.com'" in text and 'padded base64' in text
    assert "'nouser.example.com'" in text and 'only auth is read' in text
    assert 'fake-' not in text


def test_a_wrapped_auth_with_the_same_credential_is_unchanged():
    plan = plan_on(ODD_DOCUMENT, 'present', {'quay.io': dc.build_entry(auth=QUAY['auth'])})
    assert not plan.changed and plan.data is None


def test_an_unpadded_auth_the_node_refuses_is_replaced_cleanly():
    plan = plan_on(ODD_DOCUMENT, 'present', {'unpadded.example.com': dc.build_entry(username='u', password='fake-unpadded-pass')})
    assert plan.updated == ['unpadded.example.com']
    assert written(plan)['auths']['unpadded.example.com'] == {'auth': b64('u:fake-unpadded-pass')}


def test_an_auth_field_spelled_with_a_capital_is_replaced_cleanly():
    plan = plan_on({'auths': {'quay.io': {'Auth': b64('quay:old'), 'email': 'e@example.com'}}}, 'present',
                   {'quay.io': dc.build_entry(username='quay', password='fake-new')})
    assert written(plan)['auths']['quay.io'] == {'email': 'e@example.com', 'auth': b64('quay:fake-new')}


def test_an_auths_object_spelled_with_a_capital_is_read_and_written_as_auths():
    # Go's encoding/json reads "Auths" as the auths field (was: "no 'auths' object", every edit blocked)
    plan = plan_on({'Auths': {'quay.io': QUAY}}, 'present', {'new.example.com': NEW})
    assert written(plan) == {'auths': {'quay.io': QUAY, 'new.example.com': NEW}}


def test_the_credentials_of_an_auths_object_spelled_with_a_capital_are_hidden():
    assert QUAY['auth'] in gps.secret_values_of(secret({'Auths': {'quay.io': QUAY}}))


def test_a_null_entry_is_replaced_when_its_registry_is_given():
    plan = plan_on(ODD_DOCUMENT, 'present', {'broken.example.com': NEW})
    assert plan.updated == ['broken.example.com'] and written(plan)['auths']['broken.example.com'] == NEW
