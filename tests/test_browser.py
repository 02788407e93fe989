"""The widgets in real JupyterLab: headless Chromium (Debian's package, driven by playwright) opens the widgets
tutorial, runs every cell, and checks the page: the trajectory viewer's slider moves the displayed turn and the
playground's action buttons change the observation. Screenshots go to test-output/."""
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
NOTEBOOK = ROOT / "nbs" / "70_widgets.ipynb"

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
    nb = json.loads(NOTEBOOK.read_text())  # the notebooks carry no kernelspec: name the kit's own Python kernel
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    (work / NOTEBOOK.name).write_text(json.dumps(nb))
    write_settings(tmp / "settings")
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "IPYTHONDIR": str(tmp / "ipython"), "JUPYTER_DATA_DIR": str(tmp / "data")}
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


def test_widgets_tutorial_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright
    OUT.mkdir(exist_ok=True)
    console = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        try:
            page.goto(f"{lab['url']}/lab/tree/{NOTEBOOK.name}?token={lab['token']}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                                   timeout=90_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # the kernel runs the whole tutorial; wait until it is idle again with every cell executed
            page.wait_for_function("() => { const nb = window.jupyterapp.shell.currentWidget;"
                                   " const k = nb.sessionContext.session.kernel;"
                                   " const cells = nb.content.widgets.filter(c => c.model.type === 'code');"
                                   " return k.status === 'idle' && cells.every(c => c.model.executionCount !== null); }",
                                   timeout=240_000)
            errors = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                                   ".filter(c => c.model.type === 'code')"
                                   ".flatMap(c => c.model.outputs.toJSON().filter(o => o.output_type === 'error'))"
                                   ".map(o => o.ename + ': ' + o.evalue)")
            assert not errors, f"cells failed in JupyterLab: {errors}"

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
        except Exception:
            page.screenshot(path=str(OUT / "failure.png"), full_page=True)
            (OUT / "browser-console.log").write_text("\n".join(console))
            (OUT / "server.log").write_text(lab["log"].read_text()[-20000:])
            raise
        finally:
            browser.close()
