"""Docker registry auth configs: parse, build, serialize (kubectl byte-compatible), merge, fingerprints, redaction."""

import base64
import hashlib
import hmac
import json

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc

# Recognisable fake credentials; tests assert they never leak into messages.
PASSWORD = 'fake-Pa55word-xyzzy'
TOKEN = 'fake-identity-token-plugh'


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


AUTH = b64('robot:' + PASSWORD)
KUBECTL_BYTES = (b'{"auths":{"registry.example.com:5000":{"username":"user","password":"p\\u003ca\\u003e\\u0026ss",'
                 b'"email":"e@example.com","auth":"dXNlcjpwPGE+JnNz"}}}')


# -- constants -----------------------------------------------------------------------------

def test_types_map_layout_to_secret_type_and_data_key():
    assert dc.TYPES['dockerconfigjson'] == ('kubernetes.io/dockerconfigjson', dc.KEY_DOCKERCONFIGJSON)
    assert dc.TYPES['dockercfg'] == ('kubernetes.io/dockercfg', dc.KEY_DOCKERCFG)
    assert (dc.KEY_DOCKERCONFIGJSON, dc.KEY_DOCKERCFG) == ('.dockerconfigjson', '.dockercfg')


def test_docker_config_error_is_a_value_error():
    assert issubclass(dc.DockerConfigError, ValueError)


# -- parse_config --------------------------------------------------------------------------

@pytest.mark.parametrize('data', [
    '{"auths":{"quay.io":{"auth":"%s","email":"r@example.com"}},"credsStore":"desktop"}' % AUTH,
    ('{"auths":{"quay.io":{"auth":"%s","email":"r@example.com"}},"credsStore":"desktop"}' % AUTH).encode('utf-8'),
    bytearray(('{"auths":{"quay.io":{"auth":"%s","email":"r@example.com"}},"credsStore":"desktop"}' % AUTH).encode()),
    {'auths': {'quay.io': {'auth': AUTH, 'email': 'r@example.com'}}, 'credsStore': 'desktop'},
])
def test_parse_config_accepts_text_bytes_and_mapping(data):
    config = dc.parse_config(data)
    assert config.layout == 'dockerconfigjson'
    assert config.auths == {'quay.io': {'auth': AUTH, 'email': 'r@example.com'}}
    assert config.extra == {'credsStore': 'desktop'}


def test_parse_config_reads_legacy_dockercfg_layout():
    config = dc.parse_config('{"quay.io":{"auth":"%s"},"https://index.docker.io/v1/":{"username":"u","password":"p"}}' % AUTH)
    assert config.layout == 'dockercfg'
    assert list(config.auths) == ['quay.io', 'https://index.docker.io/v1/']
    assert config.extra == {}


def test_parse_config_keeps_key_order_and_unknown_fields():
    text = '{"auths":{"z.example.com":{"auth":"%s","x-custom":{"b":1,"a":[1,2]}},"a.example.com":{"identitytoken":"t"}}}' % AUTH
    config = dc.parse_config(text)
    assert list(config.auths) == ['z.example.com', 'a.example.com']
    assert config.auths['z.example.com']['x-custom'] == {'b': 1, 'a': [1, 2]}
    assert list(config.auths['z.example.com']) == ['auth', 'x-custom']


def test_parse_config_copies_a_mapping_instead_of_sharing_it():
    source = {'auths': {'quay.io': {'auth': AUTH}}}
    config = dc.parse_config(source)
    config.auths['quay.io']['auth'] = 'changed'
    assert source['auths']['quay.io']['auth'] == AUTH


def test_parse_config_accepts_empty_auths_and_empty_document_object():
    assert dc.parse_config('{"auths":{}}') == dc.DockerConfig(auths={}, layout='dockerconfigjson', extra={})
    assert dc.parse_config('{}') == dc.DockerConfig(auths={}, layout='dockercfg', extra={})


def test_parse_config_treats_null_fields_as_absent_as_go_does():
    config = dc.parse_config('{"auths":{"quay.io":{"auth":null,"username":"u","password":"p","email":null}}}')
    assert dc.decode_entry(config.auths['quay.io']) == {'username': 'u', 'password': 'p', 'email': None, 'identitytoken': None}


