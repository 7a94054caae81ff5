"""OpenShift's integrated-registry pull secret of a service account, as openshift-controller-manager names and
fills it, and the Secret a failed recreate puts back (pure functions of _pull_secret)."""

import base64
import json

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.ocp.registry_access.plugins.module_utils import _pull_secret as ps
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import RECREATE

TOKEN = 'fake-provisioning-token-e1f0'
URL = 'image-registry.openshift-image-registry.svc:5000'


def sa(name='default', pull=(), mount=(), annotations=None):
    obj = {'metadata': {'name': name, 'namespace': 'a'}}
    if annotations:
        obj['metadata']['annotations'] = annotations
    if pull:
        obj['imagePullSecrets'] = [{'name': n} for n in pull]
    if mount:
        obj['secrets'] = [{'name': n} for n in mount]
    return obj


def dockercfg_secret(document, secret_type='kubernetes.io/dockercfg'):
    return {'type': secret_type, 'data': {'.dockercfg': base64.b64encode(json.dumps(document).encode()).decode()}}


LEGACY_SECRET = dockercfg_secret({URL: {'username': 'serviceaccount', 'password': TOKEN, 'email': 'serviceaccount@example.org'}})
BOUND_SECRET = dockercfg_secret({URL: {'auth': base64.b64encode(('<token>:' + TOKEN).encode()).decode()}})
EMPTY_SECRET = dockercfg_secret({})


# -- naming.GetName (openshift/library-go pkg/build/naming) -----------------------------------------

def test_fnv32a_matches_the_published_test_vectors():
    assert ps.fnv32a('') == '811c9dc5'
    assert ps.fnv32a('a') == 'e40c292c'
    assert ps.fnv32a('foobar') == 'bf9cf968'


@pytest.mark.parametrize('name,prefix', [
    ('default', 'default-dockercfg-'),
    ('x' * 47, 'x' * 47 + '-dockercfg-'),  # 58 exactly: kept
    ('x' * 48, 'x' * 38 + '-042d5a85-dockercfg-'),  # checked against library-go's GetName built from its source
    ('a-very-long-service-account-name-for-the-ci-pipeline-x', 'a-very-long-service-account-name-for-t-2ac61a99-dockercfg-'),
])
def test_dockercfg_prefix_is_what_openshift_generates(name, prefix):
    assert ps.dockercfg_prefix(name) == prefix


