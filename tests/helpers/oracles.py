"""Clients for the oracle programs in tests/oracle/: the kubelet's and containers/image's own code
answering which credential a node uses for an image. One long-lived process per oracle; a request
is a dict, the answer the parsed JSON line (protocol: tests/oracle/README.md)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

ORACLE_DIR = Path(__file__).resolve().parent.parent / "oracle"


class OracleError(RuntimeError):
    """The oracle could not be built, started, or did not answer."""


def build() -> Path:
    """Build both oracles (cached by build.sh) and return the directory holding the binaries."""
    proc = subprocess.run(
        ["bash", str(ORACLE_DIR / "build.sh")], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise OracleError(f"tests/oracle/build.sh failed:\n{proc.stderr[-4000:]}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise OracleError("tests/oracle/build.sh printed no directory")
    return Path(lines[-1])


def b64(data: bytes | str) -> str:
    """Base64 of raw bytes (str is UTF-8 encoded), as the protocol carries files and secret data."""
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode("ascii")


class Oracle:
    """One oracle process, started on first use and restarted if it dies.

    The process runs in a private, empty working directory with HOME and the XDG directories
    pointed there, so no host credential file can leak into an answer. Thread-safe: one request
    at a time.
    """

    binary_name = ""

    def __init__(self, binary: str | os.PathLike[str] | None = None, timeout: float = 60.0):
        self._binary = Path(binary) if binary else None
        self._timeout = timeout
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._sandbox: str | None = None
        self._stderr: Any = None
        self._next_id = 0

    @property
    def binary(self) -> Path:
        if self._binary is None:
            self._binary = build() / self.binary_name
        return self._binary

    def _start(self) -> subprocess.Popen[str]:
        self._stop()
        self._sandbox = tempfile.mkdtemp(prefix=f"{self.binary_name}-")
        home = os.path.join(self._sandbox, "home")
        os.mkdir(home)
        env = {
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_RUNTIME_DIR": self._sandbox,
            "PATH": "/nonexistent",
            "TMPDIR": self._sandbox,
        }
        self._stderr = tempfile.TemporaryFile(mode="w+", dir=self._sandbox)
        self._proc = subprocess.Popen(
            [str(self.binary)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=self._sandbox,
            env=env,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        return self._proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._sandbox:
            shutil.rmtree(self._sandbox, ignore_errors=True)
            self._sandbox = None

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    def _exchange(self, line: str) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            proc = self._start()
        assert proc.stdin and proc.stdout
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        # One response line per request line; a timeout guards against a wedged process.
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self._timeout)
        if reader.is_alive():
            proc.kill()
            raise OracleError(f"{self.binary_name} did not answer within {self._timeout}s")
        if not result or not result[0]:
            raise OracleError(f"{self.binary_name} exited (rc={proc.poll()}): {self._stderr_tail()}")
        return json.loads(result[0])

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request (an "id" is added when missing) and return the parsed response."""
        with self._lock:
            if "id" not in request:
                self._next_id += 1
                request = {**request, "id": self._next_id}
            line = json.dumps(request)
            try:
                response = self._exchange(line)
            except (OSError, OracleError):
                # The process died (or hung): start a fresh one and try once more.
                self._stop()
                response = self._exchange(line)
            if response.get("id") != request["id"]:
                self._stop()
                raise OracleError(f"{self.binary_name} answered id {response.get('id')!r} to {request['id']!r}")
            return response

    def raw(self, line: str) -> dict[str, Any]:
        """Send one raw line (for bad-input tests) and return the parsed response."""
        with self._lock:
            try:
                return self._exchange(line)
            except (OSError, OracleError):
                self._stop()
                return self._exchange(line)

    def close(self) -> None:
        with self._lock:
            self._stop()

    def __enter__(self) -> "Oracle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class KubeletOracle(Oracle):
    """The kubelet's keyring (k8s.io/kubernetes v1.36.3): every order of credentials it tries."""

    binary_name = "kubelet-oracle"

    def lookup(
        self,
        image: str,
        secrets: list[dict[str, Any]] | None = None,
        node_config: bytes | str | None = None,
    ) -> dict[str, Any]:
        """secrets: [{"name", "type", "data": {key: raw bytes or str}}]; data is base64-encoded here."""
        encoded = [
            {**s, "data": {k: b64(v) for k, v in (s.get("data") or {}).items()}} for s in (secrets or [])
        ]
        return self.ask(
            {
                "image": image,
                "secrets": encoded,
                "node_config": None if node_config is None else b64(node_config),
            }
        )


class ContainersImageOracle(Oracle):
    """containers/image (go.podman.io/image/v5 v5.42.1): the credential CRI-O takes from its auth file."""

    binary_name = "containers-image-oracle"

    def lookup(self, image: str, authfile: bytes | str) -> dict[str, Any]:
        return self.ask({"image": image, "authfile": b64(authfile)})

    def lookup_key(self, key: str, authfile: bytes | str) -> dict[str, Any]:
        return self.ask({"op": "key", "key": key, "authfile": b64(authfile)})
