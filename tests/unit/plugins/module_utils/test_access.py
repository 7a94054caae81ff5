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
    # judged by the kubelet: it keeps no identity token, so that entry gives it nothing (the secret stays usable)
    assert [(p['consumer'], p['key'], p['code']) for p in view.pop('problems')] == [
        ('kubelet', 'registry.example.com:5000', 'no-credential')]
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
    (b'{"auths": ', 'the kubelet cannot read this secret'),
    (b'[]', 'the kubelet cannot read this secret'),
    (('{"auths":{"quay.io":{"auth":"%s"}}}' % PASSWORD).encode(), 'the kubelet cannot read this secret'),
    # the common --from-file=.dockercfg=config.json mistake: the kubelet reads "auths" as a registry
    (json.dumps({'auths': {'quay.io': ENTRY}}).encode(), 'a kubernetes.io/dockercfg secret holds the {"auths"'),
])
def test_invalid_pull_secret_is_flagged_with_the_reason_and_no_credential(raw, reason):
    layout = 'dockercfg' if reason.startswith('a kubernetes.io/dockercfg') else 'dockerconfigjson'
    view = access.pull_secret_view(secret('broken', raw=raw, layout=layout))
    assert view['invalid'].startswith(reason)
    assert view['fingerprint'] is None or layout == 'dockercfg'
    assert view['problems'] and all(p['consumer'] == 'kubelet' for p in view['problems'])
    assert_no_credential(view)


def test_pull_secret_the_kubelet_reads_is_valid_though_unpadded_and_wrapped():
    auth = base64.b64encode(('robot:' + PASSWORD).encode()).decode()
    wrapped = auth[:8] + '\n' + auth[8:].rstrip('=')
    view = access.pull_secret_view(secret('odd', raw=json.dumps({'auths': {'quay.io': {'auth': wrapped}}}).encode()))
    assert view['invalid'] is None
    assert [(r['server'], r['username']) for r in view['registries']] == [('quay.io', 'robot')]
    assert_no_credential(view)


def test_pull_secret_no_entry_of_which_gives_the_kubelet_a_credential_is_invalid():
    view = access.pull_secret_view(secret('tokens', {'quay.io': dc.build_entry(identity_token=TOKEN)}))
    assert view['invalid'].startswith('the kubelet can take no credential from it')
    assert_no_credential(view)


def test_pull_secret_without_its_key_is_invalid():
    broken = secret('empty', {'quay.io': ENTRY})
    broken['data'] = {}
    assert access.pull_secret_view(broken)['invalid'] == 'it has no %s key; the kubelet ignores it' % JSON_KEY


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
                    'registries': dc.summarize(auths), 'fingerprint': dc.fingerprint_config(auths), 'problems': []}
    assert_no_credential(view)


@pytest.mark.parametrize('obj, reason, expected', [
    (None, None, 'the secret does not exist'),
    (None, 'forbidden: no', 'forbidden: no'),
    (secret('pull-secret', raw=b'nope'), None, "the node's container runtime cannot read this document"),
    # username/password without auth: the kubelet would use it, containers/image reads only auth
    (secret('pull-secret', raw=json.dumps({'auths': {'quay.io': {'username': 'robot', 'password': PASSWORD}}}).encode()),
     None, "the node's container runtime can take no credential from it"),
])
def test_global_view_not_readable_says_why(obj, reason, expected):
    view = access.global_view('openshift-config', 'pull-secret', obj, reason=reason)
    assert not view['readable'] and view['reason'].startswith(expected)
    assert_no_credential(view)
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


# -- explain a pull -------------------------------------------------------------------------------

OTHER = dc.build_entry(username='other', password=PASSWORD + '-other')


def explain(images, sa, secrets, global_auths=None, other_types=None, global_raw=None):
    if global_raw is None and global_auths is not None:
        global_raw = json.dumps({'auths': global_auths}).encode()
    return access.explain_namespace(images, 'default', [sa] if sa else [], secrets, other_types or {}, global_raw,
                                    global_raw is not None)


def test_explain_lists_the_service_accounts_secrets_in_order_then_the_global_pull_secret():
    secrets = [secret('first', {'quay.io': ENTRY}), secret('second', {'quay.io/org': OTHER})]
    [pull] = explain(['quay.io/org/app:1'], service_account('default', pull=['first', 'second']), secrets,
                     global_auths={'quay.io': OTHER})
    assert pull['error'] is None and pull['ordered'] and not pull['anonymous'] and pull['runtime'] is None
    assert pull['repository'] == 'quay.io/org/app'
    # more specific key first (the kubelet's keyring sorts its index), then the node's config.json
    assert [(a['from'], a['secret'], a['key'], a['username'], a['fingerprint']) for a in pull['attempts']] == [
        ('service_account', 'second', 'quay.io/org', 'other', dc.fingerprint_entry(OTHER)),
        ('service_account', 'first', 'quay.io', 'robot', dc.fingerprint_entry(ENTRY)),
        ('global_pull_secret', None, 'quay.io', 'other', dc.fingerprint_entry(OTHER)),
    ]
    assert_no_credential(pull)


