"""Decisions of the pull_secret module: what a Secret and a service account should become."""

import base64
import copy
import json

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _pull_secret as ps
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import CREATE, RECREATE, UNCHANGED, UPDATE
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import MANAGED_BY

# Recognisable fake credentials; tests assert they never show up in views or results.
PASSWORD = 'fake-Pa55word-pullsecret-xyzzy'
OTHER_PASSWORD = 'fake-Other-pa55word-plugh'
MANAGED = {'app.kubernetes.io/managed-by': 'ocp.registry_access'}

ENTRY = dc.build_entry(username='robot', password=PASSWORD, email='robot@example.com')
OTHER_ENTRY = dc.build_entry(username='robot', password=OTHER_PASSWORD)
THIRD_ENTRY = dc.build_entry(username='someone-else', password=OTHER_PASSWORD)
DESIRED = {'registry.example.com': ENTRY}
JSON_TYPE, JSON_KEY = dc.TYPES['dockerconfigjson']
CFG_TYPE, CFG_KEY = dc.TYPES['dockercfg']


def encode(auths, layout='dockerconfigjson', extra=None):
    return base64.b64encode(dc.serialize(auths, layout=layout, extra=extra)).decode('ascii')


def decode(body, layout='dockerconfigjson'):
    return dc.parse_config(base64.b64decode(body['data'][dc.TYPES[layout][1]])).auths


def secret(auths, layout='dockerconfigjson', labels=None, annotations=None, immutable=None, resource_version='41',
           name='pull', namespace='ns-a', extra_data=None, raw=None, secret_type=None):
    secret_type_default, key = dc.TYPES[layout]
    metadata = {'name': name, 'namespace': namespace, 'resourceVersion': resource_version,
                'uid': 'uid-1', 'labels': dict(MANAGED if labels is None else labels)}
    if annotations is not None:
        metadata['annotations'] = dict(annotations)
    data = dict(extra_data or {})
    data[key] = raw if raw is not None else encode(auths, layout)
    obj = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': metadata, 'type': secret_type or secret_type_default,
           'data': data}
    if immutable is not None:
        obj['immutable'] = immutable
    return obj


def plan(existing, auths=None, layout='dockerconfigjson', merge=False, labels=None, annotations=None, force=False):
    return ps.plan_secret('ns-a', 'pull', existing, DESIRED if auths is None else auths, layout, merge,
                          dict(MANAGED if labels is None else labels), annotations or {}, force)


def assert_no_credentials(value):
    text = json.dumps(value)
    assert PASSWORD not in text and OTHER_PASSWORD not in text
    assert ENTRY['auth'] not in text and OTHER_ENTRY['auth'] not in text


# -- read_secret_auths -------------------------------------------------------------------------

@pytest.mark.parametrize('layout', ['dockerconfigjson', 'dockercfg'])
def test_read_secret_auths_decodes_either_docker_secret_type(layout):
    auths, error = ps.read_secret_auths(secret(DESIRED, layout=layout))
    assert error is None
    assert auths == DESIRED


def test_read_secret_auths_reports_a_missing_data_key():
    obj = secret(DESIRED)
    obj['data'] = {'other': 'eA=='}
    assert ps.read_secret_auths(obj) == (None, 'it has no .dockerconfigjson key')


def test_read_secret_auths_treats_absent_data_as_missing_key():
    obj = secret(DESIRED, layout='dockercfg')
    del obj['data']
    assert ps.read_secret_auths(obj) == (None, 'it has no .dockercfg key')


@pytest.mark.parametrize('raw', [
    base64.b64encode(b'not json at all').decode('ascii'),
    base64.b64encode(b'["a list"]').decode('ascii'),
    '%%% not base64 %%%',
])
def test_read_secret_auths_reports_an_unreadable_config(raw):
    auths, error = ps.read_secret_auths(secret(DESIRED, raw=raw))
    assert auths is None
    assert isinstance(error, str) and error


def test_read_secret_auths_reports_a_non_docker_type():
    obj = {'metadata': {'name': 'x'}, 'type': 'Opaque', 'data': {'.dockerconfigjson': encode(DESIRED)}}
    assert ps.read_secret_auths(obj) == (None, 'its type is Opaque')


