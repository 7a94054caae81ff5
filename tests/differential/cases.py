"""Generated pull-secret documents and images for the differential tests.

One generator serves two drivers: hypothesis (a ``Chooser`` over ``data.draw``, so failures
shrink) and a plain ``random.Random`` for the bulk of the cases. Every generated entry carries a
unique username and password (``u<n>`` / ``pw-<n>``), so the credential a consumer returns
names the key it came from. Each case records the classes of oddity it holds (``classes``) so a
run can report how often each class of issue 13 was exercised.
"""

from __future__ import annotations

import base64
import json
import os
import random
from typing import Any, Callable, List, Sequence

# Half of each bulk run uses a fixed seed, half this one, new per run unless DIFFERENTIAL_SEED replays it.
FIXED_SEED = 13
RUN_SEED = int(os.environ.get('DIFFERENTIAL_SEED') or random.SystemRandom().randrange(2 ** 32))

# -- building blocks ---------------------------------------------------------------------------------

HOSTS = [
    'quay.io', 'quay.io', 'registry.example.com', 'a.example.com', 'b.a.example.com', 'example.com',
    'docker.io', 'index.docker.io', 'registry-1.docker.io', 'localhost', 'myhost', '10.0.0.1', '[::1]',
]
HOST_CASE = ['Quay.io', 'QUAY.IO', 'Registry.Example.com', 'Docker.io']
ODD_HOSTS = ['b\u00fccher.example', '%C3%BC.example', 'xn--bcher-kva.example', 'a_b.example', '[fe80::1%25eth0]', '127.0.0.1',
             'LOCALHOST', 'quay.io.', '.quay.io', 'quay..io', '-quay.io', '[::ffff:1.2.3.4]', '[1.2.3.4]', 'q\u212auay.io']
WILDCARDS = ['*.example.com', '*.a.example.com', '*.*.example.com', 'a.*.com', 'quay.*', '*', 'q?ay.io', '[qr]uay.io',
             '*.io', 'a.example.[', '\\quay.io']
PORTS = ['', '', '', ':5000', ':443', ':', '', ':0', ':05000', ':99999']
PATHS = ['', '', '', '/org', '/org', '/organization', '/org/app', '/org/', '/other', '/', '/v1/', '/v2/', '/v1', '/v2/org',
         '/v1/org/app', '/library', '/library/nginx', '//', '/v2', '/Org', '/org/app/', '/library/']
SCHEMES = ['', '', '', 'https://', 'https://', 'http://', 'HTTPS://', 'Https://']
ODD_PREFIX = ['user@', 'user:pass@', '%41@']
ODD_SUFFIX = ['?x=1', '#frag', '?', ' ', '%2Forg', '%41', '%zz', ':tag', '@sha256:abc', '/org:tag']

IMAGE_PATHS = ['org/app', 'org', 'organization/x', 'org/app/sub', 'other/app', 'library/nginx', 'nginx', 'orgx/app',
               'v1/app', 'library/busybox', 'app']
TAGS = ['', '', ':1', ':latest', '@sha256:' + 'a' * 64, ':1@sha256:' + 'b' * 64]
HUB_IMAGES = ['nginx', 'library/nginx', 'docker.io/library/nginx', 'index.docker.io/library/nginx', 'docker.io/nginx',
              'index.docker.io/nginx', 'registry-1.docker.io/library/nginx', 'someuser/app', 'docker.io/someuser/app']
BAD_IMAGES = ['', 'UPPER/x', 'quay.io/Org/app', 'quay.io/org/app:bad tag', 'a' * 64, 'quay.io//x', 'quay.io/org@sha256:abc',
              'Foo/bar', 'quay.io/org/app@sha256:' + 'A' * 64, 'localhost:5000', '[::1]/x']

LONG = 'x' * 70  # makes base64 of a credential longer than 76 columns, so wrapping matters


class Chooser:
    """The choices a generator makes; random.Random-backed by default."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choice(self, seq: Sequence[Any]) -> Any:
        return self.rng.choice(seq)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def count(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


class DrawChooser(Chooser):
    """The same choices drawn through hypothesis, so failing cases shrink to small ones."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        from hypothesis import strategies as st
        self._draw = draw
        self._st = st

    def choice(self, seq: Sequence[Any]) -> Any:
        return self._draw(self._st.sampled_from(list(seq)))

    def chance(self, p: float) -> bool:
        # Shrinks towards False: the plain case.
        return self._draw(self._st.integers(0, 999)) >= 1000 - int(p * 1000)

    def count(self, low: int, high: int) -> int:
        return self._draw(self._st.integers(low, high))


