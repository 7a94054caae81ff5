"""The consumers' credential lookup: the kubelet (pod pull secrets) and containers/image (global pull secret).

Every case here was checked against the consumers' own Go code (tests/differential runs the same
model against it on generated documents); the regression cases are named after the classes of
issue 13 (c1 … c11) and the classes found while building the model (x1 …).
"""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl

PASSWORD = 'fake-Pa55word-xyzzy'
TOKEN = 'fake-identity-token-plugh'
JSON_TYPE = cl.SECRET_TYPE_DOCKERCONFIGJSON
CFG_TYPE = cl.SECRET_TYPE_DOCKERCFG


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


def auth(user, password=PASSWORD):
    return {'auth': b64('%s:%s' % (user, password))}


def secret(document, secret_type=JSON_TYPE, name='s1'):
    raw = document if isinstance(document, (str, bytes)) else json.dumps(document)
    raw = raw.encode('utf-8') if isinstance(raw, str) else raw
    return {'name': name, 'type': secret_type, 'data': {cl.DATA_KEY.get(secret_type, '.dockerconfigjson'): raw}}


def kubelet_users(image, *secrets, node=None):
    """The usernames the kubelet tries for image, in the one order when deterministic."""
    result = cl.kubelet_lookup(list(secrets), image, node)
    assert result.error is None, result.error
    return [c.username for c in result.credentials]


def ci(document, image):
    raw = document if isinstance(document, (str, bytes)) else json.dumps(document)
    return cl.containers_image_lookup(raw, image)


def ci_user(document, image):
    result = ci(document, image)
    assert result.deterministic and result.error is None, result
    return result.credential.username if result.credential else None


# -- c1: Docker Hub aliases ------------------------------------------------------------------------------

@pytest.mark.parametrize('image', ['nginx', 'library/nginx', 'docker.io/library/nginx', 'index.docker.io/library/nginx'])
@pytest.mark.parametrize('key', ['docker.io', 'index.docker.io', 'https://index.docker.io/v1/', 'index.docker.io/v1/',
                                 'https://docker.io', 'docker.io/v2/'])
def test_c1_docker_hub_aliases_serve_hub_images_for_the_kubelet(key, image):
    assert kubelet_users(image, secret({'auths': {key: auth('hub')}})) == ['hub']


@pytest.mark.parametrize('key', ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/',
                                 'http://registry-1.docker.io/v2/'])
def test_c1_docker_hub_aliases_serve_hub_images_for_containers_image(key):
    assert ci_user({'auths': {key: auth('hub')}}, 'nginx') == 'hub'


def test_c1_removing_docker_io_removes_every_hub_spelling():
    keys = ['https://index.docker.io/v1/', 'quay.io', 'docker.io', 'index.docker.io']
    assert cl.keys_serving(keys, 'docker.io', cl.KUBELET) == ['https://index.docker.io/v1/', 'docker.io', 'index.docker.io']
    assert cl.keys_serving(keys + ['registry-1.docker.io'], 'docker.io', cl.CONTAINERS_IMAGE) == [
        'https://index.docker.io/v1/', 'docker.io', 'index.docker.io', 'registry-1.docker.io']


def test_x12_an_underscore_host_is_read_as_a_bare_path_and_still_matches():
    assert cl.kubelet_image_name('a_b.example/app') == cl.containers_image_name('a_b.example/app') == 'a_b.example/app'
    assert kubelet_users('a_b.example/app', secret({'auths': {'a_b.example': auth('u')}})) == ['u']
    assert ci_user({'auths': {'a_b.example': auth('u')}}, 'a_b.example/app') == 'u'
    assert cl.registry_scope('a_b.example', cl.CONTAINERS_IMAGE) and cl.registry_scope('a_b.example', cl.KUBELET)


def test_x1_registry_1_docker_io_is_not_docker_hub_for_the_kubelet():
    assert kubelet_users('nginx', secret({'auths': {'registry-1.docker.io': auth('hub')}})) == []
    assert not cl.same_registry('registry-1.docker.io', 'docker.io', cl.KUBELET)
    assert cl.same_registry('registry-1.docker.io', 'docker.io', cl.CONTAINERS_IMAGE)


def test_x2_docker_io_hides_the_index_docker_io_fallback_from_the_kubelet():
    document = {'auths': {'docker.io': auth('new'), 'https://index.docker.io/v1/': auth('old')}}
    assert kubelet_users('nginx', secret(document)) == ['new']
    assert kubelet_users('nginx', secret({'auths': {'https://index.docker.io/v1/': auth('old')}})) == ['old']


@pytest.mark.parametrize('image', ['localhost/app', 'Foo/bar'])
def test_x3_the_kubelet_sends_the_hub_credential_to_one_label_hosts(image):
    assert kubelet_users(image, secret({'auths': {'index.docker.io': auth('hub')}})) == ['hub']
    assert kubelet_users(image, secret({'auths': {'docker.io': auth('hub')}})) == []


# -- c2: host letter case -----------------------------------------------------------------------------------