# -- same_auths --------------------------------------------------------------------------------

def test_same_auths_compares_what_the_kubelet_reads_not_key_spelling():
    assert ps.same_auths({'https://index.docker.io/v1/': ENTRY}, {'index.docker.io': ENTRY})
    assert ps.same_auths({'https://registry.example.com/': ENTRY}, {'registry.example.com': ENTRY})


def test_same_auths_tells_a_key_with_capitals_from_the_lower_case_one():
    # The kubelet matches host labels as written: Registry.Example.com serves no lower-case image.
    assert not ps.same_auths({'https://Registry.Example.com/': ENTRY}, {'registry.example.com': ENTRY})
    # HTTPS:// is not a prefix the kubelet strips.
    assert not ps.same_auths({'HTTPS://registry.example.com/': ENTRY}, {'registry.example.com': ENTRY})


def test_same_auths_counts_a_second_spelling_holding_another_credential():
    assert not ps.same_auths({'quay.io': OTHER_ENTRY, 'https://quay.io': ENTRY}, {'quay.io': ENTRY})


def test_same_auths_compares_decoded_credentials_not_encodings():
    only_auth = {'auth': ENTRY['auth']}
    assert ps.same_auths({'r.example.com': ENTRY}, {'r.example.com': dict(only_auth, email='robot@example.com')})
    assert not ps.same_auths({'r.example.com': ENTRY}, {'r.example.com': OTHER_ENTRY})


def test_same_auths_differs_on_extra_or_missing_registry():
    assert not ps.same_auths({'a.example.com': ENTRY}, {'a.example.com': ENTRY, 'b.example.com': ENTRY})
    assert not ps.same_auths({'a.example.com': ENTRY}, {'b.example.com': ENTRY})


def test_same_auths_is_false_when_either_side_is_unreadable():
    assert not ps.same_auths(None, DESIRED)
    assert not ps.same_auths(DESIRED, None)
    assert not ps.same_auths(None, None)


# -- secret_view -------------------------------------------------------------------------------

def test_secret_view_of_none_is_none():
    assert ps.secret_view(None) is None


def test_secret_view_summarises_without_credentials():
    view = ps.secret_view(secret({'registry.example.com': ENTRY, 'other.example.com': OTHER_ENTRY}))
    assert view['type'] == JSON_TYPE
    assert view['fingerprint'] == dc.fingerprint_config({'registry.example.com': ENTRY, 'other.example.com': OTHER_ENTRY})
    assert sorted(r['server'] for r in view['registries']) == ['other.example.com', 'registry.example.com']
    assert 'invalid' not in view
    assert_no_credentials(view)


def test_secret_view_of_an_unreadable_secret_says_why():
    view = ps.secret_view(secret(DESIRED, raw=base64.b64encode(b'{').decode('ascii')))
    assert view['type'] == JSON_TYPE
    assert view['invalid']
    assert 'registries' not in view and 'fingerprint' not in view


# -- plan_secret: created / unchanged -----------------------------------------------------------

@pytest.mark.parametrize('layout', ['dockerconfigjson', 'dockercfg'])
def test_plan_creates_a_missing_secret_with_labels_and_annotations(layout):
    p = plan(None, layout=layout, labels=dict(MANAGED, team='a'), annotations={'note': 'x'})
    secret_type, key = dc.TYPES[layout]
    assert p.action == CREATE
    assert p.body['type'] == secret_type and list(p.body['data']) == [key]
    assert p.body['metadata'] == {'name': 'pull', 'namespace': 'ns-a', 'labels': dict(MANAGED, team='a'),
                                  'annotations': {'note': 'x'}}
    assert base64.b64decode(p.body['data'][key]) == dc.serialize(DESIRED, layout=layout)
    assert p.resource_version is None
    assert p.auths_after == DESIRED and p.auths_given == DESIRED


def test_plan_creates_without_annotations_key_when_none_given():
    assert 'annotations' not in plan(None).body['metadata']


