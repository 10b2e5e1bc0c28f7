"""The page's third-party JavaScript: npm packages, by name and the version its package-lock.json pins.

Never committed or packaged.  In a checkout they are web_demo/node_modules (`npm ci`); an installed package
fetches them once into the user cache: the registry's metadata for name@version gives the tarball and its
`dist.integrity` (sha512, which must equal the lockfile's), the tarball is checked against it, and only the
files the page loads are extracted.  npm's own content-addressed cache (~/.npm/_cacache) is looked at first: a
tarball found there is checked against the same hash, so a machine that ran `npm ci` needs no network.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..errors import UserError
from ..files.atomic import atomic_directory
from ..keras.pretrained import cache_dir
from .page import checkout_page, web_demo_dir

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
ONNX_RUNTIME_WEB, TFJS, TFJS_WASM = "onnxruntime-web", "@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"
TFJS_WEBGPU = "@tensorflow/tfjs-backend-webgpu"
# The files the page loads from each package (index.html's import map, app.js's wasm paths, and what those
# modules load themselves); nothing else is extracted, served or copied into a site.
PAGE_PACKAGE_FILES = {
    ONNX_RUNTIME_WEB: (
        "dist/ort.wasm.min.mjs",
        "dist/ort-wasm-simd-threaded.mjs",
        "dist/ort-wasm-simd-threaded.wasm",
        "dist/ort.webgpu.min.mjs",  # the WebGPU build (runtime onnx-webgpu) and the wasm it loads
        "dist/ort-wasm-simd-threaded.asyncify.mjs",
        "dist/ort-wasm-simd-threaded.asyncify.wasm",
    ),
    # The UMD builds are the Train panel's worker's (a worker has no import map for the ES builds' bare imports).
    TFJS: ("dist/tf.fesm.min.js", "dist/tf.min.js"),
    TFJS_WASM: (
        "dist/tf-backend-wasm.fesm.min.js",
        "dist/tf-backend-wasm.min.js",
        "dist/tfjs-backend-wasm-simd.wasm",  # the build app.js uses (single-threaded SIMD)
        "dist/tfjs-backend-wasm.wasm",  # the fallback for browsers without wasm SIMD
    ),
    TFJS_WEBGPU: ("dist/tf-backend-webgpu.fesm.min.js",),
}
STAMP = ".textgen-export-npm.json"  # what a cache folder holds (and proof that it is ours)
TIMEOUT_S = 60


def pinned_packages() -> dict[str, dict]:
    """name → {"version", "integrity"} for the page's packages, from the page's package-lock.json."""
    lockfile = web_demo_dir() / "package-lock.json"
    try:
        lock = json.loads(lockfile.read_text(encoding="utf-8"))
        entries = {name: lock["packages"][f"node_modules/{name}"] for name in PAGE_PACKAGE_FILES}
        return {name: {"version": e["version"], "integrity": e["integrity"]} for name, e in entries.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"cannot read the page's npm versions from {lockfile} ({exc}); reinstall textgen-export"
        ) from None


def cache_folder(pins: dict[str, dict] | None = None) -> Path:
    """The user-cache folder for exactly these pins (a new version never mixes with an old one)."""
    pins = pins or pinned_packages()
    key = hashlib.sha256(json.dumps([pins, PAGE_PACKAGE_FILES], sort_keys=True).encode()).hexdigest()[:12]
    return cache_dir().parent / "web" / f"npm-{key}"


def node_modules_dir(fetch: bool = False) -> Path:
    """The folder the page's `node_modules/` URLs map to: the checkout's, else the cached copy (fetched here
    when `fetch`, else a one-line error saying how to get it)."""
    checkout = checkout_page()
    if checkout is not None:
        folder = checkout / "node_modules"
        if not all(
            (folder / name / f).is_file() for name, files in PAGE_PACKAGE_FILES.items() for f in files
        ):
            raise UserError(
                f"{folder} is missing the page's npm packages; run `make node-deps` (npm ci in web_demo/)"
            )
        return folder
    cached = cache_folder() / "node_modules"
    if not (cached.parent / STAMP).is_file():
        if not fetch:
            raise UserError(
                "the page's JavaScript packages are not downloaded yet; run `textgen-export fetch-web`"
            )
        fetch_packages()
    return cached


def fetch_packages(force: bool = False, log=None) -> Path:
    """Download, check and extract the page's npm packages into the user cache (once); returns node_modules/."""
    log = log or (lambda message: print(message, file=sys.stderr))  # stdout stays the command's own output
    pins = pinned_packages()
    folder = cache_folder(pins)
    if (folder / STAMP).is_file() and not force:
        return folder / "node_modules"
    registry = os.environ.get("npm_config_registry") or DEFAULT_REGISTRY
    with atomic_directory(folder) as tmp:
        for name, pin in pins.items():
            tarball = tarball_bytes(registry, name, pin, log)
            extract(
                tarball, PAGE_PACKAGE_FILES[name], tmp / "node_modules" / name, f"{name}@{pin['version']}"
            )
        (tmp / STAMP).write_text(
            json.dumps({"registry": registry, "packages": pins}, indent=1), encoding="utf-8"
        )
    log(f"the page's JavaScript packages are in {folder}")
    return folder / "node_modules"


