"""A tiny admin client for tests: raw JSON requests to the local API server.

Tests assert on the server's objects through this, independently of the collection's own client.
"""

import json
import time
import uuid

import urllib3

TEST_AGENT = "ocp-registry-access-tests"


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %d: %s" % (status, body[:300]))
        self.status = status
        self.body = body


class Api:
    def __init__(self, server, ca_cert, token=None, user_agent=TEST_AGENT):
        self.server = server
        self.token = token
        self.user_agent = user_agent
        self.http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=ca_cert, maxsize=8)

    def with_token(self, token, user_agent=None):
        clone = Api.__new__(Api)
        clone.__dict__.update(self.__dict__)
        clone.token = token
        clone.user_agent = user_agent or self.user_agent
        return clone

    def raw(self, method, path, body=None):
        """(HTTP status, decoded body) of one request."""
        hdrs = {"Accept": "application/json", "User-Agent": self.user_agent}
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        if body is not None:
            hdrs["Content-Type"] = "application/merge-patch+json" if method == "PATCH" else "application/json"
        resp = self.http.request(method, self.server + path, headers=hdrs,
                                 body=None if body is None else json.dumps(body).encode())
        text = resp.data.decode("utf-8", "replace")
        return resp.status, (json.loads(text) if text.startswith("{") else text)

    def request(self, method, path, body=None, ok=(200, 201, 202)):
        status, data = self.raw(method, path, body)
        if status not in ok:
            raise ApiError(status, json.dumps(data) if isinstance(data, dict) else data)
        return data

    def get(self, path):
        return self.request("GET", path)

    def get_or_none(self, path):
        try:
            return self.request("GET", path)
        except ApiError as e:
            if e.status == 404:
                return None
            raise

    def create(self, path, obj):
        return self.request("POST", path, obj)

    def replace(self, path, obj):
        return self.request("PUT", path, obj)

    def patch(self, path, patch):
        return self.request("PATCH", path, patch)

    def delete(self, path):
        return self.request("DELETE", path, ok=(200, 202, 404))

    def wait_for(self, path, predicate=lambda obj: True, timeout=60):
        deadline = time.time() + timeout
        while True:
            obj = self.get_or_none(path)
            if obj is not None and predicate(obj):
                return obj
            if time.time() > deadline:
                raise AssertionError("timed out after %ss waiting for %s" % (timeout, path))
            time.sleep(0.2)

    def settle_namespace(self, name):
        """Wait until the controllers that react to a new namespace are done with it.

        kube-controller-manager's serviceaccount controller creates the `default` ServiceAccount and its
        root-ca-cert-publisher the `kube-root-ca.crt` ConfigMap, each with its own identity. A test that
        captures the audit log of a namespace right after creating it would otherwise see their requests too.
        """
        self.wait_for("/api/v1/namespaces/%s/serviceaccounts/default" % name)
        self.wait_for("/api/v1/namespaces/%s/configmaps/kube-root-ca.crt" % name)

    def token_for(self, namespace, service_account, seconds=600):
        """A bound token for a service account, from the TokenRequest API."""
        review = self.create("/api/v1/namespaces/%s/serviceaccounts/%s/token" % (namespace, service_account),
                             {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                              "spec": {"expirationSeconds": seconds}})
        return review["status"]["token"]

    def can_i(self, verb, resource, namespace, group="", subresource="", user=None, groups=None):
        """SubjectAccessReview for a user (or the caller, with SelfSubjectAccessReview)."""
        attrs = {"verb": verb, "resource": resource, "namespace": namespace, "group": group,
                 "subresource": subresource}
        if user is None:
            review = self.create("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                 {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                  "spec": {"resourceAttributes": attrs}})
        else:
            review = self.create("/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                 {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                                  "spec": {"resourceAttributes": attrs, "user": user, "groups": groups or []}})
        return review["status"].get("allowed", False)


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])