@pytest.mark.parametrize('data,message', [
    ('{"auths": {', 'not valid JSON'),
    ('not json at all ' + PASSWORD, 'not valid JSON'),
    ('{"auths":{"quay.io":{"password":"%s\\q"}}}' % PASSWORD, 'not valid JSON'),
    ('{"auths":{"quay.io":{"password":NaN}}}', 'NaN is not a JSON value'),
    ('', 'empty'),
    ('   ', 'empty'),
    (b'\xff\xfe{}', 'not UTF-8'),
    ('[{"auths":{}}]', 'must be a JSON object, not array'),
    ('"%s"' % PASSWORD, 'must be a JSON object, not string'),
    ('{"auths":["quay.io"]}', "'auths' must be a JSON object"),
    ('{"auths":null}', "'auths' must be a JSON object of registry keys, not null"),
    ('{"auths":{"":{"auth":"%s"}}}' % AUTH, 'a registry key is empty'),
    ('{"auths":{"quay.io":"%s"}}' % AUTH, "registry 'quay.io': the entry must be a JSON object, not string"),
    ('{"quay.io":["%s"]}' % PASSWORD, "registry 'quay.io': the entry must be a JSON object, not array"),
    ('{"auths":{"quay.io":{"auth":"%s!"}}}' % AUTH[:-1], "registry 'quay.io': auth is not valid base64"),
    ('{"auths":{"quay.io":{"auth":"%s"}}}' % b64(PASSWORD), "auth does not decode to 'username:password'"),
    ('{"auths":{"quay.io":{"auth":12345678}}}', 'auth must be a string, not number'),
    ('{"auths":{"quay.io":{"username":"u","password":12345678}}}', 'password must be a string, not number'),
    ('{"auths":{"quay.io":{"username":["u"],"password":"%s"}}}' % PASSWORD, 'username must be a string, not array'),
    ('{"auths":{"quay.io":{"auth":"%s","email":true}}}' % AUTH, 'email must be a string, not boolean'),
    ('{"auths":{"quay.io":{"identitytoken":{"t":"%s"}}}}' % TOKEN, 'identitytoken must be a string, not object'),
    ({'auths': {'quay.io': {'password': object()}}}, 'JSON cannot represent'),
    ({'auths': {'quay.io': {'password': float('nan')}}}, 'JSON cannot represent'),
    (12345, 'must be JSON text or a mapping, not number'),
    (None, 'must be JSON text or a mapping, not null'),
    (['quay.io'], 'must be JSON text or a mapping, not array'),
])
def test_parse_config_rejects_malformed_input_without_echoing_it(data, message):
    with pytest.raises(dc.DockerConfigError) as exc:
        dc.parse_config(data)
    assert message in str(exc.value)
    assert PASSWORD not in str(exc.value)
    assert TOKEN not in str(exc.value)
    assert AUTH not in str(exc.value)


def test_parse_config_error_on_invalid_escape_does_not_quote_the_document():
    with pytest.raises(dc.DockerConfigError) as exc:
        dc.parse_config('{"auths":{"quay.io":{"password":"\\q%s"}}}' % PASSWORD)
    assert "'" not in str(exc.value)
    assert 'line 1 column' in str(exc.value)


def test_parse_config_masks_userinfo_in_a_key_named_in_an_error():
    with pytest.raises(dc.DockerConfigError) as exc:
        dc.parse_config({'auths': {'https://robot:%s@quay.io' % PASSWORD: 'not-an-object'}})
    assert PASSWORD not in str(exc.value)
    assert "'https://***@quay.io'" in str(exc.value)


# -- decode_entry ----------------------------------------------------------------------------

@pytest.mark.parametrize('entry,expected', [
    ({'auth': AUTH}, ('robot', PASSWORD, None, None)),
    ({'username': 'robot', 'password': PASSWORD}, ('robot', PASSWORD, None, None)),
    ({'username': 'robot', 'password': PASSWORD, 'email': 'r@example.com', 'auth': AUTH}, ('robot', PASSWORD, 'r@example.com', None)),
    ({'auth': b64('user:pa:ss:word')}, ('user', 'pa:ss:word', None, None)),
    ({'auth': b64('us\u00e9r:p\u00e4ss')}, ('us\u00e9r', 'p\u00e4ss', None, None)),
    ({'auth': b64('user:')}, ('user', None, None, None)),
    ({'auth': '', 'username': 'u', 'password': 'p'}, ('u', 'p', None, None)),
    ({'identitytoken': TOKEN}, (None, None, None, TOKEN)),
    ({'auth': AUTH, 'identitytoken': TOKEN, 'x-extra': 1}, ('robot', PASSWORD, None, TOKEN)),
    ({'email': ''}, (None, None, None, None)),
    ({}, (None, None, None, None)),
])
def test_decode_entry_returns_the_credentials_the_runtime_uses(entry, expected):
    decoded = dc.decode_entry(entry)
    assert (decoded['username'], decoded['password'], decoded['email'], decoded['identitytoken']) == expected
    assert sorted(decoded) == ['email', 'identitytoken', 'password', 'username']


def test_decode_entry_prefers_auth_over_fields_like_the_kubelet():
    entry = {'username': 'old', 'password': 'old-password', 'auth': AUTH}
    assert dc.decode_entry(entry)['username'] == 'robot'
    assert dc.decode_entry(entry)['password'] == PASSWORD


@pytest.mark.parametrize('entry,key,message', [
    (object(), 'quay.io', "registry 'quay.io': the entry must be a JSON object, not object"),
    ('not-an-entry', 'quay.io', "registry 'quay.io': the entry must be a JSON object, not string"),
    ({'auth': 'bad base64!'}, None, 'registry entry: auth is not valid base64'),
    ({'auth': b64(PASSWORD)}, 'quay.io', "registry 'quay.io': auth does not decode to 'username:password'"),
    ({'auth': 'd\u00e9f='}, 'quay.io', 'auth is not valid base64'),
    ({'auth': 'YQ==YQ=='}, 'quay.io', 'auth is not valid base64'),
    ({'password': 42}, 'quay.io', 'password must be a string, not number'),
])
def test_decode_entry_rejects_invalid_entries_naming_the_registry(entry, key, message):
    with pytest.raises(dc.DockerConfigError) as exc:
        dc.decode_entry(entry, key)
    assert message in str(exc.value)
    assert PASSWORD not in str(exc.value)