def integrity_digest(integrity: str) -> bytes:
    algorithm, _, b64 = integrity.partition("-")
    if algorithm != "sha512" or not b64:
        raise UserError(f"unsupported npm integrity {integrity[:20]}…; reinstall textgen-export")
    return base64.b64decode(b64)


def npm_cache_hit(digest: bytes) -> bytes | None:
    """A tarball from npm's own content-addressed cache, if it is there (checked by the caller)."""
    hexd = digest.hex()
    path = (
        Path(os.environ.get("npm_config_cache") or Path.home() / ".npm")
        / "_cacache"
        / "content-v2"
        / "sha512"
    )
    path = path / hexd[:2] / hexd[2:4] / hexd[4:]
    try:
        return path.read_bytes()
    except OSError:
        return None


def tarball_bytes(registry: str, name: str, pin: dict, log) -> bytes:
    label = f"{name}@{pin['version']}"
    want = integrity_digest(pin["integrity"])
    data = npm_cache_hit(want)
    if data is not None and hashlib.sha512(data).digest() == want:
        log(f"{label}: from npm's cache")
        return data
    meta = json.loads(
        download(registry.rstrip("/") + f"/{urllib.parse.quote(name, safe='@')}/{pin['version']}", label)
    )
    dist = meta.get("dist") or {}
    if dist.get("integrity") != pin["integrity"]:
        raise UserError(
            f"{label}: the registry's integrity {dist.get('integrity')!r} differs from the page's lockfile; "
            "refusing to use it (check npm_config_registry)"
        )
    data = download(dist["tarball"], label, progress=True)
    if hashlib.sha512(data).digest() != want:
        raise UserError(
            f"{label}: the downloaded tarball does not match its sha512 integrity; try again later"
        )
    return data


def download(url: str, label: str, progress: bool = False) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0)
            chunks, done = [], 0
            while chunk := response.read(1 << 18):
                chunks.append(chunk)
                done += len(chunk)
                if progress:
                    show_progress(label, done, total)
            if progress:
                show_progress(label, done, total, end=True)
            return b"".join(chunks)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise UserError(
            f"cannot download {label} from {url} ({reason}); the page's JavaScript comes from the npm registry "
            "once: connect to the internet and run `textgen-export fetch-web`"
        ) from None


def show_progress(label: str, done: int, total: int, end: bool = False) -> None:
    """One line on stderr that redraws itself on a terminal (a single final line otherwise)."""
    tty = sys.stderr.isatty()
    if not tty and not end:
        return
    width = 30
    filled = int(width * done / total) if total else width
    line = f"{label:<36} [{'#' * filled}{'.' * (width - filled)}] {done / 1e6:6.1f} MB"
    sys.stderr.write(("\r" if tty else "") + line + ("\n" if end else ""))
    sys.stderr.flush()


def extract(tarball: bytes, files: tuple[str, ...], dest: Path, label: str) -> None:
    """Only the listed regular files, from the tarball's package/ folder; nothing else is read."""
    wanted = {f"package/{f}": f for f in files}
    found = set()
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive:
            relative = wanted.get(member.name)
            if relative is None or not member.isfile():
                continue
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())
            found.add(relative)
    missing = sorted(set(files) - found)
    if missing:
        raise UserError(f"{label}: the package has no {', '.join(missing)}; reinstall textgen-export")
