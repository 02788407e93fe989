"""The `agentgym-nb` command, as a user runs it: a subprocess whose last line is JSON."""
import json
import subprocess
import sys

import pytest

import agentgym_nb


def cli(*args, timeout=600):
    p = subprocess.run([sys.executable, "-m", "agentgym_nb.cli", *args], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_envs_lists_registered():
    assert set(cli("envs", "--json")["envs"]) == set(agentgym_nb.list_envs())


@pytest.mark.parametrize("name", ["maze-7x7", "wordle"])
def test_expert_success_on_100_test_items(name):
    res = cli("expert", name, "--split", "test", "--n", "100", "--json")
    assert res["n"] == 100 and res["split"] == "test" and res["success_rate"] >= 0.95
    assert set(res) >= {"env", "policy", "split", "n", "success_rate", "avg_reward"}


def test_oracle_never_misses_and_explores_less():
    oracle = cli("expert", "maze", "--n", "30", "--policy", "oracle", "--json")
    expert = cli("expert", "maze", "--n", "30", "--json")
    assert (oracle["policy"], oracle["success_rate"]) == ("oracle", 1.0) and expert["policy"] == "expert"
    assert oracle["avg_turns"] < expert["avg_turns"]  # the oracle sees the whole maze; the expert only its cell


def test_expert_writes_trajectories(tmp_path):
    res = cli("expert", "maze", "--n", "5", "--out", str(tmp_path), "--json")
    from agentgym_nb.trajectory import read_jsonl
    trajs = read_jsonl(tmp_path / "maze.jsonl")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(trajs) == 5 and manifest["counts"] == {"maze": 5} and res["n"] == 5


def test_quickstart_tiny(tmp_path):
    """The README's main job on the tiny preset: experts over HTTP, the three datasets, a BC run."""
    res = cli("quickstart", "--preset", "tiny", "--out", str(tmp_path), "--json")
    assert set(res["per_env"]) == {"maze", "wordle"} and min(res["per_env"].values()) >= 0.7  # the imitable maze expert solves 84% of its test split, 15 of these 20
    for d in ["expert", "agenttraj", "agenttraj-l", "agenteval"]:
        assert (tmp_path / d / "manifest.json").exists()
    assert res["bc"]["steps"] > 0 and res["bc"]["eval_loss"] is not None
    assert (tmp_path / "runs" / "bc-tiny" / "model" / "config.json").exists()
    assert res["bc_eval"]["n"] == 40 and set(res["bc_eval"]["per_env"]) == {"maze", "wordle"}
    evol = tmp_path / "runs" / "evol-tiny"
    assert (evol / "round-0" / "eval" / "greedy" / "table.md").exists()
    # two AgentEvol rounds: both explore and learn, the last is evaluated beside its control, round 1 is not evaluated
    assert {"round-0 greedy", "round-2 greedy", "round-2 control"} == set(res["table"]) and set(res["kept"]) == {"1", "2"}
    for k in (1, 2):  # a round trains, unless no round up to it kept anything: then it is round 0 (the same training)
        nothing = all(not (evol / f"round-{j}" / "kept.jsonl").read_text() for j in range(1, k + 1))
        assert (evol / f"round-{k}" / "learn" / "model").exists() != nothing
    assert not (evol / "round-1" / "eval").exists()
    assert set(res["minutes"]) == {"experts", "datasets", "bc", "bc_eval", "agentevol"}
    # the rollout benchmark on the model quickstart trained: every figure, both ways, same episodes
    b = cli("bench", "rollout", "--preset", "tiny", "--model", str(tmp_path / "runs" / "bc-tiny" / "model"),
            "--n", "4", "--max-turns", "3", "--json")
    assert b["batched_tokens_per_s"] > 0 and b["sequential_tokens_per_s"] > 0 and b["speedup"] > 0
    assert 0 <= b["env_wait_share_in_process"] <= 1 and 0 <= b["env_wait_share_http"] <= 1
    assert b["runs"]["batched"]["forwards"] < b["runs"]["sequential"]["forwards"]


def test_bench_envs_prints_every_figure():
    res = cli("bench", "envs", "--env", "maze", "--sessions", "1,4", "--seconds", "0.5", "--json")
    assert res["in_process"]["steps_per_s"] > 0 and [h["sessions"] for h in res["http"]] == [1, 4]
    for h in res["http"]:
        assert h["steps"] > 0 and h["p99_ms"] >= h["p50_ms"] > 0 and h["server_cpu_ms_per_step"] > 0


def test_bad_env_is_a_clear_error():
    p = subprocess.run([sys.executable, "-m", "agentgym_nb.cli", "expert", "nope", "--n", "1"], capture_output=True, text=True)
    assert p.returncode == 1 and "unknown env 'nope'" in p.stderr


def test_eval_openai_endpoint_and_its_failures(tmp_path):
    """`eval --agent openai:URL` against a local fake endpoint: a working one, then one that only answers 500."""
    from agentgym_nb.openai_agent import fake_chat_server
    guesses = iter(["crane", "slate"] * 1000)
    def policy(body):
        obs = body["messages"][-1]["content"]
        return "Thought:\nguess.\n\nAction:\n" + (next(guesses) if "guess" in body["messages"][0]["content"].lower() else "move up")
    with fake_chat_server(policy) as url:
        res = cli("eval", "--agent", f"openai:{url}", "--model", "fake", "--preset", "tiny", "--out", str(tmp_path / "ok"), "--json")
    assert res["n"] == 40 and res["errors"] == 0 and set(res["per_env"]) == {"maze", "wordle"}
    with fake_chat_server(lambda body: (500, "overloaded")) as url:
        res = cli("eval", "--agent", f"openai:{url}", "--model", "fake", "--preset", "tiny", "--out", str(tmp_path / "down"), "--json")
    assert res["n"] == 40 and res["errors"] == 40 and res["avg_success"] == 0.0
    from agentgym_nb.evaluate import load_run
    reasons = {t.meta["error"].split(" after ")[0][:40] for t in load_run(tmp_path / "down")}
    assert all("500" in t.meta["error"] and "overloaded" in t.meta["error"] for t in load_run(tmp_path / "down")), reasons


def test_evolve_tiny_resumes(tmp_path):
    """`evolve` on the tiny preset: round 0 and one round with its control; a second call finds every output."""
    cli("data", "build", "--preset", "tiny", "--out", str(tmp_path / "data"), "--json")
    args = ["evolve", "--preset", "tiny", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "evol"), "--rounds", "1",
            "--explore-per-env", "3", "--samples", "2", "--no-sampled-eval", "--json"]
    res = cli(*args)
    assert set(res["avg"]) == {"round-0 greedy", "round-1 greedy", "round-1 control"}
    run = tmp_path / "evol" / "agentevol"
    shares = json.loads((run / "round-1" / "explore" / "shares.json").read_text())
    assert shares["items"] == {"maze": 3, "wordle": 3} and (run / "round-1" / "kept.jsonl").exists()
    before = {p: p.stat().st_mtime for p in run.rglob("results.csv")}
    assert cli(*args)["avg"] == res["avg"]  # resumed: nothing re-run
    assert {p: p.stat().st_mtime for p in run.rglob("results.csv")} == before
