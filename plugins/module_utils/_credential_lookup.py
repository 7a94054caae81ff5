# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""What the consumers of a pull secret do with it: the credentials they pick for an image.

A pull secret means only what its reader makes of it (design §6a):

- ``kubelet``: namespace and service-account pull secrets, read by the kubelet's credential
  keyring (k8s.io/kubernetes v1.36 ``pkg/credentialprovider``) together with the node's
  ``config.json``;
- ``containers-image``: the global pull secret, which becomes the node's auth file and is read by
  CRI-O through containers/image (go.podman.io/image/v5 v5.42 ``pkg/docker/config``).

This module is a pure model of both, proven equal to that code built as oracles by
``tests/differential``. It models the Go semantics that decide the answers: encoding/json
(field names matched case-insensitively, the last spelling wins, ``null`` is a no-op for strings and
resets maps, type errors fail the whole document), encoding/base64 (padding rules, newlines
ignored), net/url (how the kubelet turns a key into host and path), path/filepath.Match (globs in
hosts), and the image reference grammars of github.com/distribution/reference and
containers/image's fork of it.

No I/O. Credentials are kept in :class:`Credential`, whose ``repr`` never shows a secret.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from typing import Any, Iterable, Mapping, Optional, Sequence

KUBELET = 'kubelet'
CONTAINERS_IMAGE = 'containers-image'
CONSUMERS = (KUBELET, CONTAINERS_IMAGE)

SECRET_TYPE_DOCKERCONFIGJSON = 'kubernetes.io/dockerconfigjson'
SECRET_TYPE_DOCKERCFG = 'kubernetes.io/dockercfg'
DATA_KEY = {SECRET_TYPE_DOCKERCONFIGJSON: '.dockerconfigjson', SECRET_TYPE_DOCKERCFG: '.dockercfg'}

NODE = 'node'
DOCKER_HUB = 'docker.io'
# The kubelet's fallback key for Docker Hub images, and containers/image's canonical Docker Hub host.
_LEGACY_HUB_HOST = 'index.docker.io'


class CredentialModelError(ValueError):
    """A value this model cannot answer for (wrong consumer name, wrong argument type)."""


# -- credentials that do not show themselves -----------------------------------------------------

class Credential:
    """One credential a consumer would send, and where it comes from.

    ``source`` is the secret's name, ``'node'`` for the node's config.json, or None (global pull
    secret); ``key`` is the registry key of the document as written. ``repr`` and :meth:`public`
    never show the password or tokens.
    """

    __slots__ = ('source', 'key', 'username', 'password', 'email', 'identitytoken')

    def __init__(self, source: Optional[str], key: str, username: str = '', password: str = '', email: str = '',
                 identitytoken: str = '') -> None:
        self.source = source
        self.key = key
        self.username = username
        self.password = password
        self.email = email
        self.identitytoken = identitytoken

    def _fields(self) -> tuple:
        return (self.source, self.key, self.username, self.password, self.email, self.identitytoken)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credential) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return 'Credential(source=%r, key=%r, username=%r, password=%s, identitytoken=%s)' % (
            self.source, self.key, self.username, '<hidden>' if self.password else "''",
            '<hidden>' if self.identitytoken else "''")

    __str__ = __repr__

    @property
    def anonymous(self) -> bool:
        """True when nothing would be sent: no username, password or token."""
        return not (self.username or self.password or self.identitytoken)

    def public(self) -> dict:
        """What results and reports may show."""
        return {'source': self.source, 'key': self.key, 'username': self.username, 'email': self.email,
                'has_password': bool(self.password), 'has_identity_token': bool(self.identitytoken)}


class KubeletLookup:
    """The kubelet's answer for one image: the credentials it tries, in order, or why the pull fails.

    ``groups`` keeps the order the kubelet guarantees: groups come in order; the order inside a
    group is Go map iteration order (several keys of one secret that the kubelet files under the
    same registry), so any permutation may happen. :meth:`orders` lists every distinct order.
    """

    __slots__ = ('repo', 'error', 'groups')

    def __init__(self, repo: Optional[str], error: Optional[str], groups: Sequence[Sequence[Credential]] = ()) -> None:
        self.repo = repo
        self.error = error
        self.groups = tuple(tuple(g) for g in groups if g)

    @property
    def credentials(self) -> tuple:
        """Every credential tried, in one of the possible orders."""
        return tuple(c for g in self.groups for c in g)

    @property
    def deterministic(self) -> bool:
        return all(len(set(g)) <= 1 for g in self.groups)

    def orders(self, limit: int = 10000) -> list:
        """Every distinct order the kubelet may try the credentials in (at most limit of them)."""
        if self.error is not None:
            return []
        seen, result = set(), []
        for combo in itertools.product(*(itertools.permutations(g) for g in self.groups)):
            order = tuple(c for part in combo for c in part)
            if order not in seen:
                seen.add(order)
                result.append(order)
                if len(result) >= limit:
                    break
        return result

    def __repr__(self) -> str:
        return 'KubeletLookup(repo=%r, error=%r, groups=%r)' % (self.repo, self.error, self.groups)


class Answer:
    """One possible containers/image answer: a credential, no credential (both None), or an error."""

    __slots__ = ('credential', 'error')

    def __init__(self, credential: Optional[Credential] = None, error: Optional[str] = None) -> None:
        self.credential = credential
        self.error = error

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Answer) and (self.credential, self.error) == (other.credential, other.error)

    def __hash__(self) -> int:
        return hash((self.credential, self.error))

    def __repr__(self) -> str:
        return 'Answer(credential=%r, error=%r)' % (self.credential, self.error)


class ContainersImageLookup:
    """containers/image's answer for one image.

    ``answers`` has one element unless the answer depends on Go map order (several keys that only
    match after normalisation, e.g. ``https://quay.io/a`` and ``http://quay.io``).
    """

    __slots__ = ('name', 'answers')

    def __init__(self, name: Optional[str], answers: Iterable[Answer]) -> None:
        self.name = name
        unique = []
        for a in answers:
            if a not in unique:
                unique.append(a)
        self.answers = tuple(unique)

    @property
    def deterministic(self) -> bool:
        return len(self.answers) == 1

    @property
    def credential(self) -> Optional[Credential]:
        return self.answers[0].credential

    @property
    def error(self) -> Optional[str]:
        return self.answers[0].error

    def __repr__(self) -> str:
        return 'ContainersImageLookup(name=%r, answers=%r)' % (self.name, self.answers)


# -- Go encoding/json ----------------------------------------------------------------------------

class _GoJSONError(ValueError):
    pass


class _Obj(list):
    """A JSON object as its (key, value) pairs in document order, duplicates kept (Go reads them all)."""

    __slots__ = ()


_SURROGATE = re.compile('[\ud800-\udfff]')
# encoding/json matches field names by Unicode simple case folding (one rune per fold orbit): the
# long s and the Kelvin sign are the only non-ASCII runes in an orbit of an ASCII letter (the
# dotted and dotless i are not in the orbit of 'i').
_FOLD_TO_ASCII = {'\u017f': 'S', '\u212a': 'K'}


def _go_fold(name: str) -> str:
    return ''.join(c.upper() if c < '\x80' else _FOLD_TO_ASCII.get(c, c) for c in name)


def _valid_text(value: str) -> str:
    # Go decodes each invalid UTF-8 byte and each lone surrogate escape to U+FFFD.
    return _SURROGATE.sub('\ufffd', value) if _SURROGATE.search(value) else value


