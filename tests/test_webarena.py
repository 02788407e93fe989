"""WebArena: the browser layer, the evaluators on real episodes, fresh worlds, and the original-sites path.

The contract tests (test_contract.py, test_server.py) run on it too; these check what is particular to it.
"""
import concurrent.futures as cf
import json
from collections import defaultdict

import pytest

from agentgym_nb.core import make
from agentgym_nb.envs.webarena import WebArenaEnv, local_sites
from agentgym_nb.expert import expert_episode


@pytest.fixture(scope="module")
def tasks():
    return make("webarena").unwrapped.tasks


def by_template(tasks, split="test", kinds=None):
    "The first test item of each template (restricted to tasks whose eval types are within `kinds`)."
    first = {}
    for i in WebArenaEnv.splits[split]:
        t = tasks[i]
        if kinds and not set(t["eval"]["eval_types"]) <= kinds:
            continue
        first.setdefault(t["intent_template_id"], i)
    return sorted(first.values())


def test_tasks_in_webarena_format(tasks):
    assert len(tasks) == len(WebArenaEnv.splits["train"]) + len(WebArenaEnv.splits["test"])
    kinds = defaultdict(set)
    for t in tasks:
        assert {"task_id", "sites", "start_url", "intent", "intent_template", "intent_template_id", "eval"} <= set(t)
        assert t["start_url"].startswith(("__SHOPPING__", "__SHOPPING_ADMIN__", "__REDDIT__"))
        for k in t["eval"]["eval_types"]:
            kinds[k].add(t["intent_template_id"])
    assert kinds["string_match"] and (kinds["url_match"] or kinds["program_html"]) and kinds["db_check"]
    assert len({t["intent_template_id"] for t in tasks}) >= 12


def test_expert_solves_every_test_template(tasks):
    items = by_template(tasks)
    results = {i: expert_episode("webarena", i).success for i in items}
    assert sum(results.values()) == len(items), {tasks[i]["intent_template_id"]: ok for i, ok in results.items()}


def test_wrong_answers_and_no_work_score_zero(tasks):
    env = make("webarena")
    for i in by_template(tasks)[:8]:
        env.reset(options={"item": i})
        obs, r, term, trunc, info = env.step("Thought:\nI give up.\n\nAction:\nstop [no idea, really]")
        assert term and r == 0.0 and info["success"] is False, tasks[i]["intent"]
    env.close()


def test_each_episode_gets_a_fresh_world(tasks):
    """A change the expert makes passes the db check; the same task reset and stopped at once fails it again."""
    item = next(i for i in WebArenaEnv.splits["test"] if "db_check" in tasks[i]["eval"]["eval_types"])
    assert expert_episode("webarena", item).success
    env = make("webarena")
    env.reset(options={"item": item})
    assert env.step("Action: stop [done]")[1] == 0.0
    env.close()


def test_navigation_tabs_and_impossible_actions():
    env = make("webarena")
    obs, _ = env.reset(options={"item": WebArenaEnv.splits["test"][0]})
    assert obs.startswith("OBSERVATION:\nTab 0 (current): ") and "\nURL: http://" in obs and "\nOBJECTIVE: " in obs
    assert "127.0.0.1" not in obs  # sites are shown under their stable aliases
    refused = env.step("Action: goto [https://example.com/]")[0]
    assert refused.startswith("Invalid action") and "refused" in refused
    assert "no element with id [99999]" in env.step("Action: click [99999]")[0]
    obs = env.step("Action: new_tab")[0]
    assert "Tab 1 (current)" in obs
    obs = env.step("Action: tab_focus [0]")[0]
    assert "Tab 0 (current)" in obs and "Tab 1:" in obs
    assert "Invalid action" in env.step("Action: tab_focus [7]")[0]
    obs = env.step("Action: tab_focus [1]")[0]
    obs = env.step("Action: close_tab")[0]
    assert "Tab 1" not in obs
    env.close()


def test_sessions_on_worker_threads_match_sequential(tasks):
    """The server steps sessions on worker threads; the single browser thread keeps each episode its own."""
    items = by_template(tasks)[:4]
    want = {i: expert_episode("webarena", i) for i in items}

    def run(i):
        env = make("webarena")
        try:
            env.reset(options={"item": i})
            return [env.step(a)[0] for a in want[i].replies]
        finally:
            env.close()

    with cf.ThreadPoolExecutor(4) as ex:
        for i, obs in zip(items, ex.map(run, items)):
            assert obs[-1] == want[i].meta["final_observation"]


def test_original_sites_path(tasks, tmp_path):
    """Our tasks written as WebArena config files and our sites named by base URL: the user's path to the originals."""
    picked = by_template(tasks, kinds={"string_match", "url_match", "program_html"})[:6]
    assert picked
    for k, i in enumerate(picked):
        cfg = {key: v for key, v in tasks[i].items()}
        cfg["task_id"] = k
        (tmp_path / f"{k}.json").write_text(json.dumps(cfg))
    sites = local_sites()
    env = WebArenaEnv.original(dict(sites.urls), tmp_path)
    wins = 0
    for k in range(len(picked)):
        obs, _ = env.reset(options={"item": k})
        assert "127.0.0.1" in obs  # the original path shows real addresses
        done = False
        while not done:
            obs, r, done, trunc, info = env.step(env.expert_action())
            done = done or trunc
        wins += info["success"]
    env.close()
    assert wins == len(picked)


def test_original_sites_from_env_vars(monkeypatch, tmp_path, tasks):
    sites = local_sites()
    monkeypatch.setenv("WEBARENA_SHOPPING", sites.urls["shopping"])
    monkeypatch.setenv("WEBARENA_CONFIG_DIR", str(tmp_path))
    t = next(t for t in tasks if t["start_url"].startswith("__SHOPPING__/") or t["start_url"] == "__SHOPPING__")
    (tmp_path / "tasks.json").write_text(json.dumps([{**t, "task_id": 0}]))
    env = WebArenaEnv.original()
    obs, _ = env.reset(options={"item": 0})
    assert sites.urls["shopping"] in obs
    env.close()
    with pytest.raises(ValueError):
        monkeypatch.delenv("WEBARENA_CONFIG_DIR")
        WebArenaEnv.original()
