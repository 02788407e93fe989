"""The course's exercises stay solvable: every exercise cell of nbs/tutorials/ ("# your code here"), run as a student
first sees it, gets "Not yet" from its check, and the solution in nbs/tutorials/solutions/ gets "Right"."""
import json
import runpy
from pathlib import Path

import pytest

from agentgym_nb import course

TUTORIALS = Path(__file__).resolve().parent.parent/"nbs"/"tutorials"


def small_episodes():
    from agentgym_nb.expert import expert_episode
    from agentgym_nb.models import train_tokenizer
    eps = [expert_episode("maze-7x7", i, noise=0.3, seed=1) for i in range(3)]
    return train_tokenizer([c["value"] for t in eps for c in t.conversations], vocab_size=400), eps


CHECKS = {  # the name an exercise defines -> how its tutorial checks it
    "policy": lambda f: course.check_maze_policy(f),
    "CountdownEnv": lambda cls: course.check_new_env(cls),
    "keep": lambda f: course.check_filter(f),
    "labels": lambda f: course.check_loss_mask(f, *small_episodes()),
    "interval": lambda f: course.check_interval(f),
    "shares": lambda f: course.check_sampling(f),
    "paired_p": lambda f: course.check_paired_test(f),
}


def exercise_cells():
    "(tutorial, cell source) for every exercise cell of the course."
    for nb in sorted(TUTORIALS.glob("*.ipynb")):
        for c in json.loads(nb.read_text())["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] == "code" and "# your code here" in src: yield nb.stem, src


EXERCISES = list(exercise_cells())


def test_every_exercise_has_a_check_and_a_solution():
    assert len(EXERCISES) >= 7
    for stem, src in EXERCISES:
        ns = {}
        exec(src, ns)
        assert [n for n in CHECKS if n in ns], f"{stem}: an exercise cell that defines none of {list(CHECKS)}"
        assert (TUTORIALS/"solutions"/f"{stem}.py").exists(), f"no solutions/{stem}.py"


@pytest.mark.parametrize("stem,src", EXERCISES, ids=[f"{s}-{i}" for i, (s, _) in enumerate(EXERCISES)])
def test_blank_is_not_yet_and_solution_is_right(stem, src):
    ns = {}
    exec(src, ns)  # the cell as the student first sees it
    (name,) = [n for n in CHECKS if n in ns]
    blank = CHECKS[name](ns[name])
    assert not blank.ok and blank.lines, f"{stem}: the unsolved {name} passes its check: {blank}"
    solution = runpy.run_path(str(TUTORIALS/"solutions"/f"{stem}.py"))[name]
    right = CHECKS[name](solution)
    assert right.ok, f"{stem}: the solution's {name} fails its check: {right}"
