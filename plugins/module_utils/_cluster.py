# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The one Kubernetes API client of the collection.

Connection options and K8S_AUTH_* variables as kubernetes.core has them, kubeconfig (path or
dict), in-cluster config, impersonation; raw JSON requests over one urllib3 pool with bounded
retries on 429, 5xx and dropped connections; optimistic read-modify-write retried on 409; API
errors as one-line messages with credentials redacted.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.warnings import warn
from urllib.parse import urlencode

from ansible_collections.ocp.registry_access.plugins.module_utils._constants import (
    MAX_CONFLICT_ATTEMPTS, USER_AGENT, one_line, resource_path,
)
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError, ConfigError

try:
    import urllib3
    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - urllib3 comes with the kubernetes client
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR = exc


RETRY_STATUSES = frozenset([429, 500, 502, 503, 504])
MAX_ATTEMPTS = 6
BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0
CONFLICT_PAUSE_BASE = 0.1
CONFLICT_PAUSE_CAP = 3.0
REQUEST_TIMEOUT = 30
# How long a token from the kubeconfig's refresh hook (exec plugin, auth provider) is reused; a 401 asks again at once.
REFRESH_EVERY = 10.0
MAX_PARALLEL = 16
# Items per list page. At OpenShift's tested maximum of 10,000 namespaces every list the modules send
# (namespaces; secrets and service accounts by name; role bindings at one per namespace) fits in one page:
# at 5000, a rerun over 10,000 namespaces sent 15 lists instead of 5 (a last, empty page included when
# exactly 10,000 matched). Larger lists still come page by page.
LIST_PAGE = 20000


def _env(*names):
    return (env_fallback, list(names))


# Names, aliases and variables as in kubernetes.core (both spellings of each variable).
CONNECTION_ARG_SPEC = dict(
    kubeconfig=dict(type='raw', fallback=_env('K8S_AUTH_KUBECONFIG')),
    context=dict(type='str', fallback=_env('K8S_AUTH_CONTEXT')),
    host=dict(type='str', fallback=_env('K8S_AUTH_HOST')),
    api_key=dict(type='str', no_log=True, fallback=_env('K8S_AUTH_API_KEY')),
    validate_certs=dict(type='bool', aliases=['verify_ssl'], fallback=_env('K8S_AUTH_VALIDATE_CERTS', 'K8S_AUTH_VERIFY_SSL')),
    ca_cert=dict(type='path', aliases=['ssl_ca_cert'], fallback=_env('K8S_AUTH_CA_CERT', 'K8S_AUTH_SSL_CA_CERT')),
    client_cert=dict(type='path', aliases=['cert_file'], fallback=_env('K8S_AUTH_CLIENT_CERT', 'K8S_AUTH_CERT_FILE')),
    client_key=dict(type='path', aliases=['key_file'], no_log=False, fallback=_env('K8S_AUTH_CLIENT_KEY', 'K8S_AUTH_KEY_FILE')),
    proxy=dict(type='str', fallback=_env('K8S_AUTH_PROXY')),
    no_proxy=dict(type='str', fallback=_env('K8S_AUTH_NO_PROXY')),
    impersonate_user=dict(type='str', fallback=_env('K8S_AUTH_IMPERSONATE_USER')),
    impersonate_groups=dict(type='list', elements='str', fallback=_env('K8S_AUTH_IMPERSONATE_GROUPS')),
)

# Fields of a kubeconfig user that hold no secret: every other string of a user is hidden.
KUBECONFIG_PUBLIC_USER_FIELDS = frozenset(['username', 'as', 'as-uid', 'as-groups', 'tokenFile', 'client-certificate',
                                           'client-key'])
# Fields of an exec plugin that hold no secret; env values and secret-looking flag values are hidden.
KUBECONFIG_PUBLIC_EXEC_FIELDS = frozenset(['command', 'apiVersion', 'installHint', 'provideClusterInfo',
                                           'interactiveMode'])


