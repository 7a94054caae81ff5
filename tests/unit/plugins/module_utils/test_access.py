"""The registry_access_info audit's safe views, findings and image-pull SubjectAccessReviews."""

import base64
import json

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _access as access
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils._subjects import SubjectError

# Recognisable fake credentials; every view is asserted not to hold them.
PASSWORD = 'fake-access-pa55word-7f3e'
TOKEN = 'fake-access-identitytoken-0b1d'
ENTRY = dc.build_entry(username='robot', password=PASSWORD, email='robot@example.com')
JSON_TYPE, JSON_KEY = dc.TYPES['dockerconfigjson']
CFG_TYPE, CFG_KEY = dc.TYPES['dockercfg']


def secret(name, auths=None, layout='dockerconfigjson', labels=None, raw=None, secret_type=None):
    default_type, key = dc.TYPES[layout]
    blob = raw if raw is not None else dc.serialize(auths or {}, layout=layout)
    return {'metadata': {'name': name, 'namespace': 'ns-a', 'labels': labels or {}},
            'type': secret_type or default_type, 'data': {key: base64.b64encode(blob).decode('ascii')}}


def service_account(name, pull=(), annotations=None):
    sa = {'metadata': {'name': name, 'namespace': 'ns-a', 'annotations': annotations or {}}}
    if pull:
        sa['imagePullSecrets'] = [{'name': n} for n in pull]
    return sa


def binding(name, role, subjects, kind='ClusterRole'):
    return {'metadata': {'name': name, 'namespace': 'ns-a'},
            'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': kind, 'name': role}, 'subjects': subjects}


def assert_no_credential(view):
    text = json.dumps(view)
    for value in (PASSWORD, TOKEN, base64.b64encode(('robot:' + PASSWORD).encode()).decode()):
        assert value not in text


# -- SubjectAccessReview ----------------------------------------------------------------------


def test_review_for_service_account_carries_its_groups():
    review = access.review_for({'kind': 'ServiceAccount', 'namespace': 'project-a', 'name': 'default'}, 'project-b')
    # namespaced, so that a RoleBinding in project-b can grant it (the project role does)
    assert review['kind'] == 'LocalSubjectAccessReview' and review['metadata'] == {'namespace': 'project-b'}
    assert access.review_path('project-b') == '/apis/authorization.k8s.io/v1/namespaces/project-b/localsubjectaccessreviews'
    assert review['spec'] == {
        'resourceAttributes': {'verb': 'get', 'group': 'image.openshift.io', 'resource': 'imagestreams',
                               'subresource': 'layers', 'namespace': 'project-b'},
        'user': 'system:serviceaccount:project-a:default',
        'groups': ['system:serviceaccounts', 'system:serviceaccounts:project-a', 'system:authenticated'],
    }


def test_review_for_group_and_user():
    group = access.review_for({'kind': 'Group', 'name': 'devs'}, 'b')['spec']
    assert group['groups'] == ['devs'] and group['user'] == 'ocp.registry_access:verify-member'
    user = access.review_for({'kind': 'User', 'name': 'alice'}, 'b')['spec']
    assert user['user'] == 'alice' and user['groups'] == ['system:authenticated']


@pytest.mark.parametrize('review, expected', [
    ({'status': {'allowed': True, 'reason': 'RBAC allowed by\n RoleBinding "x/b"'}}, (True, 'RBAC allowed by RoleBinding "x/b"')),
    ({'status': {'allowed': False}}, (False, '')),
    ({'status': {'allowed': False, 'evaluationError': 'webhook down'}}, (False, 'webhook down')),
    ({}, (False, '')),
    (None, (False, '')),
])
def test_review_answer(review, expected):
    assert access.review_answer(review) == expected


def test_can_pull_checks_accept_both_spellings():
    checks = access.can_pull_checks([
        {'service_account': 'project-a:default', 'from_namespace': 'project-b'},
        {'service_account': 'system:serviceaccount:project-c:builder', 'from_namespace': 'project-b'},
    ])
    assert checks == [({'kind': 'ServiceAccount', 'name': 'default', 'namespace': 'project-a'}, 'project-b'),
                      ({'kind': 'ServiceAccount', 'name': 'builder', 'namespace': 'project-c'}, 'project-b')]
    assert access.can_pull_checks(None) == []