# -- build_entry -----------------------------------------------------------------------------

def test_build_entry_writes_fields_in_kubectl_order():
    entry = dc.build_entry(username='user', password='p<a>&ss', email='e@example.com')
    assert list(entry.items()) == [('username', 'user'), ('password', 'p<a>&ss'), ('email', 'e@example.com'),
                                   ('auth', 'dXNlcjpwPGE+JnNz')]
    assert base64.b64decode(entry['auth']) == b'user:p<a>&ss'


@pytest.mark.parametrize('email', [None, ''])
def test_build_entry_omits_email_when_not_given(email):
    assert list(dc.build_entry(username='robot', password=PASSWORD, email=email)) == ['username', 'password', 'auth']


def test_build_entry_fills_username_and_password_from_auth():
    entry = dc.build_entry(auth=AUTH, email='r@example.com')
    assert list(entry.items()) == [('username', 'robot'), ('password', PASSWORD), ('email', 'r@example.com'), ('auth', AUTH)]


def test_build_entry_from_auth_with_empty_password_omits_it_as_go_does():
    assert dc.build_entry(auth=b64('robot:')) == {'username': 'robot', 'auth': b64('robot:')}


def test_build_entry_appends_identity_token_last():
    entry = dc.build_entry(username='robot', password=PASSWORD, identity_token=TOKEN)
    assert list(entry) == ['username', 'password', 'auth', 'identitytoken']
    assert dc.build_entry(identity_token=TOKEN) == {'identitytoken': TOKEN}


def test_build_entry_encodes_non_ascii_as_utf8():
    entry = dc.build_entry(username='j\u00fcrgen', password='p\u00e4ss')
    assert base64.b64decode(entry['auth']).decode('utf-8') == 'j\u00fcrgen:p\u00e4ss'


@pytest.mark.parametrize('kwargs,message', [
    ({}, 'give username and password, auth, or identity_token'),
    ({'email': 'e@example.com'}, 'give username and password, auth, or identity_token'),
    ({'identity_token': ''}, 'give username and password, auth, or identity_token'),
    ({'username': 'robot', 'password': PASSWORD, 'auth': AUTH}, 'either auth or username and password, not both'),
    ({'username': 'robot'}, 'username and password must both be given'),
    ({'password': PASSWORD}, 'username and password must both be given'),
    ({'username': '', 'password': PASSWORD}, 'username and password must both be given'),
    ({'username': 'ro:bot', 'password': PASSWORD}, "the username must not contain ':'"),
    ({'auth': ''}, 'auth is empty'),
    ({'auth': 'bad!' + PASSWORD}, 'auth is not valid base64'),
    ({'auth': b64(PASSWORD)}, "auth does not decode to 'username:password'"),
    ({'username': 'robot', 'password': 12345678}, 'password must be a string, not number'),
    ({'identity_token': ['x']}, 'identity_token must be a string, not array'),
])
def test_build_entry_rejects_bad_credentials_without_showing_them(kwargs, message):
    with pytest.raises(dc.DockerConfigError) as exc:
        dc.build_entry(server='quay.io', **kwargs)
    assert message in str(exc.value)
    assert "registry 'quay.io'" in str(exc.value)
    assert PASSWORD not in str(exc.value)


def test_build_entry_error_without_server_says_registry_entry():
    with pytest.raises(dc.DockerConfigError, match='^registry entry: '):
        dc.build_entry()


# -- serialize -------------------------------------------------------------------------------

def test_serialize_is_byte_identical_to_kubectl_create_secret_docker_registry():
    entry = dc.build_entry(username='user', password='p<a>&ss', email='e@example.com')
    assert dc.serialize({'registry.example.com:5000': entry}) == KUBECTL_BYTES


def test_serialize_sorts_registry_keys_like_go_maps():
    auths = {'z.example.com': {'auth': 'eA=='}, 'B.example.com': {'auth': 'eQ=='}, 'a.example.com': {'auth': 'eg=='}}
    assert dc.serialize(auths) == (b'{"auths":{"B.example.com":{"auth":"eQ=="},"a.example.com":{"auth":"eg=="},'
                                   b'"z.example.com":{"auth":"eA=="}}}')


def test_serialize_keeps_entry_field_order():
    assert dc.serialize({'q': {'auth': 'eA==', 'email': 'e', 'username': 'u'}}) == b'{"auths":{"q":{"auth":"eA==","email":"e","username":"u"}}}'


def test_serialize_dockercfg_layout_has_no_auths_wrapper():
    assert dc.serialize({'quay.io': {'auth': 'eA=='}}, layout='dockercfg') == b'{"quay.io":{"auth":"eA=="}}'


