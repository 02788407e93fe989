"""SQLGym beyond the shared contract: the BIRD and Spider loaders, the generated data's reproducibility across
processes, the read-only sandbox under hostile SQL over HTTP, and the exact requests AgentGym's SQLGym client sends."""
import concurrent.futures as cf
import hashlib
import json
import os
import subprocess
import sys

import httpx
import pytest

import agentgym_nb  # noqa: F401  (names the envs; each loads on first use)
from agentgym_nb.core import env_class, make
from agentgym_nb.wire import wire_of
from agentgym_nb.envs import sql as sg


def run_py(code, **env):
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**os.environ, **env})
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


ORIGINAL = """
import json, agentgym_nb
from agentgym_nb.core import make, env_class
cls = env_class("sqlgym"); out = {"splits": {k: [r.start, r.stop] for k, r in cls.splits.items()}, "episodes": []}
for item in range(3):
    env = make("sqlgym"); first, _ = env.reset(options={"item": item})
    obs, r, term, trunc, info = env.step(env.unwrapped.oracle_action())
    out["episodes"].append({"first": first, "obs": obs, "reward": r, "match": env.unwrapped.q.match})
env = make("sqlgym"); env.reset(options={"item": 0})
out["expert"] = env.step(env.unwrapped.expert_action())[1]  # a human question: no template of ours reads it
env.reset(options={"item": 1})
out["duplicates"] = env.step("Action: ```sql\\nSELECT name FROM customer WHERE city = 'Paris' UNION ALL SELECT 'Ada'\\n```")[1]
env.reset(options={"item": 1})
out["reversed"] = env.step("Action: ```sql\\nSELECT name FROM customer WHERE city = 'Paris' ORDER BY name DESC\\n```")[1]
env.reset(options={"item": 2})
out["wrong"] = env.step("Action: ```sql\\nSELECT SUM(amount) FROM payment\\n```")[1]
print(json.dumps(out))
"""


@pytest.mark.parametrize("layout", ["bird", "spider"])
def test_original_data_layouts_are_read(tmp_path, layout):
    """SQLGYM_DATA pointing at a folder in BIRD's or Spider's layout: its questions, its databases, its comparison rule."""
    folder = sg.write_sample_data(tmp_path / layout, layout)
    res = run_py(ORIGINAL, SQLGYM_DATA=str(folder))
    assert res["splits"] == {"train": [0, 2], "test": [2, 3]}  # train first, then dev, as AgentGym numbers BIRD's items
    assert [e["reward"] for e in res["episodes"]] == [1.0, 1.0, 1.0]  # the oracle: the gold queries
    assert res["expert"] == 0.0  # the imitable expert reads our templates' questions only
    assert res["episodes"][0]["first"].startswith("tiny_shop contains tables such as customer, payment.")
    assert res["episodes"][0]["first"].endswith("\n\nHow many customers are there?")
    assert res["episodes"][2]["obs"] == "[(15.0,)]" and res["wrong"] == 0.0
    if layout == "bird":  # BIRD's evaluation compares sets: duplicates and order do not matter
        assert "Evidence: total amount refers to SUM(amount)" in res["episodes"][2]["first"]
        assert (res["duplicates"], res["reversed"]) == (1.0, 1.0)
    else:  # Spider's gold sorts by name: the order matters, and a multiset counts the duplicate
        assert [e["match"] for e in res["episodes"]] == ["multiset", "list", "multiset"]
        assert (res["duplicates"], res["reversed"]) == (0.0, 0.0)


def test_agentgym_variable_is_read_too(tmp_path):
    folder = sg.write_sample_data(tmp_path / "bird")
    env = {k: v for k, v in os.environ.items() if k != "SQLGYM_DATA"}
    p = subprocess.run([sys.executable, "-c", "from agentgym_nb.core import env_class; print(env_class('sqlgym').splits['test'])"],
                       capture_output=True, text=True, timeout=120, env={**env, "AGENTENV_SQLGYM_BIRD_PATH": str(folder)})
    assert p.stdout.strip().endswith("range(2, 3)"), p.stderr[-2000:]


def _digest(qs):
    rows = []
    for split in ("train", "test"):
        for q in qs[split]:
            con = sg.connect_readonly(q.db_path)
            rows.append((split, q.db_id, q.question, q.evidence, q.sql, q.difficulty, q.match, repr(sg.run_query(con, q.sql)[0])))
            con.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_generation_is_reproducible_and_built_once(tmp_path):
    """Two processes building into one empty folder at once: one builds, the other waits; both match a fresh build."""
    code = ("import json, sys; from agentgym_nb.envs import sql as sg; from tests.test_sqlgym import _digest; "
            "print(json.dumps(_digest(sg.generated_questions(sys.argv[1]))))")
    cwd = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def build(folder):
        p = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=300, cwd=cwd)
        assert p.returncode == 0, p.stderr[-3000:]
        return json.loads(p.stdout.strip().splitlines()[-1])
    with cf.ThreadPoolExecutor(2) as pool:
        a, b = pool.map(build, [tmp_path / "one", tmp_path / "one"])
    assert a == b == _digest(sg.questions()) == build(tmp_path / "two")
    counts = {s: len(v) for s, v in sg.questions().items()}
    assert counts == {"train": 1500, "test": 500}
    assert {q.difficulty for q in sg.questions()["test"]} == {"simple", "moderate", "challenging"}