def test_c2_upper_case_host_is_a_dead_key_for_lower_case_images():
    document = {'auths': {'Quay.io': auth('upper')}}
    assert kubelet_users('quay.io/org/app', secret(document)) == []
    assert ci_user(document, 'quay.io/org/app') is None
    assert not cl.same_registry('Quay.io', 'quay.io', cl.KUBELET)
    assert not cl.same_registry('Quay.io', 'quay.io', cl.CONTAINERS_IMAGE)
    assert 'host-case' in codes(document, cl.KUBELET) and 'host-case' in codes(document, cl.CONTAINERS_IMAGE)


# -- c3: schemeless keys ending in /, /v1/, /v2/ -------------------------------------------------------------------

@pytest.mark.parametrize('key', ['quay.io/', 'quay.io/v1/', 'quay.io/v2/'])
def test_c3_schemeless_slash_keys_are_dead_for_containers_image_but_not_the_kubelet(key):
    document = {'auths': {key: auth('slash')}}
    assert ci_user(document, 'quay.io/org/app') is None
    assert cl.registry_scope(key, cl.CONTAINERS_IMAGE) is None
    assert kubelet_users('quay.io/org/app', secret(document)) == ['slash']
    assert 'dead-key' in codes(document, cl.CONTAINERS_IMAGE)


def test_c3_lookup_key_for_writes_what_containers_image_reads():
    assert cl.lookup_key_for('quay.io/') == 'quay.io'
    assert cl.lookup_key_for('https://quay.io/v2/') == 'quay.io'
    assert cl.lookup_key_for('https://index.docker.io/v1/') == 'docker.io'
    assert cl.lookup_key_for('registry-1.docker.io/library') == 'docker.io/library'
    assert cl.lookup_key_for('HTTPS://Quay.io/org/') == 'quay.io/org'
    assert cl.lookup_key_for('registry.example.com:5000') == 'registry.example.com:5000'


@pytest.mark.parametrize('server', ['', 'user:pw@quay.io', 'quay.io/Org', 'myhost', 'quay.io/org:tag', 'a b'])
def test_lookup_key_for_refuses_what_containers_image_never_looks_up(server):
    with pytest.raises(ValueError) as e:
        cl.lookup_key_for(server)
    assert 'pw' not in str(e.value)


# -- c4: https:// keys with a path cover the whole host for containers/image ------------------------------------------

def test_c4_https_key_with_path_covers_the_host_for_containers_image():
    document = {'auths': {'https://quay.io/org': auth('old')}}
    assert ci_user(document, 'quay.io/other/app') == 'old'
    assert kubelet_users('quay.io/other/app', secret(document)) == []
    assert cl.keys_serving(['https://quay.io/org', 'quay.io/org'], 'quay.io', cl.CONTAINERS_IMAGE) == ['https://quay.io/org']
    assert cl.keys_serving(['https://quay.io/org'], 'quay.io', cl.KUBELET) == []


def test_c4_a_schemeless_key_wins_over_an_https_key():
    document = {'auths': {'https://quay.io': auth('scheme'), 'quay.io': auth('plain')}}
    assert ci_user(document, 'quay.io/org/app') == 'plain'


# -- c5: merge: false leaves one key per registry ------------------------------------------------------------------

def test_c5_second_spelling_of_a_registry_is_tried_in_map_order():
    document = {'auths': {'quay.io': auth('new'), 'https://quay.io': auth('old')}}
    result = cl.kubelet_lookup([secret(document)], 'quay.io/org/app')
    assert not result.deterministic
    assert sorted([c.username for c in order] for order in result.orders()) == [['new', 'old'], ['old', 'new']]
    assert cl.keys_serving(document['auths'], 'quay.io', cl.KUBELET) == ['quay.io', 'https://quay.io']
    assert 'same-registry' in codes(document, cl.KUBELET)


def test_c5_containers_image_fallback_keys_are_picked_in_map_order():
    document = {'auths': {'https://quay.io/a': auth('a'), 'http://quay.io': auth('b')}}
    result = ci(document, 'quay.io/org/app')
    assert not result.deterministic
    assert sorted(a.credential.username for a in result.answers) == ['a', 'b']


def test_keys_of_different_secrets_are_tried_in_secret_order():
    one, two = secret({'auths': {'quay.io': auth('one')}}, name='one'), secret({'auths': {'quay.io': auth('two')}}, name='two')
    assert kubelet_users('quay.io/app', one, two) == ['one', 'two']
    result = cl.kubelet_lookup([one, two], 'quay.io/app')
    assert [c.source for c in result.credentials] == ['one', 'two']


def test_more_specific_kubelet_keys_come_first_then_the_node():
    document = {'auths': {'quay.io': auth('host'), 'quay.io/org': auth('org'), 'quay.io/org/app': auth('app')}}
    node = json.dumps({'auths': {'quay.io': auth('node')}}).encode()
    assert kubelet_users('quay.io/org/app', secret(document), node=node) == ['app', 'org', 'host', 'node']


# -- c6: field names are matched case-insensitively ------------------------------------------------------------------

def test_c6_a_stale_capitalised_auth_after_auth_wins():
    document = '{"auths":{"quay.io":{"auth":"%s","Auth":"%s"}}}' % (b64('new:' + PASSWORD), b64('old:' + PASSWORD))
    assert kubelet_users('quay.io/app', secret(document)) == ['old']
    assert ci_user(document, 'quay.io/app') == 'old'
    assert 'duplicate-field' in codes(document, cl.KUBELET)