def _names(pairs: Iterable) -> list:
    return [pair[0] for pair in pairs]


def _values(pairs: Iterable) -> list:
    return [pair[1] for pair in pairs]


def _pairs(pairs: list) -> _Obj:
    return _Obj((_valid_text(k), v) for k, v in pairs)


def _reject_constant(name: str) -> None:
    raise _GoJSONError('%s is not JSON' % name)


def _fix_strings(value: Any) -> Any:
    if isinstance(value, str):
        return _valid_text(value)
    if isinstance(value, _Obj):
        return _Obj((k, _fix_strings(v)) for k, v in value)
    if isinstance(value, list):
        return [_fix_strings(v) for v in value]
    return value


def _go_json_load(raw: Any) -> Any:
    """The JSON value of raw as Go's decoder sees it (objects as _Obj); _GoJSONError if Go rejects it."""
    if isinstance(raw, (bytes, bytearray)):
        text = bytes(raw).decode('utf-8', 'surrogateescape')
    elif isinstance(raw, str):
        text = raw
    elif isinstance(raw, Mapping):
        text = json.dumps(raw)
    else:
        raise CredentialModelError('a docker config is bytes, text or a mapping, not %s' % type(raw).__name__)
    try:
        # Python >= 3.12 parses deeper than its recursion limit: the walk over the value is what runs out then
        return _fix_strings(json.loads(text, object_pairs_hook=_pairs, parse_constant=_reject_constant))
    except _GoJSONError:
        raise
    except (ValueError, RecursionError) as e:
        raise _GoJSONError('not valid JSON (%s)' % (e.msg if isinstance(e, json.JSONDecodeError) else 'too deep'))


def _json_kind(value: Any) -> str:
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, _Obj):
        return 'object'
    return 'array'


def _decode_struct(value: Any, fields: Mapping[str, str], what: str) -> Optional[dict]:
    """String fields of a Go struct: {field: value}; None when value is null; keys matched like Go (folded, last wins)."""
    if value is None:
        return None
    if not isinstance(value, _Obj):
        raise _GoJSONError('%s is a JSON %s, not an object' % (what, _json_kind(value)))
    got: dict = {}
    for key, item in value:
        field = fields.get(_go_fold(key))
        if field is None or item is None:
            continue
        if not isinstance(item, str):
            raise _GoJSONError('%s: %s is a JSON %s, not a string' % (what, field, _json_kind(item)))
        got[field] = item
    return got


def _fields(*names: str) -> dict:
    return dict((_go_fold(n), n) for n in names)


# -- Go encoding/base64 ---------------------------------------------------------------------------

_B64_VALUE = dict((c, i) for i, c in enumerate('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'))
# unicode.IsSpace, which strings.TrimSpace uses.
_GO_SPACE = '\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'


def _go_b64decode(text: str, padded: bool) -> Optional[bytes]:
    """base64.StdEncoding (padded) or RawStdEncoding .DecodeString: bytes, or None where Go reports corrupt input.

    Like Go: '\\r' and '\\n' are skipped anywhere, unused trailing bits are ignored, padding must be
    complete (padded) or absent (raw), and nothing but newlines may follow the padding.
    """
    out = bytearray()
    si, n = 0, len(text)
    while True:
        quantum = [0, 0, 0, 0]
        got = 0
        end = False
        while got < 4:
            if si == n:
                if got == 0:
                    return bytes(out)
                if got == 1 or padded:
                    return None
                end = True
                break
            ch = text[si]
            si += 1
            value = _B64_VALUE.get(ch)
            if value is not None:
                quantum[got] = value
                got += 1
                continue
            if ch in '\r\n':
                continue
            if not padded or ch != '=' or got < 2:
                return None
            if got == 2:
                while si < n and text[si] in '\r\n':
                    si += 1
                if si == n or text[si] != '=':
                    return None
                si += 1
            while si < n and text[si] in '\r\n':
                si += 1
            if si < n:
                return None
            end = True
            break
        bits = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3]
        out.extend(bytes(((bits >> 16) & 255, (bits >> 8) & 255, bits & 255))[:got - 1 if got < 4 else 3])
        if end:
            return bytes(out)


def _text(raw: bytes) -> str:
    return raw.decode('utf-8', 'surrogateescape')


def kubelet_decode_auth(auth: str) -> tuple:
    """(username, password) as the kubelet's decodeDockerConfigFieldAuth reads an ``auth`` field; ValueError if it fails.

    Padding is optional (the padded decoder is used only when the trimmed text ends with '='), and
    newlines anywhere are ignored, so ``base64``'s 76-column output and unpadded text both work.
    """
    raw = _go_b64decode(auth, padded=auth.strip(_GO_SPACE).endswith('='))
    if raw is None:
        raise ValueError('auth is not valid base64')
    if b':' not in raw:
        raise ValueError("auth does not decode to 'username:password'")
    username, password = raw.split(b':', 1)
    return _text(username), _text(password)


def containers_image_decode_auth(auth: str) -> Optional[tuple]:
    """(username, password) as containers/image's decodeDockerAuth reads ``auth``; None when it gives no
    credential (empty, or no ':'); ValueError when the pull fails (not strict padded base64)."""
    raw = _go_b64decode(auth, padded=True)
    if raw is None:
        raise ValueError('auth is not valid padded base64')
    if b':' not in raw:
        return None
    username, password = raw.split(b':', 1)
    return _text(username), _text(password).strip('\x00')


# -- Go net/url, net.SplitHostPort, path/filepath.Match --------------------------------------------

_HEX = '0123456789abcdefABCDEF'
_ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
# ASCII bytes net/url accepts unescaped in a host (shouldEscape(c, encodeHost) is false).
_HOST_CHARS = frozenset(_ALNUM + '!"$&\'()*+,-.;<=>]_~:[')
_USERINFO_CHARS = frozenset(_ALNUM + "-._:~!$&'()*+,;=%@")


def _unescape(s: str, mode: str) -> Optional[str]:
    """net/url unescape for modes 'host', 'zone' and others (path, userinfo, fragment); None on error."""
    i, escapes = 0, 0
    while i < len(s):
        c = s[i]
        if c == '%':
            if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                return None
            if mode == 'host' and int(s[i + 1], 16) < 8 and s[i:i + 3] != '%25':
                return None
            if mode == 'zone':
                v = chr(int(s[i + 1:i + 3], 16))
                if s[i:i + 3] != '%25' and v != ' ' and v not in _HOST_CHARS:
                    return None
            escapes += 1
            i += 3
            continue
        if mode in ('host', 'zone') and c < '\x80' and c not in _HOST_CHARS:
            return None
        i += 1
    if not escapes:
        return s
    raw = s.encode('utf-8', 'surrogateescape')
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i:i + 1] == b'%':
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out).decode('utf-8', 'surrogateescape')


def _valid_optional_port(port: str) -> bool:
    return port == '' or (port[0] == ':' and all('0' <= c <= '9' for c in port[1:]))


def _parse_host(host: str) -> Optional[str]:
    bracket = host.rfind('[')
    if bracket > 0:
        return None
    if bracket == 0:
        close = host.rfind(']')
        if close < 0 or not _valid_optional_port(host[close + 1:]):
            return None
        name = host[1:close]
        zone = name.find('%25')
        if zone >= 0:
            part, zone_part = _unescape(name[:zone], 'host'), _unescape(name[zone:], 'zone')
            if part is None or zone_part is None:
                return None
            unescaped = part + zone_part
        else:
            unescaped = _unescape(name, 'host')
            if unescaped is None:
                return None
        try:
            address = ipaddress.ip_address(unescaped)
        except ValueError:
            return None
        if address.version == 4:
            return None
        return '[' + unescaped + ']' + host[close + 1:]
    colon = host.find(':')
    # Go 1.26 (urlstrictcolons=1): for http(s) the port starts at the first colon.
    if colon != -1 and not _valid_optional_port(host[colon:]):
        return None
    return _unescape(host, 'host')