def test_serialize_writes_extra_keys_sorted_after_auths():
    data = dc.serialize({'quay.io': {'auth': 'eA=='}}, extra={'credsStore': 'desktop', 'HttpHeaders': {'X-B': 'b', 'X-A': 'a'}})
    assert data == b'{"auths":{"quay.io":{"auth":"eA=="}},"HttpHeaders":{"X-B":"b","X-A":"a"},"credsStore":"desktop"}'


@pytest.mark.parametrize('value,expected', [
    ('<>&', b'"\\u003c\\u003e\\u0026"'),
    ('\u2028\u2029', b'"\\u2028\\u2029"'),
    ('\u00e9\u65e5\U0001F600', '"\u00e9\u65e5\U0001F600"'.encode('utf-8')),
    ('"\\/', b'"\\"\\\\/"'),
    ('\n\r\t\b\f', b'"\\n\\r\\t\\b\\f"'),
    ('\x00\x01\x1f\x7f', b'"\\u0000\\u0001\\u001f\x7f"'),
    ('\ud800', '"\ufffd"'.encode('utf-8')),
    (None, b'null'),
    (True, b'true'),
    (False, b'false'),
    (42, b'42'),
    (-0.0, b'-0'),
    (1.0, b'1'),
    (1.5, b'1.5'),
    (0.1, b'0.1'),
    (1e20, b'100000000000000000000'),
    (1e21, b'1e+21'),
    (1e-6, b'0.000001'),
    (1.5e-7, b'1.5e-7'),
    (-2.5e-300, b'-2.5e-300'),
    ([1, 'a', {'y': 1, 'x': 2}], b'[1,"a",{"y":1,"x":2}]'),
    ((1, 2), b'[1,2]'),
])
def test_serialize_escapes_values_exactly_as_go_encoding_json(value, expected):
    data = dc.serialize({'r': {'v': value}})
    assert data == b'{"auths":{"r":{"v":' + expected + b'}}}'


def test_serialize_escapes_html_characters_in_keys_too():
    assert dc.serialize({'a<b': {}}, layout='dockercfg') == b'{"a\\u003cb":{}}'


@pytest.mark.parametrize('auths,kwargs,message', [
    ({'q': {}}, {'layout': 'docker'}, 'unknown docker config layout'),
    ({'q': {}}, {'layout': 'dockercfg', 'extra': {'credsStore': 'x'}}, 'no place for top-level keys (credsStore)'),
    ({'q': {}}, {'extra': {'auths': {}}}, "must not include 'auths'"),
    ({'q': 'entry'}, {}, "registry 'q': the entry must be a mapping"),
    ({'q': {'v': float('nan')}}, {}, 'NaN or Infinity'),
    ({'q': {'v': float('inf')}}, {}, 'NaN or Infinity'),
    ({'q': {'v': object()}}, {}, 'cannot hold a value of type object'),
])
def test_serialize_rejects_what_cannot_be_written(auths, kwargs, message):
    with pytest.raises(dc.DockerConfigError) as exc:
        dc.serialize(auths, **kwargs)
    assert message in str(exc.value)


@pytest.mark.parametrize('layout', ['dockerconfigjson', 'dockercfg'])
@pytest.mark.parametrize('auths', [
    {},
    {'registry.example.com:5000': dc.build_entry(username='user', password='p<a>&ss', email='e@example.com')},
    {'quay.io': dc.build_entry(auth=AUTH), 'https://index.docker.io/v1/': dc.build_entry(identity_token=TOKEN),
     '[::1]:5000/team': {'auth': b64('\u00fc:\u2028<&>'), 'x-nested': {'b': [1, 2.5, None, True], 'a': '\U0001F600'}}},
])
def test_parse_of_serialize_round_trips(layout, auths):
    config = dc.parse_config(dc.serialize(auths, layout=layout))
    assert config.auths == auths
    assert config.layout == (layout if auths or layout == 'dockerconfigjson' else 'dockercfg')


def test_serialize_of_parse_keeps_unknown_fields_and_extra():
    config = dc.parse_config('{"auths":{"quay.io":{"auth":"%s","x-z":1,"x-a":[true]}},"credHelpers":{"gcr.io":"gcloud"}}' % AUTH)
    assert dc.serialize(config.auths, config.layout, config.extra) == (
        b'{"auths":{"quay.io":{"auth":"' + AUTH.encode() + b'","x-z":1,"x-a":[true]}},"credHelpers":{"gcr.io":"gcloud"}}')


def test_serialize_matches_json_semantics():
    auths = {'q': {'username': 'a<b>&c\u2028', 'n': [1.25, 3]}}
    assert json.loads(dc.serialize(auths).decode('utf-8')) == {'auths': auths}


# -- entries_equal ---------------------------------------------------------------------------

