"""BabyAI beyond the parametrized contract: the imitable expert reads the transcript only, replays agree, the easy variant."""
import numpy as np
import pytest

from agentgym_nb.core import env_class, make, pick_items
from agentgym_nb.envs.babyai import EASY_LEVELS, LEVELS, BabyAIEnv, BabyAIExpert, expert_turn, level_splits
from agentgym_nb.expert import expert_episode
from agentgym_nb.trajectory import OK_REPLY


def texts_of(transcript):
    "Fresh copies of the transcript's strings: nothing of the env travels with them."
    return [(None if a is None else "".join(a), "".join(o)) for a, o in transcript]


@pytest.mark.parametrize("name", ["babyai", "babyai-easy"])
def test_expert_is_a_function_of_the_texts(name):
    rng = np.random.default_rng(0)
    for item in pick_items(name, "test", 12, seed=4):
        env = make(name).unwrapped
        env.reset(options={"item": item})
        for t in range(15):
            if env.done: break
            turn = env.expert_action()
            assert expert_turn(texts_of(env.transcript)) == turn
            env.step(env.random_action(rng) if t % 4 == 3 else turn)  # some turns someone else's: the expert reads them too


def test_expert_reads_no_env_state():
    env = BabyAIEnv(); env.reset(options={"item": 72_020})
    expert = BabyAIExpert()
    for a, o in texts_of(env.transcript): expert.feed(a, o)
    assert not any(isinstance(v, (BabyAIEnv, np.ndarray)) for v in vars(expert).values())
    assert expert.act() == ("My goal is to put the purple key next to the purple box. I see purple key 1, so I pick it up.", "pick up purple key 1")


def test_expert_agent_replays_agree():
    "ExpertAgent replays the replies on a replica of its own: its turn is the env's, after expert and random turns alike."
    from agentgym_nb.agents import ExpertAgent, Request
    agent, rng = ExpertAgent(), np.random.default_rng(1)
    for item in (72_005, 72_020, 72_033):
        env = make("babyai").unwrapped
        obs, _ = env.reset(options={"item": item})
        messages = [{"role": "user", "content": env.instruction}, {"role": "assistant", "content": OK_REPLY}, {"role": "user", "content": obs}]
        for t in range(10):
            reply = agent.reply([Request(f"babyai_{item}", messages, "babyai", item)])[0]
            assert reply == env.expert_action()
            if t in (2, 3): reply = env.random_action(rng)
            obs, *_ = env.step(reply)
            messages += [{"role": "assistant", "content": reply}, {"role": "user", "content": obs}]
            if env.done: break
        agent.release(f"babyai_{item}")


def test_variant_levels_and_splits():
    cls = env_class("babyai-easy")
    assert cls.levels == EASY_LEVELS and set(EASY_LEVELS) < set(LEVELS) and cls.variant_of == "babyai"
    assert cls.splits == level_splits(EASY_LEVELS) == {"train": range(0, 30_000), "test": range(30_000, 30_300)}
    assert BabyAIEnv.levels == LEVELS and BabyAIEnv.splits == {"train": range(0, 72_000), "test": range(72_000, 72_720)}
    env = make("babyai-easy").unwrapped
    env.reset(options={"item": 30_000 + 13})
    assert (env.level.spec.id, env.seed) == ("BabyAI-PutNextLocalS6N4-v0", 2000)


def test_variant_expert_is_short_and_sure():
    trajs = [expert_episode("babyai-easy", i) for i in pick_items("babyai-easy", "test", 60, seed=5)]
    assert np.mean([t.success for t in trajs]) >= 0.9
    assert np.mean([t.meta["turns"] for t in trajs]) <= 8


def test_oracle_policy_still_plays():
    t = expert_episode("babyai", 72_020, policy="oracle")
    assert t.success and t.meta["turns"] == 6
