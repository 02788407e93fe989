"""Datasets and behaviour cloning across processes: the loss mask on every env's prompt format, the CLI runs."""
import json
import subprocess
import sys

import pytest

import agentgym_nb
from agentgym_nb.bc import IGNORE, encode_example
from agentgym_nb.core import env_class, pick_items
from agentgym_nb.expert import expert_episode
from agentgym_nb.models import train_tokenizer

ENVS = agentgym_nb.list_envs()


def supervised_runs(ex, tok):
    runs, cur = [], []
    for t, l in zip(ex["input_ids"], ex["labels"]):
        if l != IGNORE:
            cur.append(t)
        elif cur:
            runs.append(tok.decode(cur))
            cur = []
    return runs + ([tok.decode(cur)] if cur else [])


@pytest.mark.parametrize("name", ENVS)
def test_loss_mask_is_exactly_the_agent_turns(name):
    """Decoding the supervised tokens gives each `loss: true` turn's text plus end-of-turn, nothing else."""
    noise = 0.3 if env_class(name).expert_recovers else 0.0
    trajs = [expert_episode(name, i, noise=noise, seed=4) for i in pick_items(name, "train", 2, seed=4)]
    tok = train_tokenizer([c["value"] for t in trajs for c in t.conversations], vocab_size=800)
    for t in trajs:
        ex = encode_example(t.conversations, tok, 10**7)
        want = [c["value"].strip() + tok.eos_token for c in t.conversations if c["loss"] is True]
        assert supervised_runs(ex, tok) == want


def cli(*args, timeout=900):
    p = subprocess.run([sys.executable, "-m", "agentgym_nb.cli", *args], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_data_build_and_train_bc_tiny(tmp_path):
    data = cli("data", "build", "--preset", "tiny", "--out", str(tmp_path / "data"), "--json")
    assert data["agenttraj"] and all(n > 0 for n in data["agenttraj"].values())
    res = cli("train", "bc", "--preset", "tiny", "--data", str(tmp_path / "data" / "agenttraj"),
              "--out", str(tmp_path / "run"), "--json")
    assert res["steps"] > 0 and res["eval_loss"] is not None and res["tokens_per_s"] > 0
    assert set(res) >= {"steps", "train_loss", "eval_loss", "tokens_per_s", "minutes"}
    assert (tmp_path / "run" / "model" / "config.json").exists()
    again = cli("train", "bc", "--preset", "tiny", "--data", str(tmp_path / "data" / "agenttraj"),
                "--out", str(tmp_path / "run"), "--json")  # finished run: resumes at the end, trains nothing more
    assert again["steps"] == res["steps"]


def test_bench_train_tiny():
    res = cli("bench", "train", "--preset", "tiny", "--steps", "3", "--json")
    assert res["tokens_per_s"] > 0 and res["supervised_tokens_per_s"] > 0 and res["omp_wait_policy"] == "PASSIVE"


def test_broken_data_is_a_clear_error(tmp_path):
    (tmp_path / "maze.jsonl").write_text('{"item_id": "maze_1", "conversations": [{"from": "human", "value": 3}]}\n')
    p = subprocess.run([sys.executable, "-m", "agentgym_nb.cli", "train", "bc", "--preset", "tiny", "--data", str(tmp_path),
                        "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert p.returncode == 1 and "maze.jsonl:1" in p.stderr
