"""SciWorld beyond the shared contract: the first prompt AgentGym's client builds from our server's answers.
Needs Java (conftest skips every sciworld test without it); one episode, on the shared server's simulator pool."""
import httpx

from agentgym_nb.client import make_remote
from agentgym_nb.core import env_class, make


def agentgym_first_prompt(reset:dict) -> str:
    "agentenv's SciworldEnvClient: `reset` keeps `task_description + '\\n' + observation`, `observe` shows it."
    return reset["task_description"] + "\n" + reset["observation"]


def test_agentgym_client_first_prompt_is_ours_once(server):
    """AgentGym's client builds its first prompt from our raw /reset answer: the in-process first observation,
    each line once (the task description came twice when the answer's observation already began with it)."""
    item = env_class("sciworld").splits["test"][0]
    env = make("sciworld")
    try:
        local, task = env.reset(options={"item": item})[0], env.unwrapped.task_desc
    finally:
        env.close()
    base = server.url_for("sciworld")
    with httpx.Client(timeout=120) as http:
        env_id = http.post(f"{base}/create").json()["id"]
        res = http.post(f"{base}/reset", json={"id": env_id, "data_idx": item}).json()
        observed = http.get(f"{base}/observation?id={env_id}").json()
        http.post(f"{base}/close", json={"id": env_id})
    prompt = agentgym_first_prompt(res)
    assert prompt == local and res["task_description"] == task
    lines = [line for line in prompt.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)) and prompt.count(task) == 1, prompt
    assert observed == res["observation"]  # AgentGym's /observation: the reset answer's observation field
    remote = make_remote("sciworld", server.url, timeout=120)
    try:
        assert remote.reset(options={"item": item})[0] == local  # our client joins the parts the same way
    finally:
        remote.close()
