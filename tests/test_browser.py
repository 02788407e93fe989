"""The widgets and the course in real JupyterLab: headless Chromium (Debian's package, driven by playwright) opens the
widgets chapter, runs every cell, and checks the page: the trajectory viewer's slider moves the displayed turn and the
playground's action buttons change the observation. It then opens the course's first tutorial, runs it, and checks that
an exercise's check cell answers "Not yet" to the exercise as given and "Right" once the solution is typed in.
Screenshots go to test-output/."""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUT = ROOT / "test-output"
# `make test` runs two pytest workers: both tests on one, so they share one JupyterLab (the module's `lab`)
pytestmark = pytest.mark.xdist_group("jupyterlab")
NOTEBOOK = ROOT / "nbs" / "70_widgets.ipynb"
TUTORIAL = ROOT / "nbs" / "tutorials" / "01_platform.ipynb"
SOLUTION = ROOT / "nbs" / "tutorials" / "solutions" / "01_platform.py"

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip("no chromium here (make install puts Debian's package in place; CI always runs this test)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(d: Path):
    "Lab user settings: no windowing (off-screen outputs stay attached), no news or update checks."
    for ext, name, body in [("@jupyterlab/notebook-extension", "tracker", {"windowingMode": "none"}),
                            ("@jupyterlab/apputils-extension", "notification", {"fetchNews": "false", "checkForUpdates": False})]:
        p = d / ext / f"{name}.jupyterlab-settings"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(body))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    "A JupyterLab server on a free port with a token, every Jupyter dir isolated under a temp dir."
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "work"
    work.mkdir()
    for nb in (NOTEBOOK, TUTORIAL):  # the notebooks name the kit's Python kernel (python3): no kernel dialog
        shutil.copy(nb, work / nb.name)
    write_settings(tmp / "settings")
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "IPYTHONDIR": str(tmp / "ipython"), "JUPYTER_DATA_DIR": str(tmp / "data"),
           "AGENTGYM_NB_SETTINGS": str(ROOT / "settings.ini")}  # the tutorial's presets, the envs' assets
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
           f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/api/status", headers={"Authorization": f"token {token}"}, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("JupyterLab did not start:\n" + (tmp / "server.log").read_text()[-3000:])
        time.sleep(0.3)
    yield {"url": url, "token": token, "log": tmp / "server.log"}
    try:
        httpx.post(f"{url}/api/shutdown", headers={"Authorization": f"token {token}"}, timeout=5)
        proc.wait(timeout=15)
    except Exception:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    log.close()


def open_and_run_all(page, lab, name):
    "Open notebook `name` in the Lab, wait for its kernel, run every cell, and fail on any cell's error."
    page.goto(f"{lab['url']}/lab/tree/{name}?token={lab['token']}")
    page.wait_for_function(f"() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           f" && window.jupyterapp.shell.currentWidget.context.path.endsWith('{name}')"  # not a tab the Lab restored
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                           timeout=90_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    wait_idle(page, 240_000)
    errors = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                           ".filter(c => c.model.type === 'code')"
                           ".flatMap(c => c.model.outputs.toJSON().filter(o => o.output_type === 'error'))"
                           ".map(o => o.ename + ': ' + o.evalue)")
    assert not errors, f"cells of {name} failed in JupyterLab: {errors}"


def wait_idle(page, timeout):
    "Wait until the kernel is idle with every code cell executed."
    page.wait_for_function("() => { const nb = window.jupyterapp.shell.currentWidget;"
                           " const k = nb.sessionContext.session.kernel;"
                           " const cells = nb.content.widgets.filter(c => c.model.type === 'code');"
                           " return k.status === 'idle' && cells.every(c => c.model.executionCount !== null); }",
                           timeout=timeout)


def browse(test):
    "Run `test(page)` in headless Chromium; on failure keep a screenshot, the console and the server log."
    from playwright.sync_api import sync_playwright
    OUT.mkdir(exist_ok=True)
    console = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        try:
            test(page)
        except Exception:
            page.screenshot(path=str(OUT / "failure.png"), full_page=True)
            (OUT / "browser-console.log").write_text("\n".join(console))
            raise
        finally:
            browser.close()


def test_widgets_tutorial_in_jupyterlab(lab):
    from playwright.sync_api import expect
    def test(page):
        open_and_run_all(page, lab, NOTEBOOK.name)

        # the trajectory viewer: moving the turn slider changes the displayed turn
        turn = page.locator(".agv-turn").first
        expect(turn).to_be_visible(timeout=30_000)
        turn.scroll_into_view_if_needed()
        before = turn.inner_text()
        handle = page.locator(".agv-turn-slider .noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
        expect(turn).not_to_have_text(before, timeout=15_000)
        page.screenshot(path=str(OUT / "viewer.png"))

        # the playground: an action button changes the observation
        obs = page.locator(".agv-observation").first
        obs.scroll_into_view_if_needed()
        before = obs.inner_text()
        page.locator(".agv-action").first.click()
        expect(obs).not_to_have_text(before, timeout=15_000)
        page.screenshot(path=str(OUT / "playground.png"))
    try: browse(test)
    except Exception:
        (OUT / "server.log").write_text(lab["log"].read_text()[-20000:])
        raise


def test_first_tutorial_exercise_in_jupyterlab(lab):
    "Exercise 1 of the first tutorial: its check says 'Not yet' as given, 'Right' once the solution is in its cell."
    from playwright.sync_api import expect
    solution = SOLUTION.read_text()
    policy = "import re\n\n" + solution[solution.index("def policy"):solution.index("@register")].strip()
    def test(page):
        open_and_run_all(page, lab, TUTORIAL.name)
        i = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                          ".findIndex(c => c.model.sharedModel.getSource().includes('def policy('))")
        assert i > 0, "no exercise cell defining policy in the tutorial"
        panel = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")  # the widgets chapter is open in another tab
        verdict = page.locator(f"[id='{panel}'] .jp-Cell").nth(i + 1).locator(".agv-verdict")
        expect(verdict).to_contain_text("Not yet", timeout=30_000)
        page.evaluate("([i, src]) => { const nb = window.jupyterapp.shell.currentWidget;"
                      " nb.content.widgets[i].model.sharedModel.setSource(src); nb.content.activeCellIndex = i; }", [i, policy])
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell-and-select-next')")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
        wait_idle(page, 120_000)
        expect(verdict).to_contain_text("Right", timeout=60_000)
        page.screenshot(path=str(OUT / "exercise.png"))
    try: browse(test)
    except Exception:
        (OUT / "server.log").write_text(lab["log"].read_text()[-20000:])
        raise
