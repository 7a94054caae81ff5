# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The docker config format (Kubernetes pull secrets): parse, build, compare, merge, write, fingerprint, redact.

Registry key rules are _registry_keys', the modules' options _registry_options'. Pure logic, no
I/O. Error messages name the registry key and what is wrong, never a credential or the raw document.
"""

from __future__ import annotations

import base64
import collections
import decimal
import hashlib
import hmac
import json
import math
import os
import re

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_keys as rk
from ansible_collections.ocp.registry_access.plugins.module_utils._registry_keys import DockerConfigError

KEY_DOCKERCONFIGJSON = '.dockerconfigjson'
KEY_DOCKERCFG = '.dockercfg'
TYPES = {
    'dockerconfigjson': ('kubernetes.io/dockerconfigjson', KEY_DOCKERCONFIGJSON),
    'dockercfg': ('kubernetes.io/dockercfg', KEY_DOCKERCFG),
}

CREDENTIAL_FIELDS = ('username', 'password', 'email', 'identitytoken')
STRING_FIELDS = CREDENTIAL_FIELDS + ('auth',)


DockerConfig = collections.namedtuple('DockerConfig', ['auths', 'layout', 'extra'])
DockerConfig.__doc__ = """A parsed docker config: auths (key -> entry), layout ('dockerconfigjson' or 'dockercfg'), extra top-level keys."""


# -- helpers ---------------------------------------------------------------------------------

def _decode_auth(auth, key):
    """(username, password) from an `auth` field, read as the kubelet reads it (decodeDockerConfigFieldAuth).

    Newlines (base64's 76-column wrapping) are ignored and padding is optional, as in the kubelet;
    whether the node's container runtime also accepts it is cl.problems' answer (it wants padding).
    """
    try:
        return cl.kubelet_decode_auth(auth)
    except ValueError as e:
        raise DockerConfigError('%s: %s' % (rk.registry_label(key), e))


def _encode_auth(username, password):
    return base64.b64encode(('%s:%s' % (username or '', password or '')).encode('utf-8')).decode('ascii')


# -- parse and decode --------------------------------------------------------------------------

def _reject_constant(name):
    # Python's json accepts NaN and Infinity; Go's (the kubelet's) does not.
    raise DockerConfigError('the document is not valid JSON: %s is not a JSON value' % name)


def _load(data):
    if isinstance(data, dict):
        try:
            # A round trip through JSON copies the mapping and rejects what JSON cannot hold.
            data = json.dumps(data, allow_nan=False)
        except (TypeError, ValueError):
            raise DockerConfigError('the document holds values that JSON cannot represent')
    elif isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode('utf-8')
        except UnicodeDecodeError:
            raise DockerConfigError('the document is not UTF-8 text')
    elif not isinstance(data, str):
        raise DockerConfigError('a docker config must be JSON text or a mapping, not %s' % rk.json_type(data))
    if not data.strip():
        raise DockerConfigError('the document is empty')
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        # e.msg may quote a character of the document (r"Invalid \escape: 'x'"): keep the part before it.
        reason = re.sub(r':\s.*$', '', e.msg)
        raise DockerConfigError('the document is not valid JSON: %s at line %d column %d' % (reason, e.lineno, e.colno))


def parse_config(data):
    """Parse a docker config (bytes, JSON text or dict) of either layout into a DockerConfig; validates every entry."""
    document = _load(data)
    if not isinstance(document, dict):
        raise DockerConfigError('the top level of a docker config must be a JSON object, not %s' % rk.json_type(document))
    if 'auths' in document:
        layout = 'dockerconfigjson'
        auths = document['auths']
        if not isinstance(auths, dict):
            raise DockerConfigError("'auths' must be a JSON object of registry keys, not %s" % rk.json_type(auths))
        extra = dict((k, v) for k, v in document.items() if k != 'auths')
    else:
        layout = 'dockercfg'
        auths = document
        extra = {}
    for key, entry in auths.items():
        if key == '':
            raise DockerConfigError('a registry key is empty')
        if not isinstance(entry, dict):
            raise DockerConfigError('%s: the entry must be a JSON object, not %s' % (rk.registry_label(key), rk.json_type(entry)))
        decode_entry(entry, key)
    return DockerConfig(auths=auths, layout=layout, extra=extra)


def decode_entry(entry, key=None):
    """The credentials an entry gives: dict of username, password, email, identitytoken (None when absent or empty).

    A non-empty `auth` wins over the username/password fields, as in the kubelet and containers/image.
    `key` only names the registry in error messages.
    """
    if not isinstance(entry, dict):
        raise DockerConfigError('%s: the entry must be a JSON object, not %s' % (rk.registry_label(key), rk.json_type(entry)))
    for field in STRING_FIELDS:
        value = entry.get(field)
        if value is not None and not isinstance(value, str):
            raise DockerConfigError('%s: %s must be a string, not %s' % (rk.registry_label(key), field, rk.json_type(value)))
    username, password = entry.get('username'), entry.get('password')
    if entry.get('auth'):
        username, password = _decode_auth(entry['auth'], key)
    # Go strings have no "absent": an empty field and a missing one mean the same to the runtime.
    return {
        'username': username or None,
        'password': password or None,
        'email': entry.get('email') or None,
        'identitytoken': entry.get('identitytoken') or None,
    }


# -- build -----------------------------------------------------------------------------------

def build_entry(username=None, password=None, email=None, auth=None, identity_token=None, server=None):
    """An entry as `kubectl create secret docker-registry` writes it: username, password, email, auth[, identitytoken].

    Give username and password, or auth (base64 of 'username:password'), and/or identity_token.
    `server` only names the registry in error messages.
    """
    given = (('username', username), ('password', password), ('email', email), ('auth', auth),
             ('identity_token', identity_token))
    for name, value in given:
        if value is not None and not isinstance(value, str):
            raise DockerConfigError('%s: %s must be a string, not %s' % (rk.registry_label(server), name, rk.json_type(value)))
    pair = username is not None or password is not None
    if pair and auth is not None:
        raise DockerConfigError('%s: give either auth or username and password, not both' % rk.registry_label(server))
    if pair:
        if not username or not password:
            raise DockerConfigError('%s: username and password must both be given and not empty' % rk.registry_label(server))
        if ':' in username:
            # base64(user:pass) is split at the first ':', so such a username could not be read back (RFC 7617).
            raise DockerConfigError("%s: the username must not contain ':'" % rk.registry_label(server))
    elif auth is not None:
        if not auth:
            raise DockerConfigError('%s: auth is empty' % rk.registry_label(server))
        username, password = _decode_auth(auth, server)
    elif not identity_token:
        raise DockerConfigError('%s: give username and password, auth, or identity_token' % rk.registry_label(server))

    entry = {}
    if username:
        entry['username'] = username
    if password:
        entry['password'] = password
    if email:
        entry['email'] = email
    if pair or auth is not None:
        entry['auth'] = _encode_auth(username, password)
    if identity_token:
        entry['identitytoken'] = identity_token
    return entry


# -- serialize (Go encoding/json compatible) -------------------------------------------------

# Go's json.Marshal escapes these for HTML safety; all other non-ASCII is written as raw UTF-8.
_GO_ESCAPES = {'"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f',
               '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029'}
_GO_NEEDS_ESCAPE = re.compile('["\\\\<>&\u2028\u2029\x00-\x1f\ud800-\udfff]')


def _go_escape_char(match):
    char = match.group(0)
    if char in _GO_ESCAPES:
        return _GO_ESCAPES[char]
    if '\ud800' <= char <= '\udfff':
        # A lone surrogate (from a "\ud800" escape) is what Go's decoder turns into U+FFFD.
        return '\ufffd'
    return '\\u%04x' % ord(char)


def _go_string(value):
    return '"' + _GO_NEEDS_ESCAPE.sub(_go_escape_char, value) + '"'


def _go_float(value):
    if math.isnan(value) or math.isinf(value):
        raise DockerConfigError('a docker config cannot hold NaN or Infinity')
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        # repr gives the shortest digits in e notation in this range, as Go does; Go writes e-7 for e-07.
        return re.sub(r'e-0(\d)$', r'e-\1', repr(value))
    return format(decimal.Decimal(repr(value)).normalize(), 'f')


def _go_json(value, sort_keys):
    """JSON text of a value as Go writes it; objects keep their order unless sort_keys (Go maps)."""
    if isinstance(value, str):
        return _go_string(value)
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        keys = sorted(value) if sort_keys else list(value)
        return '{' + ','.join('%s:%s' % (_go_string(str(k)), _go_json(value[k], False)) for k in keys) + '}'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_go_json(item, False) for item in value) + ']'
    raise DockerConfigError('a docker config cannot hold a value of type %s' % type(value).__name__)


def _auths_json(auths):
    parts = []
    for key in sorted(auths):
        if auths[key] is not None and not isinstance(auths[key], dict):
            raise DockerConfigError('%s: the entry must be a mapping, not %s' % (rk.registry_label(key), rk.json_type(auths[key])))
        parts.append('%s:%s' % (_go_string(key), _go_json(auths[key], False)))
    return '{' + ','.join(parts) + '}'


def serialize(auths, layout='dockerconfigjson', extra=None):
    """The config as bytes, byte-compatible with kubectl (Go json.Marshal): compact, registry keys sorted, HTML-safe escapes."""
    if layout not in TYPES:
        raise DockerConfigError('unknown docker config layout %r; use one of %s' % (layout, ', '.join(sorted(TYPES))))
    extra = extra or {}
    if layout == 'dockercfg':
        if extra:
            raise DockerConfigError('the dockercfg layout has no place for top-level keys (%s)' % ', '.join(sorted(extra)))
        return _auths_json(auths).encode('utf-8')
    if 'auths' in extra:
        raise DockerConfigError("extra top-level keys must not include 'auths'")
    parts = ['"auths":' + _auths_json(auths)]
    parts.extend('%s:%s' % (_go_string(k), _go_json(extra[k], False)) for k in sorted(extra))
    return ('{' + ','.join(parts) + '}').encode('utf-8')


# -- compare, merge, remove ------------------------------------------------------------------

def entries_equal(a, b):
    """True when both entries give the same credentials (decoded; base64 text is never compared)."""
    return decode_entry(a) == decode_entry(b)


def update_entry(existing, desired):
    """existing with the credentials of desired (an entry from build_entry); every other field kept where it is.

    `auth` always carries the new credentials; `username` and `password` are rewritten only where the existing
    entry has them; `email` is kept unless desired gives one; fields unknown to the runtime are kept. An
    identity token alone (no `auth` in desired) replaces the username, password and auth of the entry.
    """
    # Go reads "Auth", "USERNAME"... as the same fields (case-insensitively): an old spelling would compete with the new value.
    replaced = ('auth', 'username', 'password', 'identitytoken')
    entry = dict((k, v) for k, v in existing.items() if k.lower() not in replaced or k in replaced)
    if desired.get('auth'):
        entry['auth'] = desired['auth']
        for field in ('username', 'password'):
            if field in existing:
                entry[field] = desired.get(field)
    else:
        for field in ('auth', 'username', 'password'):
            entry.pop(field, None)
    if desired.get('identitytoken'):
        entry['identitytoken'] = desired['identitytoken']
    else:
        entry.pop('identitytoken', None)
    if desired.get('email'):
        entry['email'] = desired['email']
    return entry


def merge(current, desired, update=None, consumer=cl.KUBELET, same=None):
    """(new_auths, added, updated, unchanged): desired entries added or updated, every other entry kept as is.

    Every existing key that serves the same registry for consumer gets the entry (no second spelling is
    added); a registry no key serves is added under its desired key. update(existing_entry, desired_entry)
    gives the entry written over an existing one (update_entry keeps its other fields); by default the
    desired entry replaces it. same(key, before, after) says whether an entry is unchanged (default:
    entries_equal); an unchanged entry is kept byte for byte.
    """
    rk.check_distinct(desired, consumer)
    same = same or (lambda _key, a, b: entries_equal(a, b))
    new_auths = dict(current)
    added, updated, unchanged = [], [], []
    for key, entry in desired.items():
        matches = rk.keys_serving(current, key, consumer)
        if not matches:
            new_auths[key] = entry
            added.append(key)
            continue
        for existing in matches:
            before = current[existing]
            entry_after = update(before, entry) if update and isinstance(before, dict) else entry
            if isinstance(before, dict) and same(existing, before, entry_after):
                unchanged.append(existing)
            else:
                new_auths[existing] = entry_after
                updated.append(existing)
    return new_auths, added, updated, unchanged


def remove(current, servers, consumer=cl.KUBELET):
    """(new_auths, removed_keys): current without every key that still serves one of servers for consumer."""
    removed = set()
    for server in servers:
        removed.update(rk.keys_serving(current, server, consumer))
    new_auths = dict((k, v) for k, v in current.items() if k not in removed)
    return new_auths, [k for k in current if k in removed]


# -- safe views ------------------------------------------------------------------------------

# Fingerprints are keyed (HMAC-SHA256): without the key, a fingerprint published next to a username
# cannot be checked against guessed passwords offline. The key is the module's fingerprint_key
# (_registry_options.FINGERPRINT_OPTIONS), or a random key drawn once per module run: entries of one
# result that carry the same credential still share a fingerprint, but fingerprints of two runs can
# only be compared when both had the same key.
_RANDOM_KEY_BYTES = 32
_fingerprint_key = [os.urandom(_RANDOM_KEY_BYTES)]


def set_fingerprint_key(key=None):
    """Key this run's fingerprints with key (text), or with a new random key when key is None or empty."""
    if key is not None and not isinstance(key, (str, bytes)):
        raise DockerConfigError('fingerprint_key must be a string')
    if isinstance(key, str):
        key = key.encode('utf-8')
    _fingerprint_key[0] = key or os.urandom(_RANDOM_KEY_BYTES)


def _mac12(text, key=None):
    if isinstance(key, str):
        key = key.encode('utf-8')
    return hmac.new(key or _fingerprint_key[0], text.encode('utf-8'), hashlib.sha256).hexdigest()[:12]


def fingerprint_entry(entry, key=None):
    """First 12 hex digits of HMAC-SHA256 over the decoded credentials (canonical JSON), keyed with key or this run's key."""
    return _mac12(json.dumps(_readable(entry), sort_keys=True, separators=(',', ':')), key)


def fingerprint_config(auths, key=None):
    """First 12 hex digits of HMAC-SHA256 over the sorted [key, entry fingerprint] pairs."""
    pairs = sorted([k, fingerprint_entry(v, key)] for k, v in auths.items())
    return _mac12(json.dumps(pairs, separators=(',', ':')), key)


def _readable(entry, key=None):
    """decode_entry, or no credential for an entry kept as it is that does not decode (a null entry, a bad auth)."""
    try:
        return decode_entry(entry, key)
    except DockerConfigError:
        return {'username': None, 'password': None, 'email': None, 'identitytoken': None, 'unreadable': True}


def summarize(auths, key=None):
    """What results and diffs may show of validated auths: server, username, email and fingerprint per entry."""
    summary = []
    for server, entry in auths.items():
        decoded = _readable(entry, server)
        summary.append({'server': server, 'username': decoded['username'], 'email': decoded['email'],
                        'fingerprint': fingerprint_entry(entry, key)})
    return summary


def secret_values(auths):
    """Every credential string in auths (passwords, auth values, identity tokens), to hide from any output."""
    values = set()
    for key, entry in (auths or {}).items():
        if not isinstance(entry, dict):
            continue
        for field in ('password', 'auth', 'identitytoken'):
            if isinstance(entry.get(field), str):
                values.add(entry[field])
        try:
            decoded = decode_entry(entry, key)
        except DockerConfigError:
            # Best effort: the raw fields above are hidden even when the entry does not decode.
            continue
        if decoded['password']:
            values.add(decoded['password'])
            values.add(_encode_auth(decoded['username'], decoded['password']))
    # The whole document as the modules send it in a Secret's data, in either layout: its base64 hides
    # every credential (its plain JSON holds each credential in a form masked above).
    for layout in TYPES:
        try:
            values.update(v for v in document_values(serialize(auths or {}, layout=layout)) if not v.startswith('{'))
        except DockerConfigError:
            continue
    values.discard('')
    return values


def document_values(data):
    """The ways a whole document travels: its text and its base64 (the value of a Secret's data key)."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    if not data or data in (b'{}', b'{"auths":{}}'):
        return set()
    return set([data.decode('utf-8', 'replace'), base64.b64encode(data).decode('ascii')])


def secret_object_values(secret):
    """Every credential of a Secret (read from the server or about to be sent): each data value as sent (base64)
    and as text, and the credentials of a docker config in it (valid or not; any spelling of "auths", as Go
    reads it, or the dockercfg layout), to hide from any output. The one Secret-to-strings step of redaction."""
    values = set()
    for blob in ((secret or {}).get('data') or {}).values():
        if not isinstance(blob, str) or not blob:
            continue
        values.add(blob)
        try:
            raw = base64.b64decode(blob, validate=True)
        except (ValueError, TypeError):
            continue
        values.update(document_values(raw))
        try:
            document = json.loads(raw.decode('utf-8'))
        except ValueError:  # also UnicodeDecodeError
            continue
        if not isinstance(document, dict):
            continue
        for auths in [v for k, v in document.items() if k.lower() == 'auths'] or [document]:
            if isinstance(auths, dict):
                values.update(secret_values(dict((k, v) for k, v in auths.items() if isinstance(v, dict))))
    values.discard('')
    return values


def _forms(value):
    """The ways a value can show up in text: raw, base64, JSON-escaped (Python's and Go's)."""
    return {
        value,
        base64.b64encode(value.encode('utf-8')).decode('ascii'),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        _go_string(value)[1:-1],
    }


# A run of base64 text long enough to hide a credential inside an encoded document.
_BASE64_RUN = re.compile(r'[A-Za-z0-9+/]{16,}={0,2}')


def _decodes_to_one_of(run, pattern):
    """Whether a base64 run (whole, a part cut at either end, any alignment) decodes to text holding a form."""
    body = run.rstrip('=')
    for offset in range(4):
        chunk = body[offset:]
        chunk = chunk[:len(chunk) - len(chunk) % 4]
        if len(chunk) < 4:
            continue
        try:
            text = base64.b64decode(chunk).decode('utf-8', 'replace')
        except (ValueError, TypeError):
            continue
        if pattern.search(text):
            return True
    return False


def redact(text, values, mask='********'):
    """text with every value (and its base64 and JSON-escaped forms) replaced by mask, longest first.

    Base64 text that decodes to something holding one of the values (a whole document sent as a
    Secret's data, echoed by an admission webhook, maybe cut short) is masked as a whole too.
    """
    if not isinstance(text, str) or not values:
        return text
    forms = set()
    for value in values:
        if isinstance(value, str) and value:
            forms.update(_forms(value))
    forms.discard('')
    if not forms:
        return text
    pattern = re.compile('|'.join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))))
    text = _BASE64_RUN.sub(lambda m: mask if _decodes_to_one_of(m.group(0), pattern) else m.group(0), text)
    return pattern.sub(lambda m: mask, text)