def test_plan_result_and_view_show_no_credentials():
    p = plan(None)
    assert p.result() == {'namespace': 'ns-a', 'name': 'pull', 'action': 'created',
                          'registries': ['registry.example.com'], 'fingerprint': dc.fingerprint_config(DESIRED),
                          'ownership': None}
    assert p.view['type'] == JSON_TYPE and p.view['fingerprint'] == dc.fingerprint_config(DESIRED)
    assert_no_credentials(p.result())
    assert_no_credentials(p.view)


def test_plan_leaves_an_equal_secret_unchanged_and_keeps_its_resource_version():
    p = plan(secret(DESIRED, resource_version='77'))
    assert p.action == UNCHANGED
    assert p.body is None
    assert p.resource_version == '77'


def test_plan_leaves_a_secret_with_a_differently_spelled_equal_key_unchanged():
    existing = secret({'https://index.docker.io/v1/': ENTRY})
    p = plan(existing, auths={'index.docker.io': ENTRY})
    assert p.action == UNCHANGED
    assert list(p.auths_after) == ['https://index.docker.io/v1/']
    assert p.result()['registries'] == ['https://index.docker.io/v1/']


def test_plan_ignores_labels_and_annotations_set_by_others():
    existing = secret(DESIRED, labels=dict(MANAGED, owner='someone'), annotations={'a': '1', 'b': '2'})
    assert plan(existing, annotations={'a': '1'}).action == UNCHANGED


# -- plan_secret: updated ---------------------------------------------------------------------

def test_plan_updates_changed_credentials_and_keeps_metadata_and_other_data():
    existing = secret(DESIRED, labels=dict(MANAGED, owner='someone'), annotations={'keep': 'me'},
                      resource_version='88', extra_data={'note': 'b3RoZXI='})
    p = plan(existing, auths={'registry.example.com': OTHER_ENTRY})
    assert p.action == UPDATE
    assert p.resource_version == '88'
    assert p.body['metadata']['resourceVersion'] == '88' and p.body['metadata']['uid'] == 'uid-1'
    assert p.body['metadata']['labels'] == dict(MANAGED, owner='someone')
    assert p.body['metadata']['annotations'] == {'keep': 'me'}
    assert p.body['data']['note'] == 'b3RoZXI='
    assert decode(p.body) == {'registry.example.com': OTHER_ENTRY}
    assert p.auths_after == {'registry.example.com': OTHER_ENTRY}


def test_plan_replaces_others_registries_without_merge():
    existing = secret({'registry.example.com': ENTRY, 'other.example.com': THIRD_ENTRY})
    p = plan(existing, merge=False)
    assert p.action == UPDATE
    assert decode(p.body) == DESIRED


def test_plan_update_does_not_mutate_the_existing_object():
    existing = secret(DESIRED, labels={'owner': 'someone'})
    before = copy.deepcopy(existing)
    p = plan(existing, auths={'registry.example.com': OTHER_ENTRY}, annotations={'x': 'y'})
    assert p.action == UPDATE
    assert existing == before


def test_plan_adds_missing_labels_keeping_existing_data_bytes():
    # Semantically equal content spelled differently: only metadata changes, the data bytes stay as they are.
    written_by_someone_else = json.dumps({'auths': {'https://index.docker.io/v1/': ENTRY}}, indent=2).encode('utf-8')
    existing = secret(None, labels={'owner': 'someone'}, raw=base64.b64encode(written_by_someone_else).decode('ascii'))
    original_data = existing['data'][JSON_KEY]
    p = plan(existing, auths={'index.docker.io': ENTRY})
    assert p.action == UPDATE
    assert p.body['data'][JSON_KEY] == original_data
    assert p.body['metadata']['labels'] == dict(MANAGED, owner='someone')
    assert list(p.auths_after) == ['https://index.docker.io/v1/']


def test_plan_sets_a_label_whose_value_differs():
    existing = secret(DESIRED, labels=dict(MANAGED, team='old'))
    p = plan(existing, labels=dict(MANAGED, team='new'))
    assert p.action == UPDATE
    assert p.body['metadata']['labels'] == dict(MANAGED, team='new')
    assert p.body['data'] == existing['data']


def test_plan_adds_annotations_keeping_others():
    existing = secret(DESIRED, annotations={'keep': 'me'})
    p = plan(existing, annotations={'new': 'one'})
    assert p.action == UPDATE
    assert p.body['metadata']['annotations'] == {'keep': 'me', 'new': 'one'}
    assert p.body['data'] == existing['data']


