"""A real container registry on 127.0.0.1 for tests: Debian's docker-registry (distribution) with
htpasswd auth and TLS, a tiny OCI image written by hand, and skopeo as the registry client.

The binaries come from the Debian packages that `make deps` installs. Nothing here reaches past the
loopback interface, and every subprocess has a bounded timeout.
"""

import gzip
import hashlib
import io
import json
import os
import socket
import ssl
import subprocess
import tarfile
import time
import urllib.error
import urllib.request

REGISTRY_BIN = "/usr/bin/docker-registry"
SKOPEO_BIN = "/usr/bin/skopeo"
HTPASSWD_BIN = "/usr/bin/htpasswd"
OPENSSL_BIN = "openssl"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

COMMAND_TIMEOUT = 60
START_TIMEOUT = 20


def _run(argv, timeout=COMMAND_TIMEOUT, **kwargs):
    """Runs a command that must succeed; the error names the program and its stderr, never argv
    (argv may hold a credential)."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, check=False, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (rc %d): %s" % (os.path.basename(argv[0]), proc.returncode, proc.stderr[-2000:]))
    return proc


def _free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def skopeo_env(home):
    """An environment in which skopeo reads no global or per-user auth, registries or proxy settings."""
    os.makedirs(home, exist_ok=True)
    registries_conf = os.path.join(home, "registries.conf")
    if not os.path.exists(registries_conf):
        with open(registries_conf, "w") as f:
            f.write("")
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update({
        "HOME": home,
        "XDG_RUNTIME_DIR": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "TMPDIR": home,
        "REGISTRY_AUTH_FILE": os.path.join(home, "no-auth.json"),
        "CONTAINERS_REGISTRIES_CONF": registries_conf,
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    })
    return env


class Registry:
    """docker-registry serving https://127.0.0.1:PORT with basic auth for `users` ({name: password}).

    Use as a context manager; `host` is "127.0.0.1:PORT", `cert_dir` a directory holding only the
    CA as `ca.crt` (the layout skopeo's --cert-dir and --dest-cert-dir expect).
    """

    def __init__(self, tmpdir, users):
        self.dir = os.path.join(str(tmpdir), "registry")
        self.users = dict(users)
        self.pki = os.path.join(self.dir, "pki")
        self.cert_dir = os.path.join(self.dir, "certs.d")
        self.ca_cert = os.path.join(self.cert_dir, "ca.crt")
        self.log_path = os.path.join(self.dir, "registry.log")
        self.skopeo_home = os.path.join(self.dir, "skopeo-home")
        self.port = None
        self.process = None
        self._log = None

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    # -- setup -----------------------------------------------------------------------------------

    def _make_certs(self):
        os.makedirs(self.pki, exist_ok=True)
        os.makedirs(self.cert_dir, exist_ok=True)

        def p(name):
            return os.path.join(self.pki, name)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        _run([OPENSSL_BIN, "req", "-x509"] + ec + [
            "-keyout", p("ca.key"), "-out", self.ca_cert, "-days", "2", "-subj", "/CN=ocp-registry-access test registry CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", "subjectKeyIdentifier=hash"])
        _run([OPENSSL_BIN, "req", "-new"] + ec + ["-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"])
        with open(p("server.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                    "subjectAltName=IP:127.0.0.1\n")
        _run([OPENSSL_BIN, "x509", "-req", "-in", p("server.csr"), "-CA", self.ca_cert, "-CAkey", p("ca.key"),
              "-CAcreateserial", "-out", p("server.crt"), "-days", "2", "-extfile", p("server.ext")])

    def _write_htpasswd(self):
        lines = []
        for user, password in self.users.items():
            # -i reads the password from stdin, so it is never on a command line.
            lines.append(_run([HTPASSWD_BIN, "-B", "-n", "-i", user], input=password).stdout.strip())
        path = os.path.join(self.dir, "htpasswd")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def _write_config(self, htpasswd):
        # JSON is YAML, which distribution reads.
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "data")},
                        "delete": {"enabled": True}},
            "http": {"addr": self.host, "secret": os.urandom(16).hex(),
                     "tls": {"certificate": os.path.join(self.pki, "server.crt"),
                             "key": os.path.join(self.pki, "server.key")}},
            "auth": {"htpasswd": {"realm": "ocp-registry-access-test", "path": htpasswd}},
        }
        path = os.path.join(self.dir, "config.yml")
        with open(path, "w") as f:
            json.dump(config, f, indent=2)
        return path

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self._make_certs()
        htpasswd = self._write_htpasswd()
        # REGISTRY_* variables would override the config file.
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        last_error = None
        for _attempt in range(3):  # another process may take the free port before the registry binds it
            self.port = _free_loopback_port()
            config = self._write_config(htpasswd)
            self._log = open(self.log_path, "ab")
            self.process = subprocess.Popen([REGISTRY_BIN, "serve", config], stdout=self._log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                            cwd=self.dir)
            try:
                self._wait_ready()
                return self
            except RuntimeError as e:
                last_error = e
                self.stop()
                if "address already in use" not in str(e):
                    break
        raise last_error

    def _wait_ready(self):
        """Until /v2/ answers 401 (up, TLS valid for 127.0.0.1, auth on)."""
        context = ssl.create_default_context(cafile=self.ca_cert)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
        url = "https://%s/v2/" % self.host
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("docker-registry exited with rc %d:\n%s"
                                   % (self.process.returncode, self.log_tail()))
            try:
                with opener.open(url, timeout=2) as resp:
                    last = "HTTP %d (auth not enforced?)" % resp.status
            except urllib.error.HTTPError as e:
                if e.code == 401:
                    return
                last = "HTTP %d" % e.code
            except (urllib.error.URLError, OSError) as e:
                last = str(e)
            time.sleep(0.2)
        raise RuntimeError("docker-registry on %s not ready after %ds (last: %s):\n%s"
                           % (self.host, START_TIMEOUT, last, self.log_tail()))

    def log_tail(self, size=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-size:]
        except OSError:
            return ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- client ----------------------------------------------------------------------------------

    def skopeo(self, *args, timeout=COMMAND_TIMEOUT):
        """Runs skopeo in an isolated environment; returns the CompletedProcess whatever its rc."""
        return subprocess.run([SKOPEO_BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout, check=False, env=skopeo_env(self.skopeo_home))

    def push(self, oci_dir, ref, user, password):
        """Copies the image tagged `latest` in an OCI layout to docker://<host>/<ref> (tag defaults to latest)."""
        if ":" not in ref.rsplit("/", 1)[-1]:
            ref += ":latest"
        proc = self.skopeo("copy", "--insecure-policy", "--dest-creds", "%s:%s" % (user, password),
                           "--dest-cert-dir", self.cert_dir, "oci:%s:latest" % oci_dir,
                           "docker://%s/%s" % (self.host, ref), timeout=120)
        if proc.returncode != 0:
            raise RuntimeError("skopeo copy to %s/%s failed (rc %d): %s\nregistry log:\n%s"
                               % (self.host, ref, proc.returncode, proc.stderr.replace(password, "<password>")[-2000:],
                                  self.log_tail()))
        return "%s/%s" % (self.host, ref)


# -- a tiny image, written by hand ---------------------------------------------------------------


def _write_blob(oci_dir, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(oci_dir, "blobs", "sha256", digest.split(":", 1)[1])
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": digest, "size": len(data)}


def _json_bytes(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def build_tiny_image(oci_dir):
    """Writes an OCI image layout with one image (tag `latest`, linux/amd64, one layer holding
    /hello.txt). Returns {"manifest": digest, "config": digest, "layer": digest, "diff_id": digest}."""
    os.makedirs(os.path.join(oci_dir, "blobs", "sha256"), exist_ok=True)

    content = b"hello from ocp.registry_access tests\n"
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mode = 0o644
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    uncompressed = tar_bytes.getvalue()
    diff_id = "sha256:" + hashlib.sha256(uncompressed).hexdigest()
    layer = _write_blob(oci_dir, gzip.compress(uncompressed, mtime=0))

    config = _write_blob(oci_dir, _json_bytes({
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "tests/helpers/registry.py"}],
    }))
    manifest = _write_blob(oci_dir, _json_bytes({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": dict(config, mediaType=OCI_CONFIG),
        "layers": [dict(layer, mediaType=OCI_LAYER)],
    }))

    with open(os.path.join(oci_dir, "index.json"), "wb") as f:
        f.write(_json_bytes({
            "schemaVersion": 2,
            "manifests": [dict(manifest, mediaType=OCI_MANIFEST,
                               annotations={"org.opencontainers.image.ref.name": "latest"})],
        }))
    with open(os.path.join(oci_dir, "oci-layout"), "wb") as f:
        f.write(_json_bytes({"imageLayoutVersion": "1.0.0"}))
    return {"manifest": manifest["digest"], "config": config["digest"], "layer": layer["digest"], "diff_id": diff_id}
