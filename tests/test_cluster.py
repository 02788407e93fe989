"""The CLI on a local Ray cluster: `eval --ray local` gives the table the local run gives (the same episodes, also on
env servers started on the cluster), `ablations --ray local --seeds 2` runs the grid as Ray tasks, and `evolve --ray local` runs AgentEvol's exploration and evaluation through Ray actors.
The executor's own checks (the same episodes, a killed actor, resume) are in nbs/52_cluster.ipynb."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")
# `make test` runs two pytest workers: these tests each start a local Ray cluster, one at a time on one worker
pytestmark = pytest.mark.xdist_group("ray")


def cli(*args, cwd=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "agentgym_nb.cli", *args, "--json"], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_eval_on_ray_matches_local(tmp_path):
    local = cli("eval", "--agent", "expert", "--preset", "tiny", "--n", "4", "--out", str(tmp_path/"local"))
    # on Ray: an actor that plays its chunks on two env servers started on the cluster, its sessions spread over them
    on_ray = cli("eval", "--agent", "expert", "--preset", "tiny", "--n", "4", "--out", str(tmp_path/"ray"), "--ray", "local",
                 "--ray-actors", "1", "--ray-servers", "2")
    assert on_ray["per_env"] == local["per_env"] and on_ray["n"] == local["n"] == 8 and on_ray["errors"] == 0
    read = lambda d: [json.loads(l)["conversations"] for l in (tmp_path/d/"trajectories.jsonl").read_text().splitlines()]
    assert sorted(map(json.dumps, read("ray"))) == sorted(map(json.dumps, read("local")))  # the same episodes


@pytest.mark.slow  # two minutes on 2 cores: a Ray cluster, its actors' imports, a BC training and three evaluations
def test_evolve_on_ray(tmp_path):
    cli("data", "build", "--preset", "tiny", "--out", str(tmp_path))
    res = cli("evolve", "--preset", "tiny", "--data", str(tmp_path), "--rounds", "1", "--explore-per-env", "4", "--samples", "2",
              "--no-sampled-eval", "--ray", "local", "--ray-actors", "2")
    config = json.loads((Path(res["out"])/"config.json").read_text())  # variant "agentevol" of runs/evol-tiny
    assert config["executor"].startswith("RayExecutor(") and "round-1 greedy" in res["rows"]


def test_ablations_on_ray_with_seeds(tmp_path):
    """`ablations --ray local --seeds 2`: each seed's round 0 and each run × seed a Ray task; one table with the spread."""
    cli("data", "build", "--preset", "tiny", "--out", str(tmp_path))
    res = cli("ablations", "--preset", "tiny", "--data", str(tmp_path), "--rows", "bc", "--rounds", "0", "--seeds", "2",
              "--no-sampled-eval", "--ray", "local")
    out = Path(res["out"])
    assert list(res["rows"]) == ["bc"] and res["seeds"] == 2
    assert {"avg", "avg sd", "avg min", "avg max"} <= set(res["rows"]["bc"])
    assert all((out/f"seed-{s}"/"bc"/"model").exists() for s in (0, 1))  # each seed its own round 0
    per_seed = (out/"ablations-seeds.csv").read_text().splitlines()
    assert len(per_seed) == 1 + 2  # a header, then bc's row for each seed