def _go_url_host_path(raw: str) -> Optional[tuple]:
    """(Host, Path) of net/url.Parse(raw) for raw starting with http:// or https://; None where Parse fails."""
    url, fragment = raw.partition('#')[::2]
    if any(c < ' ' or c == '\x7f' for c in url):
        return None
    rest = url.split(':', 1)[1]
    if rest.endswith('?') and rest.count('?') == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition('?')[0]
    authority, path = rest[2:], ''
    slash = authority.find('/')
    if slash >= 0:
        authority, path = authority[:slash], authority[slash:]
    at = authority.rfind('@')
    host = _parse_host(authority[at + 1:])
    if host is None:
        return None
    if at >= 0:
        userinfo = authority[:at]
        if any(c not in _USERINFO_CHARS for c in userinfo):
            return None
        if any(_unescape(part, 'user') is None for part in userinfo.split(':', 1)):
            return None
    path = _unescape(path, 'path')
    if path is None or (fragment and _unescape(fragment, 'fragment') is None):
        return None
    return host, path


def _split_host_port(hostport: str) -> Optional[tuple]:
    """net.SplitHostPort: (host, port) or None on error."""
    last = hostport.rfind(':')
    if last < 0:
        return None
    start, end_at = 0, 0
    if hostport[0] == '[':
        end = hostport.find(']')
        if end < 0 or end + 1 != last:
            return None
        host = hostport[1:end]
        start, end_at = 1, end + 1
    else:
        host = hostport[:last]
        if ':' in host:
            return None
    if '[' in hostport[start:] or ']' in hostport[end_at:]:
        return None
    return host, hostport[last + 1:]


def _labels_and_port(host: str) -> tuple:
    split = _split_host_port(host)
    if split is None:
        return host.split('.'), ''
    return split[0].split('.'), split[1]


class _BadPattern(Exception):
    pass


def _scan_chunk(pattern: str) -> tuple:
    star = False
    while pattern.startswith('*'):
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == '\\':
            if i + 1 < len(pattern):
                i += 1
        elif c == '[':
            in_range = True
        elif c == ']':
            in_range = False
        elif c == '*' and not in_range:
            return star, pattern[:i], pattern[i:]
        i += 1
    return star, pattern, ''


def _class_char(chunk: str) -> tuple:
    if not chunk or chunk[0] in '-]':
        raise _BadPattern()
    if chunk[0] == '\\':
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern()
    if len(chunk) < 2:
        raise _BadPattern()
    return chunk[0], chunk[1:]


def _match_chunk(chunk: str, s: str) -> Optional[str]:
    """The rest of s after chunk matched its start, or None; _BadPattern for a malformed chunk."""
    failed = False
    while chunk:
        failed = failed or not s
        c = chunk[0]
        if c == '[':
            r = None
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = chunk.startswith('^')
            if negated:
                chunk = chunk[1:]
            matched, ranges = False, 0
            while True:
                if chunk.startswith(']') and ranges > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _class_char(chunk)
                hi = lo
                if chunk[0] == '-':
                    hi, chunk = _class_char(chunk[1:])
                matched = matched or (r is not None and lo <= r <= hi)
                ranges += 1
            failed = failed or matched == negated
        elif c == '?':
            if not failed:
                failed = s[0] == '/'
                s = s[1:]
            chunk = chunk[1:]
        else:
            if c == '\\':
                chunk = chunk[1:]
                if not chunk:
                    raise _BadPattern()
            if not failed:
                failed = chunk[0] != s[0]
                s = s[1:]
            chunk = chunk[1:]
    return None if failed else s


def _go_glob_match(pattern: str, name: str) -> bool:
    """filepath.Match(pattern, name) on Linux; a malformed pattern does not match (the kubelet ignores the error)."""
    try:
        while pattern:
            star, chunk, pattern = _scan_chunk(pattern)
            if star and not chunk:
                return '/' not in name
            rest = _match_chunk(chunk, name)
            if rest is not None and (not rest or pattern):
                name = rest
                continue
            if not star:
                return False
            advanced = False
            for i in range(len(name)):
                if name[i] == '/':
                    break
                rest = _match_chunk(chunk, name[i + 1:])
                if rest is not None:
                    if not pattern and rest:
                        continue
                    name, advanced = rest, True
                    break
            if not advanced:
                return False
        return not name
    except _BadPattern:
        return False


# -- image references ----------------------------------------------------------------------------

def _image_grammar(separator: str, ipv6: bool) -> tuple:
    component = r'[a-z0-9]+(?:%s[a-z0-9]+)*' % separator
    host = r'[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*'
    if ipv6:
        host = r'(?:%s|\[[a-fA-F0-9:]+\])' % host
    domain = host + r'(?::[0-9]+)?'
    remote = r'%s(?:/%s)*' % (component, component)
    digest = r'[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}'
    reference = re.compile(r'((?:%s/)?%s)(?::([\w][\w.-]{0,127}))?(?:@(%s))?' % (domain, remote, digest), re.ASCII)
    name = re.compile(r'(?:(%s)/)?(%s)' % (domain, remote), re.ASCII)
    return reference, name, re.compile(domain, re.ASCII)


# github.com/distribution/reference v0.6.0 (the kubelet); containers/image's fork (no IPv6, '-'* separators).
_DIST_REFERENCE, _DIST_NAME, _DIST_DOMAIN = _image_grammar(r'(?:[._]|__|-+)', ipv6=True)
_CI_REFERENCE, _CI_NAME, _CI_DOMAIN = _image_grammar(r'(?:[._]|__|-+)', ipv6=False)
_IDENTIFIER = re.compile(r'[a-f0-9]{64}')
_DIGEST_LENGTHS = {'sha256': 64, 'sha384': 96, 'sha512': 128}


def _valid_digest(digest: str) -> bool:
    algorithm, encoded = digest.partition(':')[::2]
    return _DIGEST_LENGTHS.get(algorithm) == len(encoded) and re.fullmatch('[a-f0-9]+', encoded) is not None


def _parse_reference(full: str, reference: Any, name_re: Any, length_of_name: bool) -> str:
    match = reference.fullmatch(full)
    if match is None:
        raise ValueError('invalid reference format')
    name = match.group(1)
    if length_of_name and len(name) > 255:
        raise ValueError('repository name must not be more than 255 characters')
    parts = name_re.fullmatch(name)
    domain, path = parts.group(1) or '', parts.group(2)
    if not length_of_name and len(path) > 255:
        raise ValueError('repository name must not be more than 255 characters')
    if match.group(3) and not _valid_digest(match.group(3)):
        raise ValueError('invalid digest')
    return domain + '/' + path if domain else path


def _full_name(domain: str, remainder: str, reference: Any, name_re: Any, length_of_name: bool) -> str:
    """The parsed full name of domain/remainder: Docker Hub's official images under library/, lower case only."""
    if domain == DOCKER_HUB and '/' not in remainder:
        remainder = 'library/' + remainder
    remote = remainder.partition(':')[0]
    if remote.lower() != remote:
        raise ValueError('repository name must be lowercase')
    return _parse_reference(domain + '/' + remainder, reference, name_re, length_of_name)


