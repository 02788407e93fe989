"""Weather beyond the parametrized contract: the tool rules, answers and progress."""
import pytest

from agentgym_nb.core import make, pick_items
from agentgym_nb.envs.weather import WeatherEnv, make_task


@pytest.mark.parametrize("action, expect", [
    ('get_historical_temp with Action Input: {"latitude": 40.7, "longitude": -74.0, "start_date": "2022-01-01", "end_date": "2022-03-01"}',
     "Error: Sorry, at present, we support a maximum time span of 30 days"),
    ('get_temp_forecast with Action Input: {"latitude": 40.7, "longitude": -74.0, "start_date": "2020-01-01", "end_date": "2020-01-02"}',
     "Error: start_date should be later than current_date"),
    ('get_current_temp with Action Input: {"latitude": 140.7, "longitude": -74.0, "current_date": "2023-01-01"}',
     "Error: latitude must be between -90 and 90"),
    ('get_latitude_longitude with Action Input: {"city": "Paris"}', "Invalid action: get_latitude_longitude has no argument 'city'"),
    ('get_distance with Action Input: {"latitude1": 1, "longitude1": 2}', "Invalid action: get_distance is missing the required argument"),
    ("get_elevation with Action Input: {latitude: 1}", "Invalid action: the Action Input of get_elevation is not valid JSON"),
])
def test_tool_errors_are_observations(action, expect):
    env = make("weather")
    env.reset(options={"item": WeatherEnv.splits["test"][3]})
    obs, r, term, trunc, info = env.step(f"Thought: try.\n\nAction: {action}")
    assert expect in obs and r == 0.0 and not term
    assert info["valid_action"] is (not obs.startswith("Invalid action"))


def test_answers_and_progress():
    for item in pick_items("weather", "test", 44, seed=2):
        task = make_task(item)
        env = WeatherEnv()
        env.reset(options={"item": item})
        for step in task.plan[:-1]:
            env.step(env.expert_action())
        assert 0 < env.score < 1  # every subgoal but the answer met
        wrong = "wrong" if isinstance(task.answer, str) else [0, 0] if isinstance(task.answer, list) else round(task.answer * 1.1 + 5, 2)
        obs, r, term, _, info = env.step(f"Action: finish with Action Input: {{\"answer\": {wrong!r}}}".replace("'", '"'))
        assert term and r == 0.0 and not info["success"] and info["score"] == env.score < 1


def test_the_world_is_fixed():
    """The generated world is part of the env's version: these values change only with WEATHER_SEED or the generator."""
    t = make_task(2002)
    assert (t.kind, t.meta["home"], t.meta["today"], t.answer) == ("avg_temp_yesterday", "Vienna", "2023-07-20", 14.9)
    assert [make_task(i).kind for i in range(22)] == [make_task(i + 22).kind for i in range(22)]