@pytest.mark.parametrize('a,b,equal', [
    ({'auth': AUTH}, {'username': 'robot', 'password': PASSWORD, 'auth': AUTH}, True),
    ({'auth': AUTH}, {'username': 'robot', 'password': PASSWORD}, True),
    ({'auth': AUTH, 'x-unknown': 1}, {'auth': AUTH}, True),
    ({'auth': b64('robot:')}, {'username': 'robot'}, True),
    ({'auth': b64('robot:')}, {'username': 'robot', 'password': ''}, True),
    ({'auth': AUTH, 'email': ''}, {'auth': AUTH}, True),
    ({'auth': AUTH}, {'auth': AUTH, 'email': 'r@example.com'}, False),
    ({'auth': AUTH}, {'auth': b64('robot:other')}, False),
    ({'auth': AUTH}, {'auth': b64('robot2:' + PASSWORD)}, False),
    ({'auth': AUTH}, {'auth': AUTH, 'identitytoken': TOKEN}, False),
    ({'username': 'old', 'password': 'old', 'auth': AUTH}, {'auth': AUTH}, True),
])
def test_entries_equal_compares_decoded_credentials_not_base64(a, b, equal):
    first, second = a, b
    assert dc.entries_equal(first, second) is equal
    assert dc.entries_equal(second, first) is equal


def test_entries_equal_ignores_non_canonical_base64_spelling():
    # 'dTphYh==' sets bits that 'dTphYg==' leaves zero; both decode to 'u:ab', as Go's StdEncoding also accepts.
    assert base64.b64decode('dTphYh==') == base64.b64decode('dTphYg==') == b'u:ab'
    assert dc.entries_equal({'auth': 'dTphYh=='}, {'auth': 'dTphYg=='})


# -- merge -----------------------------------------------------------------------------------

CURRENT = {
    'cloud.openshift.com': {'auth': b64('ocm:' + PASSWORD), 'email': 'ops@example.com'},
    'https://index.docker.io/v1/': {'auth': b64('hub:hub-secret'), 'x-custom': {'b': 2, 'a': 1}},
    'quay.io': {'auth': b64('quay:quay-secret')},
}


def test_merge_adds_new_registries_at_the_end():
    new_entry = dc.build_entry(username='robot', password=PASSWORD)
    auths, added, updated, unchanged = dc.merge(CURRENT, {'registry.example.com': new_entry})
    assert list(auths) == list(CURRENT) + ['registry.example.com']
    assert auths['registry.example.com'] == new_entry
    assert (added, updated, unchanged) == (['registry.example.com'], [], [])


def test_merge_updates_in_place_keeping_the_existing_spelling():
    new_entry = dc.build_entry(username='hub', password='rotated')
    auths, added, updated, unchanged = dc.merge(CURRENT, {'index.docker.io': new_entry})
    assert list(auths) == list(CURRENT)
    assert auths['https://index.docker.io/v1/'] == new_entry
    assert (added, updated, unchanged) == ([], ['https://index.docker.io/v1/'], [])


def test_merge_reports_equal_credentials_as_unchanged_and_keeps_the_old_entry():
    auths, added, updated, unchanged = dc.merge(CURRENT, {'https://quay.io/': dc.build_entry(username='quay', password='quay-secret')})
    assert auths['quay.io'] is CURRENT['quay.io']
    assert (added, updated, unchanged) == ([], [], ['quay.io'])


def test_merge_keeps_unrelated_entries_and_extra_byte_for_byte():
    text = ('{"auths":{"cloud.openshift.com":{"auth":"%s","email":"ops@example.com"},'
            '"https://index.docker.io/v1/":{"auth":"%s","x-custom":{"b":2,"a":1}},'
            '"quay.io":{"auth":"%s"}},"credsStore":"desktop"}') % (b64('ocm:' + PASSWORD), b64('hub:hub-secret'), b64('quay:quay-secret'))
    config = dc.parse_config(text)
    auths = dc.merge(config.auths, {'quay.io': dc.build_entry(username='quay', password='new')})[0]
    before = dc.serialize(config.auths, config.layout, config.extra)
    after = dc.serialize(auths, config.layout, config.extra)
    untouched = before.split(b'"quay.io"', maxsplit=1)[0]
    assert after.startswith(untouched)
    assert after.endswith(b',"credsStore":"desktop"}')
    assert b'"x-custom":{"b":2,"a":1}' in after


def test_merge_does_not_modify_its_inputs():
    current = json.loads(json.dumps(CURRENT))
    desired = {'quay.io': dc.build_entry(username='quay', password='new')}
    dc.merge(current, desired)
    assert current == CURRENT


def test_merge_updates_every_existing_spelling_of_the_same_registry():
    current = {'https://index.docker.io/v1/': {'auth': b64('a:1')}, 'index.docker.io': {'auth': b64('a:2')}}
    entry = dc.build_entry(username='a', password='2')
    auths, added, updated, unchanged = dc.merge(current, {'docker.io': entry})
    assert auths == {'https://index.docker.io/v1/': entry, 'index.docker.io': current['index.docker.io']}
    assert (added, updated, unchanged) == ([], ['https://index.docker.io/v1/'], ['index.docker.io'])


def test_merge_rejects_the_same_registry_given_twice():
    with pytest.raises(dc.DockerConfigError, match='name the same registry'):
        dc.merge({}, {'quay.io': {'auth': AUTH}, 'https://quay.io/v2/': {'auth': AUTH}})


