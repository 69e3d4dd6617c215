"""The architecture's rules, checked on the source: where Streamlit appears, where tables live."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRIDCORE = ROOT / "gridcore"
MODELS = GRIDCORE / "models.py"


def _product_files() -> list[Path]:
    """Every Python file of the product: app.py, pages/, gridcore/ (migrations included)."""
    files = [ROOT / "app.py"] if (ROOT / "app.py").exists() else []
    files += sorted((ROOT / "pages").glob("*.py"))
    files += sorted(GRIDCORE.rglob("*.py"))
    return files


def _streamlit_allowed(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return rel == "app.py" or rel.startswith("pages/") or rel.startswith("gridcore/ui/")


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_scan_sees_the_product() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in _product_files()}
    assert "gridcore/models.py" in files
    assert "gridcore/services/auth.py" in files


def test_streamlit_is_imported_only_at_the_edge() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _product_files()
        if not _streamlit_allowed(path)
        for name in _imported_modules(_parse(path))
        if name == "streamlit" or name.startswith("streamlit.")
    ]
    assert offenders == []


def test_the_core_does_not_depend_on_the_ui() -> None:
    """Dependencies point one way: pages → gridcore.ui → the rest of gridcore."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in GRIDCORE.rglob("*.py")
        if not path.relative_to(ROOT).as_posix().startswith("gridcore/ui/")
        for name in _imported_modules(_parse(path))
        if name == "gridcore.ui" or name.startswith("gridcore.ui.")
    ]
    assert offenders == []


def test_importing_the_core_loads_no_streamlit() -> None:
    """Also catches an indirect import (a core module importing a helper that imports streamlit)."""
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in GRIDCORE.rglob("*.py")
        if not path.relative_to(ROOT)
        .as_posix()
        .startswith(("gridcore/ui/", "gridcore/migrations/"))
        and path.name != "__main__.py"
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit')\n"
        "print(','.join(loaded[:5]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def _table_classes(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for kw in node.keywords:
                if (
                    kw.arg == "table"
                    and isinstance(kw.value, ast.Constant)
                    and kw.value.value is True
                ):
                    found.append(node.name)
    return found


def test_tables_are_declared_only_in_models() -> None:
    assert "Resident" in _table_classes(_parse(MODELS)), "the scan no longer finds tables"
    offenders = [
        f"{path.relative_to(ROOT)} declares table {name}"
        for path in _product_files()
        if path != MODELS
        for name in _table_classes(_parse(path))
    ]
    assert offenders == []


def test_no_page_declares_a_table_or_metadata() -> None:
    """A page is re-run on every interaction: a Table(...) or metadata there would be redefined."""
    pages = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    offenders = []
    for path in pages:
        if not path.exists():
            continue
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ("Table", "MetaData", "declarative_base"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name}")
    assert offenders == []


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _material_icons(tree: ast.AST) -> list[int]:
    """Lines where st.Page or set_page_config is given a Material icon (fetched from a CDN)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in ("Page", "set_page_config"):
            for kw in node.keywords:
                if kw.arg not in ("icon", "page_icon"):
                    continue
                for sub in ast.walk(kw.value):
                    if (
                        isinstance(sub, ast.Constant)
                        and isinstance(sub.value, str)
                        and sub.value.startswith(":material/")
                    ):
                        lines.append(node.lineno)
    return lines


def test_material_icon_detection_works() -> None:
    sample = ast.parse('st.Page("pages/x.py", icon=":material/map:")\n')
    assert _material_icons(sample) == [1]
    assert _material_icons(ast.parse('st.Page("pages/x.py", icon="🗺️")\n')) == []


@pytest.mark.parametrize("folder", ["app.py", "pages", "gridcore"])
def test_no_page_icon_is_fetched_from_a_font_cdn(folder: str) -> None:
    target = ROOT / folder
    files = [target] if target.is_file() else sorted(target.rglob("*.py"))
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in files
        if path.exists()
        for line in _material_icons(_parse(path))
    ]
    # A plain-text look as well, for icons passed through a variable.
    offenders += [
        f"{path.relative_to(ROOT)} (text)"
        for path in files
        if path.exists()
        and "st.Page(" in (text := path.read_text(encoding="utf-8"))
        and 'icon=":material/' in text
    ]
    assert offenders == []
