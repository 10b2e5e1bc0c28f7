"""The static server publishes only what a bundle lists plus the page, refuses frames and foreign Host names, and
cannot be tied up by half-sent requests.  A real server on a real socket."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from pathlib import Path

import pytest

from helpers import export, random_textgen
from textgen_export.web.serve import make_server


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    folder = export(random_textgen(), tmp_path_factory.mktemp("b") / "bundle", tfjs=True)
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[remote] url = secret\n")
    (folder / ".env").write_text("TOKEN=secret\n")
    (folder / "notes.txt").write_text("private notes\n")
    return folder


@pytest.fixture(scope="module")
def server(bundle):
    httpd = make_server({"/bundle/": bundle}, port=0, timeout=1.0, max_connections=4)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def get(server, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
    port = server.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", f"127.0.0.1:{port}" if host is None else host)
    conn.endheaders()
    response = conn.getresponse()
    result = response.status, dict(response.headers), response.read()
    conn.close()
    return result


def test_listed_bundle_files_and_the_page_are_served(server):
    assert get(server, "/bundle/manifest.json")[0] == 200
    assert get(server, "/bundle/tfjs/model.json")[0] == 200
    assert get(server, "/")[0] == 200
    assert get(server, "/bundle/vocab.json", host=f"localhost:{server.server_address[1]}")[0] == 200


@pytest.mark.parametrize(
    "path",
    ["/bundle/.git/config", "/bundle/.env", "/bundle/notes.txt", "/bundle/%2egit/config", "/.git/config"],
)
def test_dot_files_and_unlisted_files_are_not_served(server, path):
    status, _, body = get(server, path)
    assert status == 404 and b"secret" not in body and b"private" not in body


def test_frames_are_refused(server):
    _, headers, _ = get(server, "/")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", ""])
def test_a_foreign_host_header_is_refused(server, host):
    status, _, body = get(server, "/bundle/vocab.json", host=host)
    assert status == 421 and b"<s>" not in body


def test_half_sent_requests_neither_pile_up_nor_block_the_server(server):
    port = server.server_address[1]
    before = threading.active_count()
    stalled = []
    for _ in range(20):  # far more than max_connections=4, each sending half a request line and then nothing
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /bundle/manifest.json HT")
        stalled.append(s)
    time.sleep(0.5)
    assert threading.active_count() - before <= 4  # the thread cap holds
    time.sleep(1.5)  # past the 1 s per-connection timeout: the stalled connections are dropped
    assert get(server, "/bundle/manifest.json")[0] == 200
    closed = 0
    for s in stalled:
        s.settimeout(5)
        try:
            closed += s.recv(1) == b""
        except ConnectionResetError:
            closed += 1
        except TimeoutError:  # still held open by the server: the timeout did not work
            pass
        s.close()
    assert closed == len(stalled)
