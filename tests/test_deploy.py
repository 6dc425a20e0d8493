"""A department deployment on loopback, for real (docs/deploy.md): one `chroma run`, nginx in front of it
demanding the token (deploy/nginx-chroma.conf, the file the docs tell you to install), two `streamlit run`
page processes and the CLI, all through the proxy; chromium (playwright) drives three browser sessions.

Needs /usr/sbin/nginx (Debian: `apt-get install -y --no-install-recommends nginx`) and /usr/bin/chromium; skips
without them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from partnerbot.settings import PROJECT_ROOT, get_settings

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.browser]

NGINX = Path("/usr/sbin/nginx")
CHROMIUM = Path("/usr/bin/chromium")
PARTNERBOT = PROJECT_ROOT / ".venv" / "bin" / "partnerbot"
TEMPLATE = PROJECT_ROOT / "deploy" / "nginx-chroma.conf"
ANSWER_MS = 180_000
CRANE = "# Harbour crane upkeep\n\nKranenbouw lubricates the harbour cranes every six weeks under the upkeep agreement.\n"
CRANE_Q = "How often are the harbour cranes lubricated?"
TUG = "# Tug contract\n\nThe Sleepdienst tugboat operator tows the container ships into the harbour every night.\n"
TUG_Q = "Who tows the container ships into the harbour at night?"


class Nginx:
    """nginx (master in the foreground) with the project's proxy config wrapped in a minimal nginx.conf."""

    def __init__(self, folder: Path, port: int, chroma_port: int, token: str):
        self.folder, self.port = folder, port
        site = (TEMPLATE.read_text().replace("@LISTEN@", f"127.0.0.1:{port}")
                .replace("@CHROMA@", str(chroma_port)).replace("@TOKEN@", token))
        folder.mkdir(parents=True, exist_ok=True)
        temps = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in
                          ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        user = "user root;\n" if os.geteuid() == 0 else ""   # as root, workers would otherwise be nobody
        (folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
            f"events {{ worker_connections 256; }}\nhttp {{\n    access_log {folder / 'access.log'};\n{temps}\n"
            f"{site}\n}}\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        conf = self.folder / "nginx.conf"
        check = subprocess.run([str(NGINX), "-t", "-c", str(conf), "-p", str(self.folder), "-e", str(self.folder / "error.log")],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen([str(NGINX), "-c", str(conf), "-p", str(self.folder), "-e",
                                      str(self.folder / "error.log"), "-g", "daemon off;"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"nginx did not start:\n{(self.folder / 'error.log').read_text()[-1500:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


def start_page(env: dict, folder: Path) -> tuple[subprocess.Popen, str]:
    from test_browser import free_port, wait_healthy

    port = free_port()
    log = folder / f"streamlit-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env={**env, "PARTNERBOT_UPLOAD_DIR": str(folder / f"uploads-{port}")},
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
    except BaseException:
        proc.kill()
        raise
    return proc, url


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, cache_dir):
    """chroma on a loopback port, nginx with the token in front of it, the corpus ingested through the proxy
    by the CLI, and two page processes; everything stopped afterwards."""
    for tool, package in ((NGINX, "nginx"), (CHROMIUM, "chromium")):
        if not tool.exists():
            pytest.skip(f"{tool} not installed: `apt-get install -y {package}` enables the deployment test")
    from test_browser import free_port
    from test_server import ChromaServer

    folder = tmp_path_factory.mktemp("deployment")
    token, admin = secrets.token_hex(16), secrets.token_hex(8)
    chroma = ChromaServer(folder / "chroma-data").start()
    proxy = Nginx(folder / "nginx", free_port(), chroma.port, token)
    pages: list[subprocess.Popen] = []
    try:
        proxy.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERBOT_") and k != "OPENAI_API_KEY"}
        env.update(PARTNERBOT_CHROMA_HOST="127.0.0.1", PARTNERBOT_CHROMA_PORT=str(proxy.port),
                   PARTNERBOT_CHROMA_TOKEN=token, PARTNERBOT_ADMIN_TOKEN=admin, PARTNERBOT_MODE="rules",
                   PARTNERBOT_CACHE_DIR=str(cache_dir), PARTNERBOT_STORE=str(folder / "unused"),
                   HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        first = cli(env, "ingest")
        assert first.returncode == 0 and "Corpus:" in first.stdout, first.stderr
        urls = []
        for _ in range(2):
            proc, url = start_page(env, folder)
            pages.append(proc)
            urls.append(url)
        yield {"env": env, "token": token, "admin": admin, "proxy": proxy, "chroma": chroma, "urls": urls,
               "folder": folder}
    finally:
        for proc in pages:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        proxy.stop()
        chroma.stop()


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PARTNERBOT), *args], capture_output=True, text=True, timeout=300, env=env)


def settings_of(dep: dict, **overrides):
    return get_settings(chroma_host="127.0.0.1", chroma_port=dep["proxy"].port, chroma_token=dep["token"],
                        mode="rules", **overrides)


# --- the proxy ------------------------------------------------------------------------------------------

def test_without_the_token_the_store_is_out_of_reach(deployment):
    base = f"http://127.0.0.1:{deployment['proxy'].port}"
    assert httpx.get(f"{base}/api/v2/heartbeat").status_code == 401
    assert httpx.get(f"{base}/api/v2/heartbeat", headers={"X-Chroma-Token": "wrong"}).status_code == 401
    assert httpx.get(f"{base}/api/v2/heartbeat", headers={"X-Chroma-Token": deployment["token"]}).status_code == 200
    # the CLI without (or with a wrong) token: one line naming the fix, nothing read or written
    for token in (None, "wrong-token"):
        env = {k: v for k, v in deployment["env"].items() if k != "PARTNERBOT_CHROMA_TOKEN"}
        if token:
            env["PARTNERBOT_CHROMA_TOKEN"] = token
        for args in (("docs",), ("ask", "Who holds the A?"), ("ingest",)):
            proc = cli(env, *args)
            lines = proc.stderr.strip().splitlines()
            assert proc.returncode == 1 and len(lines) == 1, proc.stderr
            assert "not authorised" in lines[0] and "PARTNERBOT_CHROMA_TOKEN" in lines[0]
            assert deployment["token"] not in proc.stderr + proc.stdout
    # and a page process without it shows the same line instead of answers
    env = {k: v for k, v in deployment["env"].items() if k != "PARTNERBOT_CHROMA_TOKEN"}
    proc, url = start_page(env, deployment["folder"])
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(url)
            page.get_by_text("not authorised", exact=False).first.wait_for(timeout=ANSWER_MS)
            assert page.get_by_test_id("stChatInputTextArea").count() == 0
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


# --- pages, sessions, admin -----------------------------------------------------------------------------

def ask(page, question: str, number: int):
    """Ask in the chat and wait for the number-th answer (1-based) to be complete; returns its locator."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    reply = page.get_by_test_id("stChatMessage").nth(2 * number - 1)
    reply.get_by_text("mode: rules", exact=False).first.wait_for(timeout=ANSWER_MS)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=ANSWER_MS)
    return reply


def test_pages_answer_uploads_stay_private_and_an_admin_ingest_reaches_every_page(deployment, tmp_path):
    from playwright.sync_api import sync_playwright

    page1, page2 = deployment["urls"]
    for url in (page1, page2):
        assert httpx.get(f"{url}/_stcore/health").text.strip() == "ok"
    crane = tmp_path / "crane-notes.md"
    crane.write_text(CRANE, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        sessions = {}
        try:
            # three browser sessions: a and c on page process 1, b on page process 2 (separate contexts)
            for name, url in (("a", page1), ("b", page2), ("c", page1)):
                page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
                page.set_default_timeout(ANSWER_MS)
                page.goto(url)
                page.get_by_text("private to this browser session", exact=False).first.wait_for()
                sessions[name] = page
            for page in sessions.values():      # each page process answers, from the shared store
                reply = ask(page, "Who holds the A in RASCI, the client or the contractor?", 1)
                assert reply.get_by_text("verdict: client", exact=False).count() >= 1

            a = sessions["a"]
            a.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(crane))
            # the file travels to the server on its own request: submitting before it arrived adds nothing
            a.get_by_test_id("stSidebar").get_by_text("crane-notes.md").first.wait_for()
            a.wait_for_timeout(1500)
            a.get_by_role("button", name="Add documents").click()
            a.get_by_text("Added crane-notes.md").wait_for()
            assert ask(a, CRANE_Q, 2).get_by_text("Harbour crane upkeep", exact=False).count() >= 1
            for name in ("b", "c"):             # another process, and another session of the same process
                page = sessions[name]
                reply = ask(page, CRANE_Q, 2)
                assert reply.get_by_text("Harbour crane upkeep", exact=False).count() == 0
                assert reply.get_by_text("Kranenbouw", exact=False).count() == 0
                assert page.get_by_test_id("stSidebar").get_by_text("crane-notes.md").count() == 0

            # an admin adds a shared document with the CLI: every page cites it at its next question
            tug = tmp_path / "tug-contract.md"
            tug.write_text(TUG, encoding="utf-8")
            added = cli(deployment["env"], "ingest", str(tug))
            assert added.returncode == 0 and "1 added" in added.stdout, added.stderr
            for page in sessions.values():
                reply = ask(page, TUG_Q, 3)
                reply.get_by_text("Tug contract", exact=False).first.wait_for()
            ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
            ARTIFACTS.mkdir(exist_ok=True)
            a.screenshot(path=str(ARTIFACTS / "deploy-session-a.png"))
            sessions["b"].screenshot(path=str(ARTIFACTS / "deploy-session-b.png"))
        except BaseException:
            for name, page in sessions.items():  # what each session showed, for whoever reads the failure
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(PROJECT_ROOT / "tests" / "artifacts" / f"deploy-failed-{name}.png"),
                                    full_page=True)
            raise
        finally:
            browser.close()
    # the store agrees: one private document (a's), the shared one, no private chunk without an owner
    from ingest import list_documents, private_summary

    cfg = settings_of(deployment)
    assert [Path(d["doc_path"]).name for d in list_documents(cfg)] == ["tug-contract.md"]
    assert private_summary(cfg) == {"documents": 1, "owners": 1, "chunks": 1}


def test_two_ingests_from_different_processes_and_folders_leave_a_consistent_store(deployment, tmp_path):
    from test_reliability import assert_consistent

    from partnerbot.store import open_store

    folders = {}
    for side in ("x", "y"):
        folder = tmp_path / side
        folder.mkdir()
        for n in range(6):
            (folder / f"{side}-{n}.md").write_text(
                f"# {side.upper()} note {n}\n\n" + " ".join(f"The {side} contract clause {n}.{i} says the supplier "
                                                           f"reports quarterly." for i in range(40)), encoding="utf-8")
        folders[side] = folder
    cfg = settings_of(deployment)
    before = open_store(cfg).info()["generation"]
    procs = [subprocess.Popen([str(PARTNERBOT), "ingest", str(folder)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=deployment["env"]) for folder in folders.values()]
    results = [proc.communicate(timeout=300) + (proc.returncode,) for proc in procs]
    for out, err, code in results:
        assert code == 0 and "6 added" in out, err
    expected = {}
    for folder in folders.values():
        for path in folder.glob("*.md"):
            n = [m for m in open_store(cfg).current().get(where={"doc_path": str(path.resolve())},
                                                           include=["metadatas"])["metadatas"]]
            assert n and len(n) == n[0]["n_chunks"]
            expected[str(path.resolve())] = n[0]["n_chunks"]
    assert_consistent(cfg, expected)
    info = open_store(cfg).info()
    assert info["generation"] == before + 2          # two ingests, one after the other, both counted
    from ingest import list_documents

    meta = open_store(cfg).current().metadata
    assert meta["documents"] == len(list_documents(cfg))   # the count written last saw both ingests
