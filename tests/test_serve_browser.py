"""`qcode serve` driven by a real headless Chromium (Debian's chromium + chromium-driver,
selenium): the review loop a coder goes through, then the database checked through the
Python API and the CLI.

Skipped, with the package named, when chromium or chromedriver is not installed (no browser is
ever downloaded). The test talks to its own server on 127.0.0.1 only: sockets are enabled for
it alone and restricted to loopback; the rest of the suite stays socket-free.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_serve import CODEBOOK, EMOJI_TRANSCRIPT, REPO

from qcode import Project
from qcode.cli import cli
from qcode.serve import running

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def browser_or_skip():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    if CHROMEDRIVER is None:
        pytest.skip("chromedriver is not installed (apt-get install chromium-driver)")
    try:
        from selenium import webdriver
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--lang=sv-SE",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """The demo project (transcripts/) plus one transcript with an emoji, tagged once."""
    folder = tmp_path_factory.mktemp("browser")
    extra = folder / "extra"
    extra.mkdir()
    (extra / "emoji.md").write_text(EMOJI_TRANSCRIPT, encoding="utf-8")
    db = folder / "demo.db"
    result = CliRunner().invoke(
        cli,
        [
            "tag",
            str(REPO / "transcripts"),
            str(extra),
            "--db",
            str(db),
            "--codebook",
            str(CODEBOOK),
        ],
    )
    assert result.exit_code == 0, result.output
    return db


SELECT_WORD = """
// select `word` (its first occurrence after `after`) inside the transcript, as a mouse would
const [word, after] = arguments;
const pieces = [...document.querySelectorAll('#doc-body .text [data-s]')];
const all = pieces.map((p) => p.textContent).join('');
const at = all.indexOf(word, all.indexOf(after) + after.length);  // UTF-16 units, like the DOM
let seen = 0, range = document.createRange(), started = false;
for (const p of pieces) {
  const node = p.firstChild, n = p.textContent.length;
  if (!started && at < seen + n) { range.setStart(node, at - seen); started = true; }
  if (started && at + word.length <= seen + n) { range.setEnd(node, at + word.length - seen); break; }
  seen += n;
}
const sel = window.getSelection();
sel.removeAllRanges();
sel.addRange(range);
document.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
return sel.toString();
"""


@pytest.mark.slow
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1", "::1", "localhost"])
def test_review_loop_in_a_real_browser(demo_db, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = browser_or_skip()
    db = tmp_path / "demo.db"
    shutil.copy(demo_db, db)
    served = running(Project(tmp_path, db=db, codebook=CODEBOOK), coder="eva")
    url = served.__enter__()
    base = url.split("?")[0].rstrip("/")
    wait = WebDriverWait(driver, 15)

    def status(expected: str) -> None:
        """Wait until the action is stored and the page redrawn, then check its message."""
        wait.until(
            lambda d: d.execute_script("return document.documentElement.dataset.busy") == "0"
        )
        assert expected in driver.find_element(By.ID, "status").text

    def key(k: str) -> None:
        # to whatever has the focus, as a typing coder would (focusing <body> first would
        # drop the text selection)
        ActionChains(driver).send_keys(k).perform()

    try:
        # the documents, filtered to one group
        driver.get(url)
        wait.until(ec.presence_of_element_located((By.ID, "documents")))
        assert driver.current_url == base + "/"  # the token left the address bar
        Select(driver.find_element(By.ID, "f-group")).select_by_value("kommuner")
        driver.find_element(By.ID, "f-apply").click()
        wait.until(ec.url_contains("group=kommuner"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#documents tbody tr")
        groups = {r.find_elements(By.TAG_NAME, "td")[2].text for r in rows}
        assert groups == {"kommuner"} and len(rows) >= 4
        driver.find_element(By.LINK_TEXT, "emoji-01").click()
        wait.until(ec.presence_of_element_located((By.ID, "doc-body")))
        assert driver.execute_script("return document.documentElement.dataset.ready") == "1"

        # accept the first suggestion, reject the next (keyboard: j, a, j, r)
        key("j")
        first = driver.execute_script(
            "const e = document.querySelector('.cd.current');"
            "return [Number(e.dataset.segment), e.dataset.code]"
        )
        key("a")
        status("accepted")
        key("j")
        second = driver.execute_script(
            "const e = document.querySelector('.cd.current');"
            "return [Number(e.dataset.segment), e.dataset.code]"
        )
        assert second != first
        key("r")
        status("rejected")

        # code a word after an emoji and a word after an ö by selecting them
        for word, after, code in (
            ("tröttsamt", "😊", "kunskap"),
            ("något", "höra", "samverkan/onskad"),
        ):
            assert driver.execute_script(SELECT_WORD, word, after) == word
            key("c")
            picker = wait.until(ec.visibility_of_element_located((By.ID, "picker-filter")))
            picker.send_keys(code)
            wait.until(
                lambda d, code=code: (
                    d.execute_script(
                        "const li = document.querySelector('#picker-list li.chosen');"
                        "return li && li.dataset.code"
                    )
                    == code
                )
            )
            picker.send_keys("\n")
            status("coded " + code)

        # a memo on the document
        driver.find_element(By.ID, "memo-doc").click()
        memo = wait.until(ec.visibility_of_element_located((By.ID, "memo-text")))
        memo.send_keys("Samordnaren låter trött – följ upp 😊")
        driver.find_element(By.ID, "memo-save").click()
        status("memo on document saved")
        wait.until(ec.text_to_be_present_in_element((By.ID, "doc-memos"), "följ upp"))
        driver.save_screenshot(str(tmp_path / "document.png"))

        # blind mode: the automatic codings disappear, this coder's own stay
        assert driver.find_elements(By.CSS_SELECTOR, ".cd.suggestion")
        driver.find_element(By.ID, "toggle-blind").click()
        wait.until(
            lambda d: (
                d.execute_script(
                    "const b = document.getElementById('toggle-blind');"
                    "return document.documentElement.dataset.ready === '1' && b && b.getAttribute('aria-pressed')"
                )
                == "true"
            )
        )
        assert driver.find_elements(By.CSS_SELECTOR, ".cd.suggestion") == []
        assert len(driver.find_elements(By.CSS_SELECTOR, ".cd.mine")) == 3
        assert driver.get_log("browser") == [] if hasattr(driver, "get_log") else True
    finally:
        driver.quit()
        served.__exit__(None, None, None)

    # the database holds exactly those decisions, with exact offsets
    with Project(tmp_path, db=db, codebook=CODEBOOK) as project:
        store = project.open_existing_store()
        text = store.document_text("emoji-01")
        spans = store.segment_spans()
        human = project.codings(source="human")
        got = sorted(
            (row.coder, int(row.segment), text[row.start : row.end], row.code)
            for row in human.itertuples()
        )
        seg_start, seg_end = spans[("emoji-01", first[0])]
        expected = sorted(
            [
                ("eva", first[0], text[seg_start:seg_end], first[1]),
                ("eva", 1, "tröttsamt", "kunskap"),
                ("eva", 1, "något", "samverkan/onskad"),
            ]
        )
        assert got == expected
        start = text.index("tröttsamt")
        assert ("emoji-01", start, start + 9) in set(
            zip(human["document"], human["start"], human["end"])
        )
        assert store.rejections("eva") == {("emoji-01", second[0], second[1])}
        memos = store.memos_frame()
        assert list(zip(memos["kind"], memos["document"], memos["text"])) == [
            ("document", "emoji-01", "Samordnaren låter trött – följ upp 😊")
        ]

    # ...and the CLI sees them
    runner = CliRunner()
    result = runner.invoke(cli, ["agreement", "--coder", "eva", "--coder", "auto", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "beredskap" in result.output and "kunskap" in result.output
    result = runner.invoke(cli, ["export", "qdpx", "--db", str(db), "-o", str(tmp_path / "p.qdpx")])
    assert result.exit_code == 0, result.output
    xml = zipfile.ZipFile(tmp_path / "p.qdpx").read("project.qde").decode("utf-8")
    assert f'startPosition="{start}" endPosition="{start + 9}"' in xml
    assert 'name="eva"' in xml and "följ upp 😊" in xml