def _strings(value):
    """Every non-empty string inside a YAML value (mappings, lists, scalars)."""
    if isinstance(value, str):
        return set([value]) if value else set()
    if isinstance(value, dict):
        return set().union(*[_strings(v) for v in value.values()]) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*[_strings(v) for v in value]) if value else set()
    return set()


def _url_password(url):
    """The password of a user:password@ part of a URL, if any."""
    if not isinstance(url, str) or '@' not in url:
        return set()
    authority = url.split('://', 1)[-1].split('/', 1)[0]
    userinfo = authority.rpartition('@')[0]
    return set(v for v in (userinfo, userinfo.partition(':')[2]) if v)


# An exec plugin flag whose value is a credential; other flag values are hidden when long enough to be one.
_SECRET_FLAG = re.compile(r'token|secret|passw|key|credential|auth|cert', re.IGNORECASE)
_SECRET_MIN_LENGTH = 16


def _exec_arg_secrets(args):
    values = set()
    args = [a for a in args if isinstance(a, str)] if isinstance(args, list) else []
    for index, arg in enumerate(args):
        if arg.startswith('-') and '=' in arg:
            flag, value = arg.split('=', 1)
        elif index and args[index - 1].startswith('-') and '=' not in args[index - 1] and not arg.startswith('-'):
            flag, value = args[index - 1], arg
        else:
            flag, value = '', arg
        if value and (_SECRET_FLAG.search(flag) or len(value) >= _SECRET_MIN_LENGTH):
            values.add(value)
    return values


def _exec_secrets(plugin):
    values = set()
    for key, value in plugin.items():
        if key == 'env':
            for item in value if isinstance(value, list) else []:
                if isinstance(item, dict):
                    values |= _strings(item.get('value'))
        elif key == 'args':
            values |= _exec_arg_secrets(value)
        elif key not in KUBECONFIG_PUBLIC_EXEC_FIELDS:
            values |= _strings(value)
    return values


def _items(value):
    """The entries of a kubeconfig list, none if it is not a list (the kubeconfig is refused later, not here)."""
    return value if isinstance(value, list) else []


def kubeconfig_secret_values(kubeconfig):
    """Every string of a kubeconfig dict that may be a credential (for no_log_values).

    Deny by default: of each user (every user, not only the current context's), every string but
    the few known to be public (username, file paths, impersonation); all of an auth provider's
    config (OIDC id-token, refresh-token, client-secret, access-token, ...); an exec plugin's env
    values, the values of its credential flags (--token=...) and any argument long enough to be a
    credential; a password in a cluster's proxy-url or server URL.
    """
    values = set()
    if not isinstance(kubeconfig, dict):
        return values
    for user in _items(kubeconfig.get('users')):
        fields = (user or {}).get('user') if isinstance(user, dict) else None
        if not isinstance(fields, dict):
            continue
        for key, value in fields.items():
            if key in KUBECONFIG_PUBLIC_USER_FIELDS:
                continue
            if key == 'exec' and isinstance(value, dict):
                values |= _exec_secrets(value)
            elif key == 'auth-provider' and isinstance(value, dict):
                values |= _strings(value.get('config'))
            else:
                values |= _strings(value)
    for cluster in _items(kubeconfig.get('clusters')):
        fields = (cluster or {}).get('cluster') if isinstance(cluster, dict) else None
        if isinstance(fields, dict):
            values |= _url_password(fields.get('proxy-url')) | _url_password(fields.get('server'))
    values.discard('')
    return values


def connection_secret_values(params):
    """Credentials in the connection options: the kubeconfig dict's, and a password in host or proxy."""
    values = kubeconfig_secret_values(params.get('kubeconfig'))
    values |= _url_password(params.get('host')) | _url_password(params.get('proxy'))
    return values