def test_merge_with_update_entry_keeps_the_other_fields_of_an_updated_entry():
    new_entry = dc.build_entry(username='hub', password='rotated')
    auths, added, updated, unchanged = dc.merge(CURRENT, {'index.docker.io': new_entry}, update=dc.update_entry)
    assert auths['https://index.docker.io/v1/'] == {'auth': b64('hub:rotated'), 'x-custom': {'b': 2, 'a': 1}}
    assert list(auths['https://index.docker.io/v1/']) == ['auth', 'x-custom']
    assert (added, updated, unchanged) == ([], ['https://index.docker.io/v1/'], [])
    assert CURRENT['https://index.docker.io/v1/'] == {'auth': b64('hub:hub-secret'), 'x-custom': {'b': 2, 'a': 1}}


def test_merge_with_update_entry_sees_the_same_credentials_without_email_as_unchanged():
    auths, added, updated, unchanged = dc.merge(CURRENT, {'cloud.openshift.com': dc.build_entry(username='ocm', password=PASSWORD)},
                                                update=dc.update_entry)
    assert auths['cloud.openshift.com'] is CURRENT['cloud.openshift.com']
    assert (added, updated, unchanged) == ([], [], ['cloud.openshift.com'])


def test_merge_with_update_entry_adds_new_registries_as_built():
    new_entry = dc.build_entry(username='robot', password=PASSWORD, email='r@example.com')
    auths, added, _updated, _unchanged = dc.merge(CURRENT, {'quay.io/repository-main': new_entry}, update=dc.update_entry)
    assert auths['quay.io/repository-main'] == new_entry and added == ['quay.io/repository-main']


@pytest.mark.parametrize('existing,desired,expected', [
    # auth rewritten, email and unknown fields kept in place
    ({'auth': b64('a:1'), 'email': 'a@example.com', 'x': [1]}, dc.build_entry(username='a', password='2'),
     {'auth': b64('a:2'), 'email': 'a@example.com', 'x': [1]}),
    # username and password rewritten only because the entry has them
    ({'username': 'a', 'password': '1', 'auth': b64('a:1')}, dc.build_entry(username='b', password='2'),
     {'username': 'b', 'password': '2', 'auth': b64('b:2')}),
    # an entry with username and password only gets auth too
    ({'username': 'a', 'password': '1'}, dc.build_entry(auth=b64('a:2')),
     {'username': 'a', 'password': '2', 'auth': b64('a:2')}),
    # a new email replaces the old one
    ({'auth': b64('a:1'), 'email': 'old@example.com'}, dc.build_entry(username='a', password='1', email='new@example.com'),
     {'auth': b64('a:1'), 'email': 'new@example.com'}),
    # an identity token alone replaces username, password and auth
    ({'username': 'a', 'password': '1', 'auth': b64('a:1'), 'email': 'e'}, dc.build_entry(identity_token=TOKEN),
     {'email': 'e', 'identitytoken': TOKEN}),
    # username and password replace an identity token
    ({'identitytoken': TOKEN, 'x': 1}, dc.build_entry(username='a', password='1'), {'x': 1, 'auth': b64('a:1')}),
])
def test_update_entry_changes_only_the_credentials(existing, desired, expected):
    before = json.loads(json.dumps(existing))
    entry = dc.update_entry(existing, desired)
    assert entry == expected
    assert dc.entries_equal(entry, dict(desired, email=desired.get('email') or existing.get('email')))
    assert existing == before


# -- remove ----------------------------------------------------------------------------------

@pytest.mark.parametrize('servers,removed', [
    (['index.docker.io'], ['https://index.docker.io/v1/']),
    (['https://quay.io', 'cloud.openshift.com'], ['cloud.openshift.com', 'quay.io']),
    (['docker.io'], ['https://index.docker.io/v1/']),  # Docker Hub's aliases are one registry (was: kept)
    (['QUAY.IO', 'quay.io/org'], []),  # capitals name another, dead key (was: removed quay.io)
    ([], []),
])
def test_remove_drops_every_key_of_the_named_registries(servers, removed):
    auths, removed_keys = dc.remove(CURRENT, servers)
    assert removed_keys == removed
    assert list(auths) == [k for k in CURRENT if k not in removed]
    assert all(auths[k] is CURRENT[k] for k in auths)


# -- fingerprints and summaries --------------------------------------------------------------

def test_fingerprint_entry_is_twelve_hex_of_a_keyed_hmac_over_decoded_credentials():
    canonical = json.dumps({'email': None, 'identitytoken': None, 'password': PASSWORD, 'username': 'robot'},
                           sort_keys=True, separators=(',', ':'))
    key = 'fake-fingerprint-key-0123456789abcdef'
    assert dc.fingerprint_entry({'auth': AUTH}, key) == hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()[:12]


def test_fingerprint_is_not_the_unsalted_sha256_an_offline_guess_would_check():
    # Anyone can compute sha256 over a guessed password: the fingerprint must not be that, with or without a key.
    canonical = json.dumps({'email': None, 'identitytoken': None, 'password': PASSWORD, 'username': 'robot'},
                           sort_keys=True, separators=(',', ':'))
    unsalted = hashlib.sha256(canonical.encode()).hexdigest()[:12]
    assert dc.fingerprint_entry({'auth': AUTH}) != unsalted
    assert dc.fingerprint_entry({'auth': AUTH}, 'k' * 32) != unsalted


