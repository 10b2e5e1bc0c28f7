"""What the code and docs cite exists: every repo path named in a source file or document, every "twin of"
header, and no citation of a design document that is not in the repository.  The bundle's file and graph names
have one copy per language (textgen_export/contract/bundle.py, web_demo/src/contract/bundle.js)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from helpers import REPO

# A path into the repository: a top-level folder of ours, then a file name with an extension.
TOP = "textgen_export|web_demo|tests|benchmarks|docs|weights|examples|\\.ci"
CITED_PATH = re.compile(rf"(?<![\w/.-])((?:{TOP})/[\w/.-]*\.(?:json|py|mjs|js|md|html|css|txt|png|toml))\b")
TEXT_SUFFIXES = {".py", ".js", ".mjs", ".md", ".html", ".toml", ".cfg", ".in", ".json", ""}


def tracked_text_files() -> list:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    files = []
    for name in names.splitlines():
        path = REPO / name
        if name.startswith("benchmarks/results/") or not path.is_file():
            continue  # recorded results quote the tree as it was when they were made
        if path.suffix in TEXT_SUFFIXES:
            files.append(path)
    return files


def test_every_cited_repo_path_exists():
    missing = []
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for cited in CITED_PATH.findall(text):
            cited = cited.rstrip(".")
            if "*" in cited or "<" in cited or "{" in cited:
                continue
            # Paths made at run time (a bundle's files, the wheel's copy of the page) are not repo paths.
            if cited.startswith(("textgen_export/web/page_files/", "web_demo/node_modules/")):
                continue
            # A path may be written from the repository root or from a folder above the citing file (web_demo/).
            bases = [p for p in path.parents if p == REPO or REPO in p.parents]
            if not any((base / cited).exists() for base in bases):
                missing.append(f"{path.relative_to(REPO)} cites {cited}")
    assert not missing, "cited files that do not exist:\n" + "\n".join(sorted(set(missing)))


def test_no_citation_of_a_design_document_outside_the_repo():
    offenders = []
    for path in tracked_text_files():
        if path.name == "test_citations.py":
            continue  # this test names what it looks for
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in re.finditer(r"DESIGN(\.md| §)", text):
            offenders.append(
                f"{path.relative_to(REPO)}: {text[max(0, match.start() - 40) : match.end() + 10]!r}"
            )
    assert not offenders, "cite docs/design.md (in the repo), not DESIGN.md:\n" + "\n".join(offenders)


def test_every_twin_header_names_a_file_that_exists():
    heads = []
    for path in tracked_text_files():
        if path.suffix not in {".py", ".js", ".mjs"}:
            continue
        for twin in re.findall(
            r"twin(?: of|:)\s+((?:textgen_export|web_demo)/[\w/.-]+\.(?:py|js|mjs))", path.read_text()
        ):
            heads.append(twin)
            assert (REPO / twin).is_file(), (
                f"{path.relative_to(REPO)} says it is the twin of {twin}, which does not exist"
            )
    assert len(heads) >= 8  # the JS twins of contract/, sampling/ and the attention layer all say so


BUNDLE_LITERALS = re.compile(
    r"""["'`](manifest\.json|config\.json|vocab\.json|model\.onnx|model\.int8\.onnx|tfjs/model\.json|parity/probe\.json)["'`]"""
)


def test_js_bundle_names_come_from_the_contract_module():
    contract = REPO / "web_demo" / "src" / "contract" / "bundle.js"
    offenders = []
    for path in sorted((REPO / "web_demo" / "src").rglob("*.*js")):
        if path == contract:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if BUNDLE_LITERALS.search(line) and not line.lstrip().startswith(("//", "*", "/*")):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not offenders, "import the name from web_demo/src/contract/bundle.js:\n" + "\n".join(offenders)
    exported = set(re.findall(r"export const (\w+) =", contract.read_text()))
    assert {
        "MANIFEST",
        "CONFIG",
        "VOCAB",
        "ONNX",
        "TFJS_MODEL",
        "PROBE",
        "INPUT",
        "PROBS",
        "ATTENTION",
    } <= exported


def test_the_readme_layout_table_matches_the_package():
    """Every package folder has a row in the README's layout table, and every module of it is named there (the
    commands/ and datasets/ rows describe their modules as a kind: one per command, one per corpus)."""
    import textgen_export

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Project layout") :]
    rows = {
        m[1]: m[2] for m in re.finditer(r"^\| `textgen_export/(\w+)/`[^|]*\| (.*) \|$", layout, flags=re.M)
    }
    root = Path(textgen_export.__file__).parent
    problems = []
    for folder in sorted(p for p in root.iterdir() if (p / "__init__.py").is_file()):
        row = rows.get(folder.name)
        if row is None:
            problems.append(f"no row for textgen_export/{folder.name}/")
            continue
        if folder.name in ("commands", "datasets"):
            continue
        named = set(re.findall(r"`(\w+)`", row))
        for module in sorted(folder.glob("*.py")):
            if module.stem != "__init__" and module.stem not in named:
                problems.append(f"textgen_export/{folder.name}/{module.name} is not named in its row")
    for name in rows:
        if not (root / name).is_dir():
            problems.append(f"the table has a row for textgen_export/{name}/, which does not exist")
    assert not problems, "README layout table:\n" + "\n".join(problems)