class Case:
    def __init__(self) -> None:
        self.classes: set = set()
        self.serial = 0
        self.keys: List[str] = []

    def mark(self, *names: str) -> None:
        self.classes.update(names)

    def next_user(self) -> tuple:
        self.serial += 1
        return 'u%d' % self.serial, 'pw-%d' % self.serial


# -- JSON with duplicates and chosen spellings ------------------------------------------------------

class Obj(list):
    """A JSON object as (key, value) pairs, written in this order, duplicates kept."""


class Raw(str):
    """JSON text written as is (escapes Go must decode)."""


def dump(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Obj):
        return '{' + ','.join('%s:%s' % (dump(k) if isinstance(k, Raw) else json.dumps(k), dump(v)) for k, v in value) + '}'
    if isinstance(value, list):
        return '[' + ','.join(dump(v) for v in value) + ']'
    return json.dumps(value)


def b64(text: str) -> str:
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


# -- registry keys ------------------------------------------------------------------------------------

def registry_key(ch: Chooser, case: Case) -> str:
    r = ch.count(0, 99)
    if r < 4:
        host = ch.choice(ODD_HOSTS)
        case.mark('odd-host')
    elif r < 10:
        host = ch.choice(HOST_CASE)
        case.mark('host-case')
    elif r < 16:
        host = ch.choice(WILDCARDS)
        case.mark('wildcard')
    else:
        host = ch.choice(HOSTS)
    if host in ('docker.io', 'index.docker.io', 'registry-1.docker.io', 'Docker.io'):
        case.mark('docker-hub-alias')
    port = ch.choice(PORTS)
    if port:
        case.mark('port')
    path = ch.choice(PATHS)
    scheme = ch.choice(SCHEMES)
    if scheme:
        case.mark('scheme')
        if path not in ('', '/'):
            case.mark('scheme-with-path')
    if path.endswith('/') or path.startswith(('/v1', '/v2')):
        case.mark('trailing-slash-or-api-version')
    key = scheme + host + port + path
    if ch.chance(0.06):
        key = scheme + ch.choice(ODD_PREFIX) + host + port + path
        case.mark('odd-spelling')
    if ch.chance(0.06):
        key += ch.choice(ODD_SUFFIX)
        case.mark('odd-spelling')
    if ch.chance(0.01):
        key = ''
        case.mark('empty-key')
    return key


def spelling_of(ch: Chooser, key: str, case: Case) -> str:
    """Another spelling of (roughly) the same registry as key: scheme, /v1/, trailing slash, hub alias."""
    case.mark('duplicate-spelling')
    bare = key.split('://', 1)[-1]
    options = ['https://' + bare, 'http://' + bare, bare + '/', bare.rstrip('/'), 'https://' + bare + '/v1/',
               bare + '/v2/', 'https://' + bare.split('/', 1)[0], bare.split('/', 1)[0]]
    if bare.split('/', 1)[0] in ('docker.io', 'index.docker.io', 'registry-1.docker.io'):
        options += ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', 'index.docker.io/v1/']
    return ch.choice(options)


# -- entries ---------------------------------------------------------------------------------------------

def encode_auth(ch: Chooser, case: Case, user: str, password: str) -> str:
    text = b64(user + ':' + password)
    r = ch.count(0, 99)
    if r < 10:
        case.mark('padding')
        return text.rstrip('=')
    if r < 18:
        case.mark('newlines')
        return '\n'.join(text[i:i + 76] for i in range(0, len(text), 76)) + '\n'
    if r < 21:
        case.mark('newlines')
        return text[:4] + '\r\n' + text[4:]
    if r < 23:
        case.mark('bad-auth')
        return ch.choice(['!!!', text + '=', text[:-1] if len(text) > 5 else 'a', text + ' ', 'YQ=', '====', text + 'A'])
    if r < 27:
        case.mark('auth-without-colon')
        return b64(user + password)
    if r < 29:
        case.mark('empty-auth')
        return ''
    if r < 31:
        case.mark('nul-in-password')
        return b64(user + ':' + password + '\x00')
    if r < 32:
        case.mark('invalid-utf8-in-auth')
        return base64.b64encode(user.encode() + b'\xff:' + password.encode() + b'\xe2\x82').decode()
    return text


