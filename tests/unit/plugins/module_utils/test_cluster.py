"""The API client's pure parts and its retry behaviour, against a tiny local HTTP server."""

import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3
import yaml

from ansible_collections.ocp.registry_access.plugins.module_utils import _cluster as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _constants as const

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def test_version_matches_galaxy_yml():
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        assert yaml.safe_load(f)["version"] == const.COLLECTION_VERSION
    assert cl.USER_AGENT == "ocp.registry_access/" + const.COLLECTION_VERSION


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


def test_kubeconfig_secret_values_covers_every_auth_kind_of_every_user():
    config = {
        "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://api:6443", "proxy-url": "http://px:px-pass-1@proxy:3128"}}],
        "users": [
            {"name": "oidc", "user": {"auth-provider": {"name": "oidc", "config": {
                "id-token": "idt-1", "refresh-token": "rt-1", "client-secret": "cs-1", "access-token": "at-1",
                "client-id": "cid-1", "idp-certificate-authority-data": "ca-1", "extra-field": "xf-1"}}}},
            {"name": "exec", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1", "command": "get-token",
                "args": ["--token=arg-tok-1", "--password", "arg-pw-1", "--region", "eu", "plain-but-long-argument-1"],
                "env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "env-1"}, {"name": "EMPTY", "value": ""}]}}},
            {"name": "cert", "user": {"client-certificate-data": "ccd-1", "client-key-data": "ckd-1",
                                      "client-key": "/path/key", "username": "bob", "as": "alice"}},
            {"name": "other", "user": {"token": "tok-2", "password": "pw-2", "username": "carol", "unknown": {"nested": ["nst-1"]}}},
        ],
    }
    assert cl.kubeconfig_secret_values(config) == {
        "idt-1", "rt-1", "cs-1", "at-1", "cid-1", "ca-1", "xf-1", "arg-tok-1", "arg-pw-1", "plain-but-long-argument-1",
        "env-1", "ccd-1", "ckd-1", "tok-2", "pw-2", "nst-1", "px:px-pass-1", "px-pass-1"}


