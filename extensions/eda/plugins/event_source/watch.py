# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ocp.registry_access.watch: an event source for ansible-rulebook (decisions in module_utils/_eda.py)."""

from __future__ import annotations

DOCUMENTATION = r'''
---
short_description: Namespaces where registry access must be enforced again, as they appear or drift
description:
  - An ansible-rulebook event source. It lists, then watches, namespaces (optionally by label
    selector, with exclusions), service accounts, the secrets the collection manages (label
    C(app.kubernetes.io/managed-by=ocp.registry_access), read as metadata only, never their data)
    and image-puller RoleBindings.
  - It puts one event on the queue for each batch of namespaces worth enforcing again - a namespace
    added, selected or relabelled; a service account added, or unlinked from a pull secret; a managed
    secret deleted or changed by someone else; an image-puller binding deleted or losing a subject.
    Namespaces are coalesced - a batch goes out O(delay) seconds after its last namespace, at most
    O(max_delay) seconds after its first - so a burst of new namespaces gives a few events, not one each.
  - The first event (O(startup_event)) asks for a full reconcile, once the initial lists are read.
  - Watches resume from the last C(resourceVersion) (bookmarks included), relist on 410 Gone and
    compare the list with what was known (nothing changed meanwhile is missed), and reconnect with
    bounded, jittered backoff. Bad options, a cluster that cannot be reached or refuses the first
    lists stop the source at once with one clear message (ansible-rulebook then exits non-zero).
  - The event is C({"registry_access": {"full": bool, "namespaces": [...], "reasons": {ns: [...]},
    "namespace_labels": {ns: {...}}}}); the ocp.registry_access.restrict_declaration filter limits a
    declaration to its namespaces (playbooks/eda_enforce.yml).
  - Needs list and watch (read only) on namespaces, serviceaccounts, secrets and rolebindings,
    cluster-wide (rbac/eda-source-clusterrole.yaml).
  - The connection options and E(K8S_AUTH_*) variables are the modules' (ocp.registry_access.pull_secret).
options:
  kubeconfig:
    description: Path to a kubeconfig file, or the kubeconfig as a dict (E(K8S_AUTH_KUBECONFIG)).
    type: raw
  context:
    description: The kubeconfig context (E(K8S_AUTH_CONTEXT)).
    type: str
  host:
    description: URL of the API server (E(K8S_AUTH_HOST)).
    type: str
  api_key:
    description: Bearer token (E(K8S_AUTH_API_KEY)); never shown.
    type: str
  validate_certs:
    description: Verify the API server's certificate (E(K8S_AUTH_VALIDATE_CERTS), E(K8S_AUTH_VERIFY_SSL)).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description: CA certificate of the API server (E(K8S_AUTH_CA_CERT), E(K8S_AUTH_SSL_CA_CERT)).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description: Client certificate (E(K8S_AUTH_CLIENT_CERT), E(K8S_AUTH_CERT_FILE)).
    type: path
    aliases: [cert_file]
  client_key:
    description: Key of the client certificate (E(K8S_AUTH_CLIENT_KEY), E(K8S_AUTH_KEY_FILE)).
    type: path
    aliases: [key_file]
  proxy:
    description: HTTP(S) proxy URL (E(K8S_AUTH_PROXY)).
    type: str
  no_proxy:
    description: Hosts reached without the proxy (E(K8S_AUTH_NO_PROXY)).
    type: str
  impersonate_user:
    description: User to impersonate (E(K8S_AUTH_IMPERSONATE_USER)).
    type: str
  impersonate_groups:
    description: Groups to impersonate (E(K8S_AUTH_IMPERSONATE_GROUPS)).
    type: list
    elements: str
  namespace_selector:
    description:
      - Label selector of the namespaces to watch (as C(kubectl -l)); unset - every namespace.
      - A namespace that stops matching is dropped; one that starts matching is an event.
    type: str
  exclude_namespaces:
    description: Names or shell patterns of namespaces never named in an event (C(kube-*), C(openshift-*)).
    type: list
    elements: str
    default: []
  binding_roles:
    description: The roles whose RoleBindings are watched for deletion or a lost subject.
    type: list
    elements: str
    default: ['system:image-puller']
  delay:
    description: Seconds without a new namespace after which a batch is sent.
    type: float
    default: 1.0
  max_delay:
    description: Seconds after its first namespace at which a batch is sent however busy the cluster is.
    type: float
    default: 5.0
  startup_event:
    description: Send an event with C(full=true) and every watched namespace once the initial lists are read.
    type: bool
    default: true
  reconnect_delay_max:
    description: The longest pause, in seconds, between two reconnect attempts (doubling from 0.5 s).
    type: float
    default: 30.0
  watch_timeout:
    description: Seconds the API server keeps one watch open; the source then resumes from where it was.
    type: int
    default: 300
'''

