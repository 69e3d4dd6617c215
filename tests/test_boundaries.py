"""The architecture's rules, checked on the source: where Streamlit appears, where tables live."""

from __future__ import annotations

import ast
import functools
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


# The benchmark harness runs the whole app as a server does (and empties its caches), so it
# stands at the edge beside app.py; it imports Streamlit only inside its functions, so that
# importing gridcore still loads none (test_importing_the_core_loads_no_streamlit).
HARNESS = "gridcore/bench/"


def _streamlit_allowed(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return (
        rel == "app.py"
        or rel.startswith("pages/")
        or rel.startswith("gridcore/ui/")
        or rel.startswith(HARNESS)
    )


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


# The product's files do not change during a run: each is parsed once per test process.
@functools.cache
def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_scan_sees_the_product() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in _product_files()}
    assert "gridcore/models.py" in files
    assert "gridcore/services/access.py" in files


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
        if not path.relative_to(ROOT).as_posix().startswith(("gridcore/ui/", HARNESS))
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


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _gridcore_graph() -> dict[str, set[str]]:
    """Module → the gridcore modules it imports (anywhere in the file, functions included)."""
    modules = {
        _module_name(path): path
        for path in GRIDCORE.rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    if child in modules:
                        targets.add(child)
                    elif node.module in modules:
                        targets.add(node.module)
        graph[name] = targets - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as the list of modules around it."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(node: str, path: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target in path:
                cycle = path[path.index(target) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append([*cycle, target])
            elif len(path) < 12:
                walk(target, [*path, target])

    for start in sorted(graph):
        walk(start, [start])
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]


def test_gridcore_has_no_import_cycles() -> None:
    # `gridcore` itself (the package's __init__) is imported by every module; it imports nothing.
    graph = {k: v - {"gridcore"} for k, v in _gridcore_graph().items()}
    assert _cycles(graph) == []


def test_queries_never_import_services() -> None:
    """A query only reads: it may use access, models and analytics, never a write service."""
    offenders = [
        f"{module} imports {target}"
        for module, targets in _gridcore_graph().items()
        if module.startswith("gridcore.queries")
        for target in targets
        if target.startswith("gridcore.services")
    ]
    assert offenders == []


def test_access_sits_below_queries_and_services() -> None:
    offenders = [
        t
        for t in _gridcore_graph()["gridcore.access"]
        if t.startswith(("gridcore.queries", "gridcore.services", "gridcore.io", "gridcore.ui"))
    ]
    assert offenders == []


def test_analytics_never_touch_the_database() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (GRIDCORE / "analytics").glob("*.py")
        for name in _imported_modules(_parse(path))
        if name.split(".")[0] in ("sqlalchemy", "sqlmodel")
        or name in ("gridcore.db", "gridcore.queries", "gridcore.services")
        or name.startswith(("gridcore.queries.", "gridcore.services."))
    ]
    assert offenders == []
