"""A test-only TCP fault proxy on loopback, between the collection and the API server.

It works at the TCP level: TLS passes through untouched, so a kubeconfig that names the proxy
(https://127.0.0.1:<proxy port>, the cluster's CA; the API server certificate carries SAN
IP:127.0.0.1) validates as it would against the API server itself. Each new connection is, by
the configured shares:

- reset: closed at once with a TCP RST (SO_LINGER 0) before a byte reaches the API server;
- cut: relayed for a while, then reset both ways after a random number of server-to-client
  chunks (a response lost mid-stream, possibly after the server carried out the request);
- delayed: held for `delay` seconds before it is relayed;
- otherwise relayed as is.

With `gate=N`, every connection is first held until N connections have arrived (or `gate_timeout`
seconds after the first one), then all are let through at once: processes that started apart
reach the API server together, so their writes really collide.

The proxy is bounded: it stops by itself after `lifetime` seconds, and stop() (or leaving the
`with` block) closes the listener and every open connection. Decisions come from a seeded
random generator, and `stats` counts what was done.
"""

import json
import os
import random
import select
import socket
import struct
import threading
import time

CHUNK = 65536


def _rst_close(sock):
    """Close with a TCP RST instead of a FIN (what a crashed peer or a middlebox reset looks like)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class FaultProxy(object):
    def __init__(self, upstream_port, reset=0.0, cut=0.0, delayed=0.0, delay=1.0, seed=0, lifetime=300,
                 gate=None, gate_timeout=8.0, upstream_host="127.0.0.1"):
        if reset + cut + delayed > 1:
            raise ValueError("the shares of reset, cut and delayed connections add up to more than 1")
        self.upstream = (upstream_host, upstream_port)
        self.reset, self.cut, self.delayed, self.delay = reset, cut, delayed, delay
        self.lifetime = lifetime
        self.gate, self.gate_timeout = gate, gate_timeout
        self._gate_open = threading.Event()
        if gate is None:
            self._gate_open.set()
        self.random = random.Random(seed)
        self.stats = {"connections": 0, "reset": 0, "cut": 0, "delayed": 0, "relayed": 0, "upstream_errors": 0,
                      "held_at_gate": 0}
        self._lock = threading.Lock()
        self._open = set()
        self._stopped = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy-%d" % self.port, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    @property
    def server(self):
        return "https://127.0.0.1:%d" % self.port

    # -- life cycle -----------------------------------------------------------------------

    def start(self):
        self._thread.start()
        self._timer.start()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._gate_open.set()
        self._timer.cancel()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _rst_close(sock)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(5)

    @property
    def stopped(self):
        return self._stopped.is_set()

    # -- connections ----------------------------------------------------------------------

    def _count(self, key):
        with self._lock:
            self.stats[key] += 1

    def _track(self, *socks):
        with self._lock:
            if self._stopped.is_set():
                return False
            self._open.update(socks)
            return True

    def _untrack(self, *socks):
        with self._lock:
            self._open.difference_update(socks)

    def _decide(self):
        with self._lock:
            roll = self.random.random()
            cut_after = self.random.randint(3, 12)
        if roll < self.reset:
            return "reset", 0
        if roll < self.reset + self.cut:
            return "cut", cut_after
        if roll < self.reset + self.cut + self.delayed:
            return "delayed", 0
        return "relayed", 0

    def _accept_loop(self):
        while not self._stopped.is_set():
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return  # listener closed by stop()
            self._count("connections")
            if not self._gate_open.is_set():
                self._count("held_at_gate")
                if self.stats["held_at_gate"] == 1:
                    opener = threading.Timer(self.gate_timeout, self._gate_open.set)
                    opener.daemon = True
                    opener.start()
                if self.stats["held_at_gate"] >= self.gate:
                    self._gate_open.set()
            fate, cut_after = self._decide()
            self._count(fate)
            if fate == "reset":
                _rst_close(client)
                continue
            threading.Thread(target=self._serve, args=(client, fate, cut_after), daemon=True).start()

    def _serve(self, client, fate, cut_after):
        if not self._track(client):
            _rst_close(client)
            return
        upstream = None
        try:
            while not self._gate_open.wait(0.1):
                if self._stopped.is_set():
                    return
            if fate == "delayed":
                self._stopped.wait(self.delay)
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                # the API server is down: the client sees what it would see without the proxy, a reset
                self._count("upstream_errors")
                return
            upstream.settimeout(None)
            if not self._track(upstream):
                return
            self._pump(client, upstream, cut_after if fate == "cut" else None)
        finally:
            self._untrack(client, *([upstream] if upstream else []))
            _rst_close(client)
            if upstream is not None:
                _rst_close(upstream)

    def _pump(self, client, upstream, cut_after):
        """Relay both ways until either side closes; with cut_after, reset after that many server chunks."""
        server_chunks = 0
        peers = {client: upstream, upstream: client}
        while not self._stopped.is_set():
            try:
                readable, _w, _x = select.select(list(peers), [], [], 0.5)
            except (OSError, ValueError):
                return
            for sock in readable:
                try:
                    data = sock.recv(CHUNK)
                except OSError:
                    return
                if not data:
                    return
                if sock is upstream:
                    server_chunks += 1
                    if cut_after is not None and server_chunks >= cut_after:
                        return  # both sides reset by _serve
                try:
                    peers[sock].sendall(data)
                except OSError:
                    return


def proxied_kubeconfig(kubeconfig, proxy, path):
    """A copy of kubeconfig (JSON, as tests/cluster writes it) whose clusters point at the proxy; returns path."""
    with open(kubeconfig) as f:
        config = json.load(f)
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = proxy.server
    with os.fdopen(os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(config, f)
    return str(path)


def wait_until(predicate, timeout, interval=0.1):
    """True as soon as predicate() is true, False after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