def test_connection_secret_values_include_a_password_in_host_or_proxy():
    params = dict(kubeconfig=None, host="https://u:host-pw@api:6443", proxy="http://proxy-user:proxy-pw@proxy:3128")
    assert cl.connection_secret_values(params) == {"u:host-pw", "host-pw", "proxy-user:proxy-pw", "proxy-pw"}
    assert cl.connection_secret_values(dict(host="https://api:6443", proxy="http://proxy:3128")) == set()


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
    """Answers each request from the server's routes ({(method, path): answer}, the path with or without its
    query), else with the next answer of its script; an answer is (status, body, headers), where a bytes body
    is sent as is and headers is a dict or a list of pairs."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.seen.append((self.command, self.path, dict(self.headers)))
            self.server.bodies.append(json.loads(sent) if sent else None)
            self.server.header_lists.append(self.headers)
            routes = self.server.routes
            answer = routes.get((self.command, self.path)) or routes.get((self.command, self.path.split("?")[0]))
            if answer is None:
                answer = self.server.script.pop(0) if self.server.script else (200, {}, {})
        status, body, headers = answer
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers.items() if isinstance(headers, dict) else headers):
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
    # Threaded: the client sends parallel requests; routes answer them whatever their order.
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Script)
    httpd.daemon_threads = True
    httpd.script, httpd.seen, httpd.bodies, httpd.header_lists, httpd.routes = [], [], [], [], {}
    httpd.lock = threading.Lock()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


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


def certificate_rejected(verify_message):
    error = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %s (_ssl.c:1006)" % verify_message)
    error.verify_message, error.verify_code = verify_message, 79
    return error


class _RaisingHttp(object):
    """Stands in for the urllib3 pool: every request raises the same error."""

    def __init__(self, error):
        self.error, self.calls = error, 0

    def request(self, *args, **kwargs):
        self.calls += 1
        raise self.error


@pytest.mark.parametrize("wrap", [
    urllib3.exceptions.SSLError,
    lambda e: urllib3.exceptions.ProxyError("Unable to connect to proxy", urllib3.exceptions.SSLError(e)),
    lambda e: urllib3.exceptions.MaxRetryError(None, "/version", urllib3.exceptions.SSLError(e)),
], ids=["ssl-error", "proxy-error", "max-retry-error"])
def test_certificate_strict_verification_rejects_fails_at_once_in_one_line(wrap):
    client = cl.Client(cl.Connection("https://api.example.test:6443"))
    slept = sleeps_of(client)
    client.http = _RaisingHttp(wrap(certificate_rejected("CA cert does not include key usage extension")))
    with pytest.raises(cl.ApiError) as err:
        client.request("GET", "/version")
    message = str(err.value)
    assert client.http.calls == 1 and slept == []
    assert message == ("GET /version: the API server certificate at https://api.example.test:6443 failed verification: "
                       "CA cert does not include key usage extension; set ca_cert to the CA that signed it, "
                       "or validate_certs to false to skip verification")
    assert "\n" not in message


def test_other_tls_errors_are_still_retried():
    client = cl.Client(cl.Connection("https://api.example.test:6443"))
    slept = sleeps_of(client)
    client.http = _RaisingHttp(urllib3.exceptions.SSLError(ssl.SSLEOFError(8, "EOF occurred in violation of protocol")))
    with pytest.raises(cl.ApiError, match="cannot reach the API server .* after %d attempts" % cl.MAX_ATTEMPTS):
        client.request("GET", "/version")
    assert client.http.calls == cl.MAX_ATTEMPTS and len(slept) == cl.MAX_ATTEMPTS - 1


def url_of(server):
    return "http://127.0.0.1:%d" % server.server_address[1]


def sleeps_of(client):
    slept = []
    client.sleep = slept.append
    return slept


def item(name, namespace=None):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"metadata": metadata}


def paths(server):
    return sorted(s[1] for s in server.seen)


# -- request ---------------------------------------------------------------------------------

def test_request_query_drops_none_and_is_sorted(server):
    client_for(server).request("GET", "/x", query={"b": "2", "a": "x=y", "c": None})
    assert server.seen[0][1] == "/x?a=x%3Dy&b=2"


def test_request_sends_compact_json_with_content_type_only_with_a_body(server):
    client = client_for(server)
    client.create("/things", {"a": [1, 2], "b": "c"})
    client.replace("/things/t", {"a": 1})
    client.request("GET", "/things")
    assert [(s[0], s[1]) for s in server.seen] == [("POST", "/things"), ("PUT", "/things/t"), ("GET", "/things")]
    assert server.bodies[:2] == [{"a": [1, 2], "b": "c"}, {"a": 1}]
    assert server.seen[0][2]["Content-Length"] == str(len(b'{"a":[1,2],"b":"c"}'))
    assert server.seen[0][2]["Content-Type"] == "application/json"
    assert "Content-Type" not in server.seen[2][2]
    assert server.seen[2][2]["Accept"] == "application/json"


def test_request_with_empty_response_body_returns_empty_dict(server):
    server.script = [(200, b"", {})]
    assert client_for(server).request("DELETE", "/x") == {}


def test_request_counts_every_attempt(server):
    server.script = [(500, {}, {}), (200, {}, {})]
    client = client_for(server)
    client.request("GET", "/x")
    assert client.requests_sent == 2


def test_error_with_non_json_body_uses_the_text(server):
    server.script = [(400, b"<html>\n  upstream   said no\n</html>", {})]
    with pytest.raises(cl.ApiError) as err:
        client_for(server).request("GET", "/x")
    assert err.value.status == 400 and err.value.reason == "Bad Request"
    assert err.value.message == "<html> upstream said no </html>"
    assert str(err.value) == "GET /x: HTTP 400 Bad Request: <html> upstream said no </html>"


def test_error_with_empty_body_falls_back_to_the_reason(server):
    server.script = [(401, b"", {})]
    with pytest.raises(cl.ApiError) as err:
        client_for(server).request("GET", "/x")
    assert err.value.status == 401 and err.value.message == "Unauthorized"


def test_error_with_non_json_body_is_redacted(server):
    server.script = [(400, b"token fake-leaked-token-123 rejected", {})]
    client = client_for(server, redact=lambda text: text.replace("fake-leaked-token-123", "********"))
    with pytest.raises(cl.ApiError) as err:
        client.request("GET", "/x")
    assert "fake-leaked-token-123" not in str(err.value) and "********" in str(err.value)


def test_every_warning_header_is_collected_unquoted_and_redacted(server):
    server.script = [(200, {}, [("Warning", '299 - "first warning"'),
                                ("Warning", '299 - "uses fake-secret-w4rn in a field"'),
                                ("Warning", "299 - unquoted   text\there")])]
    client = client_for(server, redact=lambda text: text.replace("fake-secret-w4rn", "********"))
    client.request("GET", "/x")
    assert client.api_warnings() == ["first warning", "uses ******** in a field", "unquoted text here"]


def test_api_warnings_returns_a_copy(server):
    server.script = [(200, {}, {"Warning": '299 - "w"'})]
    client = client_for(server)
    client.request("GET", "/x")
    client.api_warnings().append("mine")
    assert client.api_warnings() == ["w"]


@pytest.mark.parametrize("retry_after,low,high", [
    (None, 0.1, 0.2),
    ("3", 1.5, 3.0),
    ("100", 2.5, 5.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.1, 0.2),
])
def test_backoff_honours_a_numeric_retry_after_within_the_cap(server, retry_after, low, high):
    server.script = [(429, {}, {"Retry-After": retry_after} if retry_after else {}), (200, {}, {})]
    client = client_for(server)
    slept = sleeps_of(client)
    client.request("GET", "/x")
    assert len(slept) == 1 and low <= slept[0] <= high


def test_backoff_grows_per_attempt_up_to_the_cap(server):
    server.script = [(503, {}, {})] * cl.MAX_ATTEMPTS
    client = client_for(server)
    slept = sleeps_of(client)
    with pytest.raises(cl.ApiError):
        client.request("GET", "/x")
    assert len(slept) == cl.MAX_ATTEMPTS - 1
    for attempt, delay in enumerate(slept, 1):
        full = min(cl.BACKOFF_CAP, cl.BACKOFF_BASE * 2 ** (attempt - 1))
        assert full / 2 <= delay <= full


def test_refreshed_authorization_replaces_the_static_one(server):
    calls = []

    def refresh():
        calls.append(1)
        return "Bearer fake-refreshed-%d" % len(calls)

    now = [100.0]
    conn = cl.Connection(url_of(server), headers={"Authorization": "Bearer fake-stale"}, refresh=refresh)
    client = cl.Client(conn, sleep=lambda s: None, clock=lambda: now[0])
    client.request("GET", "/a")
    now[0] += cl.REFRESH_EVERY - 1
    client.request("GET", "/b")
    now[0] += 1
    client.request("GET", "/c")
    assert [s[2]["Authorization"] for s in server.seen] == ["Bearer fake-refreshed-1"] * 2 + ["Bearer fake-refreshed-2"]
    assert len(calls) == 2, "the hook is asked once per REFRESH_EVERY seconds, not at every request"


def test_a_401_asks_the_refresh_hook_again_once(server):
    tokens = iter(["Bearer fake-expired", "Bearer fake-renewed", "Bearer fake-third"])
    conn = cl.Connection(url_of(server), refresh=lambda: next(tokens))
    client = cl.Client(conn, sleep=lambda s: None, clock=lambda: 0.0)
    server.script = [(401, {"reason": "Unauthorized"}, {}), (200, {"ok": True}, {})]
    assert client.request("GET", "/a") == {"ok": True}
    assert [s[2]["Authorization"] for s in server.seen] == ["Bearer fake-expired", "Bearer fake-renewed"]
    server.script = [(401, {"reason": "Unauthorized"}, {})] * 3
    with pytest.raises(cl.ApiError) as err:
        client.request("GET", "/b")
    assert err.value.status == 401 and len(server.seen) == 4, "one more attempt with a renewed token, no loop"


def test_a_401_without_a_refresh_hook_fails_at_once(server):
    server.script = [(401, {"reason": "Unauthorized"}, {})]
    with pytest.raises(cl.ApiError) as err:
        cl.Client(cl.Connection(url_of(server), headers={"Authorization": "Bearer fake-bad"})).request("GET", "/a")
    assert err.value.status == 401 and len(server.seen) == 1


def test_refresh_without_a_token_keeps_the_static_authorization(server):
    conn = cl.Connection(url_of(server), headers={"Authorization": "Bearer fake-static"}, refresh=lambda: None)
    cl.Client(conn).request("GET", "/a")
    assert server.seen[0][2]["Authorization"] == "Bearer fake-static"


def test_impersonated_groups_are_sent_as_repeated_headers(server):
    conn = cl.Connection(url_of(server), headers={"Impersonate-User": "alice", "Impersonate-Group": ["g1", "g2"]})
    cl.Client(conn).request("GET", "/a")
    headers = server.header_lists[0]
    assert headers.get_all("Impersonate-Group") == ["g1", "g2"]
    assert headers.get_all("Impersonate-User") == ["alice"]


# -- verbs -----------------------------------------------------------------------------------

def test_get_raises_errors_other_than_404(server):
    server.script = [(403, {"reason": "Forbidden", "message": "no"}, {})]
    with pytest.raises(cl.ApiError) as err:
        client_for(server).get("/x")
    assert err.value.status == 403


def test_delete_sends_a_resource_version_precondition(server):
    assert client_for(server).delete("/api/v1/namespaces/a/secrets/s", resource_version="42") is True
    assert server.seen[0][0] == "DELETE"
    assert server.bodies[0] == {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": "42"}}
    assert server.seen[0][2]["Content-Type"] == "application/json"


def test_delete_without_resource_version_sends_no_body(server):
    assert client_for(server).delete("/x") is True
    assert server.bodies == [None]


def test_delete_raises_a_failed_precondition(server):
    server.script = [(409, {"reason": "Conflict", "message": "precondition failed"}, {})]
    with pytest.raises(cl.ApiError) as err:
        client_for(server).delete("/x", resource_version="1")
    assert err.value.status == 409


def test_read_modify_write_gives_up_after_max_conflict_attempts(server):
    server.routes = {("PUT", "/obj"): (409, {"reason": "Conflict"}, {}), ("GET", "/obj"): (200, {"v": 1}, {})}
    client = client_for(server)
    slept = sleeps_of(client)
    with pytest.raises(cl.ApiError) as err:
        client.read_modify_write("/obj", lambda obj: dict(obj, v=2), current={"v": 1})
    assert err.value.status == 409
    assert "gave up after %d conflicting updates" % cl.MAX_CONFLICT_ATTEMPTS in str(err.value)
    methods = [s[0] for s in server.seen]
    assert methods.count("PUT") == cl.MAX_CONFLICT_ATTEMPTS
    assert methods.count("GET") == cl.MAX_CONFLICT_ATTEMPTS - 1
    assert len(slept) == cl.MAX_CONFLICT_ATTEMPTS - 1, "a pause after the last attempt only delays the failure"


@pytest.mark.parametrize("seed", range(20))
def test_conflict_pauses_are_drawn_from_a_window_that_doubles_up_to_the_cap(server, seed):
    client = client_for(server)
    slept = sleeps_of(client)
    cl.random.seed(seed)
    with pytest.raises(cl.ApiError):
        client.retry_on_conflict(failing(cl.ApiError(409, "Conflict", "stale")))
    windows = [min(cl.CONFLICT_PAUSE_CAP, cl.CONFLICT_PAUSE_BASE * 2 ** attempt) for attempt in range(len(slept))]
    assert len(slept) == cl.MAX_CONFLICT_ATTEMPTS - 1
    assert all(window / 10 <= pause <= window for pause, window in zip(slept, windows)), (slept, windows)
    assert windows[-1] == cl.CONFLICT_PAUSE_CAP and sum(windows) < 20, "the worst case stays well under a minute"


def test_colliding_writers_spread_out_rather_than_pausing_in_step(server):
    """Two writers that collided at once pause differently more often than not; with equal pauses they never would."""
    client = client_for(server)
    slept = sleeps_of(client)
    cl.random.seed(0)
    for _writer in range(200):
        client.conflict_pause(3)
    window = cl.CONFLICT_PAUSE_BASE * 8
    apart = sum(1 for a, b in zip(slept[::2], slept[1::2]) if abs(a - b) > window / 10)
    assert apart > 60, "only %d of 100 pairs of pauses were more than a tenth of the window apart" % apart


def test_read_modify_write_raises_other_errors_at_once(server):
    server.script = [(422, {"reason": "Invalid", "message": "bad"}, {})]
    with pytest.raises(cl.ApiError) as err:
        client_for(server).read_modify_write("/obj", lambda obj: obj, current={"v": 1})
    assert err.value.status == 422
    assert len(server.seen) == 1


def test_read_modify_write_reads_first_without_current_and_never_mutates_it(server):
    server.script = [(200, {"v": 1, "list": [1]}, {}), (200, {"v": 2}, {})]
    read = []

    def mutate(obj):
        read.append(obj)
        obj["list"].append(2)
        return obj

    after, changed = client_for(server).read_modify_write("/obj", mutate)
    assert (after, changed) == ({"v": 2}, True)
    assert [(s[0], s[1]) for s in server.seen] == [("GET", "/obj"), ("PUT", "/obj")]
    assert server.bodies[1] == {"v": 1, "list": [1, 2]}


def test_read_modify_write_keeps_the_callers_object(server):
    current = {"v": 1, "list": [1]}

    def mutate(obj):
        obj["list"].append(2)
        return obj

    client_for(server).read_modify_write("/obj", mutate, current=current)
    assert current == {"v": 1, "list": [1]}


def test_parallel_of_one_item_returns_its_exception():
    client = cl.Client(cl.Connection("http://127.0.0.1:1"))

    def fail(_message):
        raise KeyError("k")

    results = client.parallel(fail, ["only"])
    assert len(results) == 1 and isinstance(results[0], KeyError)
    assert client.parallel(fail, []) == []


# -- namespaces --------------------------------------------------------------------------------

def test_namespaces_a_single_namespace_wins_and_reads_nothing(server):
    assert client_for(server).namespaces(namespace="a", namespaces=["b"], selector="x=y") == ["a"]
    assert server.seen == []


@pytest.mark.parametrize("exclude,expected", [
    (None, ["a", "b", "kube-system", "openshift-config"]),
    (["openshift-*", "kube-*"], ["a", "b"]),
    (["?"], ["kube-system", "openshift-config"]),
    (["KUBE-*"], ["a", "b", "kube-system", "openshift-config"]),
])
def test_namespaces_list_is_sorted_unique_and_excluded_by_pattern(server, exclude, expected):
    names = ["b", "openshift-config", "a", "b", "kube-system"]
    assert client_for(server).namespaces(namespaces=names, exclude=exclude) == expected
    assert server.seen == []


def test_namespaces_by_selector_lists_matching_namespaces(server):
    server.script = [(200, {"items": [item("p-2"), item("p-1"), item("p-skip")]}, {})]
    assert client_for(server).namespaces(selector="team=a", exclude=["*-skip"]) == ["p-1", "p-2"]
    assert server.seen[0][1] == "/api/v1/namespaces?labelSelector=team%3Da&limit=20000"


def test_namespaces_without_any_option_lists_every_namespace(server):
    server.script = [(200, {"items": [item("b"), item("a")]}, {})]
    assert client_for(server).namespaces() == ["a", "b"]
    assert server.seen[0][1] == "/api/v1/namespaces?limit=20000"


def test_existing_namespaces_reads_each_of_few(server):
    server.routes = {("GET", "/api/v1/namespaces/a"): (200, item("a"), {}),
                     ("GET", "/api/v1/namespaces/b"): (404, {"reason": "NotFound"}, {})}
    assert client_for(server).existing_namespaces(["a", "b"]) == {"a"}
    assert paths(server) == ["/api/v1/namespaces/a", "/api/v1/namespaces/b"]


def test_existing_namespaces_lists_once_for_many(server):
    server.script = [(200, {"items": [item("a"), item("c"), item("unrelated")]}, {})]
    assert client_for(server).existing_namespaces(["a", "b", "c", "d"]) == {"a", "c"}
    assert paths(server) == ["/api/v1/namespaces?limit=20000"]


def test_existing_namespaces_reads_each_when_listing_is_forbidden(server):
    server.routes = {("GET", "/api/v1/namespaces"): (403, {"reason": "Forbidden"}, {}),
                     ("GET", "/api/v1/namespaces/a"): (200, item("a"), {}),
                     ("GET", "/api/v1/namespaces/b"): (404, {"reason": "NotFound"}, {}),
                     ("GET", "/api/v1/namespaces/c"): (200, item("c"), {})}
    assert client_for(server).existing_namespaces(["a", "b", "c"]) == {"a", "c"}
    assert paths(server) == ["/api/v1/namespaces/a", "/api/v1/namespaces/b", "/api/v1/namespaces/c",
                             "/api/v1/namespaces?limit=20000"]


def test_existing_namespaces_raises_other_list_errors(server):
    server.script = [(401, {"reason": "Unauthorized"}, {})]
    with pytest.raises(cl.ApiError) as err:
        client_for(server).existing_namespaces(["a", "b", "c"])
    assert err.value.status == 401
    assert len(server.seen) == 1


def test_existing_namespaces_raises_a_failed_read(server):
    server.routes = {("GET", "/api/v1/namespaces/a"): (200, item("a"), {}),
                     ("GET", "/api/v1/namespaces/b"): (403, {"reason": "Forbidden"}, {})}
    with pytest.raises(cl.ApiError) as err:
        client_for(server).existing_namespaces(["a", "b"])
    assert err.value.status == 403 and err.value.path == "/api/v1/namespaces/b"


# -- list_by_namespace / objects_by_namespace --------------------------------------------------

def test_list_by_namespace_lists_cluster_wide_once_for_many(server):
    server.script = [(200, {"items": [item("s1", "a"), item("s2", "a"), item("s3", "c"), item("s4", "elsewhere")]}, {})]
    found = client_for(server).list_by_namespace("secrets", ["a", "b", "c"], field_selector="type=x")
    assert found == {"a": [item("s1", "a"), item("s2", "a")], "b": [], "c": [item("s3", "c")]}
    assert paths(server) == ["/api/v1/secrets?fieldSelector=type%3Dx&limit=20000"]


def test_list_by_namespace_lists_each_of_few(server):
    server.routes = {("GET", "/api/v1/namespaces/a/secrets"): (200, {"items": [item("s1", "a")]}, {}),
                     ("GET", "/api/v1/namespaces/b/secrets"): (200, {"items": []}, {})}
    found = client_for(server).list_by_namespace("secrets", ["a", "b"])
    assert found == {"a": [item("s1", "a")], "b": []}
    assert paths(server) == ["/api/v1/namespaces/a/secrets?limit=20000", "/api/v1/namespaces/b/secrets?limit=20000"]


def test_list_by_namespace_lists_each_when_the_cluster_wide_list_is_forbidden(server):
    group = "/apis/rbac.authorization.k8s.io/v1"
    server.routes = {("GET", group + "/rolebindings"): (403, {"reason": "Forbidden"}, {}),
                     ("GET", group + "/namespaces/a/rolebindings"): (200, {"items": [item("rb", "a")]}, {}),
                     ("GET", group + "/namespaces/b/rolebindings"): (200, {"items": []}, {}),
                     ("GET", group + "/namespaces/c/rolebindings"): (200, {}, {})}
    found = client_for(server).list_by_namespace("rolebindings", ["a", "b", "c"], group="rbac.authorization.k8s.io",
                                                 field_selector="metadata.name=rb")
    assert found == {"a": [item("rb", "a")], "b": [], "c": []}
    query = "?fieldSelector=metadata.name%3Drb&limit=20000"
    assert paths(server) == sorted([group + "/rolebindings" + query] +
                                   [group + "/namespaces/%s/rolebindings" % ns + query for ns in "abc"])


def test_list_by_namespace_raises_other_cluster_wide_errors(server):
    server.script = [(401, {"reason": "Unauthorized"}, {})]
    with pytest.raises(cl.ApiError) as err:
        client_for(server).list_by_namespace("secrets", ["a", "b", "c"])
    assert err.value.status == 401
    assert len(server.seen) == 1


def test_list_by_namespace_raises_a_failed_namespace_list(server):
    server.routes = {("GET", "/api/v1/namespaces/a/secrets"): (200, {"items": []}, {}),
                     ("GET", "/api/v1/namespaces/b/secrets"): (403, {"reason": "Forbidden"}, {})}
    with pytest.raises(cl.ApiError) as err:
        client_for(server).list_by_namespace("secrets", ["a", "b"])
    assert err.value.status == 403 and err.value.path == "/api/v1/namespaces/b/secrets"


def test_objects_by_namespace_gives_the_named_object_or_none(server):
    server.script = [(200, {"items": [item("pull", "a"), item("pull", "c")]}, {})]
    found = client_for(server).objects_by_namespace("secrets", "pull", ["a", "b", "c"])
    assert found == {"a": item("pull", "a"), "b": None, "c": item("pull", "c")}
    assert paths(server) == ["/api/v1/secrets?fieldSelector=metadata.name%3Dpull&limit=20000"]


def test_objects_by_namespace_falls_back_to_namespace_lists_when_forbidden(server):
    server.routes = {("GET", "/api/v1/serviceaccounts"): (403, {"reason": "Forbidden"}, {}),
                     ("GET", "/api/v1/namespaces/a/serviceaccounts"): (200, {"items": [item("default", "a")]}, {}),
                     ("GET", "/api/v1/namespaces/b/serviceaccounts"): (200, {"items": []}, {}),
                     ("GET", "/api/v1/namespaces/c/serviceaccounts"): (200, {"items": [item("default", "c")]}, {})}
    found = client_for(server).objects_by_namespace("serviceaccounts", "default", ["a", "b", "c"])
    assert found == {"a": item("default", "a"), "b": None, "c": item("default", "c")}
    assert all("fieldSelector=metadata.name%3Ddefault" in s[1] for s in server.seen)
    assert len(server.seen) == 4


# -- the HTTP pool -------------------------------------------------------------------------------

def test_https_without_verification_does_not_require_certificates():
    client = cl.Client(cl.Connection("https://api.example.com:6443", verify=False))
    assert client.http.connection_pool_kw["cert_reqs"] == "CERT_NONE"
    assert not isinstance(client.http, cl.urllib3.ProxyManager)


def test_https_with_verification_uses_the_given_ca_and_client_certificate():
    conn = cl.Connection("https://api.example.com:6443", ca_cert="/ca.crt", client_cert="/c.crt", client_key="/c.key")
    kw = cl.Client(conn).http.connection_pool_kw
    assert (kw["cert_reqs"], kw["ca_certs"], kw["cert_file"], kw["key_file"]) == ("CERT_REQUIRED", "/ca.crt", "/c.crt", "/c.key")


def test_plain_http_has_no_tls_options():
    assert "cert_reqs" not in cl.Client(cl.Connection("http://127.0.0.1:1")).http.connection_pool_kw


def test_proxy_is_used_unless_the_host_is_in_no_proxy():
    proxied = cl.Client(cl.Connection("https://api.example.com:6443", proxy="http://proxy.example.net:3128"))
    assert isinstance(proxied.http, cl.urllib3.ProxyManager)
    assert proxied.http.proxy.host == "proxy.example.net"
    direct = cl.Client(cl.Connection("https://api.example.com:6443", proxy="http://proxy.example.net:3128",
                                     no_proxy="localhost,.example.com"))
    assert not isinstance(direct.http, cl.urllib3.ProxyManager)


# -- resolve_connection ------------------------------------------------------------------------

KUBECONFIG_TOKEN = "fake-kubeconfig-token-q9z"
KUBECONFIG_PASSWORD = "fake-kubeconfig-pa55word"


def kubeconfig(main_server="https://main.example.com:6443"):
    return {"apiVersion": "v1", "kind": "Config", "current-context": "main",
            "clusters": [{"name": "main", "cluster": {"server": main_server, "insecure-skip-tls-verify": True}},
                         {"name": "other", "cluster": {"server": "https://other.example.com:6443/"}}],
            "users": [{"name": "token-user", "user": {"token": KUBECONFIG_TOKEN}},
                      {"name": "basic-user", "user": {"username": "alice", "password": KUBECONFIG_PASSWORD}}],
            "contexts": [{"name": "main", "context": {"cluster": "main", "user": "token-user"}},
                         {"name": "other", "context": {"cluster": "other", "user": "basic-user"}}]}


def write_kubeconfig(directory, config, name="kubeconfig"):
    path = directory / name
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.fixture
def no_ambient_cluster(monkeypatch, tmp_path):
    """No in-cluster variables, no default kubeconfig, HOME in tmp_path: only the test's options count."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_kubeconfig_file_uses_its_current_context(no_ambient_cluster):
    conn = cl.resolve_connection(dict(kubeconfig=write_kubeconfig(no_ambient_cluster, kubeconfig())))
    assert conn.host == "https://main.example.com:6443"
    assert conn.headers == {"Authorization": "Bearer " + KUBECONFIG_TOKEN}
    assert conn.verify is False
    assert conn.refresh is not None and conn.refresh() == "Bearer " + KUBECONFIG_TOKEN


