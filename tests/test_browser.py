"""The chat page in a real browser: `streamlit run app.py` on loopback, driven by Debian's chromium via playwright.

Screenshots land in tests/artifacts/ (git-ignored) so a person can look at what the page shows.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from partnerbot.settings import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
QUESTION = "Can a contractor be a strategic partner?"
START_TIMEOUT = 120      # seconds for the server to answer its health check
ANSWER_TIMEOUT = 120_000  # ms: the first page load also loads the embedding model
HOSTILE_DOC = """# Harbour crane upkeep

Kranenbouw lubricates the harbour cranes every six weeks under the upkeep agreement with the port.

<script>alert('script ran')</script> <img src=x onerror="alert('img ran')"> [click](javascript:alert(3))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"streamlit did not become healthy within {START_TIMEOUT}s:\n{log.read_text()[-2000:]}")


@pytest.fixture
def server(tmp_path, corpus_settings):
    """`streamlit run app.py` on a free loopback port, on a copy of the session's corpus store; always stopped."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed: `apt-get install -y chromium` enables the browser test")
    store = tmp_path / "store"
    shutil.copytree(corpus_settings.store, store)
    env = {**os.environ, "PARTNERBOT_STORE": str(store), "PARTNERBOT_UPLOAD_DIR": str(tmp_path / "uploads"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    port = free_port()
    log = tmp_path / "streamlit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(ANSWER_TIMEOUT)
            yield page
        finally:
            browser.close()


def ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def screenshot(page, name: str) -> None:
    """A tall screenshot once the script run has finished (Streamlit scrolls inside the page, not the document)."""
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    page.set_viewport_size({"width": 1280, "height": 2200})
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size({"width": 1280, "height": 900})


def test_ask_in_a_real_browser_shows_answer_and_source_cards(server, browser_page, rules, tmp_path):
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server)
    page.get_by_test_id("stChatInputTextArea").wait_for()
    expect_status = page.get_by_text("Answers by the offline rules answerer")
    expect_status.wait_for()

    ask(page, QUESTION)
    expected = rules.answer(QUESTION)
    answer_start = expected.text.split(":")[0]           # "Yes, with nuance"
    messages = page.get_by_test_id("stChatMessage")
    messages.nth(1).get_by_text(answer_start, exact=False).first.wait_for()
    reply = messages.nth(1)
    for c in expected.citations:
        reply.get_by_text(f"[{c.marker}] {c.title}", exact=False).first.wait_for()
    assert reply.get_by_text("ChatGPT", exact=True).count() >= 1            # the voice badge
    assert reply.get_by_text("Caveat: Quoted chatbot answer", exact=False).count() >= 1
    screenshot(page, "chat-answer.png")

    # Upload a document holding HTML and a javascript: link; its text must show as text and never run.
    doc = tmp_path / "crane-notes.md"
    doc.write_text(HOSTILE_DOC, encoding="utf-8")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(doc))
    page.get_by_test_id("stSidebar").get_by_text("crane-notes.md").first.wait_for()   # uploaded before submitting
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Add documents").click()
    page.get_by_text("Added crane-notes.md").wait_for()
    ask(page, "How often are the harbour cranes lubricated?")
    crane = messages.nth(3)
    crane.get_by_text("your document", exact=True).first.wait_for()
    crane.get_by_text("<script>alert('script ran')</script>", exact=False).first.wait_for()
    assert crane.locator("img").count() == 0 and crane.locator("a[href^='javascript']").count() == 0
    page.wait_for_timeout(500)
    assert dialogs == []
    screenshot(page, "chat-upload.png")

    # Presenter mode: larger text, sidebar collapsed.
    paragraph = reply.get_by_test_id("stMarkdownContainer").first.locator("p").first
    normal = float(paragraph.evaluate("p => parseFloat(getComputedStyle(p).fontSize)"))
    page.get_by_text("Presenter", exact=True).click()
    page.wait_for_function(
        "size => parseFloat(getComputedStyle(document.querySelector('[data-testid=stChatMessage] "
        "[data-testid=stMarkdownContainer] p')).fontSize) > size", arg=normal)
    page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]').dataset.collapsed === 'true'")
    screenshot(page, "chat-presenter.png")