HOSTILE = ["DELETE FROM {t}", "DROP TABLE {t}", "UPDATE {t} SET rowid = rowid + 1", "INSERT INTO {t} SELECT * FROM {t}",
           "CREATE TABLE x AS SELECT * FROM {t}", "ATTACH 'pwned.db' AS p", "PRAGMA query_only = OFF", "PRAGMA writable_schema = ON",
           "VACUUM", "VACUUM INTO 'copy.db'", "BEGIN IMMEDIATE", "SELECT load_extension('x')", "SELECT 1; DELETE FROM {t}",
           "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT MAX(x) FROM c",
           "SELECT * FROM {t} AS a, {t} AS b, {t} AS c", "SELECT randomblob(2000000000)", "SELECT * FROM nowhere", "SELECT FROM {t}"]


def test_hostile_sql_over_http_changes_nothing(server, tmp_path):
    """Writes, ATTACH, PRAGMA changes, slow and huge queries: each is the database's error as an observation, reward 0,
    the database file unchanged and no file created; other sessions keep working meanwhile."""
    w, base = wire_of("sqlgym"), server.url_for("sqlgym")
    item = env_class("sqlgym").splits["test"][0]
    q = sg.question(item)
    table = sg.tables_of(q.sql)[0]
    before = hashlib.sha256(open(q.db_path, "rb").read()).hexdigest()
    with httpx.Client(timeout=60) as http:
        sid = http.post(base + "/create").json()
        for stmt in HOSTILE:
            http.post(base + "/reset", json={w.key: sid, w.item_field: item})
            r = http.post(base + "/step", json={w.key: sid, "action": "Action: ```sql\n" + stmt.format(t=table) + "\n```"})
            assert r.status_code == 200, (stmt, r.text)
            body = r.json()
            assert body["reward"] == 0.0 and body["done"] is True and body["state"] and not body["state"].startswith("["), (stmt, body)
        expert = make("sqlgym"); expert.reset(options={"item": item})
        http.post(base + "/reset", json={w.key: sid, w.item_field: item})
        assert http.post(base + "/step", json={w.key: sid, "action": expert.unwrapped.expert_action()}).json()["reward"] == 1.0
    assert hashlib.sha256(open(q.db_path, "rb").read()).hexdigest() == before
    assert not any(os.path.exists(p) for p in ["pwned.db", "copy.db", os.path.join(os.path.dirname(q.db_path), "pwned.db")])


def test_slow_query_does_not_block_other_sessions(server):
    w, base = wire_of("sqlgym"), server.url_for("sqlgym")
    item = env_class("sqlgym").splits["test"][3]
    slow = "Action: ```sql\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT MAX(x) FROM c\n```"
    with httpx.Client(timeout=60) as http:
        a, b = http.post(base + "/create").json(), http.post(base + "/create").json()
        for s in (a, b):
            http.post(base + "/reset", json={w.key: s, w.item_field: item})
        with cf.ThreadPoolExecutor(1) as pool:
            fut = pool.submit(lambda: httpx.post(base + "/step", json={w.key: a, "action": slow}, timeout=60).json())
            fast = http.post(base + "/step", json={w.key: b, "action": "Action: ```sql\nSELECT 1\n```"})
            assert fast.status_code == 200 and fast.json()["state"] == "[(1,)]"
            assert not fut.done()  # the slow query was still running while the other session answered
            assert fut.result()["state"].startswith("interrupted")


def test_agentgym_client_call_sequence(server):
    """The requests AgentGym's SqlGymEnvClient sends (create, reset with item_id, step with the SQL it cut out of the
    ```sql block, observation) and the fields it reads."""
    base_url = server.url_for("sqlgym")
    item = env_class("sqlgym").splits["test"][5]
    local = make("sqlgym"); local.reset(options={"item": item})
    reply = local.unwrapped.expert_action()
    with httpx.Client(timeout=30) as http:
        ok = http.post(f"{base_url}/create")
        assert ok.status_code == 200
        env_id = ok.json()
        assert isinstance(env_id, int)
        reset = http.post(f"{base_url}/reset", json={"item_id": item, "env_idx": env_id})
        assert reset.status_code == 200 and reset.json()["state"] == local.unwrapped.observation
        action = reply.split("```sql")[-1].split("```")[0].strip()  # what the client sends
        step = http.post(f"{base_url}/step", json={"action": action, "env_idx": env_id}).json()
        assert isinstance(step["state"], str) and step["reward"] == 1.0 and step["done"] is True
        assert http.get(f"{base_url}/observation?env_idx={env_id}").json() == step["state"]
        assert http.get(f"{base_url}/detail?env_idx={env_id}").json()["gold_sql"] == sg.question(item).sql