def field_name(ch: Chooser, case: Case, name: str) -> str:
    if ch.chance(0.12):
        case.mark('field-name-case')
        return ch.choice([name.capitalize(), name.upper(), name[0].upper() + name[1:-1] + name[-1].upper(),
                          name.replace('s', '\u017f') if 's' in name else name.upper(),
                          name.replace('i', ch.choice(['\u0131', '\u0130'])) if 'i' in name else name.title()])
    return name


def entry(ch: Chooser, case: Case) -> Any:
    r = ch.count(0, 99)
    if r < 2:
        case.mark('null-entry')
        return None
    if r < 3:
        case.mark('wrong-type-entry')
        return ch.choice(['text', 5, [], True])
    if r < 5:
        case.mark('empty-entry')
        return Obj()
    user, password = case.next_user()
    if ch.chance(0.1):
        password = password + LONG
    fields = Obj()
    shape = ch.count(0, 99)
    if shape < 55:
        fields.append((field_name(ch, case, 'auth'), encode_auth(ch, case, user, password)))
        if ch.chance(0.35):
            fields.append((field_name(ch, case, 'username'), user))
            fields.append((field_name(ch, case, 'password'), password))
    elif shape < 75:
        case.mark('username-password-only')
        fields.append((field_name(ch, case, 'username'), user))
        fields.append((field_name(ch, case, 'password'), password))
    elif shape < 85:
        case.mark('auth-disagrees')
        fields.append((field_name(ch, case, 'username'), user + '-field'))
        fields.append((field_name(ch, case, 'password'), password + '-field'))
        fields.append((field_name(ch, case, 'auth'), encode_auth(ch, case, user, password)))
    elif shape < 93:
        case.mark('identity-token')
        fields.append((field_name(ch, case, 'identitytoken'), 'tok-' + user))
        if ch.chance(0.5):
            fields.append(('auth', encode_auth(ch, case, user, password)))
    else:
        case.mark('duplicate-field')
        old_user, old_password = case.next_user()
        fields.append(('auth', b64(old_user + ':' + old_password)))
        fields.append((ch.choice(['Auth', 'AUTH', 'auth']), ch.choice([b64(user + ':' + password), None])))
    if ch.chance(0.3):
        fields.append((field_name(ch, case, 'email'), user + '@example.com'))
    if ch.chance(0.015):
        case.mark('wrong-type-field')
        fields.append((ch.choice(['auth', 'username', 'email', 'identitytoken', 'password']), ch.choice([5, True, [], Obj()])))
    if ch.chance(0.05):
        fields.append((ch.choice(['serveraddress', 'registrytoken', 'Provider']), 'x-' + user))
    if ch.chance(0.01):
        case.mark('escaped-text')
        fields.append(ch.choice([(Raw('"\\u0065mail"'), 'raw-escape'), ('email', Raw('"\\ud800x"')),
                                 (Raw('"us\\u0065rname"'), Raw('"\\u00e9\\ud83d\\ude00"'))]))
    return fields


def auths(ch: Chooser, case: Case) -> Obj:
    out = Obj()
    keys: List[str] = []
    for position in range(ch.count(0, 4)):
        if keys and ch.chance(0.3):
            key = spelling_of(ch, ch.choice(keys), case)
        else:
            key = registry_key(ch, case)
        if key in keys:
            case.mark('duplicate-key')
        keys.append(key)
        case.keys.append(key)
        out.append((key, entry(ch, case)))
    return out


def document(ch: Chooser, case: Case, layout: str) -> str:
    """A docker config of layout 'dockerconfigjson' ({"auths": …}) or 'dockercfg' (flat), with the oddities."""
    if ch.chance(0.015):
        case.mark('not-json')
        return ch.choice(['', 'null', '[]', '"text"', '{"auths":', '{"auths": {"quay.io": {"auth": NaN}}}', '5', '{} x'])
    entries = auths(ch, case)
    if layout == 'dockercfg':
        top = entries
    else:
        top = Obj()
        top.append((field_name(ch, case, 'auths'), entries))
        if ch.chance(0.05):
            case.mark('auths-twice')
            top.append((ch.choice(['auths', 'Auths', 'AUTHS']), ch.choice([auths(ch, case), None])))
    if ch.chance(0.2):
        case.mark('extra-top-level')
        extra = ch.choice([
            ('HttpHeaders', Obj([('User-Agent', 'x')])), ('HttpHeaders', 5), ('HttpHeaders', Obj([('X', 5)])),
            ('httpheaders', 'text'), ('credsStore', 'desktop'), ('credHelpers', Obj([('quay.io', 'desktop')])),
            ('credHelpers', Obj([('docker.io', 'ecr-login'), ('registry.example.com', None)])), ('credHelpers', 'x'),
            ('credHelpers', Obj([('quay.io', 5)])), ('auths', None), ('other', [1, 2]), ('CredHelpers', Obj()),
        ])
        top.insert(ch.count(0, len(top)), extra)
    return dump(top)