def test_plan_adds_labels_to_a_secret_without_metadata_labels():
    existing = secret(DESIRED)
    del existing['metadata']['labels']
    p = plan(existing)
    assert p.action == UPDATE
    assert p.body['metadata']['labels'] == MANAGED


def test_plan_updates_metadata_of_an_immutable_secret_whose_data_is_equal():
    existing = secret(DESIRED, immutable=True, labels={})
    p = plan(existing)
    assert p.action == UPDATE
    assert p.body['immutable'] is True
    assert p.body['data'] == existing['data']


# -- plan_secret: merge -------------------------------------------------------------------------

def test_merge_keeps_registries_added_by_others():
    existing = secret({'other.example.com': THIRD_ENTRY})
    p = plan(existing, merge=True)
    assert p.action == UPDATE
    assert decode(p.body) == {'other.example.com': THIRD_ENTRY, 'registry.example.com': ENTRY}
    assert p.auths_given == DESIRED
    assert sorted(p.result()['registries']) == ['other.example.com', 'registry.example.com']


def test_merge_updates_an_existing_registry_under_its_own_spelling():
    existing = secret({'https://index.docker.io/v1/': OTHER_ENTRY, 'other.example.com': THIRD_ENTRY})
    p = plan(existing, auths={'index.docker.io': ENTRY}, merge=True)
    assert p.action == UPDATE
    assert decode(p.body) == {'https://index.docker.io/v1/': ENTRY, 'other.example.com': THIRD_ENTRY}


def test_merge_of_registries_already_present_is_unchanged():
    existing = secret({'registry.example.com': ENTRY, 'other.example.com': THIRD_ENTRY})
    p = plan(existing, merge=True)
    assert p.action == UNCHANGED
    assert p.auths_after == {'registry.example.com': ENTRY, 'other.example.com': THIRD_ENTRY}


def test_merge_into_a_corrupt_secret_is_refused():
    existing = secret(DESIRED, raw=base64.b64encode(b'{"auths": 5}').decode('ascii'))
    with pytest.raises(ps.PlanError, match='no valid docker config to merge into.*merge: false'):
        plan(existing, merge=True)


def test_replace_of_a_corrupt_secret_updates_it():
    existing = secret(DESIRED, raw=base64.b64encode(b'{"auths": 5}').decode('ascii'))
    p = plan(existing, merge=False)
    assert p.action == UPDATE
    assert decode(p.body) == DESIRED


def test_merge_into_a_secret_of_another_type_needs_force():
    existing = secret(DESIRED, secret_type='Opaque')
    with pytest.raises(ps.PlanError, match='its type is Opaque, not kubernetes.io/dockerconfigjson'):
        plan(existing, merge=True)
    p = plan(existing, merge=True, force=True)
    assert p.action == RECREATE
    assert decode(p.body) == DESIRED


# -- plan_secret: type changes and immutable secrets ---------------------------------------------

def test_type_change_without_force_is_refused_and_says_how():
    existing = secret(DESIRED, layout='dockercfg')
    with pytest.raises(ps.PlanError) as err:
        plan(existing, layout='dockerconfigjson')
    message = str(err.value)
    assert 'its type is kubernetes.io/dockercfg, not kubernetes.io/dockerconfigjson' in message
    assert 'force: true' in message
    assert PASSWORD not in message


def test_type_change_with_force_recreates_keeping_metadata_and_resource_version():
    existing = secret(DESIRED, layout='dockercfg', labels={'owner': 'someone'}, annotations={'keep': 'me'},
                      resource_version='99')
    p = plan(existing, layout='dockerconfigjson', annotations={'new': 'one'}, force=True)
    assert p.action == RECREATE
    assert p.resource_version == '99'
    assert p.body['type'] == JSON_TYPE and list(p.body['data']) == [JSON_KEY]
    assert p.body['metadata'] == {'name': 'pull', 'namespace': 'ns-a', 'labels': dict(MANAGED, owner='someone'),
                                  'annotations': {'keep': 'me', 'new': 'one'}}
    assert decode(p.body) == DESIRED


