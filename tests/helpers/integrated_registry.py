"""Test-only simulator of OpenShift's integrated image registry (openshift/image-registry), and of the
controller that gives every service account a pull secret for it.

IntegratedRegistry is a simulator, not a registry: an HTTPS server on 127.0.0.1 that serves images
from OCI layouts the test registers as `<namespace>/<name>` repositories, and decides each pull as
OpenShift's registry does:
- the client authenticates with Basic auth whose password is a Kubernetes token (what the
  `<sa>-dockercfg-*` secrets carry; the user name is not used), checked with a TokenReview;
- a read of `<namespace>/<name>` is allowed only if a SubjectAccessReview for the token's user,
  groups and extra says yes to `get imagestreams/layers` in group image.openshift.io, name
  `<name>`, in `<namespace>` — exactly what OpenShift's registry asks (system:image-puller);
- refusals are `401 unauthorized: authentication required`, as OpenShift's registry answers a
  pull from a project the puller may not read.
Every decision is kept in `access_log` (user, repository, allowed), so a test can tell which
identity the registry saw for each pull.

provision_dockercfg() simulates openshift-controller-manager's service account pull secret
controller (before 4.16): it creates `<sa>-dockercfg-<5 letters>` (type kubernetes.io/dockercfg,
one entry for the registry, password a real TokenRequest token of the service account) and links it
into the service account's imagePullSecrets and secrets with a read-modify-write, retried on 409.
"""

import base64
import http.server
import json
import os
import random
import ssl
import string
import subprocess
import threading

from helpers.kube import ApiError
from helpers.runner import register_secret

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class IntegratedRegistry(object):
    def __init__(self, api, workdir):
        self.api = api.with_token(api.token, user_agent="openshift-image-registry-simulator")
        self.dir = os.path.join(str(workdir), "integrated-registry")
        self.ca_cert = os.path.join(self.dir, "ca.crt")
        self.repositories = {}  # "<namespace>/<name>" -> OCI layout dir
        self.access_log = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    @property
    def host(self):
        return "127.0.0.1:%d" % self._server.server_address[1]

    def add_repository(self, repository, layout):
        self.repositories[repository] = layout

    def decisions(self, repository):
        with self._lock:
            return [(e["user"], e["allowed"]) for e in self.access_log if e["repository"] == repository]

    # -- lifecycle -------------------------------------------------------------------------------

    def _certs(self):
        os.makedirs(self.dir, exist_ok=True)

        def openssl(*args):
            subprocess.run(("openssl",) + args, cwd=self.dir, check=True, capture_output=True, timeout=60)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=ocp-registry-access integrated registry simulator CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-addext", "subjectKeyIdentifier=hash")
        openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
        with open(os.path.join(self.dir, "server.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                    "subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.crt", "-days", "2", "-extfile", "server.ext")

    def start(self):
        self._certs()
        registry = self

        class Handler(_Handler):
            owner = registry

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(self.dir, "server.crt"), os.path.join(self.dir, "server.key"))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- decisions -------------------------------------------------------------------------------

    def authenticate(self, header):
        """The token's user info from a TokenReview, or None."""
        if not header or not header.startswith("Basic "):
            return None
        try:
            _user, token = base64.b64decode(header[6:]).decode().split(":", 1)
        except (ValueError, UnicodeDecodeError):
            return None
        review = self.api.create("/apis/authentication.k8s.io/v1/tokenreviews", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})
        status = review.get("status", {})
        return status.get("user") if status.get("authenticated") else None

    def authorize(self, user, repository):
        namespace, name = repository.split("/", 1)
        review = self.api.create("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": user.get("username"), "groups": user.get("groups", []), "uid": user.get("uid", ""),
                     "extra": user.get("extra", {}),
                     "resourceAttributes": {"namespace": namespace, "verb": "get", "group": "image.openshift.io",
                                            "resource": "imagestreams", "subresource": "layers", "name": name}}})
        return bool(review.get("status", {}).get("allowed"))

    def record(self, user, repository, allowed):
        with self._lock:
            self.access_log.append({"user": user, "repository": repository, "allowed": allowed})