def image_for_key(ch: Chooser, key: str) -> str:
    """An image the key may serve (or nearly): its host and port, its path or a longer one sharing its prefix."""
    bare = key.split('://', 1)[1] if '://' in key[:9] else key
    hostport, path = bare.partition('/')[::2]
    hostport = hostport.rsplit('@', 1)[-1].split('?')[0].split('#')[0]
    hostport = hostport.replace('*', ch.choice(['a', 'b', 'quay', 'c'])).replace('?', 'u').replace('[qr]', 'q').replace('\\', '')
    if ch.chance(0.3):
        hostport = hostport.lower()
    path = path.split('?')[0].split('#')[0].split(':')[0].split('@')[0]
    if path.startswith(('v1/', 'v2/')) and ch.chance(0.7):
        path = path[3:]
    path = '/'.join(p for p in path.lower().split('/') if p)
    r = ch.count(0, 9)
    if r < 3 and path:
        repo = path
    elif r < 5 and path:
        repo = path + ch.choice(['anization/x', 'x', '-b/app'])
    elif r < 7:
        repo = ch.choice(IMAGE_PATHS)
    else:
        repo = (path + '/' if path else '') + ch.choice(['app', 'x/y', 'nginx'])
    return (hostport + '/' if hostport else '') + repo + ch.choice(TAGS)


def image(ch: Chooser, case: Case) -> str:
    if case.keys and ch.chance(0.8):
        case.mark('image-from-key')
        return image_for_key(ch, ch.choice(case.keys))
    r = ch.count(0, 99)
    if r < 15:
        case.mark('docker-hub-image')
        return ch.choice(HUB_IMAGES) + ch.choice(TAGS)
    if r < 19:
        case.mark('bad-image')
        return ch.choice(BAD_IMAGES)
    host = ch.choice(HOSTS + HOST_CASE[:2] + ['c.example.com', 'a.b.example.com', 'quay.io'])
    port = ch.choice(['', '', '', ':5000', ':443'])
    return host + port + '/' + ch.choice(IMAGE_PATHS) + ch.choice(TAGS)


SECRET_TYPES = ['kubernetes.io/dockerconfigjson', 'kubernetes.io/dockercfg']


def kubelet_case(ch: Chooser) -> tuple:
    """(secrets, image, node_config, classes) for the kubelet."""
    case = Case()
    secrets = []
    for i in range(ch.count(0, 3)):
        secret_type = ch.choice(SECRET_TYPES)
        layout = 'dockerconfigjson' if secret_type.endswith('json') else 'dockercfg'
        if ch.chance(0.2):
            layout = ch.choice(['dockerconfigjson', 'dockercfg'])
        data_key = '.dockerconfigjson' if secret_type.endswith('json') else '.dockercfg'
        if (layout == 'dockercfg') == secret_type.endswith('json'):
            case.mark('layout-mismatch')
        if ch.chance(0.04):
            data_key = ch.choice(['.dockerconfigjson', '.dockercfg', 'config.json'])
            case.mark('data-key')
        secret_type = secret_type if not ch.chance(0.02) else 'Opaque'
        secrets.append({'name': 's%d' % i, 'type': secret_type, 'data': {data_key: document(ch, case, layout).encode('utf-8')}})
    node = None
    if ch.chance(0.4):
        case.mark('node-config')
        node = document(ch, case, ch.choice(['dockerconfigjson', 'dockerconfigjson', 'dockercfg'])).encode('utf-8')
    return secrets, image(ch, case), node, case.classes


def containers_image_case(ch: Chooser) -> tuple:
    """(auth file bytes, image, classes) for containers/image."""
    case = Case()
    layout = 'dockerconfigjson' if not ch.chance(0.08) else 'dockercfg'
    if layout == 'dockercfg':
        case.mark('layout-mismatch')
    return document(ch, case, layout).encode('utf-8'), image(ch, case), case.classes