def test_kubeconfig_context_selects_cluster_and_user(no_ambient_cluster):
    path = write_kubeconfig(no_ambient_cluster, kubeconfig())
    conn = cl.resolve_connection(dict(kubeconfig=path, context="other"))
    assert conn.host == "https://other.example.com:6443"
    assert conn.headers["Authorization"].startswith("Basic ")
    assert conn.verify is True


def test_kubeconfig_path_expands_home(no_ambient_cluster):
    write_kubeconfig(no_ambient_cluster, kubeconfig(), name="kc.yaml")
    assert cl.resolve_connection(dict(kubeconfig="~/kc.yaml")).host == "https://main.example.com:6443"


def test_kubeconfig_with_an_unknown_context_is_a_config_error(no_ambient_cluster):
    path = write_kubeconfig(no_ambient_cluster, kubeconfig())
    with pytest.raises(cl.ConfigError, match="cannot use kubeconfig %s: .*nope" % path):
        cl.resolve_connection(dict(kubeconfig=path, context="nope"))


def test_unreadable_kubeconfig_file_is_a_config_error(no_ambient_cluster):
    path = no_ambient_cluster / "broken"
    path.write_text("just a string")
    with pytest.raises(cl.ConfigError, match="cannot use kubeconfig %s" % path):
        cl.resolve_connection(dict(kubeconfig=str(path)))


