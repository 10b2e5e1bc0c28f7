"""Build hook: the wheel carries the web page (web_demo/ stays its only source in the repository).

`build_py` copies the page's own files into textgen_export/web/page_files/ of the build, so an installed
package can serve the page and write static sites without the repository.  The npm packages are not copied:
an installed package fetches them from the npm registry (`textgen-export fetch-web`).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PAGE = ROOT / "web_demo"
# The page (index.html, style.css, src/) and the npm manifest and lockfile that pin its third-party JS.
PAGE_FILES = ("index.html", "style.css", "package.json", "package-lock.json")
PAGE_TREES = ("src",)
TARGET = Path("textgen_export", "web", "page_files")


def page_files() -> list[Path]:
    files = [PAGE / name for name in PAGE_FILES]
    for tree in PAGE_TREES:
        files += sorted(p for p in (PAGE / tree).rglob("*") if p.is_file())
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise SystemExit(f"the web page's files are missing from the source tree: {', '.join(missing)}")
    return files


class BuildPyWithPage(build_py):
    def run(self):
        super().run()
        for source in page_files():
            target = Path(self.build_lib) / TARGET / source.relative_to(PAGE)
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildPyWithPage})
