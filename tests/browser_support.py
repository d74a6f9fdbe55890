"""Start and stop the servers the browser tests drive, and find a Chromium to drive them with.

Used by tests/test_browser.py. Every server is started here with a free port, its process and
the kernels it started are recorded, and exactly those are stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "10_explorer.ipynb"
LAB_SETTINGS = REPO / "jupyter_test_settings"
ARTIFACTS = REPO / "test-artifacts"

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "no Chromium found (looked for {}). Install it with `apt-get install chromium` on Debian/Ubuntu "
    "(`brew install --cask chromium` on macOS), or set NANOSIMS_CHROMIUM to a Chromium or Chrome executable."
)
#: Chromium flags for a machine without a screen, sandbox or internet access.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def find_chromium() -> str | None:
    """Path of a Chromium executable: $NANOSIMS_CHROMIUM, else the first candidate found."""
    for candidate in (os.environ.get("NANOSIMS_CHROMIUM"), *CHROMIUM_CANDIDATES):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A server process started by the tests, and where it answers."""

    process: subprocess.Popen
    url: str
    log: Path

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server and the kernels it started (its child processes), and nothing else."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
        for child in children:
            if child.is_running():
                child.kill()


def start_server(command: list[str], port: int, ready_path: str, log: Path, runtime_dir: Path,
                 timeout: float = 120.0) -> Server:
    """Run ``command`` and wait until ``http://127.0.0.1:port{ready_path}`` answers.

    Connection files go to ``runtime_dir``, not the user's Jupyter folders; the kernels get the
    notebook's usual plotting backend, not the tests' Agg.
    """
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env.update(PYTHONUNBUFFERED="1", JUPYTER_RUNTIME_DIR=str(runtime_dir))
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{command[2]} exited with code {process.returncode}; see {log}:\n{tail}")
        try:
            with urllib.request.urlopen(server.url + ready_path, timeout=5):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"{command[2]} did not answer on port {port} within {timeout:.0f} s; see {log}")


def jupyter_lab_command(port: int, root_dir: Path, runtime_dir: Path) -> list[str]:
    """JupyterLab without token, browser, news or autosave (see jupyter_test_settings/)."""
    return [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
        "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", "--allow-root",
        f"--ServerApp.root_dir={root_dir}", "--LabApp.news_url=None",
        f"--LabApp.app_settings_dir={LAB_SETTINGS}",
        f"--LabApp.user_settings_dir={runtime_dir / 'user-settings'}",
        f"--LabApp.workspaces_dir={runtime_dir / 'workspaces'}",
        "--ServerApp.port_retries=0",
    ]


def voila_command(port: int, notebook: Path) -> list[str]:
    """Voila serving one notebook, with idle kernels culled as a backstop."""
    return [
        sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
        "--Voila.tornado_settings=disable_check_xsrf=True",
        "--MappingKernelManager.cull_idle_timeout=120", "--MappingKernelManager.cull_interval=30",
    ]