def test_c6_capitalised_auths_is_read_by_both_consumers():
    document = '{"Auths":{"quay.io":{"AUTH":"%s"}}}' % b64('u:' + PASSWORD)
    assert kubelet_users('quay.io/app', secret(document)) == ['u']
    assert ci_user(document, 'quay.io/app') == 'u'
    assert 'field-case' in codes(document, cl.KUBELET)


@pytest.mark.parametrize('name', ['u\u017fername', 'USERNAME', 'UserName'])
def test_x4_go_folds_unicode_letters_onto_field_names(name):
    document = '{"quay.io":{"%s":"folded","password":"p"}}' % name
    assert kubelet_users('quay.io/app', secret(document, CFG_TYPE)) == ['folded']


@pytest.mark.parametrize('name,folds', [('\u0131dentitytoken', False), ('\u0130dentitytoken', False), ('IdentityToken', True)])
def test_x4_dotless_and_dotted_i_do_not_fold_onto_identitytoken(name, folds):
    document = '{"auths":{"quay.io":{"auth":"%s","%s":"%s"}}}' % (b64('u:' + PASSWORD), name, TOKEN)
    assert ci(document, 'quay.io/app').credential.identitytoken == (TOKEN if folds else '')


def test_x4_long_s_folds_onto_auths():
    document = '{"auth\u017f":{"quay.io":{"auth":"%s"}}}' % b64('u:' + PASSWORD)
    assert ci_user(document, 'quay.io/app') == 'u'
    assert kubelet_users('quay.io/app', secret(document)) == ['u']


def test_x5_null_keeps_an_earlier_field_and_resets_auths():
    document = '{"auths":{"quay.io":{"auth":"%s","Auth":null}}}' % b64('kept:' + PASSWORD)
    assert kubelet_users('quay.io/app', secret(document)) == ['kept']
    reset = '{"auths":{"quay.io":{"auth":"%s"}},"Auths":null}' % b64('gone:' + PASSWORD)
    assert kubelet_users('quay.io/app', secret(reset)) == []
    assert ci_user(reset, 'quay.io/app') is None


def test_x5_two_spellings_of_auths_are_merged():
    document = '{"auths":{"quay.io":{"auth":"%s"}},"AUTHS":{"registry.example.com":{"auth":"%s"}}}' % (
        b64('q:' + PASSWORD), b64('r:' + PASSWORD))
    assert kubelet_users('quay.io/app', secret(document)) == ['q']
    assert kubelet_users('registry.example.com/app', secret(document)) == ['r']
    assert ci_user(document, 'registry.example.com/app') == 'r'


def test_a_duplicate_registry_key_keeps_the_last_entry():
    document = '{"auths":{"quay.io":{"auth":"%s"},"quay.io":{"auth":"%s"}}}' % (b64('first:p'), b64('last:p'))
    assert kubelet_users('quay.io/app', secret(document)) == ['last']
    assert ci_user(document, 'quay.io/app') == 'last'


# -- c7: layout vs secret type ---------------------------------------------------------------------------------

def test_c7_dockercfg_secret_with_auths_layout_gives_no_registry():
    document = {'auths': {'quay.io': auth('u')}}
    assert kubelet_users('quay.io/app', secret(document, CFG_TYPE)) == []
    assert [p.code for p in cl.document_problems(json.dumps(document), cl.KUBELET, CFG_TYPE)] == ['layout-mismatch']


def test_c7_dockerconfigjson_secret_with_flat_layout_gives_no_registry():
    document = {'quay.io': auth('u')}
    assert kubelet_users('quay.io/app', secret(document)) == []
    assert [p.code for p in cl.document_problems(json.dumps(document), cl.KUBELET)] == ['layout-mismatch']
    assert ci_user(document, 'quay.io/app') is None
    assert 'layout-mismatch' in codes(document, cl.CONTAINERS_IMAGE)


@pytest.mark.parametrize('broken', [
    {'name': 'x', 'type': 'Opaque', 'data': {'.dockerconfigjson': b'{'}},
    {'name': 'x', 'type': JSON_TYPE, 'data': {'.dockercfg': b'{'}},
    {'name': 'x', 'type': CFG_TYPE, 'data': {'.dockercfg': b''}},
])
def test_x6_a_secret_of_another_type_or_data_key_is_ignored(broken):
    assert cl.kubelet_secret_document(broken) is None
    assert kubelet_users('quay.io/app', broken, secret({'auths': {'quay.io': auth('u')}})) == ['u']


# -- c8: entries no consumer can pull with ----------------------------------------------------------------------

def test_c8_identity_token_only_entries_give_no_credential():
    document = {'auths': {'quay.io': {'identitytoken': TOKEN}}}
    result = cl.kubelet_lookup([secret(document)], 'quay.io/app')
    assert [c.anonymous for c in result.credentials] == [True]
    assert ci_user(document, 'quay.io/app') is None
    assert 'no-credential' in codes(document, cl.KUBELET) and 'no-credential' in codes(document, cl.CONTAINERS_IMAGE)


def test_c8_containers_image_reads_only_auth():
    document = {'auths': {'quay.io': {'username': 'u', 'password': PASSWORD}}}
    assert ci_user(document, 'quay.io/app') is None
    assert kubelet_users('quay.io/app', secret(document)) == ['u']


