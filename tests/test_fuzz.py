"""Hostile requests to every env server (issue 18): never a 5xx, and a slow step never stalls the server.

Every class of request that once broke the HTTP layer goes to every registered env on the shared loopback server
(conftest's `server`): lone surrogates, non-finite numbers, deep nesting, an oversized body, GETs and steps before
`/reset`, unknown ids, wrong types, missing fields and random junk actions. Each must be a 2xx, or a 4xx with a
reason. Bounded: about 100 requests per env. Then a tiny env whose step sleeps (or spins) for 2 s is served in its
own process, and `/health` must answer within 100 ms while that step runs.
"""
import json
import random
import subprocess
import sys
import textwrap
import threading
import time

import httpx
import pytest

import agentgym_nb
from agentgym_nb.core import env_class
from agentgym_nb.wire import wire_of

ENVS = agentgym_nb.list_envs()
JSON = {"content-type": "application/json"}


def create(http, url, w):
    r = http.post(url + "/create")
    assert r.status_code == 200, r.text
    return r.json() if w.create == "int" else r.json()[w.key]


def assert_answered(r, what):
    """A 2xx, or a 4xx whose JSON names a reason: never a 5xx."""
    assert r.status_code < 500, (what, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert isinstance(r.json().get("detail"), str) and r.json()["detail"], (what, r.text[:300])


def hostile_bodies(w, sid):
    """(body bytes, the status it must get, or None for any 2xx/4xx) for `/reset` and `/step` of session `sid`."""
    k, item = w.key, w.item_field
    refused = [  # the body guard: 400 whatever the route
        f'{{"{k}":"\\ud800","action":"x"}}', f'{{"{k}":{sid},"action":"\\udfff tail"}}', f'{{"{k}":{sid},"{item}":"\\ud83d"}}',
        f'{{"{k}":1e999,"action":"x"}}', f'{{"{k}":{sid},"action":NaN}}', f'{{"{k}":{sid},"{item}":Infinity}}',
        f'{{"{k}":{sid},"action":[-Infinity]}}', "[" * 5000, '{"a":' * 5000, f'{{"{k}":{sid},"action":{"[" * 100}{"]" * 100}}}']
    other = [  # unknown ids, wrong types, missing fields, not JSON at all
        {k: 10**6, "action": "x", item: 0}, {k: -1, "action": "x", item: 0}, {k: 2**63, "action": "x", item: 0},
        {k: 10**30, "action": "x", item: 0}, {k: str(sid), "action": "x", item: 0}, {k: True, "action": "x", item: 0},
        {k: 0.5, "action": "x", item: 0}, {k: [sid], "action": "x"}, {k: {"a": sid}, "action": "x"},
        {k: sid, item: "x"}, {k: sid, item: 0.5}, {k: sid, item: None}, {k: sid, item: []}, {k: sid, item: 10**40},
        {}, {"action": "x"}, {k: sid}, {k: sid, "action": None}, {k: sid, "action": {"a": [1, {"b": None}]}}]
    raw = [b"", b"{", b"\xff\xfe\x00", b"null", b"[]", b'"str"', b"\xed\xa0\x80", b'{"' + k.encode() + b'":"\xed\xa0\x80"}']
    return ([(b.encode(), 400) for b in refused] + [(json.dumps(b).encode(), None) for b in other]
            + [(b, None) for b in raw])


def junk_actions(rng, n=16):
    """Random replies an agent might send: unicode noise, ReAct shapes with junk, nesting and size inside the text."""
    noise = lambda m: "".join(chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0x10FFFF)]))
                              for _ in range(m))
    fixed = ["", " ", "Action:", "Thought: hmm\nAction: ", "Action: finish with Action Input: " + "[" * 3000,
             'Action: finish with Action Input: {"answer": ' + "[" * 3000 + "]" * 3000 + "}", "Action: " + "x" * 5000,
             "Action: a\nAction: b", "\x00\x01\x02", "Action: goto [data:text/html,<script>alert(1)</script>]",
             "Action: SELECT printf('%.*c', 1000000000, 'x')", "Action: click [" + "9" * 40 + "]"]
    return fixed + [rng.choice(["", "Thought: x\nAction: ", "Action: "]) + noise(rng.randint(1, 80)) for _ in range(n)]