def test_type_change_to_dockercfg_with_force_writes_dockercfg_layout():
    p = plan(secret(DESIRED), layout='dockercfg', force=True)
    assert p.action == RECREATE
    assert p.body['type'] == CFG_TYPE
    assert base64.b64decode(p.body['data'][CFG_KEY]) == dc.serialize(DESIRED, layout='dockercfg')


def test_immutable_secret_with_different_registries_is_refused_without_force():
    existing = secret({'registry.example.com': OTHER_ENTRY}, immutable=True)
    with pytest.raises(ps.PlanError, match='it is immutable and its registries differ.*force: true'):
        plan(existing)


def test_immutable_secret_with_different_registries_is_recreated_with_force():
    existing = secret({'registry.example.com': OTHER_ENTRY}, immutable=True, resource_version='5')
    p = plan(existing, force=True)
    assert p.action == RECREATE
    assert p.resource_version == '5'
    assert decode(p.body) == DESIRED


def test_immutable_secret_with_equal_content_is_unchanged():
    assert plan(secret(DESIRED, immutable=True)).action == UNCHANGED


def test_mutable_flag_false_is_updated_in_place():
    existing = secret({'registry.example.com': OTHER_ENTRY}, immutable=False)
    assert plan(existing).action == UPDATE


# -- linked_for / link_plan / unlink_plan --------------------------------------------------------

def service_account(name='default', pull=(), mount=(), annotations=None):
    sa = {'apiVersion': 'v1', 'kind': 'ServiceAccount',
          'metadata': {'name': name, 'namespace': 'ns-a', 'resourceVersion': '3'}}
    if annotations is not None:
        sa['metadata']['annotations'] = annotations
    if pull:
        sa['imagePullSecrets'] = [{'name': n} for n in pull]
    if mount:
        sa['secrets'] = [{'name': n} for n in mount]
    return sa


@pytest.mark.parametrize('pull,mount,expected', [
    ((), (), []),
    (('pull',), (), ['pull']),
    ((), ('pull',), ['mount']),
    (('a', 'pull'), ('pull', 'b'), ['pull', 'mount']),
    (('pull-other',), ('other',), []),
])
def test_linked_for_reports_where_the_secret_is_referenced(pull, mount, expected):
    assert ps.linked_for(service_account(pull=pull, mount=mount), 'pull') == expected


def test_linked_for_tolerates_null_references():
    sa = service_account()
    sa['imagePullSecrets'] = [None, {}, {'name': 'pull'}]
    sa['secrets'] = None
    assert ps.linked_for(sa, 'pull') == ['pull']


def test_link_for_pull_appends_to_image_pull_secrets_keeping_others_in_order():
    sa = service_account(pull=('default-dockercfg-abcde', 'zz-other'), mount=('default-token-x',))
    before = copy.deepcopy(sa)
    desired, linked = ps.link_plan(sa, 'pull', ['pull'])
    assert desired['imagePullSecrets'] == [{'name': 'default-dockercfg-abcde'}, {'name': 'zz-other'}, {'name': 'pull'}]
    assert desired['secrets'] == [{'name': 'default-token-x'}]
    assert desired['metadata'] == sa['metadata']
    assert linked == ['pull']
    assert sa == before


def test_link_for_mount_appends_to_secrets():
    sa = service_account(mount=('builder-token-x',))
    desired, linked = ps.link_plan(sa, 'pull', ['mount'])
    assert desired['secrets'] == [{'name': 'builder-token-x'}, {'name': 'pull'}]
    assert 'imagePullSecrets' not in desired
    assert linked == ['mount']


def test_link_for_both_creates_missing_fields():
    desired, linked = ps.link_plan(service_account(), 'pull', ['pull', 'mount'])
    assert desired['imagePullSecrets'] == [{'name': 'pull'}]
    assert desired['secrets'] == [{'name': 'pull'}]
    assert linked == ['pull', 'mount']


def test_link_already_linked_is_nothing_to_do():
    sa = service_account(pull=('pull',), mount=('pull',))
    desired, linked = ps.link_plan(sa, 'pull', ['pull'])
    assert desired is None
    assert linked == ['pull', 'mount']


