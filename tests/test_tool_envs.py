"""What every tool env (a `ToolEnv`: Weather, Movie, Academia, Sheet, TODOList) owes beyond the contract: the expert
meets every subgoal of every test item with answers computed from the backend, and the requests AgentGym's tool
clients send (create with {"id"}, reset with {"env_idx", "id"}, step, observation, list_envs) work unchanged."""
import httpx
import pytest

import agentgym_nb
from agentgym_nb.core import env_class
from agentgym_nb.envs.tool import ToolEnv

TOOL_ENVS = [n for n in agentgym_nb.list_envs() if issubclass(env_class(n), ToolEnv)]


def test_the_five_tool_envs_are_registered():
    assert sorted(TOOL_ENVS) == ["academia", "movie", "sheet", "todo", "weather"]


@pytest.mark.parametrize("name", TOOL_ENVS)
def test_expert_meets_every_subgoal_on_the_whole_test_split(name):
    cls = env_class(name)
    for item in cls.splits["test"]:
        env = cls()
        env.reset(options={"item": item})
        for _ in range(cls.max_turns):
            *_, term, trunc, info = env.step(env.expert_action())
            if term or trunc: break
        assert info["success"] and info["score"] == 1.0, (name, item, env.task.goal)


@pytest.mark.parametrize("name", TOOL_ENVS)
def test_agentgym_tool_client_requests(name, server):
    base, cls = server.url_for(name), env_class(name)
    item = cls.splits["test"][0]
    with httpx.Client(timeout=30) as http:
        env_idx = http.post(f"{base}/create", json={"id": cls.splits["train"][0]}).json()
        assert isinstance(env_idx, int) and env_idx in http.get(f"{base}/list_envs").json()
        local = cls()
        local.reset(options={"item": cls.splits["train"][0]})
        assert http.get(f"{base}/observation?env_idx={env_idx}").json() == local.observation
        http.post(f"{base}/reset", json={"env_idx": env_idx, "id": item}).raise_for_status()
        local.reset(options={"item": item})
        assert http.get(f"{base}/observation?env_idx={env_idx}").json() == local.observation
        while not local.done:
            a = local.expert_action()
            want = local.step(a)
            got = http.post(f"{base}/step", json={"env_idx": env_idx, "action": a}).json()
            assert (got["observation"], got["reward"], got["done"]) == want[:3]
        assert http.get(f"{base}/observation?env_idx={env_idx}").json() == local.observation
        assert http.post(f"{base}/create", json={"id": 10**9}).status_code == 422
        http.post(f"{base}/close", json={"env_idx": env_idx}).raise_for_status()
        assert env_idx not in http.get(f"{base}/list_envs").json()