@pytest.mark.parametrize('item, message', [
    ({'service_account': 'default', 'from_namespace': 'b'}, 'can_pull[1]: invalid service account'),
    ({'service_account': 'a:default', 'from_namespace': 'Not_A_Namespace'}, 'can_pull[1]: invalid namespace'),
    ({'service_account': 'system:serviceaccounts:a', 'from_namespace': 'b'}, 'can_pull[1]: invalid service account'),
])
def test_can_pull_checks_name_the_bad_item(item, message):
    with pytest.raises(SubjectError, match=r'^%s' % message.replace('[', r'\[').replace(']', r'\]')):
        access.can_pull_checks([{'service_account': 'a:b', 'from_namespace': 'c'}, item])


def test_can_pull_view():
    subject = {'kind': 'ServiceAccount', 'name': 'default', 'namespace': 'project-a'}
    view = access.can_pull_view(subject, 'project-b', {'status': {'allowed': True, 'reason': 'ok'}})
    assert view == {'service_account': 'system:serviceaccount:project-a:default', 'from_namespace': 'project-b',
                    'allowed': True, 'reason': 'ok'}


# -- pull secrets ---------------------------------------------------------------------------------


def test_pull_secret_view_shows_registries_usernames_fingerprints_never_credentials():
    auths = {'quay.io': ENTRY, 'registry.example.com:5000': dc.build_entry(identity_token=TOKEN)}
    view = access.pull_secret_view(secret('quay', auths, labels={'app.kubernetes.io/managed-by': 'ocp.registry_access'}))
    assert view == {
        'name': 'quay', 'type': JSON_TYPE, 'fingerprint': dc.fingerprint_config(auths), 'invalid': None, 'managed': True,
        'registries': [
            {'server': 'quay.io', 'username': 'robot', 'email': 'robot@example.com', 'fingerprint': dc.fingerprint_entry(ENTRY)},
            {'server': 'registry.example.com:5000', 'username': None, 'email': None,
             'fingerprint': dc.fingerprint_entry(auths['registry.example.com:5000'])},
        ],
    }
    assert_no_credential(view)


def test_pull_secret_view_of_dockercfg_not_managed():
    view = access.pull_secret_view(secret('legacy', {'r.example.com': ENTRY}, layout='dockercfg',
                                          labels={'app.kubernetes.io/managed-by': 'someone-else'}))
    assert view['type'] == CFG_TYPE and not view['managed'] and view['registries'][0]['server'] == 'r.example.com'


@pytest.mark.parametrize('raw, reason', [
    (b'{"auths": ', 'the document is not valid JSON'),
    (b'[]', 'the top level of a docker config must be a JSON object'),
    (('{"auths":{"quay.io":{"auth":"%s"}}}' % PASSWORD).encode(), "registry 'quay.io': auth"),
])
def test_invalid_pull_secret_is_flagged_with_the_reason_and_no_credential(raw, reason):
    view = access.pull_secret_view(secret('broken', raw=raw))
    assert view['invalid'].startswith(reason)
    assert view['registries'] == [] and view['fingerprint'] is None
    assert_no_credential(view)


def test_pull_secret_without_its_key_is_invalid():
    broken = secret('empty', {'quay.io': ENTRY})
    broken['data'] = {}
    assert access.pull_secret_view(broken)['invalid'] == 'it has no %s key' % JSON_KEY


# -- service accounts ------------------------------------------------------------------------------


def test_service_account_view_flags_dangling_and_wrong_type_references():
    sa = service_account('builder', pull=['builder-dockercfg-x7k2p', 'private', 'gone', 'tls-cert'])
    view = access.service_account_view(sa, ['builder-dockercfg-x7k2p', 'private'], {'gone': None, 'tls-cert': 'kubernetes.io/tls'})
    assert view == {'name': 'builder', 'image_pull_secrets': ['builder-dockercfg-x7k2p', 'private', 'gone', 'tls-cert'],
                    'missing': ['gone'], 'not_pull_secrets': ['tls-cert'], 'provisioned': True}


def test_service_account_provisioned_by_annotation_and_not_provisioned():
    annotated = service_account('default', annotations={'openshift.io/internal-registry-pull-secret-ref': 'default-dockercfg-1'})
    assert access.service_account_view(annotated, [], {})['provisioned'] is True
    bare = access.service_account_view(service_account('default'), [], {})
    assert bare == {'name': 'default', 'image_pull_secrets': [], 'missing': [], 'not_pull_secrets': [], 'provisioned': False}


def test_unresolved_references_are_the_ones_not_among_pull_secrets():
    sas = [service_account('a', pull=['p', 'x']), service_account('b', pull=['x', 'y']),
           {'metadata': {'name': 'c'}, 'imagePullSecrets': [{}, None, {'name': ''}]}]
    assert access.unresolved_references(sas, ['p', 'y']) == ['x']


# -- bindings --------------------------------------------------------------------------------------