def test_x7_an_unusable_specific_entry_hides_the_broader_key_from_containers_image():
    document = {'auths': {'quay.io': auth('host'), 'quay.io/org': {'username': 'u', 'password': PASSWORD}}}
    assert ci_user(document, 'quay.io/org/app') is None
    assert ci_user(document, 'quay.io/other') == 'host'


def test_x8_identity_token_travels_with_auth_in_containers_image_only():
    document = {'auths': {'quay.io': dict(auth('u'), identitytoken=TOKEN)}}
    assert ci(document, 'quay.io/app').credential.identitytoken == TOKEN
    assert cl.kubelet_lookup([secret(document)], 'quay.io/app').credentials[0].identitytoken == ''


def test_x9_containers_image_trims_nul_from_the_password_and_the_kubelet_does_not():
    document = {'auths': {'quay.io': {'auth': b64('u:pw\x00')}}}
    assert ci(document, 'quay.io/app').credential.password == 'pw'
    assert cl.kubelet_lookup([secret(document)], 'quay.io/app').credentials[0].password == 'pw\x00'


# -- c9: extra top-level keys ------------------------------------------------------------------------------------

@pytest.mark.parametrize('extra', ['"HttpHeaders":5', '"httpheaders":{"X":5}', '"HTTPHEADERS":"x"'])
def test_c9_http_headers_of_the_wrong_type_fail_every_kubelet_pull(extra):
    document = '{%s,"auths":{"quay.io":{"auth":"%s"}}}' % (extra, b64('u:' + PASSWORD))
    assert cl.kubelet_lookup([secret(document)], 'quay.io/app').error is not None
    assert [p.code for p in cl.document_problems(document, cl.KUBELET)] == ['unparsable']
    assert ci_user(document, 'quay.io/app') == 'u'


def test_c9_a_cred_helper_for_the_registry_fails_its_pulls_in_containers_image():
    document = {'auths': {'quay.io': auth('u')}, 'credHelpers': {'quay.io': 'desktop', 'gcr.io': None}}
    assert ci(document, 'quay.io/app').error is not None
    assert ci(document, 'gcr.io/app').error is not None
    assert ci_user(document, 'registry.example.com/app') is None
    assert any(p.fatal and p.code == 'cred-helper' for p in cl.problems(json.dumps(document), cl.CONTAINERS_IMAGE))


@pytest.mark.parametrize('document', ['{"auths":[]}', '{"credHelpers":{"quay.io":5}}', '[]', '{"auths":{"quay.io":"x"}}',
                                      '{"auths":{"quay.io":{"auth":5}}}', 'NaN', '{"auths":{}} x', '', '{"credHelpers":"x"}'])
def test_c9_type_errors_make_the_whole_auth_file_unusable(document):
    assert ci(document, 'quay.io/app').error is not None
    assert cl.problems(document, cl.CONTAINERS_IMAGE)[0].code == 'unparsable'


def test_creds_store_is_ignored_by_containers_image():
    document = {'auths': {'quay.io': auth('u')}, 'credsStore': 'desktop'}
    assert ci_user(document, 'quay.io/app') == 'u'
    assert 'creds-store' in [p.code for p in cl.document_problems(json.dumps(document), cl.CONTAINERS_IMAGE)]


# -- c10: valid secrets the old model refused -------------------------------------------------------------------

def test_c10_wrapped_and_unpadded_auth_is_read_by_the_kubelet():
    text = b64('u:' + PASSWORD + 'x' * 70)
    wrapped = '\n'.join(text[i:i + 76] for i in range(0, len(text), 76)) + '\n'
    assert kubelet_users('quay.io/app', secret({'auths': {'quay.io': {'auth': wrapped}}})) == ['u']
    assert ci_user({'auths': {'quay.io': {'auth': wrapped}}}, 'quay.io/app') == 'u'
    unpadded = b64('u:pw').rstrip('=')
    assert kubelet_users('quay.io/app', secret({'auths': {'quay.io': {'auth': unpadded}}})) == ['u']
    assert ci({'auths': {'quay.io': {'auth': unpadded}}}, 'quay.io/app').error is not None


def test_c10_null_entry_and_empty_key_are_usable_documents():
    document = '{"auths":{"":{"auth":"%s"},"quay.io":null,"registry.example.com":{"auth":"%s"}}}' % (b64('e:p'), b64('r:p'))
    assert kubelet_users('registry.example.com/app', secret(document)) == ['r']
    assert ci_user(document, 'registry.example.com/app') == 'r'
    result = cl.kubelet_lookup([secret(document)], 'quay.io/app')
    assert [c.anonymous for c in result.credentials] == [True]
    assert ci_user(document, 'quay.io/app') is None


@pytest.mark.parametrize('text,padded,expected', [
    ('YQ==', True, b'a'), ('YQ', False, b'a'), ('YR==', True, b'a'), ('Y\nQ=\r\n=', True, b'a'), ('', True, b''),
    ('YQ=', True, None), ('YQ', True, None), ('YQ==', False, None), ('Y', False, None), ('YQ==x', True, None),
    ('YWJj', True, b'abc'), ('YWI=', True, b'ab'), ('YWI', False, b'ab'), ('Y=Q=', True, None), ('=', True, None),
    ('YQ==\n', True, b'a'), ('Y!==', True, None),
])
def test_go_base64_rules(text, padded, expected):
    assert cl._go_b64decode(text, padded) == expected