def kubelet_image_name(image: str) -> str:
    """The repository the kubelet looks credentials up for (ParseImageName's repoToPull); ValueError if it cannot parse image."""
    if _IDENTIFIER.fullmatch(image):
        raise ValueError('cannot specify 64-byte hexadecimal strings')
    first, slash, rest = image.partition('/')
    if not slash:
        domain, remainder = DOCKER_HUB, image
    elif first == 'localhost':
        domain, remainder = first, rest
    elif first == _LEGACY_HUB_HOST:
        domain, remainder = DOCKER_HUB, rest
    elif any(c in first for c in '.:') or first.lower() != first:
        domain, remainder = first, rest
    else:
        domain, remainder = DOCKER_HUB, image
    return _full_name(domain, remainder, _DIST_REFERENCE, _DIST_NAME, length_of_name=False)


def containers_image_name(image: str) -> str:
    """The name containers/image looks credentials up for (reference.ParseNormalizedNamed(image).Name()); ValueError."""
    if _IDENTIFIER.fullmatch(image):
        raise ValueError('cannot specify 64-byte hexadecimal strings')
    first, slash, rest = image.partition('/')
    if not slash or (not any(c in first for c in '.:') and first != 'localhost'):
        domain, remainder = DOCKER_HUB, image
    else:
        domain, remainder = first, rest
    if domain == _LEGACY_HUB_HOST:
        domain = DOCKER_HUB
    return _full_name(domain, remainder, _CI_REFERENCE, _CI_NAME, length_of_name=True)


# -- the kubelet -------------------------------------------------------------------------------------

_KUBELET_ENTRY = _fields('username', 'password', 'email', 'auth')
_KUBELET_CONFIG_JSON = _fields('auths', 'HttpHeaders')


class KubeletDocument:
    """A docker config as the kubelet reads it: ``entries`` {raw key: Credential} or ``error`` (the secret fails)."""

    __slots__ = ('entries', 'error')

    def __init__(self, entries: Optional[dict], error: Optional[str]) -> None:
        self.entries = entries if entries is not None else {}
        self.error = error


def _kubelet_entry(value: Any, key: str, source: Optional[str]) -> Credential:
    fields = _decode_struct(value, _KUBELET_ENTRY, 'registry %s' % _shown(key)) or {}
    username, password = fields.get('username', ''), fields.get('password', '')
    if fields.get('auth'):
        try:
            username, password = kubelet_decode_auth(fields['auth'])
        except ValueError as e:
            raise _GoJSONError('registry %s: %s' % (_shown(key), e))
    return Credential(source, key, username, password, fields.get('email', ''))


def _kubelet_entries(value: Any, source: Optional[str], entries: Optional[dict], what: str) -> Optional[dict]:
    if value is None:
        return None
    if not isinstance(value, _Obj):
        raise _GoJSONError('%s is a JSON %s, not an object' % (what, _json_kind(value)))
    entries = {} if entries is None else entries
    for key, item in value:
        entries[key] = _kubelet_entry(item, key, source)
    return entries


def kubelet_parse(raw: Any, layout: str, source: Optional[str] = None) -> KubeletDocument:
    """Read raw as the kubelet does: layout 'dockerconfigjson' ({"auths": …}, also the node's config.json) or 'dockercfg' (flat)."""
    try:
        document = _go_json_load(raw)
        if layout == 'dockercfg':
            return KubeletDocument(_kubelet_entries(document, source, None, 'the document'), None)
        if document is not None and not isinstance(document, _Obj):
            raise _GoJSONError('the document is a JSON %s, not an object' % _json_kind(document))
        entries = None
        for key, item in document or ():
            field = _KUBELET_CONFIG_JSON.get(_go_fold(key))
            if field == 'auths':
                entries = _kubelet_entries(item, source, entries, repr(key))
            elif field == 'HttpHeaders':
                # map[string]string: checked for its type only.
                if item is not None and (not isinstance(item, _Obj) or any(v is not None and not isinstance(v, str) for v in _values(item))):
                    raise _GoJSONError('%r must be an object of strings' % key)
        return KubeletDocument(entries, None)
    except _GoJSONError as e:
        return KubeletDocument(None, str(e))


def kubelet_index_key(key: str) -> Optional[str]:
    """The key the kubelet files a registry key under (BasicDockerKeyring.Add), or None if it ignores the key.

    http(s):// (lower case only) is dropped, the key is read as a URL (user info, query and fragment
    dropped, %-escapes decoded), one leading /v1/ or /v2/ of the path is dropped, and a path of '/'
    is no path. Host letter case and a trailing '/' are kept: they matter when matching.
    """
    value = key if key.startswith(('https://', 'http://')) else 'https://' + key
    parsed = _go_url_host_path(value)
    if parsed is None:
        return None
    host, path = parsed
    if path.startswith(('/v2/', '/v1/')):
        path = path[3:]
    return host + path if path and path != '/' else host


def _kubelet_glob(index_key: str) -> Optional[tuple]:
    parsed = _go_url_host_path('https://' + index_key)
    if parsed is None:
        return None
    labels, port = _labels_and_port(parsed[0])
    return labels, port, parsed[1]


def _kubelet_target(repo: str) -> tuple:
    host, path = _go_url_host_path('https://' + repo)
    labels, port = _labels_and_port(host)
    return labels, port, path


def _kubelet_matches(glob: Optional[tuple], target: tuple) -> bool:
    """URLsMatch: same port, same number of host labels, raw path prefix, each label a glob."""
    if glob is None:
        return False
    labels, port, path = glob
    target_labels, target_port, target_path = target
    if port != target_port or len(labels) != len(target_labels) or not target_path.startswith(path):
        return False
    return all(_go_glob_match(g, t) for g, t in zip(labels, target_labels))


def _default_registry_match(repo: str) -> bool:
    """isDefaultRegistryMatch: images the kubelet may send the index.docker.io credential for."""
    parts = repo.split('/', 1)
    if not parts[0]:
        return False
    if len(parts) == 1 or parts[0] in (DOCKER_HUB, _LEGACY_HUB_HOST):
        return True
    return not any(c in parts[0] for c in '.:')


class _Keyring:
    """BasicDockerKeyring: index key -> groups of credentials, one group per Add (per document)."""

    def __init__(self) -> None:
        self.creds: dict = {}

    def add(self, entries: Mapping[str, Credential]) -> None:
        added: dict = {}
        for key, credential in entries.items():
            index = kubelet_index_key(key)
            if index is not None:
                added.setdefault(index, []).append(credential)
        for index, group in added.items():
            self.creds.setdefault(index, []).append(group)

    def lookup(self, repo: str) -> list:
        target = _kubelet_target(repo)
        groups = []
        for index in sorted(self.creds, reverse=True):
            if _kubelet_matches(_kubelet_glob(index), target):
                groups.extend(self.creds[index])
        if not groups and _default_registry_match(repo):
            groups.extend(self.creds.get(_LEGACY_HUB_HOST, ()))
        return groups


def _secret_field(secret: Mapping, name: str) -> Any:
    value = secret.get(name)
    return value if value is not None else ''


