"""The env server under bad input, concurrency, caps and idle eviction.

Every request here is something a client can send; the server must answer it with a 2xx, or a 4xx with a
reason, never a 500, and never disturb another client's session.
"""
import concurrent.futures as cf
import json
import random
import time

import httpx
import pytest

import agentgym_nb
from agentgym_nb.core import env_class
from agentgym_nb.wire import wire_of
from agentgym_nb.server import EnvServer

ENVS = agentgym_nb.list_envs()


def base(server, name):
    return server.url_for(name)


def open_session(http, server, name, item=None):
    w = wire_of(name)
    r = http.post(base(server, name) + "/create")
    assert r.status_code == 200, r.text
    sid = r.json() if w.create == "int" else r.json()[w.key]
    item = env_class(name).splits["test"][0] if item is None else item
    r = http.post(base(server, name) + "/reset", json={w.key: sid, w.item_field: item})
    assert r.status_code == 200, r.text
    return sid


def random_json(rng, depth=0):
    kinds = ["int", "str", "float", "null", "bool", "list", "dict", "bigint"] if depth < 2 else ["int", "str", "null"]
    k = rng.choice(kinds)
    # ints never name a live session: this fuzz must not legitimately drive another client's episode
    return {"int": lambda: rng.choice([-3, -1, 10**6, 2**31]), "bigint": lambda: 10**30, "str": lambda: "".join(
        chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 20))), "float": lambda: rng.random() * 1e6,
        "null": lambda: None, "bool": lambda: rng.random() < 0.5,
        "list": lambda: [random_json(rng, depth + 1) for _ in range(3)],
        "dict": lambda: {"id": random_json(rng, depth + 1), "env_idx": random_json(rng, depth + 1),
                         "action": random_json(rng, depth + 1), "game": random_json(rng, depth + 1)}}[k]()


@pytest.mark.parametrize("name", ENVS)
def test_fuzz_never_500_and_other_sessions_survive(name, server):
    rng = random.Random(0)
    w = wire_of(name)
    with httpx.Client(timeout=30) as http:
        victim = open_session(http, server, name)
        before = http.get(base(server, name) + "/observation", params={w.key: victim}).json()
        mine = open_session(http, server, name)
        bodies = [b"", b"{", b"\xff\xfe\x00", b"null", b"[]", b'"str"', json.dumps({w.key: mine}).encode(),
                  json.dumps({w.key: mine, "action": "x" * 100_000}).encode(),
                  json.dumps({w.key: "abc", "action": "up"}).encode(), json.dumps({w.key: -1, "action": "up"}).encode(),
                  json.dumps({w.key: 10**20, "action": "up"}).encode(), json.dumps({w.key: mine, "action": None}).encode(),
                  json.dumps({w.key: mine, "action": ["a", {"b": 1}]}).encode(),
                  json.dumps({w.key: mine, w.item_field: 10**12}).encode(), json.dumps({w.key: mine, w.item_field: "x"}).encode()]
        bodies += [json.dumps(random_json(rng)).encode() for _ in range(60)]
        bodies += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))) for _ in range(30)]
        for b in bodies[:6]:  # create ignores its body; each makes a session, closed again below
            r = http.post(base(server, name) + "/create", content=b, headers={"content-type": "application/json"})
            assert r.status_code == 200, r.text
            made = r.json() if w.create == "int" else r.json()[w.key]
            assert http.post(base(server, name) + "/close", json={w.key: made}).status_code == 200
        for route in ["/step", "/reset", "/close"]:
            for b in bodies:
                if route == "/close" and str(mine).encode() in b:
                    continue  # keep our own session for the rest of the fuzz
                r = http.post(base(server, name) + route, content=b, headers={"content-type": "application/json"})
                assert r.status_code < 500, (route, b[:80], r.status_code, r.text[:200])
                if r.status_code >= 400:
                    assert r.json().get("detail"), (route, b[:80], r.text[:200])
        for q in [{}, {w.key: "x"}, {w.key: "-1"}, {w.key: "99999999"}, {w.key: "1" * 40}, {w.key: str(victim)}]:
            for route in ["/observation", "/detail", "/available_actions", *[f"/{e}" for e in w.extras]]:
                r = http.get(base(server, name) + route, params=q)
                assert r.status_code < 500, (route, q, r.text[:200])
        after = http.get(base(server, name) + "/observation", params={w.key: victim})
        assert after.status_code == 200 and after.json() == before