def test_link_adds_only_the_missing_kind():
    sa = service_account(pull=('pull',))
    desired, linked = ps.link_plan(sa, 'pull', ['pull', 'mount'])
    assert desired['imagePullSecrets'] == [{'name': 'pull'}]
    assert desired['secrets'] == [{'name': 'pull'}]
    assert linked == ['pull', 'mount']


def test_link_with_nothing_to_link_for_is_nothing_to_do():
    assert ps.link_plan(service_account(), 'pull', []) == (None, [])


def test_unlink_removes_every_reference_keeping_others_in_order():
    sa = service_account(pull=('a', 'pull', 'b'), mount=('pull', 'c'))
    before = copy.deepcopy(sa)
    desired = ps.unlink_plan(sa, 'pull')
    assert desired['imagePullSecrets'] == [{'name': 'a'}, {'name': 'b'}]
    assert desired['secrets'] == [{'name': 'c'}]
    assert ps.linked_for(desired, 'pull') == []
    assert sa == before


def test_unlink_of_an_unlinked_service_account_is_nothing_to_do():
    assert ps.unlink_plan(service_account(pull=('a',), mount=('b',)), 'pull') is None


def test_unlink_leaves_an_absent_field_absent():
    desired = ps.unlink_plan(service_account(pull=('pull',)), 'pull')
    assert desired['imagePullSecrets'] == []
    assert 'secrets' not in desired


# -- is_provisioned ------------------------------------------------------------------------------

@pytest.mark.parametrize('sa,provisioned', [
    (service_account(pull=('default-dockercfg-x7k2p',)), True),
    (service_account(pull=('pull', 'default-dockercfg-x7k2p')), True),
    (service_account(annotations={ps.REGISTRY_PULL_SECRET_REF: 'default-dockercfg-x7k2p'}), True),
    (service_account(), False),
    (service_account(pull=('builder-dockercfg-x7k2p',)), False),
    (service_account(pull=('default-token-x7k2p',)), False),
    (service_account(mount=('default-dockercfg-x7k2p',)), False),
    (service_account(annotations={'other': 'x'}), False),
])
def test_is_provisioned(sa, provisioned):
    assert ps.is_provisioned(sa) is provisioned


