# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # Connection options shared by every module; names, aliases and K8S_AUTH_* variables as in
    # kubernetes.core, so module_defaults and AWX credentials work unchanged.
    DOCUMENTATION = r'''
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig itself as a dict.
      - Credentials in a kubeconfig dict are hidden from all output - of every user (not only the current context's),
        every value except C(username), the impersonation fields and file paths, so C(token), C(password),
        C(client-key-data), C(client-certificate-data), every value of an C(auth-provider) C(config) (OIDC C(id-token),
        C(refresh-token), C(client-secret), C(access-token), ...), an C(exec) plugin's C(env) values and the values of
        its credential flags (C(--token=...)) or any argument of 16 characters or more, and a password in a cluster's
        C(proxy-url).
      - Can also be set with the E(K8S_AUTH_KUBECONFIG) environment variable.
      - Without any connection option, the in-cluster configuration is used, then C(~/.kube/config)
        (or the first file of E(KUBECONFIG)).
    type: raw
  context:
    description:
      - The kubeconfig context to use. Can also be set with E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the API server, for example C(https://api.example.com:6443).
      - Can also be set with E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token to authenticate with. Can also be set with E(K8S_AUTH_API_KEY).
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate.
      - Can also be set with E(K8S_AUTH_VALIDATE_CERTS) or E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to a CA certificate that signed the API server's certificate.
      - Can also be set with E(K8S_AUTH_CA_CERT) or E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate. Can also be set with E(K8S_AUTH_CLIENT_CERT) or E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the client certificate's key. Can also be set with E(K8S_AUTH_CLIENT_KEY) or E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  proxy:
    description:
      - HTTP(S) proxy URL for the API requests. Can also be set with E(K8S_AUTH_PROXY).
      - A password in the URL (C(http://user:password@proxy:3128)) is hidden from all output.
    type: str
  no_proxy:
    description:
      - Comma-separated hosts reached without the proxy. Can also be set with E(K8S_AUTH_NO_PROXY).
    type: str
  impersonate_user:
    description:
      - User to impersonate. Can also be set with E(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description:
      - Groups to impersonate. Can also be set with E(K8S_AUTH_IMPERSONATE_GROUPS) (comma-separated).
    type: list
    elements: str
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0 (to read a kubeconfig)
notes:
  - Requests carry the user agent C(ocp.registry_access/<version>), so they can be found in the API server's audit log.
  - Writes are retried on HTTP 409 by reading the object again, and on 429, 5xx and dropped connections with backoff.
'''