@pytest.mark.parametrize('field', ['!!!', 'YQ==', 'YWJj=', ' YQ=='])
def test_kubelet_auth_that_does_not_decode_fails_the_pod(field):
    document = {'auths': {'quay.io': {'auth': field}}}
    assert cl.kubelet_lookup([secret(document)], 'quay.io/app').error is not None
    assert cl.problems(json.dumps(document), cl.KUBELET)[0].fatal


def test_a_secret_that_fails_fails_the_pod_but_a_bad_node_config_is_ignored():
    good, bad = secret({'auths': {'quay.io': auth('u')}}), secret('{"auths":', name='bad')
    assert 'bad' in cl.kubelet_lookup([good, bad], 'quay.io/app').error
    assert kubelet_users('quay.io/app', good, node=b'{"auths":') == ['u']
    assert kubelet_users('quay.io/app', node=b'null') == []


# -- c11: odd spellings ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('key', ['user@quay.io', 'quay.io?x=1', 'quay.io#frag', 'https://u:p@quay.io/', 'quay.io:', 'quay.io/%6Frg'])
def test_c11_the_kubelet_reads_odd_spellings_as_the_host(key):
    assert cl.kubelet_index_key(key) in ('quay.io', 'quay.io:', 'quay.io/org')
    assert kubelet_users('quay.io/org', secret({'auths': {key: auth('odd')}})) == ['odd']


@pytest.mark.parametrize('key', ['a:1:2', 'quay.io/%zz', 'qu ay.io', '[::1', 'quay.io\x01', 'x[y]', '[1.2.3.4]', 'u\u00e9@q.io',
                                 'qu%61y.io', '[qr]uay.io', '\\quay.io'])
def test_x10_keys_the_kubelet_ignores(key):
    assert cl.kubelet_index_key(key) is None


def test_c11_raw_path_prefix_matches_longer_namespaces_in_the_kubelet():
    document = {'auths': {'quay.io/org': auth('org')}}
    assert kubelet_users('quay.io/organization/x', secret(document)) == ['org']
    assert kubelet_users('quay.io/org/x', secret({'auths': {'quay.io/org/': auth('slash')}})) == ['slash']
    assert kubelet_users('quay.io/org', secret({'auths': {'quay.io/org/': auth('slash')}})) == []
    assert ci_user(document, 'quay.io/organization/x') is None
    assert 'path-prefix' in codes(document, cl.KUBELET)
    assert not cl.same_registry('quay.io/org', 'quay.io/org/', cl.KUBELET)


def test_kubelet_index_keys():
    assert cl.kubelet_index_key('https://quay.io/v2/org') == 'quay.io/org'
    assert cl.kubelet_index_key('quay.io/v1') == 'quay.io/v1'
    assert cl.kubelet_index_key('HTTPS://quay.io') == 'HTTPS:/quay.io' or cl.kubelet_index_key('HTTPS://quay.io') == 'HTTPS://quay.io'
    assert cl.kubelet_index_key('[::1]:5000/x') == '[::1]:5000/x'
    assert cl.kubelet_index_key('[fe80::1%25eth0]') == '[fe80::1%eth0]'


# -- globs, ports, IPv6 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('key,image,served', [
    ('*.example.com', 'a.example.com/x', True), ('*.example.com', 'a.b.example.com/x', False),
    ('*.example.com', 'example.com/x', False), ('a.*.com', 'a.example.com/x', True), ('q?ay.io', 'quay.io/x', False),
    ('q?ay.io', 'q/x', False), ('[qr]uay.io', 'ruay.io/x', False), ('quay.i*', 'quay.io/x', True),
    ('a.example.[', 'a.example.com/x', False), ('\\quay.io', 'quay.io/x', False), ('quay.io:5000', 'quay.io/x', False),
    ('quay.io', 'quay.io:5000/x', False), ('quay.io:5000', 'quay.io:5000/x', True), ('[::1]', '[::1]:5000/x', False),
    ('[::1]:5000', '[::1]:5000/x', True), ('*', 'localhost/x', True), ('*.io', 'quay.io/x', True),
    ('*a*.io', 'quay.io/x', True), ('**.io', 'quay.io/x', True), ('q*y.io', 'quay.io/x', True), ('q]*.io', 'q.io/x', False),
    ('*[', 'quay.io/x', False), ('[!-]', 'a/x', False), ('[a-]', 'a.io/x', False),
])
def test_kubelet_host_globs_and_ports(key, image, served):
    assert bool(kubelet_users(image, secret({'auths': {key: auth('g')}}))) is served


@pytest.mark.parametrize('pattern,name,matched', [
    ('a*', 'abc', True), ('a*/b', 'a/b', True), ('*', 'a/b', False), ('a?c', 'abc', True), ('a?c', 'a/c', False),
    ('a\\*', 'a*', True), ('a\\', 'a', False), ('[a-c]x', 'bx', True), ('[^a-c]x', 'dx', True), ('a*b*c', 'axxbyyc', True),
    ('a*b', 'axxbyyc', False), ('[', 'a', False), ('*x', 'abc', False), ('a*c', 'abcd', False), ('\u00e9*', '\u00e9t\u00e9', True),
    ('*[a', 'xa', False), ('*c', 'abc', True), ('[\\a]', 'a', True), ('[a-\\c]', 'b', True), ('[]a]', 'a', False),
])
def test_go_glob(pattern, name, matched):
    assert cl._go_glob_match(pattern, name) is matched