EXAMPLES = r'''
- name: Registry access for new and drifted namespaces
  hosts: localhost
  sources:
    - ocp.registry_access.watch:
        kubeconfig: /runner/kubeconfig
        namespace_selector: team=payments
        exclude_namespaces: [kube-*, openshift-*]
  rules:
    - name: Enforce in the namespaces named by the event
      condition: event.registry_access is defined
      action:
        run_playbook:
          name: ocp.registry_access.eda_enforce
'''

import asyncio
import json
import logging
import os
import random
import sys
import threading
import time


def _import_path():
    """Make ansible_collections importable when ansible-rulebook runs this file by path (runpy)."""
    here = os.path.abspath(__file__)
    parts = here.split(os.sep)
    if 'ansible_collections' in parts:
        root = os.sep.join(parts[:len(parts) - 1 - parts[::-1].index('ansible_collections')])
        if root and root not in sys.path:
            sys.path.insert(0, root)


_import_path()

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402 (after the path is set)
from ansible_collections.ocp.registry_access.plugins.module_utils import _cluster  # noqa: E402
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import one_line  # noqa: E402
from ansible_collections.ocp.registry_access.plugins.module_utils._eda import (  # noqa: E402
    BOOKMARK, ERROR, KINDS, MANAGED_SELECTOR, NAMESPACES, ROLE_BINDINGS, SECRETS, SERVICE_ACCOUNTS,
    Coalescer, Tracker, backoff_delay, batch_event, parse_selector, watch_error_is_gone,
)
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import (  # noqa: E402
    ApiError, ConfigError, InputError,
)

LOG = logging.getLogger('ocp.registry_access.watch')

SOURCE_ARG_SPEC = dict(
    _cluster.CONNECTION_ARG_SPEC,
    namespace_selector=dict(type='str'),
    exclude_namespaces=dict(type='list', elements='str', default=[]),
    binding_roles=dict(type='list', elements='str', default=['system:image-puller']),
    delay=dict(type='float', default=1.0),
    max_delay=dict(type='float', default=5.0),
    startup_event=dict(type='bool', default=True),
    reconnect_delay_max=dict(type='float', default=30.0),
    watch_timeout=dict(type='int', default=300),
)

METADATA_ONLY = 'application/json;as=PartialObjectMetadata{list};g=meta.k8s.io;v=v1'
LIST_PAGE = 500


class SourceError(Exception):
    """Why the source cannot start (the message says what to fix; no credential in it)."""


# ---------------------------------------------------------------- options and client

def source_options(args):
    """The validated options, K8S_AUTH_* variables applied; SourceError with every problem if invalid."""
    # None (a rulebook's "{{ var | default(None) }}") is an option not given: its K8S_AUTH_* variable or default applies
    params = dict((k, v) for k, v in (args or {}).items() if not k.startswith('eda_') and v is not None)
    result = ArgumentSpecValidator(SOURCE_ARG_SPEC).validate(params)
    secrets = set(result._no_log_values) | _cluster.connection_secret_values(result.validated_parameters)
    if result.error_messages:
        raise SourceError(_redact('invalid options of ocp.registry_access.watch: %s' % '; '.join(result.error_messages),
                                  secrets))
    options = result.validated_parameters
    try:
        parse_selector(options['namespace_selector'])
        Coalescer(options['delay'], options['max_delay'])
    except InputError as e:
        raise SourceError('invalid options of ocp.registry_access.watch: %s' % e)
    if options['watch_timeout'] < 1 or options['reconnect_delay_max'] <= 0:
        raise SourceError('invalid options of ocp.registry_access.watch: watch_timeout and reconnect_delay_max must be positive')
    return options, secrets


def _redact(text, secrets):
    for value in sorted(secrets, key=len, reverse=True):
        if value and len(value) > 3:
            text = text.replace(value, '********')
    return text


