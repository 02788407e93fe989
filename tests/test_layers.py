"""The kit's layers as a test: no module imports a layer above its own, and the light chapters stay light.

Every import in `agentgym_nb/` counts, at module level and inside functions (a lazy import is still an
arrow: it only moves the cost to the first call). `LAYERS` is the one place the allowed arrows are written.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent/"agentgym_nb"

LAYERS = [  # lowest first: a module may import its own layer and those before it, never a later one
    ("core", {"config", "react", "core", "trajectory"}),  # the contract, its settings and its data format
    ("envs", {"envs", "envs.*"}),  # every env (WebArena's simulated sites included); they know only core
    ("serving", {"wire", "server", "client"}),  # envs over HTTP: the dialects, the server, the client
    ("learning", {"expert", "data", "models", "agents", "openai_agent", "bc"}),  # expert data, models, the policies, BC
    ("rollout", {"rollout", "evaluate", "cluster"}),  # policies playing envs, and scoring them
    ("evolution", {"evol", "ablations"}),
    ("widgets", {"widgets", "monitors", "course"}),
    ("benchmarks", {"bench"}),
    ("entry", {"", "cli"}),  # the package face ("": `import agentgym_nb`) and the command line; nothing imports them
]
EXCEPTIONS = set()  # (importer, imported) arrows allowed against the layers, each with its reason; keep it short


def layer_of(mod:str) -> int:
    "Index in `LAYERS` of module `mod` (a dotted name without the `agentgym_nb` prefix; '' for the package)."
    for i, (_, mods) in enumerate(LAYERS):
        if mod in mods or any(m.endswith(".*") and mod.startswith(m[:-1]) for m in mods): return i
    raise KeyError(f"agentgym_nb.{mod} is in no layer: add it to LAYERS in {__file__}")


def module_name(path:Path) -> str:
    parts = path.relative_to(PKG).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(mod:str) -> bool:
    p = PKG.joinpath(*mod.split(".")) if mod else PKG
    return p.with_suffix(".py").exists() or (p/"__init__.py").exists()


def imports(path:Path) -> list[tuple[str, int]]:
    "`(imported module, line)` for every import of the kit in file `path`, function bodies included."
    me = module_name(path)
    pkg = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = [p for p in pkg.split(".") if p][:len([p for p in pkg.split(".") if p]) - node.level + 1]
                mod = ".".join(["agentgym_nb", *base, *([node.module] if node.module else [])])
            else: mod = node.module
            for a in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{mod}.{a.name}".removeprefix("agentgym_nb").lstrip(".")
                out.append((f"agentgym_nb.{sub}" if mod.startswith("agentgym_nb") and is_module(sub) else mod, node.lineno))
    return [(m.removeprefix("agentgym_nb").lstrip("."), line) for m, line in out if m == "agentgym_nb" or m.startswith("agentgym_nb.")]


def arrows() -> list[tuple[str, str, str]]:
    "`(importer, imported, where)` for every import between the kit's modules."
    return [(module_name(p), m, f"{p.relative_to(PKG.parent)}:{line}")
            for p in sorted(PKG.rglob("*.py")) if p.name != "_modidx.py" for m, line in imports(p) if m != module_name(p)]


def test_every_module_has_a_layer():
    for p in sorted(PKG.rglob("*.py")):
        if p.name != "_modidx.py": layer_of(module_name(p))


def test_no_arrow_goes_up():
    up = [f"{where}: {a or 'agentgym_nb'} ({LAYERS[layer_of(a)][0]}) imports {b or 'agentgym_nb'} ({LAYERS[layer_of(b)][0]})"
          for a, b, where in arrows() if layer_of(b) > layer_of(a) and (a, b) not in EXCEPTIONS]
    assert not up, "imports against the layers:\n" + "\n".join(up)


def test_exceptions_are_still_needed():
    stale = EXCEPTIONS - {(a, b) for a, b, _ in arrows()}
    assert not stale, f"these exceptions no longer happen, remove them: {sorted(stale)}"


def test_parser_sees_lazy_and_relative_imports():
    found = set((a, b) for a, b, _ in arrows())
    assert ("", "core") in found  # the face's relative import
    assert ("evol", "bc") in found  # an import inside a function
    assert ("envs.academia", "envs.tool") in found  # a relative import between envs


HEAVY = ["minigrid", "scienceworld", "py4j", "openpyxl", "sqlglot", "faker", "fastapi", "playwright"]


def loaded_after(stmt:str) -> set[str]:
    probe = f"import sys; {stmt}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300)
    return set(out.stdout.split())


def test_package_face_loads_the_core_only():
    kit = {m for m in loaded_after("import agentgym_nb") if m.startswith("agentgym_nb")}
    assert kit == {"agentgym_nb", "agentgym_nb.config", "agentgym_nb.core", "agentgym_nb.react", "agentgym_nb.trajectory"}


@pytest.mark.parametrize("module", ["agentgym_nb.bc", "agentgym_nb.rollout"])
def test_learning_loads_no_env_and_no_server(module):
    mods = loaded_after(f"import {module}")
    assert not [m for m in HEAVY if m in mods], f"import {module} loads {[m for m in HEAVY if m in mods]}"
    assert not [m for m in mods if m.startswith("agentgym_nb.envs") or m == "agentgym_nb.server"]