class ClusterModule(AnsibleModule):
    """AnsibleModule that hides a kubeconfig dict's credentials from the moment the arguments are read.

    AnsibleModule fails on a bad argument (a missing option, two exclusive ones) before the module's code
    runs, and echoes every argument in that failure's invocation: the credentials must already be masked.
    """

    def _load_params(self):
        super()._load_params()
        if isinstance(self.params, dict):
            _stringify_scalars_for_suboptions(self.argument_spec, self.params)
            self.no_log_values.update(connection_secret_values(self.params))
            # AnsibleModule collects the no_log options' values only if every option validates: one bad
            # suboption (registries: [null]) and api_key or a password would be echoed in the failure.
            self.no_log_values.update(_no_log_strings(self.argument_spec, self.params))


def _stringify_scalars_for_suboptions(spec, params):
    """Turn a boolean or a number given to a dict option with suboptions into its text, in place.

    ansible-core (2.16 to 2.21) validates a dict option's suboptions before it checks that it has a
    dict: expected: false raised a TypeError out of AnsibleModule (a traceback) instead of a validation
    error. Given text, it fails as for any other value that is not a dict. (A list of dicts holding a
    scalar is refused cleanly already.)
    """
    for name, option in spec.items():
        if not option.get('options'):
            continue
        for key in [name] + list(option.get('aliases') or []):
            value = params.get(key)
            if option.get('type') == 'dict' and isinstance(value, (bool, int, float)):
                warn('%s: %r is not a dict' % (key, value))
                params[key] = str(value)
            for item in (value if isinstance(value, list) else [value]):
                if isinstance(item, dict):
                    _stringify_scalars_for_suboptions(option['options'], item)


def _no_log_strings(spec, params):
    """The strings given (as they are, before validation) to the no_log options of spec, suboptions included."""
    values = set()
    if not isinstance(params, dict):
        return values
    for name, option in spec.items():
        for key in [name] + list(option.get('aliases') or []):
            if key not in params:
                continue
            value = params[key]
            if option.get('no_log'):
                values |= _strings(value)
            elif option.get('options'):
                for item in (value if isinstance(value, list) else [value]):
                    values |= _no_log_strings(option['options'], item)
    return values


# What each header the connection options set comes from, for messages that must not show the value.
HEADER_SOURCES = {'Authorization': "the bearer token (api_key, or the kubeconfig user's token)",
                  'Impersonate-User': 'impersonate_user', 'Impersonate-Group': 'impersonate_groups'}


def _check_headers(headers):
    """An HTTP header carries printable ASCII only: fail clearly instead of deep in http.client."""
    for key, value in headers.items():
        for item in (value if isinstance(value, list) else [value]):
            text = item if isinstance(item, str) else str(item)
            if not text or any(ord(c) < 0x20 or ord(c) > 0x7e for c in text):
                raise ConfigError('%s must be printable ASCII text, without line breaks or other control characters'
                                  % HEADER_SOURCES.get(key, key))


class Connection(object):
    """Resolved endpoint and credentials."""

    def __init__(self, host, headers=None, ca_cert=None, client_cert=None, client_key=None,
                 verify=True, proxy=None, no_proxy=None, refresh=None):
        self.host = host.rstrip('/')
        self.headers = headers or {}
        self.ca_cert = ca_cert
        self.client_cert = client_cert
        self.client_key = client_key
        self.verify = verify
        self.proxy = proxy
        self.no_proxy = no_proxy
        self.refresh = refresh


def _authorization(cfg):
    token = (cfg.api_key or {}).get('authorization') or (cfg.api_key or {}).get('BearerToken')
    if token:
        prefix = (cfg.api_key_prefix or {}).get('authorization')
        return '%s %s' % (prefix, token) if prefix and not token.startswith(prefix) else token
    if cfg.username and cfg.password:
        return urllib3.make_headers(basic_auth='%s:%s' % (cfg.username, cfg.password))['authorization']
    return None