def make_client(options, secrets):
    """The collection's API client for these options (the modules' resolution of the connection)."""
    try:
        connection = _cluster.resolve_connection(options)
        if connection.host.startswith('https://') and hasattr(_cluster, '_check_tls_files'):
            _cluster._check_tls_files(connection)
        secrets |= set(v.split(' ', 1)[-1] for v in connection.headers.values() if isinstance(v, str))
        return _cluster.Client(connection, redact=lambda text: _redact(text, secrets))
    except ConfigError as e:
        raise SourceError(_redact('cannot connect ocp.registry_access.watch: %s' % e, secrets))


# ---------------------------------------------------------------- the API requests of the watches

WATCHED = {
    NAMESPACES: dict(path='/api/v1/namespaces', metadata_only=True),
    SERVICE_ACCOUNTS: dict(path='/api/v1/serviceaccounts', metadata_only=False),
    SECRETS: dict(path='/api/v1/secrets', metadata_only=True, label_selector=MANAGED_SELECTOR),
    ROLE_BINDINGS: dict(path='/apis/rbac.authorization.k8s.io/v1/rolebindings', metadata_only=False),
}


def _request(client, kind, query, watch, timeout):
    spec = WATCHED[kind]
    headers = client._headers(None)
    if spec['metadata_only']:
        headers['Accept'] = METADATA_ONLY.format(list='' if watch else 'List')
    url = client.conn.host + spec['path'] + '?' + _cluster.urlencode(sorted((k, v) for k, v in query.items() if v is not None))
    resp = client.http.request('GET', url, headers=headers, preload_content=False, retries=False,
                               timeout=_cluster.urllib3.Timeout(connect=10, read=timeout))
    if resp.status >= 400:
        resp.read()
        raise client._error(resp, 'GET', spec['path'])
    return resp


def list_objects(client, kind, label_selector=None):
    """(objects, resourceVersion of the list) of one watched kind, page by page."""
    spec = WATCHED[kind]
    selector = spec.get('label_selector') or label_selector
    items, token = [], None
    while True:
        resp = _request(client, kind, {'labelSelector': selector, 'limit': LIST_PAGE, 'continue': token}, False,
                        _cluster.REQUEST_TIMEOUT)
        page = json.loads(resp.read().decode('utf-8'))
        resp.release_conn()
        items.extend(page.get('items') or [])
        token = (page.get('metadata') or {}).get('continue')
        if not token:
            return items, (page.get('metadata') or {}).get('resourceVersion')


def watch_events(client, kind, resource_version, label_selector, timeout):
    """(type, object) of one watch request from resource_version, bookmarks included, until the server ends it."""
    spec = WATCHED[kind]
    query = {'watch': 'true', 'allowWatchBookmarks': 'true', 'resourceVersion': resource_version,
             'timeoutSeconds': timeout, 'labelSelector': spec.get('label_selector') or label_selector}
    resp = _request(client, kind, query, True, timeout + 30)
    try:
        for line in resp:
            line = line.strip()
            if line:
                event = json.loads(line.decode('utf-8'))
                yield event.get('type'), event.get('object') or {}
    finally:
        resp.release_conn()


class Watcher(threading.Thread):
    """One kind: watch from a resourceVersion, relist on 410 Gone, reconnect with bounded backoff; post what it sees."""

    def __init__(self, client, kind, resource_version, options, post, stop):
        super().__init__(name='ocp.registry_access.watch/%s' % kind, daemon=True)
        self.client, self.kind, self.rv = client, kind, resource_version
        self.selector = options['namespace_selector'] if kind == NAMESPACES else None
        self.timeout, self.cap = options['watch_timeout'], options['reconnect_delay_max']
        self.post, self.stop = post, stop
        self.failures = 0

    def relist(self):
        objects, self.rv = list_objects(self.client, self.kind, self.selector)
        LOG.info('watch of %s: resourceVersion expired (410 Gone), relisted %d objects', self.kind, len(objects))
        self.post(('relist', self.kind, objects))

    def follow(self):
        """One watch request from self.rv: True when the resourceVersion is gone (relist), False when the server ends it."""
        for event_type, obj in watch_events(self.client, self.kind, self.rv, self.selector, self.timeout):
            if event_type == ERROR:
                if watch_error_is_gone(obj):
                    self.failures = 0
                    return True
                raise ApiError(obj.get('code'), obj.get('reason'), one_line(obj.get('message') or ''),
                               'WATCH', WATCHED[self.kind]['path'])
            if self.failures:
                LOG.info('watch of %s resumed from resourceVersion %s', self.kind, self.rv)
            self.failures = 0
            self.rv = ((obj.get('metadata') or {}).get('resourceVersion')) or self.rv
            if event_type != BOOKMARK:
                self.post(('event', self.kind, event_type, obj))
        return False

    def run(self):
        gone = False
        while not self.stop.is_set():
            message = None
            try:
                if gone:
                    self.relist()
                gone = self.follow()
            except ApiError as e:
                gone, message = gone or e.status == 410, str(e)
            except Exception as e:  # pylint: disable=broad-except
                # connection reset, timeout, server gone: reconnect and resume from self.rv
                message = self.client.redact(one_line('%s: %s' % (type(e).__name__, e)))
            if message is None:
                continue  # the server ended the watch (timeoutSeconds): resume at once
            self.failures += 1
            delay = backoff_delay(self.failures, cap=self.cap, rand=random.random())
            LOG.warning('watch of %s interrupted (%s); reconnecting in %.1f s', self.kind, message, delay)
            self.stop.wait(delay)


