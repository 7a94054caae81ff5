"""The API client's pure parts and its retry behaviour, against a tiny local HTTP server."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import yaml

from ansible_collections.ocp.registry_access.plugins.module_utils import _cluster as cl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def test_version_matches_galaxy_yml():
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        assert yaml.safe_load(f)["version"] == cl.COLLECTION_VERSION
    assert cl.USER_AGENT == "ocp.registry_access/" + cl.COLLECTION_VERSION


@pytest.mark.parametrize("args,expected", [
    (("secrets", "ns", "n"), "/api/v1/namespaces/ns/secrets/n"),
    (("namespaces",), "/api/v1/namespaces"),
    (("rolebindings", "ns", "system:image-puller"), "/api/v1/namespaces/ns/rolebindings/system%3Aimage-puller"),
])
def test_resource_path_core(args, expected):
    assert cl.resource_path(*args) == expected


def test_resource_path_group_and_subresource():
    assert cl.resource_path("machineconfigpools", name="worker", group="machineconfiguration.openshift.io",
                            subresource="status") == "/apis/machineconfiguration.openshift.io/v1/machineconfigpools/worker/status"


def test_kubeconfig_secret_values_collects_every_credential_field():
    config = {"users": [{"name": "a", "user": {"token": "tok-1", "client-key-data": "key-1"}},
                        {"name": "b", "user": {"password": "pw-1", "username": "bob"}}, {"name": "c"}]}
    assert cl.kubeconfig_secret_values(config) == {"tok-1", "key-1", "pw-1"}
    assert cl.kubeconfig_secret_values("/path") == set()


def test_one_line_flattens_and_truncates():
    assert cl.one_line("a\n  b\tc") == "a b c"
    assert cl.one_line("x" * 700).endswith("...")


def test_api_error_is_one_line_with_method_and_status():
    err = cl.ApiError(403, "Forbidden", "secrets is forbidden", "POST", "/api/v1/namespaces/a/secrets")
    assert str(err) == "POST /api/v1/namespaces/a/secrets: HTTP 403 Forbidden: secrets is forbidden"


def test_resolve_connection_from_host_and_api_key_with_overrides():
    conn = cl.resolve_connection(dict(host="https://api.example.com:6443/", api_key="tok", validate_certs=False,
                                      ca_cert="/ca.crt", impersonate_user="alice", impersonate_groups=["g1", "g2"],
                                      proxy="http://proxy:3128", no_proxy="example.com"))
    assert conn.host == "https://api.example.com:6443"
    assert conn.headers == {"Authorization": "Bearer tok", "Impersonate-User": "alice", "Impersonate-Group": ["g1", "g2"]}
    assert conn.verify is False and conn.ca_cert == "/ca.crt" and conn.proxy == "http://proxy:3128"


def test_resolve_connection_reads_kubeconfig_dict():
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
                  "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}}],
                  "users": [{"name": "u", "user": {"token": "tok-from-dict"}}],
                  "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]}
    conn = cl.resolve_connection(dict(kubeconfig=kubeconfig))
    assert conn.host == "https://127.0.0.1:1"
    assert conn.headers["Authorization"] == "Bearer tok-from-dict"


@pytest.mark.parametrize("params,message", [
    (dict(kubeconfig="/nonexistent/kubeconfig"), "does not exist"),
    (dict(kubeconfig=["not", "a", "dict"]), "path or a dict"),
    (dict(host="api.example.com:6443"), "must start with https://"),
])
def test_resolve_connection_rejects_bad_options(params, message):
    with pytest.raises(cl.ConfigError, match=message):
        cl.resolve_connection(params)


def test_resolve_connection_without_options_explains(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    with pytest.raises(cl.ConfigError, match="no cluster given"):
        cl.resolve_connection({})


@pytest.mark.parametrize("host,no_proxy,bypass", [
    ("https://api.example.com:6443", "example.com", True),
    ("https://api.example.com:6443", ".example.com", True),
    ("https://api.example.org:6443", "example.com", False),
    ("https://10.0.0.1:6443", "10.0.0.1,foo", True),
    ("https://api.example.com", None, False),
])
def test_bypass_proxy(host, no_proxy, bypass):
    assert cl._bypass_proxy(host, no_proxy) is bypass


class _Script(BaseHTTPRequestHandler):
    """Answers each request with the next (status, body) of the server's script."""

    def _answer(self):
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        status, body, headers = self.server.script.pop(0) if self.server.script else (200, {}, {})
        payload = json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), _Script)
    httpd.script, httpd.seen = [], []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def client_for(server, redact=None):
    conn = cl.Connection("http://127.0.0.1:%d" % server.server_address[1], headers={"Authorization": "Bearer t"})
    return cl.Client(conn, redact=redact, sleep=lambda s: None)