@pytest.mark.usefixtures("no_ambient_cluster")
def test_kubeconfig_dict_error_does_not_name_a_path():
    with pytest.raises(cl.ConfigError, match=r"cannot use kubeconfig \(dict\)"):
        cl.resolve_connection(dict(kubeconfig=kubeconfig(), context="nope"))


def test_explicit_options_override_the_kubeconfig(no_ambient_cluster):
    path = write_kubeconfig(no_ambient_cluster, kubeconfig())
    conn = cl.resolve_connection(dict(kubeconfig=path, host="https://explicit.example.com:6443/", api_key="fake-explicit-key",
                                      validate_certs=True, ca_cert="/ca.crt", client_cert="/c.crt", client_key="/c.key",
                                      proxy="http://proxy:3128", no_proxy="example.com"))
    assert conn.host == "https://explicit.example.com:6443"
    assert conn.headers == {"Authorization": "Bearer fake-explicit-key"}
    assert conn.refresh is None
    assert (conn.verify, conn.ca_cert, conn.client_cert, conn.client_key) == (True, "/ca.crt", "/c.crt", "/c.key")
    assert (conn.proxy, conn.no_proxy) == ("http://proxy:3128", "example.com")


def test_explicit_api_key_is_what_the_server_sees_not_the_kubeconfig_token(server, no_ambient_cluster):
    # The kubeconfig's token comes back through a refresh hook at each request: the explicit key must still win.
    path = write_kubeconfig(no_ambient_cluster, kubeconfig(main_server="https://unused.example.com:6443"))
    conn = cl.resolve_connection(dict(kubeconfig=path, host=url_of(server), api_key="fake-explicit-key"))
    cl.Client(conn).request("GET", "/x")
    assert server.seen[0][2]["Authorization"] == "Bearer fake-explicit-key"


