"""Lesson 10's explorer in a real browser: run it in JupyterLab and as a Voila app, move k.

Needs a Chromium (``apt-get install chromium`` on Debian/Ubuntu); skipped, with that hint,
where there is none. Screenshots of the explorer before and after k moved are saved to
``test-artifacts/`` (look at them: a test that passes on a blank widget area proves nothing).
Run only these tests with ``pytest -m browser``, or leave them out with ``-m "not browser"``.
"""

import json
import re

import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    CHROMIUM_CANDIDATES,
    INSTALL_HINT,
    NOTEBOOK,
    find_chromium,
    free_port,
    jupyter_lab_command,
    start_server,
    voila_command,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need `pip install playwright`")
expect = sync_api.expect

pytestmark = pytest.mark.browser

#: Generous: on a busy 2-core machine a first kernel start and run can take a minute.
TIMEOUT_MS = 180_000
INITIAL_K = 4


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.skip(INSTALL_HINT.format(", ".join(CHROMIUM_CANDIDATES)))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    yield page
    page.goto("about:blank")  # unloads the page, so its kernel is shut down and not leaked
    context.close()


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("jupyter-runtime")


@pytest.fixture(scope="module")
def jupyter_lab(runtime_dir):
    port = free_port()
    command = jupyter_lab_command(port, NOTEBOOK.parent, runtime_dir)
    server = start_server(command, port, "/api", runtime_dir / "jupyterlab.log", runtime_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def voila(runtime_dir):
    port = free_port()
    server = start_server(voila_command(port, NOTEBOOK), port, "/voila/static/voila.js",
                          runtime_dir / "voila.log", runtime_dir)
    yield server
    server.stop()


def wait_for_image(image) -> None:
    """Wait until an <img> has loaded a picture (not a broken or empty one)."""
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def explorer_state(tab) -> dict:
    """What the Clusters tab shows now: the map (its URL and pixels) and the scores."""
    cluster_map = tab.locator("img.nanosims-map").first
    wait_for_image(cluster_map)
    return {"src": cluster_map.get_attribute("src"), "pixels": cluster_map.screenshot(),
            "scores": tab.locator(".nanosims-scores").first.inner_text()}


def check_k_slider_updates_the_explorer(page, name: str) -> None:
    """Move k one step with the keyboard; the readout, the map and the scores must all change."""
    tab = page.locator(".widget-tab").first
    slider = tab.locator(".nanosims-k").first
    readout = slider.locator(".widget-readout")
    expect(readout).to_have_text(str(INITIAL_K))
    expect(tab.locator(".nanosims-scores").first).to_contain_text("silhouette")
    tab.scroll_into_view_if_needed()
    before = explorer_state(tab)
    tab.screenshot(path=ARTIFACTS / f"{name}_k{INITIAL_K}.png")

    slider.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight")

    expect(readout).to_have_text(str(INITIAL_K + 1))
    expect(tab.locator(".nanosims-scores").first).not_to_have_text(before["scores"])
    expect(tab.locator("img.nanosims-map").first).not_to_have_attribute("src", before["src"])
    expect(tab).to_contain_text(f"k = {INITIAL_K + 1}")
    after = explorer_state(tab)
    assert after["pixels"] != before["pixels"], "the cluster map looks the same after k changed"
    tab.screenshot(path=ARTIFACTS / f"{name}_k{INITIAL_K + 1}.png")


def code_cell_count() -> int:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return sum(cell["cell_type"] == "code" for cell in cells)


@pytest.fixture(autouse=True)
def artifacts_folder():
    ARTIFACTS.mkdir(exist_ok=True)


def test_explorer_runs_in_jupyterlab(page, jupyter_lab):
    committed = NOTEBOOK.read_bytes()
    page.goto(f"{jupyter_lab.url}/lab/tree/{NOTEBOOK.name}")
    # The execution indicator reads idle before the kernel is connected: wait for the status bar.
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status=idle]").first).to_be_visible()
    expect(page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).first).to_be_visible()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    expect(prompts).to_have_count(code_cell_count())
    for index in range(code_cell_count()):
        expect(prompts.nth(index)).to_have_text(re.compile(r"\[\d+\]"))
    check_k_slider_updates_the_explorer(page, "jupyterlab")
    assert NOTEBOOK.read_bytes() == committed, f"{NOTEBOOK.name} was written to: autosave must be off"


def test_explorer_runs_as_a_voila_app(page, voila):
    page.goto(voila.url, wait_until="domcontentloaded")
    check_k_slider_updates_the_explorer(page, "voila")
