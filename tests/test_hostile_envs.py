"""Hostile actions at the env level (issue 18): each is answered with an observation, quickly and within bounded memory,
never with an exception out of `step`. Sheet's ranges and regular expressions, SQLGym's single-opcode functions and
result sizes, the tool envs' deeply nested Action Input, WebArena's non-site URLs and AgentGym's reply format, and a
step past the turn limit, which must change nothing."""
import json
import resource
import time

import pytest

import agentgym_nb  # noqa: F401  (names the envs; each loads on first use)
from agentgym_nb.core import env_class, make
from agentgym_nb.envs.tool import call_text


def timed_step(env, action):
    t0 = time.perf_counter()
    out = env.step(action)
    return out, time.perf_counter() - t0


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Sheet -------------------------------------------------------------------------------------------------------

@pytest.fixture
def sheet():
    env = make("sheet")
    env.reset(options={"item": env_class("sheet").splits["test"][0]})
    env.step("Action: " + call_text("open_sheet", {"name": env.unwrapped.goal.sheet}))
    return env


def sheet_call(env, tool, **args):
    return timed_step(env, "Action: " + call_text(tool, args))


def test_sheet_catastrophic_regex_is_bounded(sheet):
    """`(a+)+$` over a 23-character cell took 1.4 s with `re` (doubling per character); `(a|aa)+$` over 40 characters
    backtracks even in `regex`: it is stopped at the time budget with an error the agent can act on."""
    sheet_call(sheet, "update_cell", position="H1", value="a" * 23 + "!")
    sheet_call(sheet, "update_cell", position="H2", value="a" * 40 + "!")
    (obs, r, term, trunc, info), took = sheet_call(sheet, "filter_cells", query="(a+)+$")
    assert took < 0.5 and obs.startswith("Observation: [") and "H1" not in obs and "H2" not in obs, (took, obs)
    (obs, *_), took = sheet_call(sheet, "filter_cells", query="(a|aa)+$")
    assert took < 1.5 and "ERROR | the query took over 0.5 s" in obs, (took, obs)
    (obs, *_), _ = sheet_call(sheet, "filter_cells", query="x" * 600)
    assert "ERROR | the query has 600 characters; the limit is 500" in obs
    (obs, *_), _ = sheet_call(sheet, "filter_cells", query="^a+!$")
    assert obs.startswith("Observation: ['H1', 'H2']"), obs


@pytest.mark.parametrize("formula", ["=SUM(A1:ZZ2000)", "=SUM(A1:XFD1048576)", "=A1+ZZZZ9"])
def test_sheet_formula_outside_the_grid_is_refused_at_once(sheet, formula):
    """`=SUM(A1:ZZ2000)` blocked 7.3 s and slowed every later step to 1.8 s; `A1:XFD1048576` ran past 60 s at 558 MB."""
    (obs, r, term, trunc, info), took = sheet_call(sheet, "update_cell", position="H1", value=formula)
    assert took < 0.5 and "ERROR | " in obs and "is outside the sheet's grid (A1:Z1000)" in obs and info["valid_action"], obs
    (_, *_), took = sheet_call(sheet, "get_all_values")
    assert took < 0.5


def test_sheet_formula_over_the_whole_grid_costs_what_the_sheet_holds(sheet):
    (obs, *_), took = sheet_call(sheet, "update_cell", position="H1", value="=COUNT(A1:G1000)")
    assert took < 0.5 and "ERROR" not in obs, obs
    (obs, *_), took = sheet_call(sheet, "get_cell_value", position="H1")
    assert took < 0.5 and int(obs.split()[1]) > 0, obs


def test_sheet_formulas_that_read_too_many_cells_answer_an_error(sheet):
    """Formulas over the whole grid, once the sheet spans it: the reading stops at its cell budget; clearing them heals."""
    sheet_call(sheet, "update_cell", position="Z1000", value=1)
    (obs, r, term, trunc, info), took = sheet_call(sheet, "update_range", start_position="Y1", end_position="Y30",
                                                   values_list=[["=SUM(A1:X1000)"]] * 30)
    assert took < 3 and "ERROR | computing the sheet's formulas went through more than 100,000 cells" in obs, (took, obs)
    (obs, *_), took = sheet_call(sheet, "get_cell_value", position="A1")  # one cell still reads, and the score is judged
    assert took < 1 and "ERROR" not in obs
    sheet_call(sheet, "update_range", start_position="Y1", end_position="Y30", values_list=[[""]] * 30)
    (obs, *_), took = sheet_call(sheet, "get_all_values")
    assert took < 1 and "ERROR" not in obs
    (obs, r, term, *_), _ = timed_step(sheet, "Action: finish with Action Input: {}")
    assert term and r == 0.0


# --- SQLGym ------------------------------------------------------------------------------------------------------

@pytest.fixture
def sqlgym():
    env = make("sqlgym")
    env.reset(options={"item": env_class("sqlgym").splits["test"][0]})
    return env


def sql_step(env, sql):
    env.reset(options={"item": env.unwrapped.item})
    return timed_step(env, "Action: ```sql\n" + sql + "\n```")


def test_sql_printf_loop_is_refused_before_it_runs(sqlgym):
    """printf('%.*c', 1e9, 'x') ran 9.6 s against the 2 s limit: one opcode, so the progress handler never fired."""
    (obs, r, term, trunc, info), took = sql_step(sqlgym, "SELECT printf('%.*c', 1000000000, 'x')")
    assert took < 0.5 and term and r == 0.0 and obs.startswith("printf's width or precision 1,000,000,000 is above the limit"), (took, obs)
    (obs, *_), _ = sql_step(sqlgym, "SELECT format('%.*c', 5, 'x'), printf('%5.1f', 2.25)")
    assert obs == "[('xxxxx', '  2.3')]", obs  # SQLite's own rounding