def test_kubeconfig_token_is_what_the_server_sees(server, no_ambient_cluster):
    path = write_kubeconfig(no_ambient_cluster, kubeconfig(main_server=url_of(server)))
    cl.Client(cl.resolve_connection(dict(kubeconfig=path))).request("GET", "/x")
    assert server.seen[0][2]["Authorization"] == "Bearer " + KUBECONFIG_TOKEN


def test_validate_certs_unset_keeps_the_kubeconfig_setting_and_false_overrides_it(no_ambient_cluster):
    path = write_kubeconfig(no_ambient_cluster, kubeconfig())
    assert cl.resolve_connection(dict(kubeconfig=path, context="other", validate_certs=None)).verify is True
    assert cl.resolve_connection(dict(kubeconfig=path, context="other", validate_certs=False)).verify is False


@pytest.mark.usefixtures("no_ambient_cluster")
def test_host_alone_gives_an_unauthenticated_connection():
    conn = cl.resolve_connection(dict(host="https://api.example.com:6443"))
    assert conn.headers == {} and conn.refresh is None and conn.verify is True


@pytest.mark.usefixtures("no_ambient_cluster")
def test_host_with_a_context_needs_no_kubeconfig():
    conn = cl.resolve_connection(dict(host="https://api.example.com:6443", context="other", api_key="fake-k"))
    assert conn.host == "https://api.example.com:6443"