# ---------------------------------------------------------------- the entry point

def _initial_lists(client, options):
    found = {}
    for kind in KINDS:
        try:
            found[kind] = list_objects(client, kind, options['namespace_selector'] if kind == NAMESPACES else None)
        except ApiError as e:
            raise SourceError('ocp.registry_access.watch cannot list %s: %s%s' % (
                kind, e, ' (the source needs list and watch on namespaces, serviceaccounts, secrets and rolebindings, '
                         'rbac/eda-source-clusterrole.yaml)' if e.status in (401, 403) else ''))
    return found


async def main(queue, args):
    """ansible-rulebook's entry point: put one event per batch of namespaces on queue, until cancelled."""
    options, secrets = source_options(args)
    client = make_client(options, secrets)
    tracker = Tracker(options['namespace_selector'], options['exclude_namespaces'], options['binding_roles'])
    coalescer = Coalescer(options['delay'], options['max_delay'])
    lists = await asyncio.to_thread(_initial_lists, client, options)
    for kind in KINDS:  # namespaces first: the others are judged by the namespaces known
        tracker.relist(kind, lists[kind][0])
    LOG.info('ocp.registry_access.watch: %d namespaces watched', len(tracker.namespace_labels))
    if options['startup_event']:
        names = sorted(tracker.namespace_labels)
        await queue.put(batch_event(names, dict((n, ['startup']) for n in names), tracker.namespace_labels, full=True))

    loop = asyncio.get_running_loop()
    inbox = asyncio.Queue()
    stop = threading.Event()

    def post(item):
        loop.call_soon_threadsafe(inbox.put_nowait, item)

    watchers = [Watcher(client, kind, lists[kind][1], options, post, stop) for kind in KINDS]
    for watcher in watchers:
        watcher.start()
    try:
        while True:
            wait = coalescer.due_in(time.monotonic())
            try:
                item = await asyncio.wait_for(inbox.get(), wait) if wait is None or wait > 0 else None
            except asyncio.TimeoutError:
                item = None
            if item is not None:
                if item[0] == 'relist':
                    found, reasons = tracker.relist(item[1], item[2])
                    coalescer.add(found, '; '.join(sorted(set(reasons))) or None, time.monotonic())
                else:
                    found, reason = tracker.observe(item[1], item[2], item[3])
                    coalescer.add(found, reason, time.monotonic())
            if coalescer.due_in(time.monotonic()) == 0:
                names, reasons = coalescer.flush()
                names = [n for n in names if tracker.managed(n)]  # deleted meanwhile: nothing to enforce
                if names:
                    LOG.info('ocp.registry_access.watch: %d namespaces to enforce: %s', len(names),
                             ' '.join(names[:20]) + (' ...' if len(names) > 20 else ''))
                    await queue.put(batch_event(names, reasons, tracker.namespace_labels))
    finally:
        stop.set()


if __name__ == '__main__':
    # A quick manual check outside ansible-rulebook: print the events (options as JSON in argv[1]).
    class _Printer(object):
        async def put(self, event):
            print(json.dumps(event), flush=True)

    try:
        asyncio.run(main(_Printer(), json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}))
    except SourceError as error:
        sys.exit(str(error))
