"""Movie beyond the shared contract: the database and questions are the same in every process (whatever the
hash seed) (tests/test_tool_envs.py holds what every tool env owes)."""
from conftest import last_line_in_fresh_process

DIGEST = """
import hashlib, json
from agentgym_nb.envs.movie import movie_db, questions
db = movie_db()
blob = json.dumps([list(db.people.values()), list(db.movies.values()), [(q.goal, q.answer, q.subgoals) for q in questions()]], default=str)
print(hashlib.md5(blob.encode()).hexdigest())
"""


def test_same_database_in_every_process():
    assert last_line_in_fresh_process(DIGEST, 1) == last_line_in_fresh_process(DIGEST, 2)