def kubelet_secret_document(secret: Mapping) -> Optional[KubeletDocument]:
    """The document the kubelet reads from a Secret ({name, type, data: {key: bytes}}), or None if it ignores the secret.

    The type decides the data key and layout: dockerconfigjson reads ``.dockerconfigjson`` as
    {"auths": …}, dockercfg reads ``.dockercfg`` as a flat map; any other type, a missing or empty
    data key is ignored.
    """
    secret_type = _secret_field(secret, 'type')
    data = secret.get('data') or {}
    raw = data.get(DATA_KEY.get(secret_type, '')) if secret_type in DATA_KEY else None
    if not raw:
        return None
    layout = 'dockerconfigjson' if secret_type == SECRET_TYPE_DOCKERCONFIGJSON else 'dockercfg'
    return kubelet_parse(raw, layout, source=_secret_field(secret, 'name'))


def kubelet_lookup(secrets: Sequence[Mapping], image: str, node_config: Any = None) -> KubeletLookup:
    """The credentials the kubelet tries for image, given the pod's pull secrets (in order) and the node's config.json.

    secrets: mappings {name, type, data: {data key: raw bytes}}. node_config: the raw bytes of
    /var/lib/kubelet/config.json, or None when absent. A secret that fails to parse fails the pull
    (``error``); a node config that fails to parse is ignored, as the kubelet does.
    """
    try:
        repo = kubelet_image_name(image)
    except ValueError as e:
        return KubeletLookup(None, "couldn't parse image name %r: %s" % (image, e))
    pod = _Keyring()
    for secret in secrets:
        document = kubelet_secret_document(secret)
        if document is None:
            continue
        if document.error is not None:
            return KubeletLookup(repo, 'secret %r: %s' % (_secret_field(secret, 'name'), document.error))
        pod.add(document.entries)
    groups = pod.lookup(repo)
    if node_config is not None:
        node = kubelet_parse(node_config, 'dockerconfigjson', source=NODE)
        if node.error is None:
            keyring = _Keyring()
            keyring.add(node.entries)
            groups.extend(keyring.lookup(repo))
    return KubeletLookup(repo, None, groups)


# -- containers/image --------------------------------------------------------------------------------

_CI_ENTRY = _fields('auth', 'identitytoken')
_CI_FILE = _fields('auths', 'credHelpers')


class AuthFile:
    """An auth file as containers/image reads it: ``auths`` {key: (auth, identitytoken)}, ``cred_helpers``, or ``error``."""

    __slots__ = ('auths', 'cred_helpers', 'error')

    def __init__(self, auths: Optional[dict], cred_helpers: Optional[dict], error: Optional[str]) -> None:
        self.auths = auths or {}
        self.cred_helpers = cred_helpers or {}
        self.error = error


def containers_image_parse(raw: Any) -> AuthFile:
    """Read an auth file (the global pull secret) as containers/image does; any type error fails every pull."""
    try:
        document = _go_json_load(raw)
        if document is not None and not isinstance(document, _Obj):
            raise _GoJSONError('the document is a JSON %s, not an object' % _json_kind(document))
        auths: Optional[dict] = None
        helpers: Optional[dict] = None
        for key, item in document or ():
            field = _CI_FILE.get(_go_fold(key))
            if field is None:
                continue
            if item is None:
                if field == 'auths':
                    auths = None
                else:
                    helpers = None
                continue
            if not isinstance(item, _Obj):
                raise _GoJSONError('%r is a JSON %s, not an object' % (key, _json_kind(item)))
            if field == 'auths':
                auths = {} if auths is None else auths
                for registry, entry in item:
                    fields = _decode_struct(entry, _CI_ENTRY, 'registry %s' % _shown(registry)) or {}
                    auths[registry] = (fields.get('auth', ''), fields.get('identitytoken', ''))
            else:
                helpers = {} if helpers is None else helpers
                for registry, helper in item:
                    if helper is not None and not isinstance(helper, str):
                        raise _GoJSONError('credHelpers %s is a JSON %s, not a string' % (_shown(registry), _json_kind(helper)))
                    helpers[registry] = helper or ''
        return AuthFile(auths, helpers, None)
    except _GoJSONError as e:
        return AuthFile(None, None, str(e))


def normalize_registry(registry: str) -> str:
    """containers/image normalizeRegistry: docker.io and registry-1.docker.io are index.docker.io."""
    return _LEGACY_HUB_HOST if registry in ('registry-1.docker.io', DOCKER_HUB) else registry


def normalize_auth_file_key(key: str) -> str:
    """containers/image normalizeAuthFileKey: a key with http(s):// loses the scheme and everything from the first '/'."""
    stripped = key[len('http://'):] if key.startswith('http://') else key
    stripped = stripped[len('https://'):] if stripped.startswith('https://') else stripped
    if stripped != key:
        stripped = stripped.split('/', 1)[0]
    return normalize_registry(stripped)


def auth_key_lookup_order(name: str) -> list:
    """The keys containers/image tries first, most specific first: quay.io/a/b, quay.io/a, quay.io."""
    keys = [name]
    while '/' in name:
        name = name.rsplit('/', 1)[0]
        keys.append(name)
    return keys


def _ci_answer(auth_file: AuthFile, key: str) -> Answer:
    auth, token = auth_file.auths[key]
    try:
        pair = containers_image_decode_auth(auth)
    except ValueError as e:
        return Answer(None, 'registry %s: %s' % (_shown(key), e))
    if pair is None or not (pair[0] or pair[1] or token):
        return Answer(None, None)
    return Answer(Credential(None, key, pair[0], pair[1], identitytoken=token), None)


def containers_image_lookup(authfile: Any, image: str) -> ContainersImageLookup:
    """The credential containers/image (CRI-O) picks for image from an auth file (the global pull secret's bytes).

    The answer is a credential, no credential, or an error that fails the pull: the file does not
    parse, the ``auth`` it picks is not strict base64, or a ``credHelpers`` entry names a helper
    for the registry (the model assumes no helper is installed on the node).
    """
    try:
        name = containers_image_name(image)
    except ValueError as e:
        return ContainersImageLookup(None, [Answer(None, 'invalid image %r: %s' % (image, e))])
    auth_file = containers_image_parse(authfile)
    if auth_file.error is not None:
        return ContainersImageLookup(name, [Answer(None, auth_file.error)])
    registry = name.split('/', 1)[0]
    if registry in auth_file.cred_helpers:
        return ContainersImageLookup(name, [Answer(None, 'credential helper %r for %s is not on the node'
                                                         % (auth_file.cred_helpers[registry], registry))])
    for key in auth_key_lookup_order(name):
        if key in auth_file.auths:
            return ContainersImageLookup(name, [_ci_answer(auth_file, key)])
    wanted = normalize_registry(registry)
    answers = [_ci_answer(auth_file, k) for k in auth_file.auths if normalize_auth_file_key(k) == wanted]
    return ContainersImageLookup(name, answers or [Answer(None, None)])


# -- what a key serves ---------------------------------------------------------------------------------

