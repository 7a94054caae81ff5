"""The model's answer and an oracle's, reduced to comparable values; a mismatch is a bug in the model."""

from __future__ import annotations

import math
import re
from typing import Any

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl

_SURROGATE = re.compile('[\ud800-\udfff]')
# The kubelet oracle refuses to enumerate more orders than this (tests/oracle/README.md).
MAX_ORDERS = 5040


def go_string(value: str) -> str:
    """A model string as Go's json.Marshal writes it (each invalid UTF-8 byte becomes U+FFFD)."""
    return _SURROGATE.sub('\ufffd', value)


def _label(credential: cl.Credential) -> str:
    return credential.source if credential.source == cl.NODE else 'secret:' + credential.source


def kubelet_model(model: cl.KubeletLookup) -> Any:
    if model.error is not None:
        return ('error',)
    if math.prod(math.factorial(len(g)) for g in model.groups) > MAX_ORDERS:
        return ('too many orders',)
    orders = set()
    for order in model.orders():
        orders.add(tuple((_label(c), go_string(c.username), go_string(c.password), go_string(c.email)) for c in order))
    return ('ok', model.repo, frozenset(orders))


def kubelet_oracle(response: dict) -> Any:
    if response.get('error') is not None:
        return ('too many orders',) if response['error'].startswith('too many possible orders') else ('error',)
    orders = set()
    for order in response['orders']:
        for c in order:
            # The kubelet keeps only username, password and email of a secret's entry.
            extra = [f for f in ('auth', 'identitytoken', 'registrytoken', 'serveraddress') if c.get(f)]
            assert not extra, 'the kubelet kept %s, which the model drops' % extra
        orders.add(tuple((c['source'], c['username'], c['password'], c.get('email', '')) for c in order))
    return ('ok', response['repo'], frozenset(orders))


def _ci_credential(credential: Any) -> Any:
    if credential is None:
        return None
    if isinstance(credential, cl.Credential):
        return (go_string(credential.username), go_string(credential.password), go_string(credential.identitytoken))
    return (credential['username'], credential['password'], credential.get('identitytoken', ''))


def containers_image_model(model: cl.ContainersImageLookup) -> Any:
    return frozenset(('error',) if a.error is not None else ('ok', _ci_credential(a.credential)) for a in model.answers)


def containers_image_oracle(response: dict) -> Any:
    outcomes = response.get('outcomes') or [response]
    return frozenset(('error',) if o.get('error') is not None else ('ok', _ci_credential(o.get('credential')))
                     for o in outcomes)