@pytest.mark.parametrize("name", ENVS)
def test_closed_and_unknown_sessions_are_404(name, server):
    w = wire_of(name)
    with httpx.Client(timeout=30) as http:
        sid = open_session(http, server, name)
        assert http.post(base(server, name) + "/close", json={w.key: sid}).status_code == 200
        for route, body in [("/step", {w.key: sid, "action": "x"}), ("/close", {w.key: sid}),
                            ("/reset", {w.key: sid, w.item_field: 0})]:
            r = http.post(base(server, name) + route, json=body)
            assert r.status_code == 404 and "does not exist" in r.json()["detail"]


@pytest.mark.parametrize("name", ENVS)
def test_concurrent_close_and_step_on_one_session(name, server):
    w = wire_of(name)
    with httpx.Client(timeout=30) as http:
        other = open_session(http, server, name)
        other_obs = http.get(base(server, name) + "/observation", params={w.key: other}).json()
        for _ in range(5):
            sid = open_session(http, server, name)

            def hit(kind):
                with httpx.Client(timeout=30) as h:
                    if kind == "close":
                        return h.post(base(server, name) + "/close", json={w.key: sid}).status_code
                    return h.post(base(server, name) + "/step", json={w.key: sid, "action": "Action: nonsense"}).status_code

            with cf.ThreadPoolExecutor(8) as ex:
                codes = list(ex.map(hit, ["step", "close"] * 4))
            assert set(codes) <= {200, 404}, codes
            assert codes.count(200) >= 1
        assert http.get(base(server, name) + "/observation", params={w.key: other}).json() == other_obs


def test_many_sessions_concurrently(server):
    """64 clients stepping at once each see only their own episode."""
    name = "maze" if "maze" in ENVS else ENVS[0]
    from agentgym_nb.client import make_remote
    from agentgym_nb.core import pick_items
    from agentgym_nb.expert import expert_episode
    items = pick_items(name, "test", 16, seed=5)
    want = {i: expert_episode(name, i) for i in items}

    def run(k):
        item = items[k % len(items)]
        env = make_remote(name, server.url)
        try:
            env.reset(options={"item": item})
            obs = [env.step(a)[0] for a in want[item].replies]
            return item, obs
        finally:
            env.close()

    with cf.ThreadPoolExecutor(64) as ex:
        for item, obs in ex.map(run, range(64)):
            assert obs[-1] == want[item].meta["final_observation"]


def test_session_cap_is_429_and_idle_sessions_are_evicted():
    name = ENVS[0]
    w = wire_of(name)
    with EnvServer([name], max_sessions=3, session_ttl_s=1.0) as srv, httpx.Client(timeout=30) as http:
        url = srv.url_for(name)
        ids = [http.post(url + "/create").json() for _ in range(3)]
        r = http.post(url + "/create")
        assert r.status_code == 429 and "server full" in r.json()["detail"]
        assert http.get(srv.url + "/health").json()["sessions"][name] == 3
        deadline = time.monotonic() + 10
        while http.get(srv.url + "/health").json()["sessions"][name] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert http.get(srv.url + "/health").json()["sessions"][name] == 0
        sid = ids[0] if w.create == "int" else ids[0][w.key]
        assert http.post(url + "/step", json={w.key: sid, "action": "x"}).status_code == 404
        assert http.post(url + "/create").status_code == 200


