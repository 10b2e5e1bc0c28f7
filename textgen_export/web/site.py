"""A bundle as a self-contained static site: the page, the bundle, and only the runtime JS/wasm it needs.

    site/
      index.html  style.css  src/...        the page (its model name and description filled in)
      bundle/                               the bundle, as exported (checked against its manifest first)
      node_modules/<package>/dist/...       ONNX Runtime Web if the bundle has model.onnx, TF.js if it has tfjs/
      textgen-export-site.json              what was written (and the mark that lets a later run replace it)

Every URL in the page is relative (index.html's import map, app.js's wasm paths and default bundle), so any
static host serves it at any path; the page's Content-Security-Policy is unchanged (it covers the import map,
which is copied byte for byte).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

from .. import __version__
from ..contract.bundle import MANIFEST, ONNX, TFJS_MODEL, Bundle
from ..errors import UserError
from ..files.atomic import atomic_directory
from ..files.ownership import check_listed_folder, check_replaceable
from .npm import ONNX_RUNTIME_WEB, PAGE_PACKAGE_FILES, TFJS, TFJS_WASM, TFJS_WEBGPU, node_modules_dir
from .page import web_demo_dir

SITE_MARKER = "textgen-export-site.json"
SITE_FORMAT = "textgen-export-site"


def check_site_owned(folder: Path) -> None:
    """Raise unless `folder` is a site we wrote that holds only the files its marker lists."""
    check_listed_folder(folder, "static site", SITE_MARKER, SITE_FORMAT)


BUNDLE_DIR = "bundle"  # app.js's default bundle URL, relative to the page
PAGE_TOP_FILES = ("index.html", "style.css")
# The Node CLIs' modules (generate, train): the page never loads them.
NODE_ONLY = (
    "src/cli.mjs",
    "src/cli_common.js",
    "src/runtime/node.js",
    "src/train.mjs",
    "src/training/out_dir.js",
)


def runtime_packages(bundle: Bundle) -> list[str]:
    """The npm packages the page needs for the formats this bundle has."""
    packages = []
    if ONNX in bundle.files:
        packages.append(ONNX_RUNTIME_WEB)
    if TFJS_MODEL in bundle.files:
        packages += [TFJS, TFJS_WASM, TFJS_WEBGPU]
    if not packages:
        raise UserError(
            f"bundle {bundle.folder} has neither {ONNX} nor {TFJS_MODEL}; export with --onnx and/or --tfjs"
        )
    return packages


def check_base(base: str) -> str:
    if (
        not (base.startswith("/") and base.endswith("/"))
        or "//" in base
        or any(part in (".", "..") for part in base.split("/"))
    ):
        raise UserError(
            f"--base must be a URL path that starts and ends with '/', e.g. /myproject/, got {base!r}"
        )
    return base


def page_html(source: str, title: str, description: str | None, packages: list[str]) -> str:
    """The page with the model's name as its title and heading, and only the runtime choices whose JS the site
    carries.  The name and description also go into <meta> tags that the page shows on its model line for its
    own bundle (bundles loaded later show their own manifest's).

    Only markup outside scripts changes (text escaped), never a script: the CSP's import-map hash still holds.
    """

    def keep(match: re.Match) -> str:
        value = match.group(1)
        needs = ONNX_RUNTIME_WEB if value.startswith("onnx") else TFJS
        return match.group(0) if needs in packages else ""

    source = re.sub(r'\n?\s*<option value="([\w-]+)"[^>]*>[^<]*</option>', keep, source)
    # The page's default (ONNX Runtime Web) is not in this site: TF.js wasm is the next best.
    if " selected>" not in source:
        source = source.replace('<option value="tfjs-wasm">', '<option value="tfjs-wasm" selected>', 1)
    name = html.escape(title)
    metas = f'<meta name="textgen-model-name" content="{name}">'
    if description:
        metas += f'\n<meta name="textgen-model-description" content="{html.escape(description)}">'
    out = re.sub(
        r"<title>.*?</title>",
        lambda _: f"<title>{name} · text generation in your browser</title>\n{metas}",
        source,
        count=1,
    )
    return re.sub(r'(<h1 id="page-title">).*?(</h1>)', lambda m: m.group(1) + name + m.group(2), out, count=1)


def copy_bundle(bundle: Bundle, dest: Path) -> None:
    """The manifest and every file it lists (already checked), refusing links that leave the bundle."""
    root = bundle.folder.resolve()
    for name in [MANIFEST, *bundle.files]:
        source = (bundle.folder / name).resolve()
        if root not in source.parents:
            raise UserError(f"bundle file {name} points outside {bundle.folder}; re-export the bundle")
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest / name)


def write_site(
    bundle_dir: str | Path,
    out: str | Path,
    base: str = "/",
    title: str | None = None,
    description: str | None = None,
    log=print,
) -> dict:
    """Write the static site for `bundle_dir` into `out` (replaced as a whole, only if it is one of ours)."""
    base = check_base(base)
    out = Path(out).resolve()
    check_replaceable(out, "static site", check_site_owned)
    bundle = Bundle(bundle_dir)  # checksums checked before anything is written
    packages = runtime_packages(bundle)
    modules = node_modules_dir(fetch=True)
    page = web_demo_dir()
    name = title or bundle.config.name or "textgen-export model"
    description = description if description is not None else bundle.manifest.get("description")
    with atomic_directory(out, owned=check_site_owned) as tmp:
        for top in PAGE_TOP_FILES[1:]:
            shutil.copyfile(page / top, tmp / top)
        source = (page / "index.html").read_text(encoding="utf-8")
        (tmp / "index.html").write_text(page_html(source, name, description, packages), encoding="utf-8")
        for path in sorted((page / "src").rglob("*")):
            relative = path.relative_to(page).as_posix()
            if path.is_file() and relative not in NODE_ONLY:
                (tmp / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, tmp / relative)
        copy_bundle(bundle, tmp / BUNDLE_DIR)
        for package in packages:
            for f in PAGE_PACKAGE_FILES[package]:
                target = tmp / "node_modules" / package / f
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(modules / package / f, target)
        files = {
            p.relative_to(tmp).as_posix(): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        summary = {
            "format": SITE_FORMAT,
            "tool": f"textgen-export {__version__}",
            "model": name,
            "base": base,
            "runtimes": packages,
            "bytes": sum(files.values()),
            "files": files,
        }
        (tmp / SITE_MARKER).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {out}: {len(files)} files, {summary['bytes'] / 1e6:.1f} MB ({', '.join(packages)})")
    return summary