def test_without_options_the_first_kubeconfig_variable_path_is_read(monkeypatch, no_ambient_cluster):
    first = write_kubeconfig(no_ambient_cluster, kubeconfig(), name="first")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([first, str(no_ambient_cluster / "second")]))
    conn = cl.resolve_connection({})
    assert conn.host == "https://main.example.com:6443"


def test_context_without_kubeconfig_reads_the_kubeconfig_variable(monkeypatch, no_ambient_cluster):
    monkeypatch.setenv("KUBECONFIG", write_kubeconfig(no_ambient_cluster, kubeconfig()))
    assert cl.resolve_connection(dict(context="other")).host == "https://other.example.com:6443"


def test_several_kubeconfig_files_are_merged_as_kubectl_does(monkeypatch, no_ambient_cluster):
    full = kubeconfig()
    users_and_contexts = dict(full, clusters=[])
    clusters_only = {"apiVersion": "v1", "kind": "Config", "clusters": full["clusters"]}
    first = write_kubeconfig(no_ambient_cluster, users_and_contexts, "a")
    second = write_kubeconfig(no_ambient_cluster, clusters_only, "b")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([first, str(no_ambient_cluster / "missing"), second]))
    assert cl.resolve_connection({}).host == "https://main.example.com:6443"
    assert cl.resolve_connection(dict(context="other")).host == "https://other.example.com:6443"


