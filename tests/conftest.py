"Shared fixtures: one env server (all registered envs) for the whole test session; a fresh-process runner."
import os
import subprocess
import sys

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


def last_line_in_fresh_process(code:str, hash_seed:int) -> str:
    """The last line `code` prints in a new Python process with PYTHONHASHSEED=`hash_seed`: generated worlds must not
    depend on the order of sets and dicts of strings, which that seed changes."""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONHASHSEED": str(hash_seed)})
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout.strip().splitlines()[-1]