# A host label of an image reference; '_' appears where a name like a_b.example/app is read as a bare path.
_DNS_LABEL = re.compile(r'[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?|[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*')
_PATH_COMPONENT = re.compile(r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*')
_GLOB_META = frozenset('*?[\\')
# A prefix of a repository path the kubelet may be asked for: whole components, then possibly part of one.
_PATH_PREFIX = re.compile(r'(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?:/(?:[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:[._-]|__)?)?)?')
_CI_PATH = re.compile(r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*', re.ASCII)


def _check_consumer(consumer: str) -> None:
    if consumer not in CONSUMERS:
        raise CredentialModelError('unknown consumer %r; use one of %s' % (consumer, ', '.join(CONSUMERS)))


def _kubelet_scope(key: str, hub_as_one: bool = True) -> Optional[tuple]:
    index = kubelet_index_key(key)
    if index is None:
        return None
    if index == _LEGACY_HUB_HOST and not hub_as_one:
        return (KUBELET, 'docker-hub-fallback')
    if index == _LEGACY_HUB_HOST:
        # Only this exact key is the kubelet's fallback for Docker Hub images (and it is shadowed by
        # any key that matches docker.io): for every decision it is Docker Hub, like docker.io.
        index = DOCKER_HUB
    glob = _kubelet_glob(index)
    if glob is None:
        return None
    labels, port, path = glob
    if not _PATH_PREFIX.fullmatch(path):
        return None
    if index.startswith('['):
        # An IP literal matches only with a port: without one, "[::1]" is a glob character class.
        return (KUBELET, tuple(labels), port, path) if port else None
    plain = [label for label in labels if not _GLOB_META.intersection(label)]
    if any(not _DNS_LABEL.fullmatch(label) for label in plain):
        return None
    if len(labels) == len(plain):
        host = '.'.join(labels)
        if host == _LEGACY_HUB_HOST and not port:
            return None
        # A one-label host without a port is read as a Docker Hub namespace in an image reference.
        if len(labels) == 1 and not port and host != 'localhost' and host.lower() == host:
            return None
    return (KUBELET, tuple(labels), port, path)


def _ci_domain(domain: str) -> bool:
    """A registry an image name can have (a_b.example/app parses as a bare path, so its first component counts)."""
    if domain == 'localhost':
        return True
    if not any(c in domain for c in '.:'):
        return False
    return _CI_DOMAIN.fullmatch(domain) is not None or ('.' in domain and _PATH_COMPONENT.fullmatch(domain) is not None)


def _containers_image_scope(key: str) -> Optional[tuple]:
    if key.startswith(('http://', 'https://')) or '/' not in key:
        registry = normalize_auth_file_key(key)
        if registry == _LEGACY_HUB_HOST or _ci_domain(registry):
            return (CONTAINERS_IMAGE, 'registry', registry)
        return None
    domain, path = key.split('/', 1)
    if not (domain == DOCKER_HUB or (_ci_domain(domain) and domain != _LEGACY_HUB_HOST)) or not _CI_PATH.fullmatch(path):
        return None
    if len(key) > 255:
        return None
    return (CONTAINERS_IMAGE, 'repository', key)


def registry_scope(key: str, consumer: str) -> Optional[tuple]:
    """The images key serves for consumer, as a comparable value; None when it serves no image (a dead key).

    kubelet: the host (labels, globs allowed), port and raw path prefix it matches, with Docker
    Hub's docker.io and index.docker.io (its fallback key) as one. containers-image: a registry
    (schemeless host, or any key with http(s)://, whose path is ignored; docker.io,
    index.docker.io and registry-1.docker.io are one) or a repository namespace (schemeless
    host/path, matched exactly).
    """
    _check_consumer(consumer)
    if not isinstance(key, str):
        return None
    return _kubelet_scope(key) if consumer == KUBELET else _containers_image_scope(key)


def same_registry(key_a: str, key_b: str, consumer: str) -> bool:
    """True when consumer uses either key for the same images: the same registry, never to be written twice."""
    if key_a == key_b:
        return True
    scope = registry_scope(key_a, consumer)
    return scope is not None and scope == registry_scope(key_b, consumer)


def keys_serving(keys: Iterable[str], server: str, consumer: str) -> list:
    """The keys (of a document's auths, in their order) that serve the registry server names for consumer.

    What ``state: absent`` must remove and ``merge: false`` must leave once: every spelling of
    the same registry (``https://index.docker.io/v1/`` for ``docker.io``, ``https://quay.io/org``
    for ``quay.io`` in the global pull secret). A key spelled exactly as server is always included,
    so a dead key can still be removed by name.
    """
    return [k for k in keys if same_registry(k, server, consumer)]


def lookup_key_for(server: str) -> str:
    """The key containers/image looks up for the images server names: what to write into the global pull secret.

    http(s):// is dropped, the host lower-cased, Docker Hub's aliases become docker.io, one /v1/ or
    /v2/ and a trailing '/' are dropped from the path. ValueError (a message without credentials)
    when server cannot name a registry or repository for containers/image.
    """
    if not isinstance(server, str) or not server:
        raise ValueError('a registry (server) is empty')
    rest = server
    for prefix in ('https://', 'http://'):
        if rest.lower().startswith(prefix):
            rest = rest[len(prefix):]
            break
    if '@' in rest:
        raise ValueError("%s contains '@': credentials and digests do not belong in a registry key" % _shown(server))
    host, slash, path = rest.partition('/')
    host = host.lower()
    if host in (_LEGACY_HUB_HOST, 'registry-1.docker.io'):
        host = DOCKER_HUB
    path = slash + path
    if path.startswith(('/v1/', '/v2/')) or path in ('/v1', '/v2'):
        path = path[3:]
    path = path.strip('/')
    key = host + '/' + path if path else host
    scope = _containers_image_scope(key)
    if scope is None:
        raise ValueError('%s does not name a registry or repository the node\'s container runtime can look up: give '
                         'host[:port][/namespace] with lower-case repository path components' % _shown(server))
    return key


# -- why a consumer cannot use an entry or a document ---------------------------------------------------

_USERINFO = re.compile(r'^((?:[A-Za-z][A-Za-z0-9+.-]*://)?)[^/]*@')


def _shown(key: Any) -> str:
    """A registry key as it may appear in a message: any user:password@ part masked."""
    return repr(_USERINFO.sub(r'\1***@', key)) if isinstance(key, str) else repr(key)


class Problem:
    """Why a consumer cannot (fully) use an entry (``key`` set) or a whole document (``key`` None).

    ``fatal``: pulls fail because of it (not only "this entry gives no credential"). Messages name
    keys and fields, never a credential.
    """

    __slots__ = ('consumer', 'key', 'code', 'message', 'fatal')

    def __init__(self, consumer: str, key: Optional[str], code: str, message: str, fatal: bool = False) -> None:
        self.consumer, self.key, self.code, self.message, self.fatal = consumer, key, code, message, fatal

    @property
    def shown_key(self) -> Optional[str]:
        """The key as output may show it: a user:password@ part masked."""
        return None if self.key is None else _USERINFO.sub(r'\1***@', self.key)

    def as_dict(self) -> dict:
        """What results and reports may show (the key masked)."""
        return {'consumer': self.consumer, 'key': self.shown_key, 'code': self.code, 'message': self.message, 'fatal': self.fatal}

    def __repr__(self) -> str:
        return 'Problem(%s, %s, %s)' % (self.consumer, _shown(self.key), self.code)


def _raw_auths(document: Any, flat: bool) -> list:
    """(key, raw entry) pairs of the auths a Go reader sees, in document order; [] when they cannot be read."""
    if not isinstance(document, _Obj):
        return []
    if flat:
        return list(document)
    pairs: list = []
    for key, item in document:
        if _go_fold(key) == 'AUTHS':
            pairs = [] if item is None else pairs + (list(item) if isinstance(item, _Obj) else [])
    return pairs


def _field_problems(consumer: str, key: str, raw: Any, names: Sequence[str]) -> list:
    if not isinstance(raw, _Obj):
        return []
    problems = []
    seen: dict = {}
    for field in _names(raw):
        folded = _go_fold(field)
        if folded in (_go_fold(n) for n in names):
            seen.setdefault(folded, []).append(field)
    for spellings in seen.values():
        if len(spellings) > 1:
            problems.append(Problem(consumer, key, 'duplicate-field', 'registry %s spells one field several ways (%s); '
                                    'Go reads field names case-insensitively and the last non-null one wins'
                                    % (_shown(key), ', '.join(spellings))))
        elif spellings[0] not in names:
            problems.append(Problem(consumer, key, 'field-case', 'registry %s: field %r is read as %r (Go matches field '
                                    'names case-insensitively); write it in lower case'
                                    % (_shown(key), spellings[0], [n for n in names if _go_fold(n) == _go_fold(spellings[0])][0])))
    return problems


def _scope_groups(keys: Iterable[str], consumer: str) -> list:
    groups: dict = {}
    for key in keys:
        scope = registry_scope(key, consumer)
        if scope is not None:
            groups.setdefault(scope, []).append(key)
    return [g for g in groups.values() if len(g) > 1]


def _same_registry_problems(keys: Iterable[str], consumer: str, consequence: str) -> list:
    """A 'same-registry' Problem for each key that names the same registry as others for consumer."""
    return [Problem(consumer, key, 'same-registry', 'registry %s names the same registry as %s: %s'
                    % (_shown(key), ', '.join(_shown(k) for k in group if k != key), consequence))
            for group in _scope_groups(keys, consumer) for key in group]


def _kubelet_problems(document: Any, secret_type: str) -> list:
    problems: list = []
    p = problems.append
    flat = secret_type == SECRET_TYPE_DOCKERCFG
    parsed = kubelet_parse(document, 'dockercfg' if flat else 'dockerconfigjson')
    if parsed.error is not None:
        p(Problem(KUBELET, None, 'unparsable', 'the kubelet cannot read this secret, so every pull of a pod that uses it '
                  'fails: %s' % parsed.error, fatal=True))
        return problems
    try:
        raw_document = _go_json_load(document)
    except _GoJSONError:
        raw_document = None
    if flat and any(_go_fold(k) == 'AUTHS' and isinstance(v, _Obj) for k, v in raw_document or ()):
        p(Problem(KUBELET, None, 'layout-mismatch', 'a kubernetes.io/dockercfg secret holds the {"auths": …} layout of '
                  '.dockerconfigjson: the kubelet reads "auths" as a registry name and finds no credential; use type '
                  'kubernetes.io/dockerconfigjson or the flat layout', fatal=True))
    elif not flat and isinstance(raw_document, _Obj) and not any(_go_fold(k) == 'AUTHS' for k in _names(raw_document)) \
            and any(isinstance(v, _Obj) for v in _values(raw_document)):
        p(Problem(KUBELET, None, 'layout-mismatch', 'a kubernetes.io/dockerconfigjson secret holds the flat layout of '
                  '.dockercfg (no "auths"): the kubelet finds no registry in it; wrap the entries in "auths" or use type '
                  'kubernetes.io/dockercfg', fatal=True))
    elif not parsed.entries:
        p(Problem(KUBELET, None, 'no-registries', 'the kubelet finds no registry in this secret'))
    raw_entries = dict(_raw_auths(raw_document, flat))
    for key, credential in parsed.entries.items():
        index = kubelet_index_key(key)
        if index is None:
            p(Problem(KUBELET, key, 'ignored-key', 'the kubelet ignores registry %s: it is not a URL it can read' % _shown(key)))
            continue
        scope = _kubelet_scope(key)
        if scope is None:
            p(Problem(KUBELET, key, 'dead-key', 'registry %s (read as %s) matches no image the kubelet pulls'
                      % (_shown(key), _shown(index))))
        else:
            host = index.split('/', 1)[0]
            if host.lower() != host:
                p(Problem(KUBELET, key, 'host-case', 'registry %s matches only images whose host is written with exactly '
                          'these capitals; image references use lower case' % _shown(key)))
            if _GLOB_META.intersection(host):
                p(Problem(KUBELET, key, 'wildcard', 'registry %s is a wildcard: each host label is matched as a glob, '
                          'with the same number of labels' % _shown(key)))
            if scope[3] and not scope[3].endswith('/'):
                p(Problem(KUBELET, key, 'path-prefix', 'registry %s matches every repository whose path merely starts '
                          'with %r (also %s…)' % (_shown(key), scope[3], _shown(index + 'x'))))
        if any(c in key.split('://', 1)[-1] for c in '@?#%') or key.startswith(('HTTP', 'Http')):
            p(Problem(KUBELET, key, 'odd-spelling', 'the kubelet reads registry %s as %s' % (_shown(key), _shown(index))))
        raw = raw_entries.get(key)
        if credential.anonymous:
            token = isinstance(raw, _Obj) and any(_go_fold(f) in ('IDENTITYTOKEN', 'REGISTRYTOKEN') for f in _names(raw))
            p(Problem(KUBELET, key, 'no-credential', 'registry %s gives the kubelet no username or password%s'
                      % (_shown(key), ' (it ignores identitytoken)' if token else '')))
        fields = dict((_go_fold(f), v) for f, v in raw) if isinstance(raw, _Obj) else {}
        if fields.get('AUTH') and (fields.get('USERNAME') or fields.get('PASSWORD')):
            try:
                decoded = kubelet_decode_auth(fields['AUTH'])
            except ValueError:
                decoded = None
            if decoded is not None and (fields.get('USERNAME') or '', fields.get('PASSWORD') or '') != decoded:
                p(Problem(KUBELET, key, 'auth-overrides', 'registry %s: username/password differ from auth; the kubelet '
                          'uses auth' % _shown(key)))
        problems.extend(_field_problems(KUBELET, key, raw, ('username', 'password', 'email', 'auth')))
    problems.extend(_same_registry_problems(parsed.entries, KUBELET, 'the kubelet tries each, in an order that is not fixed'))
    return problems


def _containers_image_problems(document: Any) -> list:
    problems: list = []
    p = problems.append
    parsed = containers_image_parse(document)
    if parsed.error is not None:
        p(Problem(CONTAINERS_IMAGE, None, 'unparsable', 'the node\'s container runtime cannot read this document, so '
                  'every pull that needs a credential fails: %s' % parsed.error, fatal=True))
        return problems
    raw_document = _go_json_load(document)
    top = dict((_go_fold(k), k) for k in _names(raw_document or ()))
    if 'CREDSSTORE' in top:
        p(Problem(CONTAINERS_IMAGE, None, 'creds-store', '%r is ignored by the node\'s container runtime' % top['CREDSSTORE']))
    for registry, helper in parsed.cred_helpers.items():
        p(Problem(CONTAINERS_IMAGE, registry, 'cred-helper', 'credHelpers names helper %r for %s: pulls from it fail unless '
                  'docker-credential-%s is installed on every node' % (helper, _shown(registry), helper), fatal=True))
    if not parsed.auths:
        if isinstance(raw_document, _Obj) and 'AUTHS' not in top and any(isinstance(v, _Obj) for v in _values(raw_document)):
            p(Problem(CONTAINERS_IMAGE, None, 'layout-mismatch', 'the document has the flat .dockercfg layout (no "auths"): '
                      'the node\'s container runtime finds no credential in it', fatal=True))
        else:
            p(Problem(CONTAINERS_IMAGE, None, 'no-registries', 'the document holds no registry'))
    raw_entries = dict(_raw_auths(raw_document, False))
    for key, (auth, token) in parsed.auths.items():
        scope = _containers_image_scope(key)
        if scope is None:
            p(Problem(CONTAINERS_IMAGE, key, 'dead-key', 'registry %s is never looked up by the node\'s container runtime%s'
                      % (_shown(key), _dead_reason(key))))
        else:
            if key.startswith(('http://', 'https://')):
                p(Problem(CONTAINERS_IMAGE, key, 'scheme-key', 'registry %s is used for all of %s (its path is ignored), and '
                          'only when no key without http(s):// matches' % (_shown(key), scope[2])))
            host = key.split('://', 1)[-1].split('/', 1)[0]
            if host.lower() != host:
                p(Problem(CONTAINERS_IMAGE, key, 'host-case', 'registry %s matches only images whose host is written with '
                          'exactly these capitals; image references use lower case' % _shown(key)))
        raw = raw_entries.get(key)
        fields = dict((_go_fold(f), v) for f, v in raw) if isinstance(raw, _Obj) else {}
        try:
            pair = containers_image_decode_auth(auth)
        except ValueError:
            p(Problem(CONTAINERS_IMAGE, key, 'bad-auth', 'registry %s: auth is not padded base64, so every pull it serves '
                      'fails (the kubelet is more lenient)' % _shown(key), fatal=True))
            pair = ()
        if pair is None:
            if not auth and (fields.get('USERNAME') or fields.get('PASSWORD')):
                why = 'it has username/password but no auth, and only auth is read'
            elif not auth and token:
                why = 'an identitytoken is only used together with an auth'
            elif not auth:
                why = 'it has no auth'
            else:
                why = "auth does not decode to 'username:password'"
            p(Problem(CONTAINERS_IMAGE, key, 'no-credential', 'registry %s gives the node\'s container runtime no credential: '
                      '%s; for the images it serves it also hides any broader key' % (_shown(key), why)))
        problems.extend(_field_problems(CONTAINERS_IMAGE, key, raw, ('auth', 'identitytoken')))
    problems.extend(_same_registry_problems(parsed.auths, CONTAINERS_IMAGE, 'only one of them is used'))
    return problems


def _dead_reason(key: str) -> str:
    if key.endswith('/'):
        return " (it ends with '/')"
    if re.search('/v[12](/|$)', key):
        return ' (/v1/ and /v2/ are only understood after http(s)://)'
    if any(c in key for c in '@?#'):
        return ' (it is compared as written)'
    return ''


def problems(document: Any, consumer: str, secret_type: str = SECRET_TYPE_DOCKERCONFIGJSON) -> list:
    """Every reason consumer cannot (fully) use document (raw bytes, text or mapping), as Problem objects.

    kubelet: document is the data of a secret of secret_type; containers-image: the global pull
    secret's .dockerconfigjson.
    """
    _check_consumer(consumer)
    if consumer == KUBELET:
        return _kubelet_problems(document, secret_type)
    return _containers_image_problems(document)


def document_problems(document: Any, consumer: str, secret_type: str = SECRET_TYPE_DOCKERCONFIGJSON) -> list:
    """The problems of the whole document (Problem.key is None)."""
    return [p for p in problems(document, consumer, secret_type) if p.key is None]


def entry_problems(document: Any, consumer: str, secret_type: str = SECRET_TYPE_DOCKERCONFIGJSON) -> dict:
    """{key: [Problem, …]} for the entries consumer cannot (fully) use."""
    found: dict = {}
    for p in problems(document, consumer, secret_type):
        if p.key is not None:
            found.setdefault(p.key, []).append(p)
    return found


# -- explain a pull ------------------------------------------------------------------------------------

def lookup_pull(secrets: Sequence[Mapping], image: str, global_pull_secret: Any = None) -> tuple:
    """(KubeletLookup, ContainersImageLookup or None): what a node does for image, the one composition of the two models.

    The kubelet tries the pod's pull secrets, then the node's config.json (on OpenShift the global
    pull secret, /var/lib/kubelet/config.json). Only when the kubelet has no credential at all does
    CRI-O read its own auth file (the same global pull secret) through containers/image: that is the
    second lookup, None otherwise. global_pull_secret: the document as text, bytes or a parsed dict.
    """
    raw = global_pull_secret
    if isinstance(raw, Mapping):
        raw = json.dumps(raw)
    kubelet = kubelet_lookup(secrets, image, raw)
    runtime = None
    if kubelet.error is None and not kubelet.credentials and raw is not None:
        runtime = containers_image_lookup(raw, image)
    return kubelet, runtime


def explain_pull(secrets: Sequence[Mapping], image: str, global_pull_secret: Any = None) -> dict:
    """lookup_pull as a plain dict ("why ImagePullBackOff?"): ``attempts`` in the kubelet's order (``ordered`` False
    when Go map order decides among some of them), then ``runtime``, CRI-O's own answer. Nothing here holds a
    password: credentials are given as Credential.public() dicts.
    """
    kubelet, runtime = lookup_pull(secrets, image, global_pull_secret)
    result = {'image': image, 'repository': kubelet.repo, 'error': kubelet.error, 'attempts': [], 'ordered': True, 'runtime': None}
    if kubelet.error is not None:
        return result
    result['attempts'] = [c.public() for c in kubelet.credentials]
    result['ordered'] = kubelet.deterministic
    if runtime is not None:
        result['runtime'] = {
            'name': runtime.name,
            'ordered': runtime.deterministic,
            'answers': [{'credential': a.credential.public() if a.credential else None, 'error': a.error} for a in runtime.answers],
        }
    return result


def consumer_view(document: Any, consumer: str, secret_type: str = SECRET_TYPE_DOCKERCONFIGJSON) -> Optional[dict]:
    """What consumer makes of document, as a comparable value: {scope: sorted credentials}; None when it cannot read it.

    Two documents with equal views give every image the same credentials (the order among keys of
    one scope is Go map order in both), so "unchanged" can be decided on this, never on base64
    text. Dead keys do not appear. For containers-image a credential is (username, password,
    identitytoken), an entry without one is ('', '', '') (it still hides broader keys), and an
    auth that fails every pull it serves is 'invalid'.
    """
    _check_consumer(consumer)
    view: dict = {}
    if consumer == KUBELET:
        parsed = kubelet_parse(document, 'dockercfg' if secret_type == SECRET_TYPE_DOCKERCFG else 'dockerconfigjson')
        if parsed.error is not None:
            return None
        for key, credential in parsed.entries.items():
            # docker.io hides the index.docker.io fallback: here they are not one scope.
            scope = _kubelet_scope(key, hub_as_one=False)
            if scope is not None:
                view.setdefault(scope, []).append((credential.username, credential.password, credential.email))
    else:
        auth_file = containers_image_parse(document)
        if auth_file.error is not None:
            return None
        for key, (auth, token) in auth_file.auths.items():
            scope = _containers_image_scope(key)
            if scope is None:
                continue
            try:
                pair = containers_image_decode_auth(auth)
            except ValueError:
                value: Any = 'invalid'
            else:
                value = (pair[0], pair[1], token) if pair and (pair[0] or pair[1] or token) else ('', '', '')
            # A key without http(s):// is also looked up as written (before any normalised match).
            spelling = 'http(s)://' if key.startswith(('http://', 'https://')) else key
            view.setdefault(scope, []).append((spelling, value))
        for registry, helper in auth_file.cred_helpers.items():
            view[(CONTAINERS_IMAGE, 'helper', registry)] = [helper]
    return dict((scope, sorted(values, key=repr)) for scope, values in view.items())
