"""Registry keys of a pull secret: valid spellings, the keys that serve a registry."""

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_keys as rk

# A recognisable fake credential; tests assert it never leaks into messages.
PASSWORD = 'fake-Pa55word-xyzzy'


# -- validate_server -------------------------------------------------------------------------

GOOD_BOTH = [
    'quay.io', 'registry.example.com:5000', 'localhost', 'localhost:5000', 'LocalHost:5000/a/b',
    'quay.io/repository-main', 'quay.io/org/repo_name', 'quay.io/org/repo.name-x', 'registry-1.docker.io',
    '10.0.0.1', '10.0.0.1:5000/x', '[::1]', '[::1]:5000', '[2001:db8::1]:443/team', 'a' * 63 + '.example.com',
    'docker.io', 'cloud.openshift.com', 'registry.redhat.io',
]
GOOD_PULL_SECRET_ONLY = [
    'https://index.docker.io/v1/', 'http://registry.local:5000', 'https://quay.io/v2/', 'quay.io/org/',
    'quay.io/', '*.example.com', 'prod.*.example.com',
]


@pytest.mark.parametrize('server', GOOD_BOTH)
def test_validate_server_accepts_host_port_path(server):
    rk.validate_server(server)


@pytest.mark.parametrize('server', GOOD_PULL_SECRET_ONLY)
def test_validate_server_accepts_kubectl_forms_for_pull_secrets(server):
    rk.validate_server(server)


@pytest.mark.parametrize('server,key', [
    ('https://index.docker.io/v1/', 'docker.io'),
    ('http://registry.local:5000', 'registry.local:5000'),
    ('quay.io/org/', 'quay.io/org'),
    ('quay.io/', 'quay.io'),
    ('quay.io/v1/', 'quay.io'),
])
def test_keys_the_container_runtime_would_not_look_up_are_written_as_it_looks_them_up(server, key):
    # Was: refused by validate_server(strict=True); the global pull secret now writes cl.lookup_key_for.
    assert cl.lookup_key_for(server) == key


BAD_BOTH = [
    ('', 'a registry key is empty'),
    (None, 'must be a string, not null'),
    (5000, 'must be a string, not number'),
    ('quay.io/org@sha256:abc', "contains '@'"),
    ('quay .io', 'whitespace'),
    ('quay.io\t', 'whitespace'),
    ('quay.io/a\nb', 'whitespace'),
    ('quay.io/a?x=1', "contains '?' or '#'"),
    ('quay.io#frag', "contains '?' or '#'"),
    ('quay.io:0', 'port must be a number from 1 to 65535'),
    ('quay.io:65536', 'port must be a number from 1 to 65535'),
    ('quay.io:', 'port must be a number from 1 to 65535'),
    ('quay.io:http', 'port must be a number from 1 to 65535'),
    ('quay.io:-1', 'port must be a number from 1 to 65535'),
    ('quay.io:123456', 'port must be a number from 1 to 65535'),
    (':5000', 'the host is empty'),
    ('/path', 'the host is empty'),
    ('quay..io', "'' is not a valid host name label"),
    ('.quay.io', "'' is not a valid host name label"),
    ('quay.io.', "'' is not a valid host name label"),
    ('-quay.io', "'-quay' is not a valid host name label"),
    ('quay-.io', "'quay-' is not a valid host name label"),
    ('qu_ay.io', "'qu_ay' is not a valid host name label"),
    ('b\u00fccher.example', 'is not a valid host name label'),
    ('a' * 64 + '.example.com', 'is not a valid host name label'),
    ('.'.join(['a' * 60] * 5), 'longer than 253'),
    ('999.1.1.1', 'is not a valid IPv4 address'),
    ('10.0.0', 'is not a valid IPv4 address'),
    ('::1', 'must be written in brackets'),
    ('2001:db8::1:5000', 'must be written in brackets'),
    ('[::1', 'must be written in brackets'),
    ('[::g]:5000', 'is not a valid IPv6 address'),
    ('[fe80::1%eth0]', 'is not a valid IPv6 address'),
    ('[::1]5000', 'unexpected text after the IPv6 address'),
    ('[::1]:', 'port must be a number'),
    ('quay.io/a//b', "empty segment ('//')"),
    ('quay.io/a~b', "the path may only hold letters, digits, '.', '_', '-' and '/'"),
]


@pytest.mark.parametrize('server,message', BAD_BOTH)
def test_validate_server_rejects_invalid_keys_in_both_modes(server, message):
    with pytest.raises(rk.DockerConfigError) as exc:
        rk.validate_server(server)
    assert message in str(exc.value)


@pytest.mark.parametrize('server,message', [
    ('ftp://quay.io', "the only prefixes allowed are 'https://' and 'http://'"),
    ('HTTPS://quay.io', "the only prefixes allowed are 'https://' and 'http://'"),
    ('https://', 'the host is empty'),
    ('https://quay.io:99999/v1/', 'port must be a number from 1 to 65535'),
])
def test_validate_server_pull_secret_mode_checks_the_prefix_and_what_follows(server, message):
    with pytest.raises(rk.DockerConfigError) as exc:
        rk.validate_server(server)
    assert message in str(exc.value)


def test_validate_server_pull_secret_mode_rejects_tag_as_bad_path():
    with pytest.raises(rk.DockerConfigError, match='the path may only hold'):
        rk.validate_server('quay.io/org/repo:latest')


@pytest.mark.parametrize('server', ['robot:%s@quay.io' % PASSWORD, 'https://robot:%s@quay.io/org' % PASSWORD])
def test_validate_server_never_shows_userinfo_of_a_key(server):
    with pytest.raises(rk.DockerConfigError) as exc:
        rk.validate_server(server)
    assert PASSWORD not in str(exc.value)
    assert '***@quay.io' in str(exc.value)


# -- keys_serving / find_key: the consumer decides ---------------------------------------------

@pytest.mark.parametrize('server,expected', [
    ('https://index.docker.io/v1/', 'index.docker.io'),
    ('docker.io', 'index.docker.io'),  # one registry for the kubelet (was: "another key")
    ('https://quay.io/', 'https://quay.io'),
    ('Quay.io/', None),  # capitals: a different key, serving no lower-case image (was: the same)
    ('INDEX.docker.io', None),
    ('quay.io/org', None),
])
def test_find_key_returns_the_existing_key_serving_the_registry(server, expected):
    auths = {'index.docker.io': {}, 'https://quay.io': {}}
    assert rk.find_key(auths, server) == expected


@pytest.mark.parametrize('server', ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'])
def test_every_docker_hub_alias_serves_docker_hub_for_the_container_runtime(server):
    auths = dict((k, {}) for k in ('docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/',
                                   'quay.io'))
    assert rk.keys_serving(auths, server, cl.CONTAINERS_IMAGE) == list(auths)[:4]


def test_an_https_key_with_a_path_serves_the_whole_host_for_the_container_runtime():
    auths = {'https://quay.io/org': {}, 'quay.io/org': {}}
    assert rk.keys_serving(auths, 'quay.io', cl.CONTAINERS_IMAGE) == ['https://quay.io/org']
    assert rk.keys_serving(auths, 'quay.io', cl.KUBELET) == []
