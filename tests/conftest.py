"Shared fixtures: one env server (all registered envs) for the whole test session."
import pytest
import agentgym_nb
from agentgym_nb.server import EnvServer


@pytest.fixture(scope="session")
def server():
    with EnvServer(agentgym_nb.list_envs(), max_sessions=256) as srv:
        yield srv


def pytest_collection_modifyitems(config, items):
    """SciWorld's simulator needs Java; `make install` installs it. Skip, saying so, only where none can be had."""
    import shutil
    if shutil.which("java"):
        return
    skip = pytest.mark.skip(reason="no Java runtime: SciWorld's simulator cannot start (make install installs one as root)")
    for item in items:
        if "sciworld" in item.nodeid:
            item.add_marker(skip)
