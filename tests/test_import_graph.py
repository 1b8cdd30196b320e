"""No import circle between the project's modules (labeling/, rl/, aes_site/).

First over module-level imports (what runs when a module loads; `if TYPE_CHECKING:` blocks never run), then over every
import, those inside functions too: the project imports inside a function only to keep torch, transformers and
matplotlib out of the web process, never to hide a circle. Also: labeling's packages import only the ones below them
(training -> rating -> corpus -> models) and rl/ imports nothing of the web app. Run it alone with:
    .venv/bin/pytest tests/test_import_graph.py -q
"""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("labeling", "rl", "aes_site")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((REPO / package).rglob("*.py"))}


def module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module loads: not in a function body, not under `if TYPE_CHECKING:`."""
    found = []

    def visit(nodes):
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            else:
                visit(ast.iter_child_nodes(node))

    visit(tree.body)
    return found


def every_import(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def imported_modules(name: str, path: Path, modules: dict[str, Path], in_functions: bool) -> set[str]:
    """The project modules `name` imports at load time (and, with in_functions, when its functions run)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    targets = set()
    for node in every_import(tree) if in_functions else module_level_imports(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join(anchor + ([node.module] if node.module else []))
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            targets.add(submodule if submodule in modules else base)
    return {target for target in targets if target in modules and target != name}


def import_graph(in_functions: bool = False) -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imported_modules(name, path, modules, in_functions) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_graph_sees_the_imports_it_should():
    graph = import_graph()
    assert "labeling.training.engine" in graph["labeling.training.tasks"]
    assert "labeling.training.steps" in graph["labeling.training.engine"]
    assert "labeling.models" in graph["labeling.views"]  # `from .models import ...`
    assert "labeling.rating.batches" in graph["labeling.training.steps"]  # `from labeling.rating import batches`
    assert "rl.policy_spec" in graph["rl.config"]
    # Imports inside functions are edges only when asked for: the round steps load the trainers when they run.
    assert "rl.train_sft" not in graph["labeling.training.steps"]
    assert "rl.train_sft" in import_graph(in_functions=True)["labeling.training.steps"]


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_project_modules():
    assert cycles(import_graph()) == []


def test_no_cycle_hidden_in_imports_inside_functions():
    assert cycles(import_graph(in_functions=True)) == []


# labeling's packages from the bottom up: each may import the ones below it, never one above (see their __init__).
LAYERS = ["labeling.models", "labeling.corpus", "labeling.rating", "labeling.training"]


def layer_of(module: str) -> int | None:
    return next((i for i, p in enumerate(LAYERS) if module == p or module.startswith(p + ".")), None)


def test_packages_import_only_downwards_and_rl_stays_free_of_the_web_app():
    upward = []
    for module, targets in import_graph(in_functions=True).items():
        for target in targets:
            if module.startswith("rl") and target.split(".")[0] in ("labeling", "aes_site"):
                upward.append((module, target))
            low, high = layer_of(module), layer_of(target)
            if low is not None and high is not None and high > low:
                upward.append((module, target))
    assert sorted(upward) == []