def _from_kubernetes_configuration(cfg):
    auth = _authorization(cfg)

    def renewed():
        cfg.refresh_api_key_hook(cfg)
        return _authorization(cfg)

    # exec plugins and auth providers renew the token through this hook
    refresh = renewed if cfg.refresh_api_key_hook is not None else None
    return Connection(cfg.host, headers={'Authorization': auth} if auth else {}, ca_cert=cfg.ssl_ca_cert,
                      client_cert=cfg.cert_file, client_key=cfg.key_file, verify=cfg.verify_ssl, proxy=cfg.proxy,
                      no_proxy=getattr(cfg, 'no_proxy', None), refresh=refresh)


def _load_kubeconfig(kubeconfig, context):
    try:
        from kubernetes import config as kconfig
        from kubernetes.client import Configuration
    except ImportError:
        raise ConfigError(missing_required_lib('kubernetes') + ' (needed to read a kubeconfig)')
    cfg = Configuration()
    try:
        if isinstance(kubeconfig, dict):
            kconfig.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=cfg, persist_config=False)
        else:
            kconfig.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg, persist_config=False)
    except Exception as e:  # the kubernetes client raises many types here
        raise ConfigError('cannot use kubeconfig %s: %s' % ('(dict)' if isinstance(kubeconfig, dict) else kubeconfig, one_line(e)))
    return _from_kubernetes_configuration(cfg)


def _load_incluster():
    token_file = '/var/run/secrets/kubernetes.io/serviceaccount/token'
    host, port = os.environ.get('KUBERNETES_SERVICE_HOST'), os.environ.get('KUBERNETES_SERVICE_PORT')
    if not (host and port and os.path.exists(token_file)):
        return None
    with open(token_file) as f:
        token = f.read().strip()
    if ':' in host:
        host = '[%s]' % host
    return Connection('https://%s:%s' % (host, port), headers={'Authorization': 'Bearer ' + token},
                      ca_cert='/var/run/secrets/kubernetes.io/serviceaccount/ca.crt')


def resolve_connection(params):
    """The Connection described by the module's connection options (kubernetes.core's precedence)."""
    kubeconfig, context = params.get('kubeconfig'), params.get('context')
    if kubeconfig is not None and not isinstance(kubeconfig, (str, dict)):
        raise ConfigError('kubeconfig must be a path or a dict')
    if isinstance(kubeconfig, str):
        kubeconfig = os.path.expanduser(kubeconfig)
        if not os.path.exists(kubeconfig):
            raise ConfigError('kubeconfig %s does not exist' % kubeconfig)
    if kubeconfig is not None:
        conn = _load_kubeconfig(kubeconfig, context)
    elif params.get('host'):
        conn = Connection(params['host'])
    else:
        # a context names a kubeconfig entry; otherwise a pod's own service account comes first
        conn = None if context else _load_incluster()
        if conn is None:
            paths = [os.path.expanduser(p) for p in os.environ.get('KUBECONFIG', '~/.kube/config').split(os.pathsep) if p]
            existing = [p for p in paths if os.path.exists(p)]
            if not existing:
                raise ConfigError('no cluster given: set host and api_key, or kubeconfig (or K8S_AUTH_* variables), '
                                  'or run in a pod; %s does not exist' % ', '.join(paths))
            # several KUBECONFIG files are merged, as kubectl does
            conn = _load_kubeconfig(os.pathsep.join(existing), context)
    # Explicit options override what a kubeconfig says, as in kubernetes.core.
    if params.get('host'):
        conn.host = params['host'].rstrip('/')
    if params.get('api_key'):
        conn.headers['Authorization'] = 'Bearer ' + params['api_key']
        conn.refresh = None
    if params.get('ca_cert'):
        conn.ca_cert = params['ca_cert']
    if params.get('client_cert'):
        conn.client_cert = params['client_cert']
    if params.get('client_key'):
        conn.client_key = params['client_key']
    if params.get('validate_certs') is not None:
        conn.verify = params['validate_certs']
    if params.get('proxy'):
        conn.proxy = params['proxy']
    if params.get('no_proxy'):
        conn.no_proxy = params['no_proxy']
    if params.get('impersonate_user'):
        conn.headers['Impersonate-User'] = params['impersonate_user']
    if params.get('impersonate_groups'):
        conn.headers['Impersonate-Group'] = list(params['impersonate_groups'])
    if not conn.host.startswith(('https://', 'http://')):
        raise ConfigError('host %s must start with https:// or http://' % conn.host)
    _check_headers(conn.headers)
    return conn