# -- images ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('image,kubelet,containers_image', [
    ('nginx', 'docker.io/library/nginx', 'docker.io/library/nginx'),
    ('index.docker.io/nginx', 'docker.io/library/nginx', 'docker.io/library/nginx'),
    ('someuser/app:1', 'docker.io/someuser/app', 'docker.io/someuser/app'),
    ('quay.io/org/app@sha256:' + 'a' * 64, 'quay.io/org/app', 'quay.io/org/app'),
    ('localhost:5000/x:latest', 'localhost:5000/x', 'localhost:5000/x'),
    ('Foo/bar', 'Foo/bar', None), ('[::1]:5000/x', '[::1]:5000/x', None), ('a--b.io/a--b', 'a--b.io/a--b', 'a--b.io/a--b'),
    ('quay.io/Org', None, None), ('a' * 64, None, None), ('', None, None), ('quay.io/x@sha256:abc', None, None),
    ('quay.io/x@md5:' + 'a' * 32, None, None), ('quay.io/x@sha256:' + 'A' * 64, None, None), ('q.io/' + 'a' * 300, None, None),
    ('quay.io/x:bad tag', None, None), ('UPPER/x', 'UPPER/x', None),
])
def test_image_names(image, kubelet, containers_image):
    for parse, want in ((cl.kubelet_image_name, kubelet), (cl.containers_image_name, containers_image)):
        if want is None:
            with pytest.raises(ValueError):
                parse(image)
        else:
            assert parse(image) == want


def test_an_image_that_does_not_parse_is_an_error_for_both():
    assert cl.kubelet_lookup([], 'quay.io/Org').error is not None
    assert ci({'auths': {}}, 'quay.io/Org').error is not None


# -- containers/image lookup order ----------------------------------------------------------------------------------

def test_containers_image_prefers_the_most_specific_namespace():
    document = {'auths': {'quay.io': auth('host'), 'quay.io/org': auth('org'), 'quay.io/org/app': auth('app')}}
    assert [ci_user(document, i) for i in ('quay.io/org/app', 'quay.io/org/other', 'quay.io/x')] == ['app', 'org', 'host']
    assert cl.auth_key_lookup_order('quay.io/a/b') == ['quay.io/a/b', 'quay.io/a', 'quay.io']


def test_normalisation_of_auth_file_keys():
    assert cl.normalize_auth_file_key('https://index.docker.io/v1/') == 'index.docker.io'
    assert cl.normalize_auth_file_key('http://quay.io/org') == 'quay.io'
    assert cl.normalize_auth_file_key('quay.io/org') == 'quay.io/org'
    assert cl.normalize_auth_file_key('docker.io') == 'index.docker.io'
    assert cl.normalize_registry('registry-1.docker.io') == 'index.docker.io'


def test_containers_image_decode_auth():
    assert cl.containers_image_decode_auth('') is None
    assert cl.containers_image_decode_auth(b64('nocolon')) is None
    assert cl.containers_image_decode_auth(b64('\x00u:\x00p\x00')) == ('\x00u', 'p')
    with pytest.raises(ValueError):
        cl.containers_image_decode_auth('YQ')


def test_kubelet_decode_auth():
    assert cl.kubelet_decode_auth(b64('u:p:q')) == ('u', 'p:q')
    with pytest.raises(ValueError):
        cl.kubelet_decode_auth(b64('nocolon'))
    assert cl.kubelet_decode_auth(base64.b64encode(b'\xff:\xfe').decode()) == ('\udcff', '\udcfe')


def test_empty_auth_falls_back_to_username_and_password_in_the_kubelet():
    document = {'auths': {'quay.io': {'auth': '', 'username': 'u', 'password': PASSWORD, 'email': 'e@example.com'}}}
    credential = cl.kubelet_lookup([secret(document)], 'quay.io/app').credentials[0]
    assert (credential.username, credential.email, credential.key, credential.source) == ('u', 'e@example.com', 'quay.io', 's1')


def test_auth_overrides_disagreeing_username_and_password():
    document = {'auths': {'quay.io': dict(auth('from-auth'), username='field', password='other')}}
    assert kubelet_users('quay.io/app', secret(document)) == ['from-auth']
    assert 'auth-overrides' in codes(document, cl.KUBELET)


# -- same registry, scopes --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('a,b,kubelet,containers_image', [
    ('quay.io', 'https://quay.io/', True, True), ('quay.io', 'http://quay.io/v2/', True, True),
    ('quay.io', 'https://quay.io/org', False, True), ('quay.io/org', 'https://quay.io/v1/org', True, False),
    ('quay.io/org', 'quay.io/org/', False, False), ('quay.io', 'quay.io:443', False, False),
    ('docker.io', 'https://index.docker.io/v1/', True, True), ('myhost', 'myhost', True, True),
    ('myhost', 'myhost/', False, False), ('quay.io', 'quay.io:', True, False), ('user@quay.io', 'quay.io', True, False),
])
def test_same_registry(a, b, kubelet, containers_image):
    assert cl.same_registry(a, b, cl.KUBELET) is kubelet
    assert cl.same_registry(a, b, cl.CONTAINERS_IMAGE) is containers_image