def test_sql_quadratic_search_is_linear_here(sqlgym):
    """instr and replace over long values compare the pattern at every position: 16 s for one call before."""
    big = "replace(hex(zeroblob(499000)), '0', 'a')"  # 998,000 a's
    (obs, *_), took = sql_step(sqlgym, f"WITH s AS (SELECT {big} AS h, substr({big}, 1, 400000) || 'b' AS n) "
                                       f"SELECT {', '.join(['instr(h, n)', 'length(replace(h, n, 1))'] * 20)} FROM s")
    assert took < 1.5 and obs.startswith("[(0, 998000, 0, 998000"), (took, obs)


def test_sql_big_values_and_results_are_capped_while_read(sqlgym):
    """100 rows of zeroblob(2000000) took the server from 153 MB to 1.1 GB; 9 MB blobs raised MemoryError out of step."""
    before = max_rss_mb()
    many = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100) SELECT {} FROM c"
    for sql, want in [(many.format("zeroblob(2000000)"), "string or blob too big"), ("SELECT zeroblob(9000000)", "string or blob too big"),
                      (many.format("zeroblob(900000)"), "the query's result is larger than 4,000,000 bytes"),
                      (many.format("randomblob(900000), randomblob(900000)"), "the query's result is larger than")]:
        (obs, r, term, trunc, info), took = sql_step(sqlgym, sql)
        assert took < 1 and term and r == 0.0 and obs.startswith(want), (sql, took, obs[:100])
    assert max_rss_mb() - before < 200


def test_sql_wide_rows_are_refused_before_they_run(sqlgym):
    cte = "WITH a AS (SELECT " + ", ".join(f"randomblob(900000) c{i}" for i in range(30)) + ") SELECT * FROM "
    (obs, *_), took = sql_step(sqlgym, cte + ", ".join(f"a AS t{i}" for i in range(60)))
    assert took < 1 and obs == "the query's rows have 1800 columns; the limit is 128", obs


def test_sql_expert_still_solves_with_the_guards(sqlgym):
    for item in env_class("sqlgym").splits["test"][:40]:
        sqlgym.reset(options={"item": item})
        assert sqlgym.step(sqlgym.unwrapped.expert_action())[1] == 1.0, item


# --- tool envs ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["weather", "movie", "academia", "sheet", "todo"])
def test_deeply_nested_action_input_is_malformed_input(name):
    """`[` x 2000 as a tool call's Action Input made RecursionError escape `step`."""
    env = make(name)
    env.reset(options={"item": env_class(name).splits["test"][0]})
    for text in ["[" * 2000 + "]" * 2000, "[" * 4000, '{"answer": ' + "[" * 1500 + "]" * 1500 + "}",
                 '{"answer": ' + '[1, "]]]]", ' * 60 + "2" + "]" * 60 + "}"]:
        obs, r, term, trunc, info = env.step("Action: finish with Action Input: " + text)
        assert obs.startswith("Invalid action: the Action Input of finish is malformed: it nests deeper than 32 levels"), obs[:120]
        assert not term and not info["valid_action"]


# --- WebArena ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def webarena():
    env = make("webarena")
    yield env
    env.close()


def test_webarena_refuses_every_url_outside_the_sites(webarena):
    webarena.reset(options={"item": env_class("webarena").splits["test"][0]})
    for url in ["data:text/html,<script>new WebSocket('ws://127.0.0.1:22')</script>", "data:,hello",
                "javascript:alert(1)", "file:///etc/passwd", "http://127.0.0.1:22/", "view-source:http://shopping.local/",
                "about:config", "chrome://version"]:
        obs, r, term, trunc, info = webarena.step(f"Action: goto [{url}]")
        assert obs.startswith("Invalid action") and "outside the sites of this task; navigation there is refused" in obs, (url, obs[:200])
        assert not info["valid_action"] and "URL: http://" in webarena.unwrapped._call(webarena.unwrapped._observation)


def test_webarena_reads_agentgym_prompt_format(webarena):
    """AgentGym's client sends WebArena's CoT reply whole; its server acts on the first ``` block."""
    item = env_class("webarena").splits["test"][0]
    webarena.reset(options={"item": item})
    turn = webarena.unwrapped.expert_action()
    action = turn.split("Action:")[-1].strip()
    reply = f"Let's think step-by-step. I follow the plan. In summary, the next action I will perform is ```{action}```"
    obs, r, term, trunc, info = webarena.step(reply)
    assert info["valid_action"] and not obs.startswith("Invalid action"), obs[:200]
    assert webarena.unwrapped.prev_action == action


def test_webarena_step_past_the_turn_limit_changes_nothing(webarena):
    """A task finished at turn 34 came back with reward 1.0: past the limit the episode is over, reward 0, score kept."""
    item = next(i for i in env_class("webarena").splits["test"] if len(webarena.unwrapped.tasks[i].get("expert") or []) >= 1)
    webarena.reset(options={"item": item})
    plan = webarena.unwrapped.task["expert"]
    turns = 0
    while webarena.unwrapped._plan_pos < len(plan) - 1:  # the plan up to its stop
        webarena.step(webarena.unwrapped.expert_action()); turns += 1
    while turns < webarena.unwrapped.max_turns:
        obs, r, term, trunc, info = webarena.step("Action: click [999999]"); turns += 1
    assert trunc and not term
    obs, r, term, trunc, info = webarena.step(webarena.unwrapped.expert_action())  # the right stop, one turn too late
    assert r == 0.0 and info["score"] == 0.0 and not info["success"] and obs.startswith("Invalid action: the episode is over")
    assert webarena.unwrapped.answer is None  # nothing was evaluated