def test_image_pullers_are_bindings_of_the_pull_roles_with_protected_marked():
    bindings = [
        binding('system:image-pullers', 'system:image-puller',
                [{'kind': 'Group', 'apiGroup': 'rbac.authorization.k8s.io', 'name': 'system:serviceaccounts:ns-a'}]),
        binding('pushers', 'system:image-pusher', [{'kind': 'ServiceAccount', 'name': 'ci', 'namespace': 'ci'}]),
        binding('viewers', 'registry-viewer', [{'kind': 'User', 'apiGroup': 'rbac.authorization.k8s.io', 'name': 'alice'}]),
        binding('admin', 'admin', [{'kind': 'User', 'name': 'bob'}]),
    ]
    view = access.namespace_view('ns-a', True, [], [], bindings, {})
    assert view['image_pullers'] == [
        {'name': 'pushers', 'role': 'system:image-pusher', 'role_kind': 'ClusterRole',
         'subjects': ['system:serviceaccount:ci:ci'], 'protected': False},
        {'name': 'system:image-pullers', 'role': 'system:image-puller', 'role_kind': 'ClusterRole',
         'subjects': ['group:system:serviceaccounts:ns-a'], 'protected': True},
        {'name': 'viewers', 'role': 'registry-viewer', 'role_kind': 'ClusterRole', 'subjects': ['user:alice'],
         'protected': False},
    ]


# -- a namespace, the global pull secret, findings ----------------------------------------------


def test_namespace_view_sorts_and_keeps_only_pull_secrets():
    secrets = [secret('z', {'quay.io': ENTRY}), secret('a', {'quay.io': ENTRY}, layout='dockercfg'),
               secret('opaque', {'quay.io': ENTRY}, secret_type='Opaque')]
    sas = [service_account('sb', pull=['a']), service_account('sa', pull=['missing'])]
    view = access.namespace_view('ns-a', True, secrets, sas, [], {'missing': None})
    assert [s['name'] for s in view['pull_secrets']] == ['a', 'z']
    assert [s['name'] for s in view['service_accounts']] == ['sa', 'sb']
    assert view['service_accounts'][0]['missing'] == ['missing']
    assert_no_credential(view)


def test_global_view_readable():
    auths = {'quay.io': ENTRY}
    view = access.global_view('openshift-config', 'pull-secret', secret('pull-secret', auths))
    assert view == {'namespace': 'openshift-config', 'name': 'pull-secret', 'readable': True, 'reason': None,
                    'registries': dc.summarize(auths), 'fingerprint': dc.fingerprint_config(auths)}
    assert_no_credential(view)


@pytest.mark.parametrize('obj, reason, expected', [
    (None, None, 'the secret does not exist'),
    (None, 'forbidden: no', 'forbidden: no'),
    (secret('pull-secret', raw=b'nope'), None, 'it holds no valid docker config: the document is not valid JSON'),
])
def test_global_view_not_readable_says_why(obj, reason, expected):
    view = access.global_view('openshift-config', 'pull-secret', obj, reason=reason)
    assert not view['readable'] and view['reason'].startswith(expected)
    assert view['registries'] == [] and view['fingerprint'] is None


def test_problems_and_summary():
    ns_a = access.namespace_view('ns-a', True, [secret('broken', raw=b'{')],
                                 [service_account('default', pull=['gone', 'tls'])], [], {'gone': None, 'tls': 'kubernetes.io/tls'})
    ns_b = access.namespace_view('ns-b', False, [], [], [], {})
    unreadable = access.global_view('openshift-config', 'pull-secret', reason='forbidden: no')
    can_pull = [{'allowed': True}, {'allowed': False}, {'allowed': False}]
    problems = access.problems_of([ns_a, ns_b], unreadable)
    assert problems == [
        'secret ns-a/broken is not a usable pull secret: ' + ns_a['pull_secrets'][0]['invalid'],
        'service account ns-a/default references pull secret gone, which does not exist',
        'service account ns-a/default references secret tls as a pull secret, but its type is not '
        'kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg (the kubelet ignores it)',
        'namespace ns-b does not exist',
        'global pull secret openshift-config/pull-secret is not readable: forbidden: no',
    ]
    assert access.summary_of([ns_a, ns_b], can_pull, problems) == {
        'namespaces': 2, 'missing_namespaces': 1, 'pull_secrets': 1, 'invalid_pull_secrets': 1, 'service_accounts': 1,
        'dangling_references': 2, 'image_puller_bindings': 0, 'can_pull_allowed': 1, 'can_pull_denied': 2, 'problems': 5,
    }
    assert access.problems_of([], None) == []