def test_health_and_liveness(server):
    with httpx.Client(timeout=30) as http:
        h = http.get(server.url + "/health").json()
        assert h["status"] == "ok" and set(h["envs"]) == set(ENVS) and h["capacity"] == 256
        for name in ENVS:
            assert http.get(server.url_for(name) + "/").status_code == 200
        assert http.get(server.url + "/list_envs").json() == ENVS


def test_binds_loopback_by_default(server):
    assert server.url.startswith("http://127.0.0.1:")


AGENTGYM_CLIENTS = {  # env: (reset field, a valid action, create body) as AgentGym's clients send them
    "maze": ("game", "move down", None), "wordle": ("seed", "s h i r e", None),
    "textcraft": ("data_idx", "inventory", {"commands": None, "goal": None}),
}


@pytest.mark.parametrize("name", [n for n in AGENTGYM_CLIENTS if n in ENVS])
def test_agentgym_client_call_sequence(name, server):
    """The exact requests AgentGym's clients (agentenv/envs/*.py) send, and the fields they read."""
    base_url = server.url_for(name)  # AgentGym's env_server_base
    item_field, action, create_body = AGENTGYM_CLIENTS[name]
    with httpx.Client(timeout=30) as http:
        ok = http.post(f"{base_url}/create", json=create_body)
        assert ok.status_code == 200
        env_id = ok.json()["id"]
        if name == "wordle":
            vocab = http.get(f"{base_url}/filtered_vocab?id={env_id}").json()
            assert isinstance(vocab, list) and "shire" in vocab
        item = env_class(name).splits["test"][0]
        reset = http.post(f"{base_url}/reset", json={item_field: item, "id": env_id}).json()
        assert isinstance(reset["observation"], str)
        step = http.post(f"{base_url}/step", json={"action": action, "id": env_id}).json()
        assert isinstance(step["observation"], str) and isinstance(step["reward"], float) and isinstance(step["done"], bool)
        assert http.get(f"{base_url}/observation?id={env_id}").json() == step["observation"]
        assert http.get(f"{base_url}/detail?id={env_id}").json()["item"] == item


def test_serve_listens_before_it_prints_and_one_env_answers_at_the_root():
    """AgentGym's scripts talk to a one-env server at its root (`http://127.0.0.1:8000/create`); a client that connects
    as soon as `serve` prints its URL must never be refused (2-7 connections were, when the line came before listen)."""
    import socket
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "agentgym_nb.cli", "serve", "textcraft", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert "serving textcraft at http://127.0.0.1:" in line, line
        url = line.split(" at ")[1].strip()
        host, port = url[len("http://"):].split(":")
        for _ in range(7):  # at once, before the app has started: queued in the backlog, not refused
            socket.create_connection((host, int(port)), timeout=30).close()
        item_field, action, create_body = AGENTGYM_CLIENTS["textcraft"]
        with httpx.Client(timeout=60) as http:
            env_id = http.post(f"{url}/create", json=create_body).json()["id"]
            item = env_class("textcraft").splits["test"][0]
            assert isinstance(http.post(f"{url}/reset", json={item_field: item, "id": env_id}).json()["observation"], str)
            assert http.post(f"{url}/step", json={"action": action, "id": env_id}).json()["done"] is False
            assert http.get(f"{url}/detail?id={env_id}").json()["item"] == item
            assert http.get(f"{url}/textcraft/observation?id={env_id}").status_code == 200  # and under its prefix
            assert http.get(f"{url}/list_envs").json() == ["textcraft"] and http.get(f"{url}/health").status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("flags", [["--session-ttl", "0"], ["--session-ttl", "-1"], ["--max-sessions", "0"],
                                   ["--max-sessions", "-5"], ["--port", "99999"], ["--port", "-1"]])
def test_serve_flags_out_of_range_are_refused_by_name(flags, capsys):
    from agentgym_nb.cli import main
    with pytest.raises(SystemExit) as e:
        main(["serve", "maze", *flags])
    assert e.value.code == 2 and f"argument {flags[0]}: " in capsys.readouterr().err