def test_merge_keeps_the_documents_other_top_level_keys():
    document = {"auths": {"a.example.com": dc.build_entry(username="a", password="fake-pw-a")},
                "HttpHeaders": {"X-Meta": "1"}, "credsStore": "desktop"}
    existing = {"metadata": {"name": "s", "namespace": "ns", "resourceVersion": "7", "labels": dict(MANAGED_BY)},
                "type": "kubernetes.io/dockerconfigjson",
                "data": {".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()}}
    plan = ps.plan_secret("ns", "s", existing, {"b.example.com": dc.build_entry(username="b", password="fake-pw-b")},
                          "dockerconfigjson", True, dict(MANAGED_BY), {}, False)
    written = json.loads(base64.b64decode(plan.body["data"][".dockerconfigjson"]))
    assert sorted(written["auths"]) == ["a.example.com", "b.example.com"]
    assert written["HttpHeaders"] == {"X-Meta": "1"} and written["credsStore"] == "desktop"


def test_recreating_an_immutable_secret_keeps_it_immutable():
    old = {"q.example.com": dc.build_entry(username="q", password="fake-pw-old")}
    existing = {"metadata": {"name": "s", "namespace": "ns", "resourceVersion": "7", "labels": dict(MANAGED_BY)},
                "type": "kubernetes.io/dockerconfigjson", "immutable": True,
                "data": {".dockerconfigjson": base64.b64encode(dc.serialize(old)).decode()}}
    plan = ps.plan_secret("ns", "s", existing, {"q.example.com": dc.build_entry(username="q", password="fake-pw-new")},
                          "dockerconfigjson", False, dict(MANAGED_BY), {}, True)
    assert plan.action == RECREATE and plan.body["immutable"] is True


# -- the kubelet decides (issue 13) ------------------------------------------------------------

HUB_OLD = dc.build_entry(username='hub', password=OTHER_PASSWORD)
HUB_NEW = dc.build_entry(username='hub', password=PASSWORD)


def raw_secret(document, secret_type=JSON_TYPE, key=JSON_KEY):
    obj = secret({})
    obj['type'] = secret_type
    obj['data'] = {key: base64.b64encode(json.dumps(document).encode()).decode()}
    return obj


def test_a_dockercfg_secret_holding_the_auths_layout_is_rewritten():
    existing = raw_secret({'auths': DESIRED}, CFG_TYPE, CFG_KEY)
    result = plan(existing, layout='dockercfg')
    assert result.action == UPDATE
    assert json.loads(base64.b64decode(result.body['data'][CFG_KEY])) == DESIRED


def test_a_dockerconfigjson_secret_holding_the_flat_layout_is_rewritten():
    result = plan(raw_secret(DESIRED))
    assert result.action == UPDATE
    assert decode(result.body) == DESIRED


def test_a_layout_mismatch_is_reported_invalid():
    auths, error = ps.read_secret_auths(raw_secret(DESIRED))
    assert auths is None and 'flat layout' in error


def test_without_merge_a_second_spelling_holding_the_old_credential_goes():
    existing = secret({'registry.example.com': OTHER_ENTRY, 'https://registry.example.com': ENTRY})
    result = plan(existing)
    assert result.action == UPDATE
    assert decode(result.body) == DESIRED


def test_without_merge_a_dead_key_beside_the_registry_goes():
    existing = secret({'registry.example.com': ENTRY, 'https://registry.example.com:99999': OTHER_ENTRY})
    assert plan(existing).action == UPDATE


def test_merge_updates_the_docker_io_key_instead_of_adding_index_docker_io():
    existing = secret({'docker.io': HUB_OLD})
    result = plan(existing, auths={'index.docker.io': HUB_NEW}, merge=True)
    assert result.action == UPDATE
    assert decode(result.body) == {'docker.io': HUB_NEW}


def test_merge_updates_every_key_that_serves_docker_hub():
    existing = secret({'docker.io': HUB_OLD, 'https://index.docker.io/v1/': HUB_OLD})
    result = plan(existing, auths={'docker.io': HUB_NEW}, merge=True)
    assert decode(result.body) == {'docker.io': HUB_NEW, 'https://index.docker.io/v1/': HUB_NEW}


def test_merge_does_not_take_a_key_with_capitals_for_the_registry():
    existing = secret({'Registry.Example.com': OTHER_ENTRY})
    result = plan(existing, merge=True)
    assert decode(result.body) == {'Registry.Example.com': OTHER_ENTRY, 'registry.example.com': ENTRY}


def _odd(auth):
    return {'auth': auth, 'email': 'robot@example.com'}


@pytest.mark.parametrize('auth', [
    ENTRY['auth'].rstrip('='),  # unpadded: the kubelet reads it
    ENTRY['auth'][:8] + '\n' + ENTRY['auth'][8:],  # wrapped as base64(1) writes it
])
def test_a_usable_odd_entry_with_the_same_credential_is_kept_byte_for_byte(auth):
    document = {'auths': {'registry.example.com': _odd(auth)}}
    existing = raw_secret(document)
    for merge in (False, True):
        result = plan(existing, merge=merge)
        assert result.action == UNCHANGED
        assert result.body is None


def test_an_auth_field_spelled_with_a_capital_is_read_and_kept():
    existing = raw_secret({'auths': {'registry.example.com': {'Auth': ENTRY['auth'], 'email': 'robot@example.com'}}})
    assert plan(existing).action == UNCHANGED


def test_an_odd_entry_with_another_credential_is_replaced_cleanly():
    existing = raw_secret({'auths': {'registry.example.com': _odd(OTHER_ENTRY['auth'].rstrip('='))}})
    result = plan(existing, merge=True)
    assert result.action == UPDATE
    assert decode(result.body) == DESIRED


def test_kubelet_warnings_name_an_identity_token_only_entry():
    warnings = ps.kubelet_warnings({'registry.example.com': {'identitytoken': 'fake-token-xyzzy'}}, 'dockerconfigjson')
    assert len(warnings) == 1 and 'identitytoken' in warnings[0] and 'fake-token-xyzzy' not in warnings[0]