def test_fingerprints_of_one_run_agree_and_a_new_random_key_changes_them():
    entry = {'auth': AUTH}
    try:
        dc.set_fingerprint_key(None)
        first = dc.fingerprint_entry(entry)
        assert dc.fingerprint_entry(dict(entry)) == first  # the same credential, the same fingerprint within a run
        assert dc.summarize({'quay.io': entry})[0]['fingerprint'] == first
        dc.set_fingerprint_key(None)
        assert dc.fingerprint_entry(entry) != first  # not stable across runs without a key: nothing to guess against
        dc.set_fingerprint_key('fake-stable-key')
        stable = dc.fingerprint_entry(entry)
        dc.set_fingerprint_key('fake-stable-key')
        assert dc.fingerprint_entry(entry) == stable == dc.fingerprint_entry(entry, 'fake-stable-key')
        assert dc.fingerprint_config({'quay.io': entry}) == dc.fingerprint_config({'quay.io': entry}, b'fake-stable-key')
        with pytest.raises(dc.DockerConfigError, match='fingerprint_key must be a string'):
            dc.set_fingerprint_key(5)
    finally:
        dc.set_fingerprint_key(None)


def test_fingerprint_entry_is_the_same_for_equal_entries_and_differs_otherwise():
    assert dc.fingerprint_entry({'auth': AUTH}) == dc.fingerprint_entry(dc.build_entry(username='robot', password=PASSWORD))
    assert dc.fingerprint_entry({'auth': AUTH}) != dc.fingerprint_entry(dc.build_entry(username='robot', password='other'))


def test_fingerprint_config_ignores_order_and_encoding_but_not_key_spelling():
    a = {'https://index.docker.io/v1/': {'auth': AUTH}, 'quay.io': {'auth': b64('q:q')}}
    b = {'quay.io': dc.build_entry(username='q', password='q'), 'https://index.docker.io/v1/': dc.build_entry(auth=AUTH)}
    assert dc.fingerprint_config(a) == dc.fingerprint_config(b)
    # Quay.io is another key than quay.io for both consumers (it serves no lower-case image)
    assert dc.fingerprint_config(a) != dc.fingerprint_config(dict(a, **{'Quay.io': a['quay.io']}))
    assert len(dc.fingerprint_config(a)) == 12
    assert dc.fingerprint_config(a) != dc.fingerprint_config({'quay.io': {'auth': b64('q:q')}})
    assert dc.fingerprint_config({}) == dc.fingerprint_config({})


def test_summarize_shows_servers_usernames_emails_and_fingerprints_only():
    auths = {'quay.io': dc.build_entry(username='robot', password=PASSWORD, email='r@example.com', identity_token=TOKEN),
             'b.example.com': {'identitytoken': TOKEN}}
    summary = dc.summarize(auths)
    assert summary == [
        {'server': 'quay.io', 'username': 'robot', 'email': 'r@example.com', 'fingerprint': dc.fingerprint_entry(auths['quay.io'])},
        {'server': 'b.example.com', 'username': None, 'email': None, 'fingerprint': dc.fingerprint_entry(auths['b.example.com'])},
    ]
    shown = json.dumps(summary)
    assert PASSWORD not in shown and TOKEN not in shown and auths['quay.io']['auth'] not in shown


# -- secret_values and redact ----------------------------------------------------------------

def test_secret_values_collects_passwords_auths_and_tokens():
    auths = {
        'quay.io': {'username': 'robot', 'password': PASSWORD, 'identitytoken': TOKEN},
        'a.example.com': {'auth': b64('alice:alice-secret')},
        'b.example.com': {'username': 'bob', 'password': '', 'auth': ''},
        'c.example.com': {'username': 'old', 'password': 'old-secret', 'auth': b64('new:new-secret')},
    }
    documents = {b64(dc.serialize(auths, layout=layout).decode()) for layout in dc.TYPES}
    assert dc.secret_values(auths) == {
        PASSWORD, TOKEN, AUTH, 'alice-secret', b64('alice:alice-secret'),
        'old-secret', 'new-secret', b64('new:new-secret'),
    } | documents


def test_secret_values_is_best_effort_on_broken_entries():
    auths = {'a': 'not-an-entry', 'b': {'password': PASSWORD, 'auth': 'broken!'}, 'c': {'password': 5}}
    assert dc.secret_values(auths) == {PASSWORD, 'broken!'}
    assert dc.secret_values(None) == set()


def test_redact_hides_raw_base64_and_json_escaped_forms():
    secret = 'p<a>&"ss\u00e9'
    go_form = dc.serialize({'r': {'p': secret}}).decode('utf-8')[len('{"auths":{"r":{"p":"'):-len('"}}}')]
    assert go_form == 'p\\u003ca\\u003e\\u0026\\"ss\u00e9'
    text = 'raw %s b64 %s py %s go %s utf %s' % (
        secret, b64(secret), json.dumps(secret)[1:-1], go_form, json.dumps(secret, ensure_ascii=False)[1:-1])
    assert dc.redact(text, {secret}) == 'raw ******** b64 ******** py ******** go ******** utf ********'


