"""Academia beyond the shared contract: the graphs and questions are the same in every process (whatever the
hash seed) (tests/test_tool_envs.py holds what every tool env owes)."""
from conftest import last_line_in_fresh_process

DIGEST = """
import hashlib, json
import networkx as nx
from agentgym_nb.envs.academia import academia_world, questions
w = academia_world()
blob = json.dumps([nx.node_link_data(w.paper_net, edges="links"), nx.node_link_data(w.author_net, edges="links"), [(q.goal, q.answer, q.subgoals) for q in questions()]], default=str)
print(hashlib.md5(blob.encode()).hexdigest())
"""


def test_same_graphs_in_every_process():
    assert last_line_in_fresh_process(DIGEST, 1) == last_line_in_fresh_process(DIGEST, 2)