def _bypass_proxy(host, no_proxy):
    hostname = host.split('://', 1)[-1].split('/', 1)[0].rsplit(':', 1)[0].strip('[]')
    for entry in (no_proxy or '').split(','):
        entry = entry.strip().lstrip('*').lstrip('.')
        if entry and (hostname == entry or hostname.endswith('.' + entry)):
            return True
    return False


def _check_tls_files(connection):
    """Fail at once on a CA, certificate or key file that cannot be used (every retry would fail the same way)."""
    context = ssl.create_default_context()
    try:
        if connection.ca_cert:
            context.load_verify_locations(cafile=connection.ca_cert)
        if connection.client_cert:
            # no passphrase: an encrypted key is refused here instead of prompting on a terminal
            context.load_cert_chain(connection.client_cert, connection.client_key, password=lambda: '')
        elif connection.client_key:
            with open(connection.client_key, 'rb'):  # urllib3 reads it even without a certificate
                pass
    except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
        raise ConfigError('cannot use the TLS files (ca_cert %s, client_cert %s, client_key %s): %s'
                          % (connection.ca_cert, connection.client_cert, connection.client_key, one_line(e)))


def _certificate_rejection(error):
    """What verification found wrong with the server's certificate, if that is why error happened, else None.

    urllib3 wraps the ssl.SSLCertVerificationError (in SSLError, ProxyError, MaxRetryError), so the
    causes and arguments are searched."""
    pending, seen = [error], set()
    while pending:
        e = pending.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return getattr(e, 'verify_message', None) or getattr(e, 'reason', None) or str(e)
        pending.extend([e.__cause__, e.__context__, getattr(e, 'reason', None)] + list(e.args))
    return None