@pytest.mark.parametrize("name", ENVS)
def test_hostile_requests_never_5xx(name, server):
    w = wire_of(name)
    url = server.url_for(name)
    rng = random.Random(name)
    with httpx.Client(timeout=60) as http:
        fresh = create(http, url, w)  # created, never reset
        for route in ["/observation", "/detail", "/available_actions"]:
            r = http.get(url + route, params={w.key: fresh})
            assert r.status_code == 409 and "has not been reset" in r.json()["detail"], (route, r.text[:300])
        for extra in w.extras:
            assert_answered(http.get(url + f"/{extra}", params={w.key: fresh}), extra)
        r = http.post(url + "/step", json={w.key: fresh, "action": "look"})
        assert r.status_code == 409 and "has not been reset" in r.json()["detail"], r.text[:300]

        mine = create(http, url, w)
        r = http.post(url + "/reset", json={w.key: mine, w.item_field: env_class(name).splits["test"][0]})
        assert r.status_code == 200, r.text[:300]
        for route in ["/create", "/reset", "/step"]:
            for body, want in hostile_bodies(w, mine):
                r = http.post(url + route, content=body, headers=JSON)
                assert_answered(r, (route, body[:60]))
                if want is not None:
                    assert r.status_code == want, (route, body[:60], r.status_code, r.text[:300])
                if route == "/create" and r.status_code == 200:  # a create that ignored its body: close the session
                    made = r.json() if w.create == "int" else r.json()[w.key]
                    assert http.post(url + "/close", json={w.key: made}).status_code == 200
        r = http.post(url + "/step", content=b"x" * (2**20 + 1), headers=JSON)
        assert r.status_code == 413 and "max_body_bytes" in r.json()["detail"], r.text[:300]
        for q in ["", f"?{w.key}=x", f"?{w.key}=-1", f"?{w.key}=99999999", f"?{w.key}={'1' * 40}", f"?{w.key}=%ED%A0%80",
                  f"?{w.key}=%F0%9F%98%80", f"?{w.key}={mine}&{w.key}=%00"]:
            for route in ["/observation", "/detail", "/available_actions", *[f"/{e}" for e in w.extras]]:
                assert_answered(http.get(url + route + q), (route, q))

        for action in junk_actions(rng):
            r = http.post(url + "/step", json={w.key: mine, "action": action})
            assert_answered(r, action[:60])
            assert r.status_code == 200, (action[:60], r.text[:300])  # a junk action is an observation, not an error
        for sid in (fresh, mine):
            assert http.post(url + "/close", json={w.key: sid}).status_code == 200


SLOW_SERVER = textwrap.dedent('''
    import sys, time
    from agentgym_nb.core import TextEnv, register
    from agentgym_nb.server import serve
    from agentgym_nb.wire import Wire, register_wire

    @register
    class SlowEnv(TextEnv):
        "A hostile env: `sleep` blocks 2 s in C, `spin` burns 2 s of Python holding the GIL in slices."
        name, title, splits = "slow", "Slow", {"train": range(1), "test": range(1, 2)}
        def _reset(self, item): return "ready"
        def _step(self, act):
            t = time.monotonic()
            if act == "sleep": time.sleep(2.0)
            while act == "spin" and time.monotonic() - t < 2.0: sum(range(1000))
            return "done", 0.0, False

    register_wire("slow", Wire(prefix="/slow"))
    serve(["slow"], "127.0.0.1", 0)
''')


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """A server of one tiny env whose step can be slow, in its own process (as `agentgym-nb serve` runs)."""
    script = tmp_path_factory.mktemp("slow") / "slow_server.py"
    script.write_text(SLOW_SERVER)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert "serving slow at http://" in line, line + proc.stdout.read()
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield line.split(" at ")[1].strip()
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("kind", ["sleep", "spin"])
def test_health_answers_within_100ms_while_a_step_is_slow(kind, slow_server):
    """Before every env call ran in a worker thread, a non-blocking env's slow step held the event loop: /health and
    every other session waited the whole 2 s."""
    with httpx.Client(timeout=30) as http, httpx.Client(timeout=30) as other:
        a, b = (http.post(slow_server + "/create").json()["id"] for _ in range(2))  # one env served: at the root
        for sid in (a, b):
            assert http.post(slow_server + "/reset", json={"id": sid, "data_idx": 0}).status_code == 200
        box = {}
        slow = threading.Thread(target=lambda: box.update(r=httpx.post(slow_server + "/step", json={"id": a, "action": kind}, timeout=30)))
        t0 = time.monotonic()
        slow.start()
        time.sleep(0.3)
        lat = []
        while time.monotonic() - t0 < 1.7:  # a probe every 50 ms: a stalled loop would hold one for the rest of the 2 s
            t = time.perf_counter()
            h = other.get(slow_server + "/health")
            lat.append(time.perf_counter() - t)
            assert h.status_code == 200 and h.json()["busy"] == 1, h.text
            time.sleep(0.05)
        t = time.perf_counter()
        assert other.post(slow_server + "/step", json={"id": b, "action": "look"}).status_code == 200  # another session
        other_s = time.perf_counter() - t
        slow.join()
        assert box["r"].status_code == 200 and time.monotonic() - t0 >= 2.0  # the slow step did take its 2 s
    lat.sort()
    print(f"{kind}: /health {len(lat)} times during the slow step, median {lat[len(lat) // 2] * 1000:.1f} ms, "
          f"max {lat[-1] * 1000:.1f} ms; another session's step {other_s * 1000:.1f} ms")
    # a stalled event loop would hold the first probe for the rest of the 2 s step: one probe, not five or more. The
    # typical probe answers within 100 ms; the odd one may wait on a busy shared host (or, for `spin`, on the GIL)
    assert len(lat) >= 5 and lat[len(lat) // 2] < 0.1 and other_s < 1.0, (lat, other_s)