@pytest.mark.parametrize('key', ['myhost', 'index.docker.io/library', 'quay.io/Org', '', 'quay.io/a b', '-a.io',
                                 'HTTPS://quay.io', 'quay.io?x'])
def test_dead_keys(key):
    assert cl.registry_scope(key, cl.CONTAINERS_IMAGE) is None
    assert cl.registry_scope(key, cl.KUBELET) is None or key in ('quay.io?x', 'HTTPS://quay.io', 'quay.io/a b')


def test_scope_of_a_non_string_and_an_unknown_consumer():
    assert cl.registry_scope(5, cl.KUBELET) is None
    with pytest.raises(cl.CredentialModelError):
        cl.registry_scope('quay.io', 'docker')
    with pytest.raises(cl.CredentialModelError):
        cl.problems('{}', 'docker')


# -- problems ---------------------------------------------------------------------------------------------------------

def codes(document, consumer, secret_type=JSON_TYPE):
    raw = document if isinstance(document, str) else json.dumps(document)
    return [p.code for p in cl.problems(raw, consumer, secret_type)]


def test_problems_never_show_credentials():
    document = {'auths': {'https://robot:%s@quay.io/org' % PASSWORD: {'auth': 'bad!' + PASSWORD},
                          'quay.io': {'username': 'u', 'password': PASSWORD, 'auth': b64('v:' + PASSWORD)}},
                'credHelpers': {'gcr.io': 'gcloud'}}
    for consumer in cl.CONSUMERS:
        found = cl.problems(json.dumps(document), consumer)
        assert found
        for p in found:
            assert PASSWORD not in p.message and PASSWORD not in repr(p) and PASSWORD not in json.dumps(p.as_dict())
            assert PASSWORD not in (p.shown_key or '')


def test_audit_of_a_clean_document_finds_nothing():
    document = {'auths': {'quay.io': auth('u'), 'registry.example.com:5000': auth('v')}}
    assert cl.problems(json.dumps(document), cl.KUBELET) == []
    assert cl.problems(json.dumps(document), cl.CONTAINERS_IMAGE) == []
    assert cl.entry_problems(json.dumps(document), cl.KUBELET) == {}


def test_audit_of_odd_entries():
    document = {'auths': {'HTTPS://quay.io': auth('a'), 'quay.io?x=1': auth('b'), '*.example.com': auth('c'),
                          'quay.io/org/': {'auth': b64('nocolon')}, 'myhost': {}, 'q.io': {'identitytoken': TOKEN},
                          'r.io': {'auth': b64('u:pw').rstrip('=')}, 'a:1:2': auth('d')}}
    kubelet_document = dict(document['auths'])
    del kubelet_document['quay.io/org/']  # an auth without ':' fails the whole secret for the kubelet
    kubelet = cl.entry_problems(json.dumps({'auths': kubelet_document}), cl.KUBELET)
    assert 'odd-spelling' in [p.code for p in kubelet['quay.io?x=1']]
    assert 'wildcard' in [p.code for p in kubelet['*.example.com']]
    assert [p.code for p in kubelet['a:1:2']] == ['ignored-key']
    assert 'dead-key' in [p.code for p in kubelet['myhost']]
    containers = cl.entry_problems(json.dumps(document), cl.CONTAINERS_IMAGE)
    assert 'dead-key' in [p.code for p in containers['quay.io/org/']]
    assert 'no-credential' in [p.code for p in containers['quay.io/org/']]
    assert 'no-credential' in [p.code for p in containers['q.io']]
    assert [p.code for p in containers['r.io']] == ['bad-auth']
    assert 'dead-key' in [p.code for p in containers['HTTPS://quay.io']]
    assert cl.document_problems('{"auths":{}}', cl.CONTAINERS_IMAGE)[0].code == 'no-registries'
    assert cl.document_problems('{"auths":{}}', cl.KUBELET)[0].code == 'no-registries'


def test_problem_of_an_entry_that_is_not_an_object():
    assert codes('{"quay.io":"x"}', cl.KUBELET, CFG_TYPE) == ['unparsable']
    assert cl.problems('{"quay.io":5}', cl.KUBELET, CFG_TYPE)[0].fatal


# -- results keep secrets out of output --------------------------------------------------------------------------

def test_credential_repr_hides_password_and_token():
    credential = cl.Credential('s1', 'quay.io', 'u', PASSWORD, 'e@example.com', TOKEN)
    for text in (repr(credential), str(credential), repr(cl.KubeletLookup('r', None, [[credential]])),
                 repr(cl.ContainersImageLookup('r', [cl.Answer(credential)])), json.dumps(credential.public())):
        assert PASSWORD not in text and TOKEN not in text
    assert credential.public() == {'source': 's1', 'key': 'quay.io', 'username': 'u', 'email': 'e@example.com',
                                   'has_password': True, 'has_identity_token': True}
    assert credential == cl.Credential('s1', 'quay.io', 'u', PASSWORD, 'e@example.com', TOKEN)
    assert len({credential, cl.Credential('s1', 'quay.io', 'u', PASSWORD, 'e@example.com', TOKEN)}) == 1
    assert not credential.anonymous and cl.Credential(None, 'k').anonymous
    assert '<hidden>' not in repr(cl.Credential(None, 'k'))


