"Shared fixtures: one env server (all registered envs) for the whole test session."
import pytest
import agentgym_nb
from agentgym_nb.server import EnvServer


@pytest.fixture(scope="session")
def server():
    with EnvServer(agentgym_nb.list_envs(), max_sessions=256) as srv:
        yield srv