class Client(object):
    """Raw JSON requests to the API server, with retries and safe errors.

    A dry-run client (check mode) reads as any other but sends no write: create and replace return
    the object that would be written, delete says whether there was something to delete. Questions
    to the API (reviews, ask) are sent either way.
    """

    def __init__(self, connection, redact=None, sleep=time.sleep, dry_run=False, clock=time.monotonic):
        if not HAS_URLLIB3:  # pragma: no cover
            raise ConfigError(missing_required_lib('urllib3'))
        self.conn = connection
        self.dry_run = dry_run
        self.redact = redact or (lambda text: text)
        self.sleep = sleep
        self.clock = clock
        self._refresh_lock = threading.Lock()
        self._refreshed = None  # (when, authorization) from connection.refresh
        self.warnings = []
        self.requests_sent = 0
        kwargs = dict(maxsize=MAX_PARALLEL, block=True, retries=False,
                      timeout=urllib3.Timeout(connect=10, read=REQUEST_TIMEOUT))
        if connection.host.startswith('https://'):
            kwargs.update(cert_reqs='CERT_REQUIRED' if connection.verify else 'CERT_NONE',
                          ca_certs=connection.ca_cert, cert_file=connection.client_cert, key_file=connection.client_key)
            if not connection.verify:
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        if connection.proxy and not _bypass_proxy(connection.host, connection.no_proxy):
            try:
                self.http = urllib3.ProxyManager(connection.proxy, **kwargs)
            except ValueError:  # urllib3's LocationParseError, ProxySchemeUnknown
                raise ConfigError('proxy is not a valid http:// or https:// URL')
        else:
            self.http = urllib3.PoolManager(**kwargs)

    @classmethod
    def from_module(cls, module, redact=None, dry_run=False):
        """A client for an AnsibleModule, or fail_json with why not."""
        try:
            return cls.from_params(module.params, redact=redact, dry_run=dry_run, hide=module.no_log_values.add)
        except ConfigError as e:
            module.fail_json(msg=str(e))

    @classmethod
    def from_params(cls, params, redact=None, dry_run=False, hide=None):
        """A client for the connection options in params; ConfigError with why not. hide(value) learns each credential first."""
        for value in connection_secret_values(params):
            if hide is not None:
                hide(value)
        connection = resolve_connection(params)
        if connection.host.startswith('https://'):
            _check_tls_files(connection)
        return cls(connection, redact=redact, dry_run=dry_run)

    # -- one request --------------------------------------------------------------------

    def _authorization(self, again=False):
        """The Authorization from the connection's refresh hook, asked at most every REFRESH_EVERY seconds (None: none).

        The hook of a kubeconfig loaded by the kubernetes library rebuilds its whole configuration
        (and reads the proxy environment) at each call: once per request it cost an eighth of the
        client's CPU. again: ask now (the server answered 401 to the one in use).
        """
        with self._refresh_lock:
            now = self.clock()
            if again or self._refreshed is None or now - self._refreshed[0] >= REFRESH_EVERY:
                self._refreshed = (now, self.conn.refresh())
            return self._refreshed[1]

    def _headers(self, content_type, refresh_again=False):
        headers = urllib3.HTTPHeaderDict()
        headers['Accept'] = 'application/json'
        headers['User-Agent'] = USER_AGENT
        for key, value in self.conn.headers.items():
            for item in (value if isinstance(value, list) else [value]):
                headers.add(key, item)
        if self.conn.refresh is not None:
            auth = self._authorization(again=refresh_again)
            if auth:
                headers['Authorization'] = auth
        if content_type:
            headers['Content-Type'] = content_type
        return headers

    def request(self, method, path, body=None, query=None, content_type='application/json'):
        """Decoded JSON of a successful request; ApiError otherwise. Retries what is safe to retry."""
        url = self.conn.host + path
        if query:
            url += '?' + urlencode(sorted((k, v) for k, v in query.items() if v is not None))
        data = None if body is None else json.dumps(body, separators=(',', ':')).encode('utf-8')
        headers = self._headers(content_type if body is not None else None)
        attempt, refreshed_after_401 = 0, False
        while True:
            attempt += 1
            try:
                self.requests_sent += 1
                resp = self.http.request(method, url, body=data, headers=headers, preload_content=True)
            except urllib3.exceptions.LocationValueError as e:  # a malformed host: no use retrying
                raise ApiError(None, None, 'host %s is not a valid URL: %s' % (self.conn.host, self.redact(one_line(str(e)))),
                               method, path)
            except (urllib3.exceptions.HTTPError, OSError) as e:
                rejected = _certificate_rejection(e)
                if rejected is not None:  # the same certificate comes back on every attempt: no use retrying
                    raise ApiError(None, None, 'the API server certificate at %s failed verification: %s; set ca_cert '
                                   'to the CA that signed it, or validate_certs to false to skip verification'
                                   % (self.conn.host, self.redact(one_line(self.redact(rejected)))), method, path)
                if attempt < MAX_ATTEMPTS:
                    self._backoff(attempt)
                    continue
                raise ApiError(None, None, 'cannot reach the API server at %s after %d attempts: %s'
                               % (self.conn.host, attempt, self.redact(one_line(self.redact(str(e))))), method, path)
            except ValueError as e:  # UnicodeError too: e.g. a client_key or ca_cert file that is not PEM text
                raise ApiError(None, None, 'cannot send the request to %s (%s): check the files given as ca_cert, '
                               'client_cert and client_key' % (self.conn.host, type(e).__name__), method, path)
            for warning in resp.headers.getlist('Warning'):
                self._warn(warning)
            if resp.status in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                self._backoff(attempt, resp.headers.get('Retry-After'))
                continue
            if resp.status == 401 and self.conn.refresh is not None and not refreshed_after_401:
                # the token in use may have expired since it was asked for: ask the hook again, once
                refreshed_after_401 = True
                headers = self._headers(content_type if body is not None else None, refresh_again=True)
                continue
            if resp.status >= 400:
                raise self._error(resp, method, path)
            if not resp.data:
                return {}
            return json.loads(resp.data.decode('utf-8'))

    def _warn(self, header):
        # Warning: 299 - "message"
        text = header.split(' ', 2)[-1].strip().strip('"')
        text = self.redact(one_line(self.redact(text)))
        if text not in self.warnings:
            self.warnings.append(text)

    def _backoff(self, attempt, retry_after=None):
        delay = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempt - 1)))
        if retry_after:
            try:
                delay = min(BACKOFF_CAP, max(delay, float(retry_after)))
            except ValueError:
                pass
        self.sleep(delay * (0.5 + random.random() / 2))

    def _error(self, resp, method, path):
        reason, message = resp.reason or '', ''
        try:
            status = json.loads(resp.data.decode('utf-8'))
            message = status.get('message') or ''
            reason = status.get('reason') or reason
        except (ValueError, AttributeError, UnicodeDecodeError):
            message = resp.data.decode('utf-8', 'replace') if resp.data else ''
        return ApiError(resp.status, reason, self.redact(one_line(self.redact(message or reason))), method, path)

    # -- verbs --------------------------------------------------------------------------

    def get(self, path):
        """The object, or None when it does not exist."""
        try:
            return self.request('GET', path)
        except ApiError as e:
            if e.not_found:
                return None
            raise

    def list(self, path, label_selector=None, field_selector=None):
        """Every item of a collection, page by page."""
        items, token = [], None
        while True:
            page = self.request('GET', path, query={'labelSelector': label_selector, 'fieldSelector': field_selector,
                                                    'limit': LIST_PAGE, 'continue': token})
            items.extend(page.get('items') or [])
            token = (page.get('metadata') or {}).get('continue')
            if not token:
                return items

    def create(self, path, obj):
        """The created object (dry run: obj as it would be sent)."""
        if self.dry_run:
            return copy.deepcopy(obj)
        return self.request('POST', path, obj)

    def ask(self, path, obj):
        """POST a question that changes nothing (a SubjectAccessReview): sent in a dry run too."""
        return self.request('POST', path, obj)

    def replace(self, path, obj):
        """The replaced object (dry run: obj as it would be sent)."""
        if self.dry_run:
            return copy.deepcopy(obj)
        return self.request('PUT', path, obj)

    def delete(self, path, resource_version=None):
        """Delete; True if it was deleted, False if it was already gone (dry run: whether it exists)."""
        if self.dry_run:
            return self.get(path) is not None
        body = None
        if resource_version:
            body = {'kind': 'DeleteOptions', 'apiVersion': 'v1', 'preconditions': {'resourceVersion': resource_version}}
        try:
            self.request('DELETE', path, body)
            return True
        except ApiError as e:
            if e.not_found:
                return False
            raise

    def retry_on_conflict(self, write, what=None):
        """write(attempt) until it does not end in a 409 Conflict: attempt 0 first, then 1, 2, ..., each after a pause.

        write reads again (and plans again) when attempt > 0, so that a concurrent edit is never
        overwritten. Gives up after MAX_CONFLICT_ATTEMPTS with an ApiError saying what kept changing.
        """
        for attempt in range(MAX_CONFLICT_ATTEMPTS):
            try:
                return write(attempt)
            except ApiError as e:
                if not e.conflict:
                    raise
            if attempt + 1 < MAX_CONFLICT_ATTEMPTS:
                self.conflict_pause(attempt)
        raise ApiError(409, 'Conflict', '%s kept changing; try again' % what if what else
                       'gave up after %d conflicting updates' % MAX_CONFLICT_ATTEMPTS)

    def read_modify_write(self, path, mutate, current=None):
        """Optimistic update: mutate(copy of the object) returns the desired object or None for no change.

        The write carries the read resourceVersion; on 409 the object is read again and mutate
        runs on the fresh copy, so concurrent edits by others are never overwritten.
        Returns (object after, changed). The object must exist (None is passed to mutate if not).
        In a dry run the desired object is returned as the object after.
        """
        def write(attempt):
            obj = self.get(path) if attempt or current is None else current
            desired = mutate(copy.deepcopy(obj))
            if desired is None:
                return obj, False
            return self.replace(path, desired), True

        try:
            return self.retry_on_conflict(write)
        except ApiError as e:
            if e.conflict and e.method is None:  # gave up: say where
                e.method, e.path = 'PUT', path
            raise

    def conflict_pause(self, attempt=0):
        """The pause after the attempt-th 409 (0 first): random, between a tenth of and the whole window,
        CONFLICT_PAUSE_BASE * 2**attempt capped at CONFLICT_PAUSE_CAP.

        The window doubles with each conflict and the pause is drawn from all of it, so that writers
        that collided spread out instead of colliding again in step (20 writers on one service
        account gave up after 10 equal pauses of 0.1-0.2 s on a loaded machine).
        """
        window = min(CONFLICT_PAUSE_CAP, CONFLICT_PAUSE_BASE * (2 ** attempt))
        self.sleep(random.uniform(window / 10, window))

    def parallel(self, func, items):
        """func(item) for each item, at most MAX_PARALLEL at once; results (or exceptions) in order."""
        items = list(items)

        def call(item):
            try:
                return func(item)
            except Exception as e:  # pylint: disable=broad-except
                # returned to the caller, one result per item
                return e

        if len(items) <= 1:
            return [call(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(items))) as pool:
            return list(pool.map(call, items))

    # -- helpers shared by the modules ----------------------------------------------------

    def namespaces(self, namespace=None, namespaces=None, selector=None, exclude=None):
        """Target namespace names from the module's namespace options (sorted, unique)."""
        import fnmatch
        if namespace:
            names = [namespace]
        elif namespaces:
            names = list(namespaces)
        else:
            names = [ns['metadata']['name'] for ns in self.list('/api/v1/namespaces', label_selector=selector)]
        excluded = exclude or []
        return sorted(set(n for n in names if not any(fnmatch.fnmatchcase(n, pattern) for pattern in excluded)))

    def existing_namespaces(self, names):
        """The subset of names that are existing namespaces (one list, or a read each if listing is forbidden)."""
        names = list(names)
        if len(names) > 2:
            try:
                return set(ns['metadata']['name'] for ns in self.list('/api/v1/namespaces')) & set(names)
            except ApiError as e:
                if not e.forbidden:
                    raise
        results = self.parallel(lambda n: self.get(resource_path('namespaces', name=n)), names)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return set(n for n, obj in zip(names, results) if obj is not None)

    def list_by_namespace(self, resource, namespaces, group=None, version='v1', field_selector=None):
        """{namespace: [objects]} of a resource in each namespace.

        One cluster-wide list when there are many namespaces (one request instead of one per
        namespace); a list per namespace, in parallel, when that is forbidden (a project admin) or
        there are few namespaces.
        """
        namespaces = list(namespaces)
        found = dict((ns, []) for ns in namespaces)
        if len(namespaces) > 2:
            try:
                for obj in self.list(resource_path(resource, group=group, version=version), field_selector=field_selector):
                    ns = obj['metadata']['namespace']
                    if ns in found:
                        found[ns].append(obj)
                return found
            except ApiError as e:
                if not e.forbidden:
                    raise
        results = self.parallel(lambda ns: self.list(resource_path(resource, ns, group=group, version=version),
                                                     field_selector=field_selector), namespaces)
        for ns, objs in zip(namespaces, results):
            if isinstance(objs, Exception):
                raise objs
            found[ns] = objs
        return found

    def objects_by_namespace(self, resource, name, namespaces, group=None, version='v1'):
        """{namespace: object or None} for a named object in each namespace (a list with a field selector)."""
        found = self.list_by_namespace(resource, namespaces, group=group, version=version,
                                       field_selector='metadata.name=%s' % name)
        return dict((ns, objs[0] if objs else None) for ns, objs in found.items())

    def api_warnings(self):
        return list(self.warnings)
