"""Render nbs/index.ipynb as README.md (nbdev's own `nbdev-readme` needs Quarto, which cannot be installed here).

Markdown cells are copied as they are; code cells become ```python blocks followed by their text outputs.
Cells flagged `#| hide` are left out. `--check` exits 1 when README.md differs from the notebook.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def render(nb_path=ROOT / "nbs" / "index.ipynb") -> str:
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        src = "".join(cell["source"]).strip("\n")
        if cell["cell_type"] == "markdown":
            parts.append(src)
        elif cell["cell_type"] == "code":
            lines = src.splitlines()
            if any(l.strip() in ("#| hide", "#|hide") for l in lines):
                continue
            code = "\n".join(l for l in lines if not l.startswith("#|")).strip("\n")
            if code:
                parts.append(f"```python\n{code}\n```")
            for out in cell.get("outputs", []):
                text = out.get("text") or out.get("data", {}).get("text/plain")
                if text:
                    parts.append("```\n" + "".join(text).rstrip("\n") + "\n```")
    return "<!-- Generated from nbs/index.ipynb by .ci/render_readme.py; edit the notebook, not this file -->\n\n" + "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    out = render()
    readme = ROOT / "README.md"
    if "--check" in sys.argv:
        if not readme.exists() or readme.read_text(encoding="utf-8") != out:
            print("README.md differs from nbs/index.ipynb: run `make readme`")
            sys.exit(1)
    else:
        readme.write_text(out, encoding="utf-8")
