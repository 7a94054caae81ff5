"""A private registry that delegates authentication to a separate token server, as the seed's
"delegated authentication server + private registry" describes (sso.redhat.com in front of a
registry): Debian's docker-registry with `auth: token`, and TokenServer, a test-only token service
(Docker's token authentication protocol: Basic auth at the realm, a JWT with the granted `access`
back, signed with a key whose certificate the registry trusts).

The token server records which user each token request claimed (`claims`: [(user or None,
accepted)]), so a test can tell which credential a node sent to the authentication endpoint.
Its TLS certificate is signed by the registry's CA: a client that trusts the registry trusts it.
"""

import base64
import http.server
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from helpers.pods import RotatableRegistry

SERVICE = "ocp-registry-access-test-registry"
ISSUER = "ocp-registry-access-test-token-server"


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer(object):
    """Docker token service on https://127.0.0.1:PORT/token for `users` ({name: password}); any authenticated
    user gets the actions it asks for (pull, and push for the tests' own setup)."""

    def __init__(self, workdir, users, ca_cert, ca_key):
        self.dir = os.path.join(str(workdir), "token-server")
        self.users = dict(users)
        self.ca_cert, self.ca_key = ca_cert, ca_key
        self.claims = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    @property
    def host(self):
        return "127.0.0.1:%d" % self._server.server_address[1]

    @property
    def realm(self):
        return "https://%s/token" % self.host

    def _openssl(self, *args):
        subprocess.run(("openssl",) + args, cwd=self.dir, check=True, capture_output=True, timeout=60)

    def _keys(self):
        os.makedirs(self.dir, exist_ok=True)
        # The JWT signing key: a self-signed certificate the registry takes as its root bundle.
        self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "signing.key", "-out", "signing.crt",
                      "-days", "2", "-subj", "/CN=%s" % ISSUER)
        # The server's TLS certificate, from the registry's CA.
        self._openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
        with open(os.path.join(self.dir, "server.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                    "subjectAltName=IP:127.0.0.1\n")
        self._openssl("x509", "-req", "-in", "server.csr", "-CA", self.ca_cert, "-CAkey", self.ca_key, "-CAcreateserial",
                      "-CAserial", os.path.join(self.dir, "ca.srl"), "-out", "server.crt", "-days", "2", "-extfile", "server.ext")
        with open(os.path.join(self.dir, "signing.key"), "rb") as f:
            self._signing_key = serialization.load_pem_private_key(f.read(), password=None)
        with open(os.path.join(self.dir, "signing.crt"), "rb") as f:
            pem = f.read()
        der = ssl.PEM_cert_to_DER_cert(pem.decode())
        self._x5c = [base64.b64encode(der).decode()]

    @property
    def signing_cert(self):
        return os.path.join(self.dir, "signing.crt")

    def start(self):
        self._keys()
        owner = self

        class Handler(_TokenHandler):
            server_owner = owner

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

    def claimed_users(self, since=0):
        with self._lock:
            seen = []
            for user, _accepted in self.claims[since:]:
                if user not in seen:
                    seen.append(user)
            return seen

    def issue(self, user, service, scopes):
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) >= 3 and parts[0] == "repository":
                access.append({"type": "repository", "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self._x5c}
        claims = {"iss": ISSUER, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        signing_input = "%s.%s" % (_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()))
        signature = self._signing_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return "%s.%s" % (signing_input, _b64url(signature))


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    server_owner = None
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _send(self, code, body, headers=None):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # pylint: disable=invalid-name
        """The token request with Basic auth (Docker's token authentication)."""
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            return self._send(404, b"{}")
        query = urllib.parse.parse_qs(url.query)
        user = password = None
        header = self.headers.get("Authorization") or ""
        if header.startswith("Basic "):
            try:
                user, password = base64.b64decode(header[6:]).decode().split(":", 1)
            except (ValueError, UnicodeDecodeError):
                user = None
        return self._answer(user, password, (query.get("service") or [SERVICE])[0], query.get("scope") or [])

    def do_POST(self):  # pylint: disable=invalid-name
        """The OAuth2 password grant (Docker's token authentication, OAuth2 form), which containerd tries first."""
        if urllib.parse.urlsplit(self.path).path != "/token":
            return self._send(404, b"{}")
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if (form.get("grant_type") or [""])[0] != "password":
            return self._send(400, json.dumps({"error": "unsupported_grant_type"}).encode())
        scopes = " ".join(form.get("scope") or []).split()
        return self._answer((form.get("username") or [None])[0], (form.get("password") or [None])[0],
                            (form.get("service") or [SERVICE])[0], scopes)

    def _answer(self, user, password, service, scopes):
        owner = self.server_owner
        accepted = user is not None and owner.users.get(user) == password
        with owner._lock:  # pylint: disable=protected-access
            owner.claims.append((user, accepted))
        if not accepted:
            return self._send(401, json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode(),
                              headers={"WWW-Authenticate": 'Basic realm="%s"' % ISSUER})
        token = owner.issue(user, service, scopes)
        return self._send(200, json.dumps({"token": token, "access_token": token, "expires_in": 300,
                                           "scope": " ".join(scopes)}).encode())


class DelegatedRegistry(RotatableRegistry):
    """docker-registry that accepts only tokens from a TokenServer (started with it, for the same users)."""

    def __init__(self, tmpdir, users):
        super().__init__(tmpdir, users)
        self.token_server = None

    def _make_certs(self):
        if not os.path.exists(self.ca_cert):  # once: the token server's certificate chains to this CA
            super()._make_certs()

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self._make_certs()
        self.token_server = TokenServer(self.dir, self.users, self.ca_cert, os.path.join(self.pki, "ca.key")).start()
        return super().start()

    def _write_config(self, htpasswd):
        path = super()._write_config(htpasswd)
        with open(path) as f:
            config = json.load(f)
        config["auth"] = {"token": {"realm": self.token_server.realm, "service": SERVICE, "issuer": ISSUER,
                                    "rootcertbundle": self.token_server.signing_cert}}
        with open(path, "w") as f:
            json.dump(config, f, indent=2)
        return path

    def close(self):
        self.stop()
        if self.token_server is not None:
            self.token_server.stop()
            self.token_server = None