@given(st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789-.', min_size=1, max_size=253))
@settings(max_examples=300, deadline=None)
def test_dockercfg_prefix_leaves_room_for_the_random_suffix(name):
    prefix = ps.dockercfg_prefix(name)
    assert len(prefix) <= 58 and prefix.endswith('-dockercfg-')
    if len(name) <= 47:
        assert prefix == name + '-dockercfg-'
    else:
        assert prefix == name[:38] + '-' + ps.fnv32a(name) + '-dockercfg-'


def test_generated_name_with_a_suffix_too_long_hashes_base_and_suffix():
    assert ps.generated_name('base', 's' * 60, 58) == 'base-' + ps.fnv32a('base-' + 's' * 60)
    assert ps.generated_name('b' * 80, 's' * 60, 20) == ('b' * 11 + '-' + ps.fnv32a('b' * 80 + '-' + 's' * 60))[:20]
    assert ps.generated_name('base', 'suffix', 0) == ''


# -- which Secret, and is it usable --------------------------------------------------------------

@pytest.mark.parametrize('account,name', [
    (sa(pull=('default-dockercfg-x7k2p',)), 'default-dockercfg-x7k2p'),
    (sa(pull=('pull', 'default-dockercfg-x7k2p')), 'default-dockercfg-x7k2p'),
    (sa(annotations={ps.REGISTRY_PULL_SECRET_REF: 'default-dockercfg-x7k2p'}), 'default-dockercfg-x7k2p'),
    (sa('x' * 48, pull=('x' * 38 + '-042d5a85-dockercfg-q9z2b',)), 'x' * 38 + '-042d5a85-dockercfg-q9z2b'),
    (sa('x' * 48, pull=('x' * 48 + '-dockercfg-q9z2b',)), None),  # not a name OpenShift gives a long name
    (sa(), None),
    (sa(pull=('builder-dockercfg-x7k2p',)), None),
    (sa(pull=('default-dockercfg-',)), None),
    (sa(mount=('default-dockercfg-x7k2p',)), None),  # pods pull with imagePullSecrets only
])
def test_provisioned_secret_name(account, name):
    assert ps.provisioned_secret_name(account) == name
    assert ps.is_provisioned(account) is (name is not None)


@pytest.mark.parametrize('secret', [LEGACY_SECRET, BOUND_SECRET], ids=['4.15', '4.16'])
def test_a_linked_secret_holding_the_token_is_provisioned(secret):
    assert ps.provisioning_gap(sa(pull=('default-dockercfg-x7k2p',)), secret) is None
    annotated = sa(pull=('default-dockercfg-x7k2p',), annotations={ps.REGISTRY_PULL_SECRET_REF: 'default-dockercfg-x7k2p'})
    assert ps.provisioning_gap(annotated, secret) is None


@pytest.mark.parametrize('account,secret,gap', [
    (sa(), None, 'no pull secret yet'),
    (sa(annotations={ps.REGISTRY_PULL_SECRET_REF: 'default-dockercfg-x7k2p'}), BOUND_SECRET,
     'its pull secret default-dockercfg-x7k2p is not in imagePullSecrets yet'),
    (sa(pull=('default-dockercfg-x7k2p',), annotations={ps.REGISTRY_PULL_SECRET_REF: 'default-dockercfg-x7k2p'}), None,
     'its pull secret default-dockercfg-x7k2p does not exist yet'),
    (sa(pull=('default-dockercfg-x7k2p',), annotations={ps.REGISTRY_PULL_SECRET_REF: 'default-dockercfg-x7k2p'}),
     EMPTY_SECRET, 'its pull secret default-dockercfg-x7k2p holds no registry credential yet'),
    (sa(pull=('default-dockercfg-x7k2p',)), {'type': 'kubernetes.io/dockercfg', 'data': {}},
     'holds no registry credential yet'),
    (sa(pull=('default-dockercfg-x7k2p',)), dockercfg_secret({URL: {'username': 'serviceaccount'}}),
     'holds no registry credential yet'),
    (sa(pull=('default-dockercfg-x7k2p',)), {'type': 'kubernetes.io/dockercfg', 'data': {'.dockercfg': 'bm90IGpzb24='}},
     'holds no registry credential yet'),
])
def test_what_is_still_missing_is_said(account, secret, gap):
    assert gap in ps.provisioning_gap(account, secret)


def test_a_gap_never_shows_the_token():
    account = sa(pull=('default-dockercfg-x7k2p',))
    for secret in (EMPTY_SECRET, None):
        assert TOKEN not in ps.provisioning_gap(account, secret)


# -- restoring a Secret a recreate deleted ------------------------------------------------------------

def test_restorable_keeps_content_and_drops_what_the_server_sets():
    secret = {'apiVersion': 'v1', 'kind': 'Secret', 'type': 'kubernetes.io/dockerconfigjson', 'immutable': True,
              'data': {'.dockerconfigjson': 'e30='},
              'metadata': {'name': 'p', 'namespace': 'a', 'uid': 'u-1', 'resourceVersion': '7',
                           'creationTimestamp': '2026-01-01T00:00:00Z', 'managedFields': [{}], 'generation': 1,
                           'labels': {'team': 'x'}, 'annotations': {'note': 'y'},
                           'ownerReferences': [{'kind': 'ConfigMap', 'name': 'o', 'uid': 'u-2', 'apiVersion': 'v1'}]}}
    body = ps.restorable(secret)
    assert body == {'apiVersion': 'v1', 'kind': 'Secret', 'type': 'kubernetes.io/dockerconfigjson', 'immutable': True,
                    'data': {'.dockerconfigjson': 'e30='},
                    'metadata': {'name': 'p', 'namespace': 'a', 'labels': {'team': 'x'}, 'annotations': {'note': 'y'},
                                 'ownerReferences': secret['metadata']['ownerReferences']}}
    assert secret['metadata']['uid'] == 'u-1'  # the read object is left alone


def test_a_forced_recreate_plan_carries_the_secret_to_restore():
    from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
    auths = {'registry.example.com': dc.build_entry(username='robot', password='fake-restore-pass-0c1d')}
    existing = {'type': 'kubernetes.io/dockercfg', 'metadata': {'name': 'p', 'namespace': 'a', 'uid': 'u', 'resourceVersion': '3'},
                'data': {'.dockercfg': base64.b64encode(dc.serialize(auths, layout='dockercfg')).decode()}}
    plan = ps.plan_secret('a', 'p', existing, auths, 'dockerconfigjson', False, {}, {}, True)
    assert plan.action == RECREATE
    assert plan.previous['data'] == existing['data'] and 'uid' not in plan.previous['metadata']
    result = ps.restored_result(plan, ps.secret_view(plan.previous))
    assert result['action'] == 'restored' and result['registries'] == ['registry.example.com']
    assert ps.plan_secret('a', 'p', None, auths, 'dockerconfigjson', False, {}, {}, False).previous is None