def test_redact_hides_a_credential_inside_a_serialized_secret():
    entry = dc.build_entry(username='robot', password=PASSWORD)
    text = 'error: ' + dc.serialize({'quay.io': entry}).decode() + ' data=' + b64(PASSWORD)
    redacted = dc.redact(text, dc.secret_values({'quay.io': entry}))
    assert PASSWORD not in redacted and entry['auth'] not in redacted and b64(PASSWORD) not in redacted
    assert '"username":"robot"' in redacted


def test_redact_hides_the_base64_of_the_whole_document_sent_as_secret_data():
    # An admission webhook or API error echoing the object: data[.dockerconfigjson] is the base64 of the document.
    auths = {'quay.io': dc.build_entry(username='robot', password=PASSWORD)}
    for layout in dc.TYPES:
        blob = b64(dc.serialize(auths, layout=layout).decode())
        text = 'admission webhook "deny.example.com" denied the request: data: {"%s":"%s"}' % (dc.TYPES[layout][1], blob)
        redacted = dc.redact(text, dc.secret_values(auths))
        assert blob not in redacted and 'denied the request' in redacted
        assert PASSWORD not in _decoded_runs(redacted)


def test_redact_hides_a_document_it_was_not_told_about_cut_short_at_any_alignment():
    # A document with entries of others (merged), echoed in part and truncated: every base64 run that decodes
    # to text holding a known credential is masked, wherever it starts and ends.
    auths = {'other.example.com': dc.build_entry(username='o', password='others-secret-1'),
             'quay.io': dc.build_entry(username='robot', password=PASSWORD)}
    blob = b64(dc.serialize(auths).decode())
    known = dc.secret_values({'quay.io': auths['quay.io']})
    for start in range(4):
        for end in (len(blob), len(blob) - 7, len(blob) - 30):
            redacted = dc.redact('object: %s...' % blob[start:end], known)
            assert PASSWORD not in _decoded_runs(redacted), (start, end)


def test_secret_object_values_hide_each_data_value_as_sent_and_as_text():
    document = dc.serialize({'quay.io': dc.build_entry(username='robot', password=PASSWORD)}, extra={'x': 1})
    secret = {'data': {'.dockerconfigjson': b64(document.decode()), 'note': b64('not json')}}
    values = dc.secret_object_values(secret)
    assert {b64(document.decode()), document.decode(), PASSWORD, b64('not json'), 'not json'} <= values
    assert dc.secret_object_values(None) == set() and dc.secret_object_values({'data': {'k': '!!'}}) == {'!!'}


def _decoded_runs(text):
    """text and every base64 run in it decoded at each alignment (what a reader could recover)."""
    import re
    out = [text]
    for run in re.findall(r'[A-Za-z0-9+/=]{8,}', text):
        body = run.rstrip('=')
        for offset in range(4):
            chunk = body[offset:]
            chunk = chunk[:len(chunk) - len(chunk) % 4]
            try:
                out.append(base64.b64decode(chunk).decode('utf-8', 'replace'))
            except ValueError:
                pass
    return '\n'.join(out)


def test_redact_replaces_longest_value_first():
    assert dc.redact('abcdef and abc', {'abc', 'abcdef'}, mask='#') == '# and #'


def test_redact_hides_short_values():
    assert dc.redact('pw=ab;', {'ab'}) == 'pw=********;'


@pytest.mark.parametrize('text,values', [
    ('nothing to hide', set()),
    ('nothing to hide', None),
    ('nothing to hide', {''}),
    ('nothing to hide', {None}),
    (None, {'x'}),
    (b'bytes', {'x'}),
])
def test_redact_returns_text_unchanged_when_there_is_nothing_to_do(text, values):
    assert dc.redact(text, values) == text


def test_redact_uses_the_given_mask():
    assert dc.redact('token=%s' % TOKEN, [TOKEN], mask='<hidden>') == 'token=<hidden>'


@pytest.mark.parametrize('auth', [AUTH[:10] + '\n' + AUTH[10:] + '\n', AUTH.rstrip('=')])
def test_decode_entry_reads_wrapped_and_unpadded_auth_as_the_kubelet_does(auth):
    assert AUTH.endswith('=')
    assert dc.decode_entry({'auth': auth})['password'] == PASSWORD


def test_update_entry_drops_other_spellings_of_the_credential_fields():
    entry = dc.update_entry({'Auth': b64('a:1'), 'USERNAME': 'a', 'Email': 'e'}, dc.build_entry(username='a', password='2'))
    assert entry == {'Email': 'e', 'auth': b64('a:2')}


def test_a_null_entry_is_summarised_without_a_credential():
    assert dc.summarize({'broken.example.com': None})[0]['username'] is None
    assert dc.serialize({'broken.example.com': None}) == b'{"auths":{"broken.example.com":null}}'