def test_context_without_any_kubeconfig_explains(no_ambient_cluster):
    with pytest.raises(cl.ConfigError, match="no cluster given"):
        cl.resolve_connection(dict(context="other"))


@pytest.mark.usefixtures("no_ambient_cluster")
def test_kubeconfig_needs_the_kubernetes_library(monkeypatch):
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(cl.ConfigError, match="kubernetes.*needed to read a kubeconfig"):
        cl.resolve_connection(dict(kubeconfig=kubeconfig()))


# -- authorization from a kubernetes client Configuration ----------------------------------------

def configuration(**attrs):
    from kubernetes.client import Configuration
    cfg = Configuration()
    for key, value in attrs.items():
        setattr(cfg, key, value)
    return cfg


@pytest.mark.parametrize("attrs,expected", [
    (dict(api_key={"authorization": "fake-tok"}, api_key_prefix={"authorization": "Bearer"}), "Bearer fake-tok"),
    (dict(api_key={"authorization": "Bearer fake-tok"}, api_key_prefix={"authorization": "Bearer"}), "Bearer fake-tok"),
    (dict(api_key={"BearerToken": "Bearer fake-tok"}), "Bearer fake-tok"),
    (dict(username="alice", password="fake-pw"), "Basic YWxpY2U6ZmFrZS1wdw=="),
])
def test_authorization_from_configuration(attrs, expected):
    conn = cl._from_kubernetes_configuration(configuration(host="https://h:6443", **attrs))
    assert conn.headers == {"Authorization": expected}
    assert conn.refresh is None


def test_configuration_without_credentials_sends_no_authorization():
    assert cl._from_kubernetes_configuration(configuration(host="https://h:6443", username="alice")).headers == {}


def test_configuration_refresh_hook_renews_the_authorization():
    tokens = iter(["fake-t1", "fake-t2"])

    def hook(cfg):
        cfg.api_key["BearerToken"] = "Bearer " + next(tokens)

    conn = cl._from_kubernetes_configuration(configuration(host="https://h:6443", refresh_api_key_hook=hook))
    assert conn.headers == {}
    assert conn.refresh() == "Bearer fake-t1"
    assert conn.refresh() == "Bearer fake-t2"