def test_orders_of_an_error_and_their_limit():
    assert cl.KubeletLookup(None, 'boom').orders() == []
    group = [cl.Credential('s', 'k', 'u%d' % i) for i in range(5)]
    assert len(cl.KubeletLookup('r', None, [group]).orders(limit=7)) == 7
    assert len(cl.KubeletLookup('r', None, [group]).orders()) == 120


def test_document_inputs():
    assert cl.kubelet_parse({'auths': {'quay.io': auth('u')}}, 'dockerconfigjson').entries['quay.io'].username == 'u'
    assert cl.kubelet_parse(bytearray(b'{"quay.io":{}}'), 'dockercfg').entries['quay.io'].anonymous
    with pytest.raises(cl.CredentialModelError):
        cl.kubelet_parse(5, 'dockercfg')
    assert cl.kubelet_parse(b'{"a":' + b'[' * 5000 + b']' * 5000 + b'}', 'dockercfg').error is not None
    assert cl.kubelet_parse(b'"\xff"', 'dockercfg').error is not None
    assert cl.kubelet_parse(b'{"q\xffy":{"username":"\\ud800"}}', 'dockercfg').entries['q\ufffdy'].username == '\ufffd'
    assert cl.containers_image_parse(b'{"auths":{"q":{"auth":"","identitytoken":null}},"credHelpers":null}').error is None
    assert cl.containers_image_parse(b'{"auths":{"q":{}},"auths":null}').auths == {}


# -- explain a pull ------------------------------------------------------------------------------------------

def test_explain_pull_lists_pod_secrets_then_the_node_then_the_runtime():
    pod = secret({'auths': {'quay.io/org': auth('pod')}}, name='pull')
    global_secret = {'auths': {'quay.io': auth('global'), 'registry.example.com': {'username': 'x', 'password': PASSWORD}}}
    explained = cl.explain_pull([pod], 'quay.io/org/app:1', global_secret)
    attempts = [(a['source'], a['key'], a['username']) for a in explained['attempts']]
    assert attempts == [('pull', 'quay.io/org', 'pod'), ('node', 'quay.io', 'global')]
    assert explained['ordered'] and explained['runtime'] is None and explained['repository'] == 'quay.io/org/app'
    other = cl.explain_pull([pod], 'registry.example.com/app', json.dumps(global_secret))
    assert [a['username'] for a in other['attempts']] == ['x']
    none = cl.explain_pull([], 'gcr.io/app', global_secret)
    assert none['attempts'] == [] and none['runtime']['answers'] == [{'credential': None, 'error': None}]
    assert cl.explain_pull([secret('{')], 'quay.io/app')['error'] is not None
    assert PASSWORD not in json.dumps([explained, other, none])


def test_consumer_view_decides_unchanged_on_what_the_consumer_reads():
    a = '{"auths":{"quay.io":{"auth":"%s"}}}' % b64('u:' + PASSWORD)
    b = '{"Auths":{"https://quay.io/":{"username":"u","password":"%s","email":""}}}' % PASSWORD
    assert cl.consumer_view(a, cl.KUBELET) == cl.consumer_view(b, cl.KUBELET)
    assert cl.consumer_view(a, cl.CONTAINERS_IMAGE) != cl.consumer_view(b, cl.CONTAINERS_IMAGE)
    assert cl.consumer_view('{', cl.KUBELET) is None and cl.consumer_view('[]', cl.CONTAINERS_IMAGE) is None
    flat = '{"quay.io":{"auth":"%s"},"myhost":{}}' % b64('u:' + PASSWORD)
    assert cl.consumer_view(flat, cl.KUBELET, CFG_TYPE) == cl.consumer_view(a, cl.KUBELET)
    odd = {'auths': {'quay.io': {'auth': 'YQ'}, 'r.io': {}, 'quay.io/': auth('dead')}, 'credHelpers': {'gcr.io': 'gcloud'}}
    view = cl.consumer_view(json.dumps(odd), cl.CONTAINERS_IMAGE)
    assert view[(cl.CONTAINERS_IMAGE, 'registry', 'quay.io')] == [('quay.io', 'invalid')]
    assert view[(cl.CONTAINERS_IMAGE, 'registry', 'r.io')] == [('r.io', ('', '', ''))]
    assert view[(cl.CONTAINERS_IMAGE, 'helper', 'gcr.io')] == ['gcloud'] and len(view) == 3


@pytest.mark.parametrize('constant', ['NaN', 'Infinity', '-Infinity'])
def test_a_json_constant_go_rejects_is_named_not_called_too_deep(constant):
    document = '{"auths": {"quay.io": {"auth": %s}}}' % constant
    for consumer in (cl.KUBELET, cl.CONTAINERS_IMAGE):
        messages = [p.message for p in cl.problems(document, consumer)]
        assert any('%s is not JSON' % constant in m for m in messages), messages
        assert not any('too deep' in m for m in messages), messages
