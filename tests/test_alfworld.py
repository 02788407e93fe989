"""ALFWorld beyond the shared contract: the generated games, the builder's record, AgentGym's wire, and the
original-files route (ALFWORLD_DATA) on generated games laid out as ALFWorld lays out its own."""
import json
import os
import subprocess
import sys

import httpx
import pytest

pytest.importorskip("alfworld")
from agentgym_nb.client import make_remote
from agentgym_nb.core import make
from agentgym_nb.envs import alfworld as alf
from agentgym_nb.expert import expert_episode

GOALS = {  # ALFWorld's goal templates per task type (alfworld.gen.goal_library)
    "pick_and_place_simple": ("put a ", "put some "), "look_at_obj_in_light": ("look at ", "examine the "),
    "pick_clean_then_place_in_recep": ("put a clean ", "clean some "),
    "pick_heat_then_place_in_recep": ("put a hot ", "heat some "),
    "pick_cool_then_place_in_recep": ("put a cool ", "cool some "),
    "pick_two_obj_and_place": ("put two ", "find two "),
}


def test_six_task_types_with_alfworld_goals():
    for k in range(6):
        game = alf.game_for_item(alf.GENERATED_SPLITS["test"][k])
        assert game.task_type == alf.TASK_TYPES[k]
        assert game.task_desc.startswith(GOALS[game.task_type])
        obs, _ = make("alfworld").reset(options={"item": alf.GENERATED_SPLITS["test"][k]})
        assert f"Your task is to: {game.task_desc}" in obs


def test_unseen_split_uses_held_out_floor_plans():
    *_, constants, _ = alf.alfworld_modules()
    seen = {alf.game_for_item(i).floor_plan for i in list(alf.GENERATED_SPLITS["train"])[:60]}
    unseen = {alf.game_for_item(i).floor_plan for i in list(alf.GENERATED_SPLITS["test_unseen"])[:30]}
    assert seen <= set(constants.TRAIN_SCENE_NUMBERS) and unseen <= set(constants.TEST_SCENE_NUMBERS)
    assert len(unseen) > 5


def test_builder_record_matches_the_rule():
    rec = alf.built_games()
    if not rec:
        pytest.skip("no envs/alfworld/games.json: every game is found by the rule at reset")
    for item in [0, 1, 2, 3, 4, 5, 700, alf.GENERATED_SPLITS["test"][7], alf.GENERATED_SPLITS["test_unseen"][11]]:
        c, steps, _ = alf.find_game(item)
        split, k = alf.split_of(item)
        assert (rec["candidate"][split][k], rec["expert_steps"][split][k]) == (c, steps)


def test_impossible_command_is_alfworlds_nothing_happens():
    env = make("alfworld")
    env.reset(options={"item": alf.GENERATED_SPLITS["test"][0]})
    obs, r, term, trunc, info = env.step("Thought:\nTry.\n\nAction:\ntake mug 99 from fridge 99")
    assert (obs, r, term, info["valid_action"]) == ("Nothing happens.", 0.0, False, True)


def test_agentgym_alfworld_client_sequence(server):
    base = server.url_for("alfworld")
    item = alf.GENERATED_SPLITS["test"][0]
    with httpx.Client(timeout=60) as http:
        env_id = http.post(f"{base}/create").json()["id"]
        res = http.post(f"{base}/reset", json={"id": env_id, "game": item, "world_type": "Text"}).json()
        assert res["observation"].startswith("You are in the middle of a room.") and res["available_actions"]
        assert "/" in res["task_type"]
        act = expert_episode("alfworld", item).replies[0].split("Action:\n")[-1]
        step = http.post(f"{base}/step", json={"id": env_id, "action": act}).json()
        assert set(step) >= {"observation", "reward", "done", "available_actions"}
        assert http.get(f"{base}/available_actions?id={env_id}").json() == step["available_actions"]
        assert http.get(f"{base}/detail?id={env_id}").json()["world_type"] == "Text"
        assert http.post(f"{base}/close", json={"id": env_id}).status_code == 200



def agentgym_first_prompt(reset:dict) -> str:
    "agentenv's AlfWorldEnvClient: `reset` keeps the answer's observation and actions, `observe` shows them so."
    return f"{reset['observation']}\nAVAILABLE ACTIONS: {','.join(reset['available_actions'])}"


def test_agentgym_client_first_prompt_is_ours_once(server):
    """AgentGym's client builds its first prompt from our raw /reset answer: the in-process first observation,
    each line once (the `AVAILABLE ACTIONS:` line came twice when the answer's observation already held it)."""
    base = server.url_for("alfworld")
    for item in [alf.GENERATED_SPLITS["test"][0], alf.GENERATED_SPLITS["train"][3]]:
        local = make("alfworld").reset(options={"item": item})[0]
        with httpx.Client(timeout=60) as http:
            env_id = http.post(f"{base}/create").json()["id"]
            res = http.post(f"{base}/reset", json={"id": env_id, "game": item, "world_type": "Text"}).json()
            observed = http.get(f"{base}/observation?id={env_id}").json()
            http.post(f"{base}/close", json={"id": env_id})
        prompt = agentgym_first_prompt(res)
        assert prompt == local
        lines = [line for line in prompt.splitlines() if line.strip()]
        assert len(lines) == len(set(lines)) and prompt.count("AVAILABLE ACTIONS:") == 1, prompt
        assert observed == res["observation"]  # AgentGym's /observation: the reset answer's observation field
        remote = make_remote("alfworld", server.url)
        try:
            assert remote.reset(options={"item": item})[0] == local  # our client joins the parts the same way
        finally:
            remote.close()


CODE = """
import json, agentgym_nb, agentgym_nb.envs.alfworld
from agentgym_nb.core import env_class
from agentgym_nb.expert import expert_episode
cls = env_class("alfworld")
runs = [expert_episode("alfworld", i) for r in cls.splits.values() for i in r]
print(json.dumps({"splits": {k: [r.start, r.stop] for k, r in cls.splits.items()},
                  "runs": [t.conversations for t in runs], "won": [t.success for t in runs]}))
"""


def test_original_files_route(tmp_path):
    items = [0, 1, alf.GENERATED_SPLITS["test"][0], alf.GENERATED_SPLITS["test_unseen"][0]]
    files = alf.export_games(items, tmp_path)
    assert all((f.parent / "traj_data.json").exists() for f in files)
    assert {f.relative_to(tmp_path).parts[:2] for f in files} == {
        ("json_2.1.1", "train"), ("json_2.1.1", "valid_seen"), ("json_2.1.1", "valid_unseen")}
    data = json.loads(files[0].read_text())
    assert data["solvable"] and data["walkthrough"] and "UNKNOWN GOAL" not in data["grammar"]
    out = subprocess.run([sys.executable, "-c", CODE], env={**os.environ, "ALFWORLD_DATA": str(tmp_path)},
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["splits"] == {"train": [0, 2], "test": [2, 3], "test_unseen": [alf.UNSEEN_START, alf.UNSEEN_START + 1]}
    assert all(got["won"])
    ours = [expert_episode("alfworld", i).conversations for i in items]
    assert sorted(map(json.dumps, got["runs"])) == sorted(map(json.dumps, ours))