# -- in-cluster configuration --------------------------------------------------------------------

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@pytest.fixture
def pod(monkeypatch, no_ambient_cluster):
    """A pod's service account directory under tmp_path: the module's `os` and `open` redirect the fixed path there.

    The token path is a local variable of _load_incluster, so the module's names for `os` and `open` are replaced
    by wrappers that map SA_DIR to the test's directory; everything else goes to the real functions.
    """
    root = no_ambient_cluster / "serviceaccount"
    root.mkdir()

    def redirect(path):
        return str(root / os.path.relpath(path, SA_DIR)) if str(path).startswith(SA_DIR + "/") else path

    class _Path(object):
        def __getattr__(self, name):
            return getattr(os.path, name)

        def exists(self, path):
            return os.path.exists(redirect(path))

    class _Os(object):
        path = _Path()

        def __getattr__(self, name):
            return getattr(os, name)

    monkeypatch.setattr(cl, "os", _Os())
    monkeypatch.setattr(cl, "open", lambda path, *a, **kw: open(redirect(path), *a, **kw), raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    return root


def test_in_cluster_uses_the_service_account_token(pod):
    (pod / "token").write_text("fake-pod-token-7x\n")
    conn = cl.resolve_connection({})
    assert conn.host == "https://10.0.0.1:443"
    assert conn.headers == {"Authorization": "Bearer fake-pod-token-7x"}
    assert conn.ca_cert == SA_DIR + "/ca.crt"


def test_in_cluster_brackets_an_ipv6_service_host(pod, monkeypatch):
    (pod / "token").write_text("fake-pod-token-7x")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    assert cl.resolve_connection({}).host == "https://[fd00::1]:443"


def test_in_cluster_is_preferred_to_the_default_kubeconfig(pod, monkeypatch, no_ambient_cluster):
    (pod / "token").write_text("fake-pod-token-7x")
    monkeypatch.setenv("KUBECONFIG", write_kubeconfig(no_ambient_cluster, kubeconfig()))
    assert cl.resolve_connection({}).host == "https://10.0.0.1:443"


def test_explicit_options_override_in_cluster(pod):
    (pod / "token").write_text("fake-pod-token-7x")
    conn = cl.resolve_connection(dict(api_key="fake-explicit-key", impersonate_user="bob"))
    assert conn.host == "https://10.0.0.1:443"
    assert conn.headers == {"Authorization": "Bearer fake-explicit-key", "Impersonate-User": "bob"}


def test_in_cluster_needs_the_token_file(pod, monkeypatch, no_ambient_cluster):
    monkeypatch.setenv("KUBECONFIG", write_kubeconfig(no_ambient_cluster, kubeconfig()))
    assert cl._load_incluster() is None
    assert cl.resolve_connection({}).host == "https://main.example.com:6443"


def test_in_cluster_needs_the_service_port(pod, monkeypatch):
    (pod / "token").write_text("fake-pod-token-7x")
    assert cl._load_incluster() is not None
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT")
    assert cl._load_incluster() is None


# -- Client.from_module --------------------------------------------------------------------------

class ModuleFailed(Exception):
    pass


class FakeModule(object):
    def __init__(self, **params):
        self.params = params
        self.no_log_values = set()

    def fail_json(self, **kwargs):
        raise ModuleFailed(kwargs)


@pytest.mark.usefixtures("no_ambient_cluster")
def test_from_module_hides_kubeconfig_credentials_and_builds_a_client():
    module = FakeModule(kubeconfig=kubeconfig(), context=None, host=None, api_key=None, validate_certs=None)
    client = cl.Client.from_module(module, redact=lambda text: "redacted")
    assert module.no_log_values == {KUBECONFIG_TOKEN, KUBECONFIG_PASSWORD}
    assert client.conn.host == "https://main.example.com:6443"
    assert client.redact("x") == "redacted"


def test_from_module_does_not_hide_anything_for_a_kubeconfig_path(no_ambient_cluster):
    module = FakeModule(kubeconfig=write_kubeconfig(no_ambient_cluster, kubeconfig()))
    assert cl.Client.from_module(module).conn.host == "https://main.example.com:6443"
    assert module.no_log_values == set()


@pytest.mark.usefixtures("no_ambient_cluster")
def test_from_module_turns_a_config_error_into_fail_json():
    module = FakeModule(host="api.example.com:6443")
    with pytest.raises(ModuleFailed) as failed:
        cl.Client.from_module(module)
    assert failed.value.args[0] == {"msg": "host api.example.com:6443 must start with https:// or http://"}


@pytest.mark.usefixtures("no_ambient_cluster")
def test_from_module_hides_secrets_even_when_the_kubeconfig_is_unusable():
    module = FakeModule(kubeconfig=kubeconfig(), context="nope")
    with pytest.raises(ModuleFailed) as failed:
        cl.Client.from_module(module)
    assert KUBECONFIG_TOKEN in module.no_log_values
    assert "cannot use kubeconfig (dict)" in failed.value.args[0]["msg"]
    assert KUBECONFIG_TOKEN not in failed.value.args[0]["msg"]


# -- dry run and conflicts ------------------------------------------------------------------------


def test_a_dry_run_client_sends_no_write_but_asks_and_reads(server):
    server.routes = {("GET", "/there"): (200, {"v": 1}, {}), ("GET", "/gone"): (404, {"reason": "NotFound"}, {}),
                     ("POST", "/reviews"): (201, {"status": {"allowed": True}}, {})}
    client = client_for(server)
    client.dry_run = True
    assert client.create("/objs", {"v": 2}) == {"v": 2}
    assert client.replace("/there", {"v": 3}) == {"v": 3}
    assert client.delete("/there") is True and client.delete("/gone") is False
    assert client.ask("/reviews", {"spec": {}}) == {"status": {"allowed": True}}
    assert client.read_modify_write("/there", lambda obj: dict(obj, v=4)) == ({"v": 4}, True)
    assert [s[0] for s in server.seen] == ["GET", "GET", "POST", "GET"]


def failing(error):
    def write(attempt):
        raise error
    return write


def test_retry_on_conflict_plans_again_and_says_what_kept_changing(server):
    client = client_for(server)
    slept = sleeps_of(client)
    attempts = []

    def write(attempt):
        attempts.append(attempt)
        if attempt < 2:
            raise cl.ApiError(409, "Conflict", "stale")
        return "done"

    assert client.retry_on_conflict(write) == "done" and attempts == [0, 1, 2] and len(slept) == 2
    with pytest.raises(cl.ApiError) as err:
        client.retry_on_conflict(failing(cl.ApiError(409, "Conflict", "stale")), what="secret a/b")
    assert err.value.conflict and "secret a/b kept changing; try again" in str(err.value)
    with pytest.raises(cl.ApiError) as err:
        client.retry_on_conflict(failing(cl.ApiError(422, "Invalid", "bad")))
    assert err.value.status == 422


SUBOPTIONS_SPEC = {
    "expected": {"type": "dict", "aliases": ["exp"], "options": {
        "items": {"type": "list", "elements": "dict", "options": {"inner": {"type": "dict", "options": {"a": {"type": "str"}}}}}}},
    "registries": {"type": "list", "elements": "dict", "options": {"server": {"type": "str"}}},
}


@pytest.mark.parametrize("params", [
    {"expected": False}, {"expected": 5}, {"exp": 1.5}, {"expected": {"items": [{"inner": True}]}},
])
def test_a_scalar_where_suboptions_are_expected_is_a_validation_error_not_a_traceback(params):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    params = json.loads(json.dumps(params))
    with pytest.raises(TypeError):
        ArgumentSpecValidator(SUBOPTIONS_SPEC).validate(json.loads(json.dumps(params)))  # ansible-core's own bug
    cl._stringify_scalars_for_suboptions(SUBOPTIONS_SPEC, params)
    assert ArgumentSpecValidator(SUBOPTIONS_SPEC).validate(params).errors, "the value must still be refused"


def test_dicts_lists_and_text_where_suboptions_are_expected_are_left_as_they_are():
    params = {"expected": {"items": [{"inner": {"a": "x"}}, 5]}, "registries": ["text", True, {"server": "s"}], "other": 5}
    before = json.loads(json.dumps(params))
    cl._stringify_scalars_for_suboptions(SUBOPTIONS_SPEC, params)
    assert params == before