class _Handler(http.server.BaseHTTPRequestHandler):
    owner = None
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _send(self, code, body=b"", content_type="application/json", headers=None, head=False):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _unauthorized(self, head):
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]})
        self._send(401, body.encode(), headers={"WWW-Authenticate": 'Basic realm="openshift-image-registry-simulator"'},
                   head=head)

    def do_HEAD(self):  # pylint: disable=invalid-name
        self._serve(head=True)

    def do_GET(self):  # pylint: disable=invalid-name
        self._serve(head=False)

    def _serve(self, head):
        owner = self.owner
        path = self.path.split("?", 1)[0]
        if not path.startswith("/v2/"):
            return self._send(404, b"{}", head=head)
        try:
            user = owner.authenticate(self.headers.get("Authorization"))
        except ApiError:
            user = None
        if path == "/v2/":
            return self._send(200, b"{}", head=head) if user else self._unauthorized(head)
        parts = path[len("/v2/"):].split("/")
        if len(parts) < 4 or parts[-2] not in ("manifests", "blobs"):
            return self._send(404, b"{}", head=head)
        repository, kind, reference = "/".join(parts[:-2]), parts[-2], parts[-1]
        if user is None:
            owner.record(None, repository, False)
            return self._unauthorized(head)
        allowed = repository.count("/") == 1 and owner.authorize(user, repository)
        owner.record(user.get("username"), repository, allowed)
        if not allowed:
            return self._unauthorized(head)
        layout = owner.repositories.get(repository)
        if layout is None:
            return self._send(404, json.dumps({"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}).encode(),
                              head=head)
        if kind == "manifests" and not reference.startswith("sha256:"):
            with open(os.path.join(layout, "index.json")) as f:
                tags = {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m["digest"]
                        for m in json.load(f)["manifests"]}
            if reference not in tags:
                return self._send(404, json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode(),
                                  head=head)
            reference = tags[reference]
        blob = os.path.join(layout, "blobs", "sha256", reference.split(":", 1)[-1])
        if not reference.startswith("sha256:") or not os.path.isfile(blob):
            return self._send(404, json.dumps({"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]}).encode(), head=head)
        with open(blob, "rb") as f:
            data = f.read()
        content_type = OCI_MANIFEST if kind == "manifests" else "application/octet-stream"
        return self._send(200, data, content_type=content_type, headers={"Docker-Content-Digest": reference}, head=head)


def provision_dockercfg(api, namespace, service_account, registry_host, seconds=3600):
    """Creates and links `<sa>-dockercfg-xxxxx` as OpenShift's controller does; returns the secret's name."""
    token = register_secret(api.token_for(namespace, service_account, seconds=seconds))
    name = "%s-dockercfg-%s" % (service_account, "".join(random.choice(string.ascii_lowercase) for _i in range(5)))
    entry = {"username": "serviceaccount", "password": token, "email": "serviceaccount@example.org",
             "auth": base64.b64encode(("serviceaccount:" + token).encode()).decode()}
    api.create("/api/v1/namespaces/%s/secrets" % namespace, {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockercfg",
        "metadata": {"name": name, "annotations": {"kubernetes.io/service-account.name": service_account,
                                                   "openshift.io/token-secret.name": name + "-token"}},
        "data": {".dockercfg": base64.b64encode(json.dumps({registry_host: entry}).encode()).decode()}})
    path = "/api/v1/namespaces/%s/serviceaccounts/%s" % (namespace, service_account)
    for _attempt in range(20):
        sa = api.get(path)
        for field in ("imagePullSecrets", "secrets"):
            sa[field] = (sa.get(field) or []) + [{"name": name}]
        try:
            api.replace(path, sa)
            return name
        except ApiError as e:
            if e.status != 409:
                raise
    raise AssertionError("kept conflicting linking %s into %s" % (name, path))


class RecordingRegistry(IntegratedRegistry):
    """A plain private registry (Basic auth against `users`, {name: password}; any authenticated user may pull),
    built on the same server, that records which user name every request claimed and whether its password was
    right: `claims` is [(user name or None, accepted)], in arrival order. It tells which credential a node
    really sent, and in what order, where docker-registry's logs do not name the user."""

    def __init__(self, api, workdir, users):
        super().__init__(api, workdir)
        self.users = dict(users)
        self.claims = []

    def authenticate(self, header):
        user = password = None
        if header and header.startswith("Basic "):
            try:
                user, password = base64.b64decode(header[6:]).decode().split(":", 1)
            except (ValueError, UnicodeDecodeError):
                user = None
        accepted = user is not None and self.users.get(user) == password
        with self._lock:
            self.claims.append((user, accepted))
        return {"username": user} if accepted else None

    def authorize(self, user, repository):
        return True

    def claimed_users(self, since=0):
        """User names the requests from index `since` on claimed, each once, in the order they first came."""
        with self._lock:
            seen = []
            for user, _accepted in self.claims[since:]:
                if user is not None and user not in seen:
                    seen.append(user)
            return seen
