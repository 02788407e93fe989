"""WebShop beyond the shared contract: the original-data loader, the catalog's reproducibility across processes,
WebShop's partial-credit reward, and the exact requests AgentGym's WebShop client sends."""
import json
import os
import subprocess
import sys

import httpx
import pytest

import agentgym_nb  # noqa: F401  (names the envs; each loads on first use)
from agentgym_nb.core import make
from agentgym_nb.envs import webshop as ws


def run_py(code, **env):
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, **env})
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


ORIGINAL = """
import json, agentgym_nb
from agentgym_nb.core import make, env_class
from agentgym_nb.envs.webshop import shop
cls = env_class("webshop"); s = shop()
out = {"splits": {k: [r.start, r.stop] for k, r in cls.splits.items()}, "source": s.source, "episodes": []}
for item in range(len(s.goals)):
    env = make("webshop"); obs, _ = env.reset(options={"item": item}); first = obs
    while True:
        obs, r, term, trunc, info = env.step(env.unwrapped.oracle_action())  # a sure win: this checks the data, not the expert
        if term or trunc: break
    out["episodes"].append({"first": first, "reward": r, "success": info["success"]})
env = make("webshop"); env.reset(options={"item": 0})
obs, *_ = env.step("search[silver synthetic wig]")
out["results"] = obs
obs, *_ = env.step("click[b07ndlggs1]")
out["item"] = obs
print(json.dumps(out))
"""


def test_original_data_layout_is_read(tmp_path):
    """WEBSHOP_DATA pointing at files in WebShop's layout: its products, its human goals, its options."""
    folder = ws.write_sample_data(tmp_path / "data")
    res = run_py(ORIGINAL, WEBSHOP_DATA=str(folder))
    assert res["source"].startswith("original data") and res["splits"] == {"train": [1, 2], "test": [0, 1]}
    assert len(res["episodes"]) == 2 and all(e["success"] and e["reward"] == 1.0 for e in res["episodes"])
    firsts = sorted(e["first"] for e in res["episodes"])
    assert firsts[0].startswith("WebShop [SEP] Instruction: [SEP] i am interested in a synthetic wig that is silver, and price lower than")
    assert "B07NDLGGS1 [SEP] Raquel Welch Synthetic Wig" in res["results"] and "$46.16" in res["results"]
    assert "[SEP] color [SEP] rl56 | 60 silver mist [SEP] rl38 smoked walnut [SEP] Raquel Welch" in res["item"]
    assert "Price: $46.16 [SEP] Rating: N.A. [SEP] Description [SEP] Features [SEP] Reviews [SEP] Buy Now" in res["item"]


def test_catalog_is_the_same_in_every_process():
    code = ("import json, hashlib; from agentgym_nb.envs.webshop import generated_shop; s = generated_shop(300); "
            "print(json.dumps(hashlib.sha256(json.dumps([s.products, s.goals, s.search('red dress')], sort_keys=True).encode()).hexdigest()))")
    a = run_py(code, PYTHONHASHSEED="1")
    b = run_py(code, PYTHONHASHSEED="2")
    assert a == b


def test_partial_credit_is_webshops():
    """Buying the right product with wrong options scores (attributes + price) / (attributes + options + 1)."""
    shop = ws.shop()

    def wrong_options(goal):
        target, out = shop.by_asin[goal["asin"]], {}
        for k in goal["option_names"]:
            bad = [v for v in target["options"][k] if ws.option_matches(target, goal["goal_options"], {k: v}) == 0]
            if bad: out[k] = bad[0]
        return out

    item = next(i for i in ws.WebShopEnv.splits["test"] if len(shop.goals[i]["goal_options"]) >= 2 and wrong_options(shop.goals[i]))
    env = make("webshop").unwrapped
    env.reset(options={"item": item})
    goal, target = env.goal, shop.by_asin[env.goal["asin"]]
    env.step(f"search[{target['Title']}]")
    env.step(f"click[{target['asin']}]")
    for v in wrong_options(goal).values():
        env.step(f"click[{v}]")
    obs, r, term, trunc, info = env.step("click[buy now]")
    n_att, n_opt = len(goal["attributes"]), len(goal["goal_options"])
    assert term and not info["success"]  # options left unchosen are not bought, so they do not count either
    assert r == pytest.approx((n_att + 1) / (n_att + n_opt + 1))
    assert f"[SEP] {r} [SEP] Reward Details" in obs


def test_wrong_type_scores_low():
    env = make("webshop").unwrapped
    env.reset(options={"item": 0})
    other = next(p for p in ws.shop().products if p["query"] != env.goal["query"] and p["category"] != env.goal["category"])
    env.step(f"search[{other['Title']}]")
    env.step(f"click[{other['asin']}]")
    obs, r, term, *_ = env.step("click[buy now]")
    assert term and r < 0.5


def test_agentgym_webshop_client_sequence(server):
    """The requests AgentGym's WebshopEnvClient sends (agentenv/envs/webshop.py) and the fields it reads."""
    base = server.url_for("webshop")
    with httpx.Client(timeout=60) as http:
        env_id = http.post(f"{base}/create").json()
        assert isinstance(env_id, int)
        response = http.post(f"{base}/reset", json={"session_id": 3, "env_idx": env_id}).json()
        response[0] = http.get(f"{base}/observation?env_idx={env_id}").json()  # what the client does with the answer
        assert response[0].startswith("WebShop [SEP] Instruction: [SEP] ") and response[0].endswith(" [SEP] Search")
        instr = http.get(f"{base}/instruction_text?env_idx={env_id}").json()
        assert instr in response[0]
        step = http.post(f"{base}/step", json={"action": "search[shampoo]", "env_idx": env_id}).json()
        assert step["state"].startswith("Instruction: [SEP] ") and step["reward"] == 0.0 and step["done"] is False
        state = http.get(f"{base}/state?env_idx={env_id}").json()
        assert set(state) == {"url", "html", "instruction_text"} and "/search_results/3/shampoo/1" in state["url"]
        assert 'class="product-link"' in state["html"] and state["instruction_text"] == instr
        acts = http.get(f"{base}/available_actions?env_idx={env_id}").json()  # AgentGym's shape, not the contract's list
        assert acts["has_search_bar"] is False and "back to search" in acts["clickables"]
        bad = http.post(f"{base}/step", json={"action": "click[not here]", "env_idx": env_id}).json()
        assert bad["state"].startswith("Invalid action") and bad["reward"] == 0.0 and bad["done"] is False
        assert http.post(f"{base}/close", json={"env_idx": env_id}).status_code == 200
