"""The static server publishes only what a bundle lists plus the page, refuses frames and foreign Host names, and
cannot be tied up by half-sent requests.  A real server on a real socket."""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from helpers import add_private_files, copy_bundle
from textgen_export.web.serve import make_server


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, tiny_bundle) -> Path:
    return add_private_files(copy_bundle(tiny_bundle, tmp_path_factory.mktemp("b") / "bundle"))


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


# -- round 3: deadlines per whole request, parse once, sizes from the open file, no tracebacks ----------------------


def trickle(port: int, closed: list, interval: float = 0.3, budget: int = 40) -> None:
    """A slowloris client: a request line, then one header byte every `interval` s (each read well inside the
    per-read timeout); appends True to `closed` if the server ends the connection before the request is done."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(interval)
    try:
        s.sendall(b"GET /bundle/manifest.json HTTP/1.1\r\n")
        for _ in range(budget):
            try:
                if s.recv(1) == b"":  # the server closed it
                    closed.append(True)
                    return
            except TimeoutError:
                pass
            s.sendall(b"X")
    except OSError:  # reset by the server
        closed.append(True)
    finally:
        s.close()


def test_trickling_senders_are_cut_at_the_request_deadline_and_never_starve_a_visitor(server):
    port = server.server_address[1]
    closed: list = []
    threads = [threading.Thread(target=trickle, args=(port, closed)) for _ in range(8)]  # twice the slots
    for t in threads:
        t.start()
    time.sleep(0.2)  # every slot is taken by a trickler now
    assert get(server, "/bundle/manifest.json")[0] == 200  # a new visitor displaces the oldest trickler
    for t in threads:
        t.join(timeout=60)
    assert len(closed) == len(threads)  # each was cut, though it never went silent for a whole read timeout


@pytest.fixture
def own_bundle(bundle, tmp_path) -> Path:
    import shutil

    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy, ignore=shutil.ignore_patterns(".*", "notes.txt"))
    return copy


def serving(**kwargs):
    httpd = make_server(port=0, timeout=1.0, **kwargs)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_the_manifest_is_verified_once_not_per_request_and_again_when_it_changes(own_bundle, monkeypatch):
    import json

    from textgen_export.web import serve

    verified = []
    real = serve.Bundle
    monkeypatch.setattr(serve, "Bundle", lambda folder: verified.append(folder) or real(folder))
    httpd = serving(bundles={"/bundle/": own_bundle})
    try:
        assert len(verified) == 1  # before serving
        for _ in range(10):
            assert get(httpd, "/bundle/vocab.json")[0] == 200
        assert len(verified) == 1  # not per request
        manifest = json.loads((own_bundle / "manifest.json").read_text())
        (own_bundle / "notes.txt").write_text("private notes\n")
        manifest["files"]["notes.txt"] = {"size": 14, "sha256": "0" * 64}  # listed, but does not verify
        (own_bundle / "manifest.json").write_text(json.dumps(manifest))
        assert get(httpd, "/bundle/notes.txt")[0] == 404
        assert get(httpd, "/bundle/vocab.json")[0] == 404  # an unverified bundle is not served at all
        assert len(verified) == 2  # once per version of the manifest
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("damage", ["huge-manifest", "sparse-file"])
def test_a_bundle_that_does_not_verify_is_never_served(own_bundle, damage):
    import json

    from textgen_export.errors import UserError

    manifest = json.loads((own_bundle / "manifest.json").read_text())
    if damage == "huge-manifest":  # 60 MB of listed names: refused once, at start, not parsed per request
        manifest["files"].update({f"f{i:07d}": {"size": 1, "sha256": ""} for i in range(1_000_000)})
    else:  # a 10 GB hole the manifest says is 1 byte: sizes are compared before anything is hashed
        with open(own_bundle / "model.onnx", "r+b") as f:
            f.truncate(10 * 1024**3)
        manifest["files"]["model.onnx"]["size"] = 1
    (own_bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError):
        serving(bundles={"/bundle/": own_bundle})


def test_content_length_is_the_size_of_the_body_sent_while_the_file_is_replaced(tmp_path):
    from textgen_export.web.serve import Mount

    folder = tmp_path / "files"
    folder.mkdir()
    versions = [b"a" * 100_000, b"b" * 50_000]
    (folder / "data.bin").write_bytes(versions[0])
    httpd = serving(bundles={}, extra={"/files/": Mount(folder)})
    stop = threading.Event()

    def swap():
        k = 0
        while not stop.is_set():
            k ^= 1
            (folder / "next.bin").write_bytes(versions[k])
            os.replace(folder / "next.bin", folder / "data.bin")

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        for _ in range(2000):
            status, headers, body = get(httpd, "/files/data.bin")
            assert status == 200 and int(headers["Content-Length"]) == len(body) and body in versions
    finally:
        stop.set()
        swapper.join()
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("path", ["/node_modules/" + "a" * 300, "/" + "a/" * 3000, "/bundle/" + "%41" * 5000])
def test_over_long_paths_are_answered_without_a_traceback(server, path, capfd):
    assert get(server, path)[0] in (404, 414)
    assert "Traceback" not in capfd.readouterr().err


def test_clients_that_go_away_leave_no_traceback(tmp_path, capfd):
    import struct

    from textgen_export.web.serve import Mount

    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "big.bin").write_bytes(os.urandom(32 * 1024 * 1024))
    httpd = serving(bundles={}, extra={"/files/": Mount(folder)})
    port = httpd.server_address[1]
    try:
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(f"GET /files/big.bin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            s.recv(1024)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, mid-response
            s.close()
        assert get(httpd, "/files/big.bin")[0] == 200
        time.sleep(0.5)  # let the aborted responses' threads finish
    finally:
        httpd.shutdown()
        httpd.server_close()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err