def test_retries_5xx_and_429_then_succeeds(server):
    server.script = [(503, {}, {}), (429, {}, {"Retry-After": "1"}), (200, {"ok": True}, {})]
    client = client_for(server)
    assert client.request("GET", "/x") == {"ok": True}
    assert len(server.seen) == 3
    assert server.seen[0][2]["User-Agent"] == cl.USER_AGENT


def test_gives_up_after_bounded_retries(server):
    server.script = [(503, {"message": "unavailable", "reason": "ServiceUnavailable"}, {})] * 10
    with pytest.raises(cl.ApiError) as err:
        client_for(server).request("GET", "/x")
    assert err.value.status == 503
    assert len(server.seen) == cl.MAX_ATTEMPTS


def test_error_message_is_redacted(server):
    server.script = [(422, {"message": "bad value hunter2-secret here", "reason": "Invalid"}, {})]
    client = client_for(server, redact=lambda text: text.replace("hunter2-secret", "********"))
    with pytest.raises(cl.ApiError) as err:
        client.request("POST", "/x", {"a": 1})
    assert "hunter2" not in str(err.value) and "********" in str(err.value)
    assert err.value.reason == "Invalid"


def test_api_warnings_are_collected_once(server):
    server.script = [(200, {}, {"Warning": '299 - "deprecated thing"'}), (200, {}, {"Warning": '299 - "deprecated thing"'})]
    client = client_for(server)
    client.request("GET", "/a")
    client.request("GET", "/b")
    assert client.api_warnings() == ["deprecated thing"]


def test_get_returns_none_on_404_and_delete_false(server):
    server.script = [(404, {"reason": "NotFound"}, {}), (404, {"reason": "NotFound"}, {})]
    client = client_for(server)
    assert client.get("/x") is None
    assert client.delete("/x") is False


def test_list_follows_continue_tokens(server):
    server.script = [(200, {"items": [1, 2], "metadata": {"continue": "abc"}}, {}), (200, {"items": [3], "metadata": {}}, {})]
    assert client_for(server).list("/things", label_selector="a=b") == [1, 2, 3]
    assert "continue=abc" in server.seen[1][1] and "labelSelector=a%3Db" in server.seen[0][1]


def test_read_modify_write_rereads_on_conflict(server):
    server.script = [(409, {"reason": "Conflict"}, {}), (200, {"v": 2}, {}), (200, {"v": 3}, {})]
    client = client_for(server)
    seen_versions = []

    def mutate(obj):
        seen_versions.append(obj["v"])
        obj["v"] += 1
        return obj

    after, changed = client.read_modify_write("/obj", mutate, current={"v": 1})
    assert changed and after == {"v": 3}
    assert seen_versions == [1, 2]
    assert [s[0] for s in server.seen] == ["PUT", "GET", "PUT"]


def test_read_modify_write_without_change_sends_nothing(server):
    client = client_for(server)
    after, changed = client.read_modify_write("/obj", lambda obj: None, current={"v": 1})
    assert (after, changed) == ({"v": 1}, False)
    assert server.seen == []


def test_parallel_keeps_order_and_returns_exceptions():
    client = cl.Client(cl.Connection("http://127.0.0.1:1"))

    def work(i):
        if i == 3:
            raise ValueError("three")
        return i * 2

    results = client.parallel(work, range(6))
    assert results[:3] == [0, 2, 4] and isinstance(results[3], ValueError) and results[4:] == [8, 10]


def test_connection_refused_is_retried_then_reported():
    client = cl.Client(cl.Connection("http://127.0.0.1:1"), sleep=lambda s: None)
    with pytest.raises(cl.ApiError, match="cannot reach the API server"):
        client.request("GET", "/x")