def test_explain_docker_hub_image_uses_a_docker_io_key():
    [pull] = explain(['nginx'], service_account('default', pull=['hub']), [secret('hub', {'docker.io': ENTRY})])
    assert pull['repository'] == 'docker.io/library/nginx'
    assert [a['key'] for a in pull['attempts']] == ['docker.io']


def test_explain_no_credential_is_an_anonymous_pull():
    [pull] = explain(['registry.example.com/app'], service_account('default', pull=['q']), [secret('q', {'quay.io': ENTRY})],
                     global_auths={'quay.io': OTHER})
    assert pull['attempts'] == [] and pull['anonymous']
    assert pull['runtime'] == {'name': 'registry.example.com/app', 'ordered': True,
                               'answers': [{'key': None, 'username': None, 'fingerprint': None, 'error': None}]}
    assert 'no credential: the image is pulled anonymously' in pull['notes']


def test_explain_a_secret_that_fails_to_parse_fails_the_whole_pull():
    secrets = [secret('good', {'quay.io': ENTRY}), secret('broken', raw=b'{"auths": ')]
    [pull] = explain(['quay.io/app'], service_account('default', pull=['good', 'broken']), secrets)
    assert pull['error'].startswith("the kubelet fails the pull: secret 'broken'") and pull['attempts'] == []
    ns = access.namespace_view('ns-a', True, secrets, [service_account('default', pull=['good', 'broken'])], [], {},
                               pulls=[pull])
    assert any(p.startswith('pulling quay.io/app in ns-a as service account default fails') for p in access.problems_of([ns]))


def test_explain_says_which_secrets_are_missing_or_ignored_and_a_missing_service_account():
    [pull] = explain(['quay.io/app'], service_account('default', pull=['gone', 'tls']), [], other_types={'tls': 'kubernetes.io/tls'})
    assert pull['missing_secrets'] == ['gone'] and pull['ignored_secrets'] == ['tls'] and pull['anonymous']
    [pull] = explain(['quay.io/app'], None, [])
    assert pull['error'].startswith('the service account does not exist') and pull['service_account'] == 'default'


def test_explain_several_orders_for_two_spellings_of_one_registry():
    [pull] = explain(['quay.io/app'], service_account('default', pull=['two']),
                     [secret('two', {'quay.io': ENTRY, 'https://quay.io': OTHER})])
    assert not pull['ordered'] and len(pull['attempts']) == 2
    assert any(n.startswith('several possible orders') for n in pull['notes'])


def test_explain_runtime_shadowed_key_and_usable_by_one_consumer_only():
    # no pod secret: CRI-O reads the global pull secret itself; the repository key hides the registry key
    [pull] = explain(['quay.io/org/app'], service_account('default'), [],
                     global_raw=json.dumps({'auths': {'quay.io': OTHER, 'quay.io/org': {'username': 'robot', 'password': PASSWORD}}}).encode())
    # the kubelet sends both (it reads username/password), so the runtime does not read its file
    assert [a['key'] for a in pull['attempts']] == ['quay.io/org', 'quay.io'] and pull['runtime'] is None
    assert any('usable by one consumer only' in n and 'quay.io/org' in n for n in pull['notes'])
    assert_no_credential(pull)
    assert any(n.startswith('key quay.io of the global pull secret is shadowed by a more specific key: tried only if '
                            'quay.io/org of the global pull secret is refused') for n in pull['notes']), pull['notes']


def test_explain_falls_back_to_the_container_runtime_reading_the_global_pull_secret():
    # registry-1.docker.io is Docker Hub for containers/image, not for the kubelet: the kubelet sends nothing
    [pull] = explain(['nginx'], service_account('default'), [], global_auths={'registry-1.docker.io': OTHER})
    assert pull['attempts'] == [] and not pull['anonymous']
    assert pull['runtime'] == {'name': 'docker.io/library/nginx', 'ordered': True, 'answers': [
        {'key': 'registry-1.docker.io', 'username': 'other', 'fingerprint': dc.fingerprint_entry(OTHER), 'error': None}]}


def test_explain_docker_hub_fallback_key_is_shadowed_by_docker_io():
    [pull] = explain(['nginx'], service_account('default', pull=['hub']),
                     [secret('hub', {'docker.io': ENTRY, 'https://index.docker.io/v1/': OTHER})])
    assert [a['key'] for a in pull['attempts']] == ['docker.io']
    assert any(n.startswith('key https://index.docker.io/v1/ of secret hub is shadowed') for n in pull['notes']), pull['notes']
