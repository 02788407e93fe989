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
    assert set(res) >= {"steps", "train_loss", "eval_loss", "action_accuracy", "tokens_per_s", "minutes"}
    assert res["action_accuracy"] and all(0 <= r["accuracy"] <= 1 and r["n"] > 0 for r in res["action_accuracy"].values())
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


def tiny_preset_episodes(n=3, seed=4):
    from agentgym_nb.config import load_settings
    envs = load_settings().get_preset("tiny").env_names()
    return [expert_episode(e, i, noise=0.3 if env_class(e).expert_recovers else 0.0, seed=seed)
            for e in envs for i in pick_items(e, "train", n, seed=seed)]


def test_action_accuracy_oracle_is_one_broken_is_zero():
    """The comparison without a model: the expert's own replies score 1, another action or an unparsable reply 0."""
    from agentgym_nb.bc import action_accuracy, heldout_turns
    from agentgym_nb.react import format_react, parse_react
    trajs = tiny_preset_episodes()
    turns = heldout_turns(trajs, per_env=8, seed=0)
    envs = {t.env for t in trajs}
    assert {t["env"] for t in turns} == envs and all(t["messages"][-1]["role"] == "user" for t in turns)
    oracle = action_accuracy(turns, [t["expert"] for t in turns])
    assert oracle == {e: {"n": 8, "accuracy": 1.0} for e in sorted(envs)}
    spaced = [format_react("Same.", " " + parse_react(t["expert"]).upper().replace(" ", "  ")) for t in turns]  # case, spaces
    assert all(r["accuracy"] == 1.0 for r in action_accuracy(turns, spaced).values())
    for broken in ([format_react("Not sure.", "look around")] * len(turns), ["Thought:\nhmm"] * len(turns)):
        assert all(r["accuracy"] == 0.0 for r in action_accuracy(turns, broken).values())
    assert heldout_turns(trajs, per_env=8, seed=0) == turns  # seeded


def test_trainer_action_accuracy_and_summary(tmp_path):
    """On a trainer: an oracle agent gets every held-out action, a broken one none; `fit`'s summary has the figure."""
    from agentgym_nb.agents import Agent
    from agentgym_nb.bc import BCConfig, BCTrainer, heldout_turns, imitation_verdict
    from agentgym_nb.models import ModelConfig
    from agentgym_nb.trajectory import write_jsonl
    write_jsonl(tiny_preset_episodes(4), tmp_path / "data" / "mix.jsonl")
    cfg = BCConfig(data=str(tmp_path / "data"), out=str(tmp_path / "run"), vocab_size=600, batch_size=2, max_steps=2,
                   warmup_steps=1, eval_frac=0.5, eval_every=2, ckpt_every=2, action_turns=5, max_new_tokens=16,
                   model=ModelConfig(hidden_size=32, n_layers=1, n_heads=2, intermediate_size=64, max_len=4096))
    tr = BCTrainer(cfg, progress=False)
    assert len(tr.eval_trajs) == len(tr.eval_set) == 4
    expert = {tuple(m["content"] for m in t["messages"]): t["expert"] for t in heldout_turns(tr.eval_trajs, 10**6)}

    class Replies(Agent):
        def __init__(self, fn): self.fn = fn
        def reply(self, requests): return [self.fn(tuple(m["content"] for m in r.messages)) for r in requests]

    envs = {t.env for t in tr.eval_trajs}
    assert {e: r["accuracy"] for e, r in tr.action_accuracy(agent=Replies(expert.get)).items()} == {e: 1.0 for e in envs}
    assert {e: r["accuracy"] for e, r in tr.action_accuracy(agent=Replies(lambda k: "Action:\nwait")).items()} == {e: 0.0 for e in envs}
    res = tr.fit()
    acc = res["action_accuracy"]
    assert set(acc) == envs and all(r["n"] <= 5 and 0 <= r["accuracy"] <= 1 for r in acc.values())
    assert set(imitation_verdict(acc, {e: 0.0 for e in envs})) == envs
