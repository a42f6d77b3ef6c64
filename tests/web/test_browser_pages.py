"""The web page in a real Chromium: what a user does, from searching the library to rolling back a version."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select

from .web_support import Browser, WebServer, screenshot

pytestmark = pytest.mark.slow  # servers and a browser start once for the package: ~30 s on a busy machine
MINUS = "\u2212"  # how the diff marks a removed line


def go(browser: Browser, server: WebServer, path: str) -> None:
    browser.driver.get(server.base + path)


def arrived(browser: Browser, url_part: str) -> None:
    """Wait until the browser shows a fully loaded page whose address contains ``url_part``."""
    browser.wait().until(
        lambda d: url_part in d.current_url and d.execute_script("return document.readyState") == "complete"
    )


def text_of(browser: Browser, css: str) -> str:
    return str(browser.driver.find_element(By.CSS_SELECTOR, css).text)


def test_search_as_you_type_and_open_a_template(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/")
    browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, ".card")))
    box = browser.driver.find_element(By.ID, "q")
    box.send_keys("web form")
    browser.wait().until(lambda d: d.find_element(By.ID, "results").get_attribute("data-query") == "q=web+form")
    titles = [e.text for e in browser.driver.find_elements(By.CSS_SELECTOR, "#results .template-link")]
    assert titles[0] == "Web form probe"
    assert browser.driver.current_url.endswith("/?q=web+form")  # the search can be bookmarked
    screenshot(browser.driver, "library")
    browser.driver.find_element(By.LINK_TEXT, "Web form probe").click()
    browser.wait().until(ready.title_contains("Web form probe"))
    assert text_of(browser, "#description") == "Checks code in one language; every kind of argument."


def test_the_form_follows_the_arguments_and_previews_with_roles(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/t/web-form-probe")
    driver = browser.driver
    language = driver.find_element(By.ID, "arg-language")
    assert language.get_attribute("required") == "true"
    assert "(required)" in driver.find_element(By.CSS_SELECTOR, "label[for=arg-language]").get_attribute("textContent")
    focus = Select(driver.find_element(By.ID, "arg-focus"))
    assert [o.text for o in focus.options] == ["correctness", "security", "style"]
    assert focus.first_selected_option.text == "correctness"  # the default
    max_issues = driver.find_element(By.ID, "arg-max_issues")
    assert (max_issues.get_attribute("type"), max_issues.get_attribute("value")) == ("number", "5")
    strict = driver.find_element(By.ID, "arg-strict")
    assert strict.get_attribute("type") == "checkbox"
    assert not strict.is_selected()

    language.send_keys("Rust")
    focus.select_by_visible_text("security")
    max_issues.clear()
    max_issues.send_keys("3")
    strict.click()
    driver.find_element(By.CSS_SELECTOR, "#preview-form button[type=submit]").click()
    browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, "#preview .message")))
    roles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#preview .message .role")]
    contents = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#preview .message .content")]
    assert [r.lower() for r in roles] == ["system", "user"]
    assert contents == ["You review Rust code.", "Find at most 3 issues, security first, nitpicks included."]
    assert driver.find_element(By.CSS_SELECTOR, "button[data-copy=copy-text]").is_displayed()
    assert driver.find_element(By.ID, "copy-text").get_attribute("value") == "\n\n".join(contents)


def test_a_missing_required_argument_is_said_in_words(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/t/web-form-probe")
    driver = browser.driver
    driver.execute_script("document.getElementById('arg-language').removeAttribute('required')")
    driver.find_element(By.CSS_SELECTOR, "#preview-form button[type=submit]").click()
    browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, "#preview .error")))
    assert "needs argument(s) language: fill in language" in text_of(browser, "#preview .error")


def replace_source(browser: Browser, text: str) -> None:
    area = browser.driver.find_element(By.ID, "source")
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys(Keys.DELETE)
    area.send_keys(text)


def test_an_error_shows_on_its_line_as_you_type_then_the_fix_saves(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/t/greet-edit/edit")
    driver = browser.driver
    browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, "#live-preview .message")))
    broken = (
        "---\ndescription: Greets someone for the editor test.\narguments:\n  - name: who\n"
        "    description: Who to greet\n---\nuser:\nHello {{ who !\n"
    )
    replace_source(browser, broken)
    marked = browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, "#gutter span.gutter-error")))
    assert marked.get_attribute("data-line") == "8"
    assert "hl-line error-line" in driver.find_element(By.CSS_SELECTOR, "#highlight [data-line='8']").get_attribute(
        "class"
    )
    assert text_of(browser, "#problems .problem") == "Line 8: body: Jinja syntax error: unexpected char '!' at 13"
    screenshot(driver, "editor-error")

    replace_source(browser, broken.replace("{{ who !", "Hello, dear {{ who }}!"))
    browser.wait().until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#gutter span.gutter-error"))
    browser.wait().until(lambda d: "Hello, dear example who!" in d.find_element(By.ID, "live-preview").text)
    driver.find_element(By.ID, "save").click()
    arrived(browser, "/t/greet-edit?saved=2")
    assert text_of(browser, "#note") == "Saved as version 2."


def test_a_newer_save_from_another_browser_is_shown_as_a_diff_never_overwritten(
    browser_test: Browser, second_browser: Browser, server: WebServer
) -> None:
    mine, theirs = browser_test, second_browser
    go(mine, server, "/t/greet-conflict/edit")
    go(theirs, server, "/t/greet-conflict/edit")
    source = mine.driver.find_element(By.ID, "source").get_attribute("value")
    replace_source(theirs, source.replace("Hello {{ who }}!", "Their greeting, {{ who }}."))
    theirs.driver.find_element(By.ID, "save").click()
    arrived(theirs, "saved=2")

    replace_source(mine, source.replace("Hello {{ who }}!", "My greeting, {{ who }}."))
    mine.driver.find_element(By.ID, "save").click()
    conflict = mine.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, ".conflict")))
    assert "Someone else saved version 2" in conflict.text
    changed_rows = mine.driver.find_elements(By.CSS_SELECTOR, ".conflict .diff tr.changed")
    assert [
        (r.find_element(By.CSS_SELECTOR, ".old").text, r.find_element(By.CSS_SELECTOR, ".new").text)
        for r in changed_rows
    ] == [(MINUS + "Their greeting, {{ who }}.", "+My greeting, {{ who }}.")]
    assert "My greeting" in mine.driver.find_element(By.ID, "source").get_attribute("value")  # nothing lost
    saved = httpx2.get(f"{server.base}/t/greet-conflict", timeout=5).text
    assert "version 2" in saved  # their version stands
    screenshot(mine.driver, "conflict")

    mine.driver.find_element(By.ID, "save").click()  # after reading the diff, saving again follows version 2
    arrived(mine, "saved=3")


def test_diff_two_versions_side_by_side_then_roll_back(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/t/history-demo/history")
    driver = browser.driver
    versions = [
        row.get_attribute("data-version") for row in driver.find_elements(By.CSS_SELECTOR, ".versions tbody tr")
    ]
    assert versions == ["3", "2", "1"]
    Select(driver.find_element(By.ID, "from")).select_by_value("1")
    Select(driver.find_element(By.ID, "to")).select_by_value("3")
    driver.find_element(By.ID, "compare").click()
    browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, "table.diff")))
    rows = {
        (r.find_element(By.CSS_SELECTOR, ".old").text, r.find_element(By.CSS_SELECTOR, ".new").text)
        for r in driver.find_elements(By.CSS_SELECTOR, "table.diff tr.changed")
    }
    assert rows == {
        (MINUS + "description: History demo, first wording.", "+description: History demo, third wording."),
        (MINUS + "Hello {{ who }}!", "+Good morning, {{ who }}. Welcome back!"),
    }
    screenshot(driver, "diff")

    go(browser, server, "/t/history-demo/history")
    driver.find_element(By.CSS_SELECTOR, "button[aria-label='Roll back to version 1']").click()
    arrived(browser, "rolled=4")
    current = driver.find_element(By.CSS_SELECTOR, ".versions tr.current")
    assert current.get_attribute("data-version") == "4"
    assert "rollback to version 1" in current.text
    go(browser, server, "/t/history-demo")
    assert text_of(browser, "#description") == "History demo, first wording."


def test_move_a_label_then_filter_the_library_by_it(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    driver = browser.driver
    go(browser, server, "/t/label-demo/history")
    driver.find_element(By.ID, "label-name").send_keys("staging")
    Select(driver.find_element(By.ID, "label-version")).select_by_value("1")
    driver.find_element(By.ID, "move-label").click()
    arrived(browser, "labelled=staging")
    row = driver.find_element(By.CSS_SELECTOR, ".versions tr[data-version='1']")
    assert row.find_element(By.CSS_SELECTOR, ".label").text.startswith("staging")
    assert "staging → version 1" in text_of(browser, ".changes")
    assert "web" in text_of(browser, ".changes")  # the author of the move
    screenshot(driver, "history-labels")

    go(browser, server, "/t/label-demo")
    assert [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#labels .label")] == ["staging → v1"]
    driver.find_element(By.LINK_TEXT, "staging → v1").click()
    arrived(browser, "?label=staging")
    assert text_of(browser, "#description") == "Label demo, first wording."

    go(browser, server, "/?label=staging")
    assert [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#results .template-link")] == ["label-demo"]
    assert "Label demo, first wording." in text_of(browser, "#results")  # shown at the label's version

    go(browser, server, "/t/label-demo/history")
    remove = driver.find_element(By.CSS_SELECTOR, "button[aria-label='Remove label staging']")
    remove.click()
    browser.wait().until(ready.staleness_of(remove))  # the history page again, without the label
    assert "staging removed (was version 1)" in text_of(browser, ".changes")
    assert not driver.find_elements(By.CSS_SELECTOR, ".versions .label")


def test_a_protected_label_needs_an_admin_token(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/t/label-demo/history")
    browser.driver.find_element(By.ID, "label-name").send_keys("production")
    browser.driver.find_element(By.ID, "move-label").click()
    error = browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, ".error")))
    assert error.get_attribute("data-code") == "admin_required"
    assert "sign in with an admin token to move it" in error.text


def test_usage_shows_renders_per_day_and_per_client(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    driver = browser.driver
    go(browser, server, "/t/usage-demo")
    driver.find_element(By.ID, "arg-who").send_keys("Ada")
    for _ in range(3):
        driver.find_element(By.CSS_SELECTOR, "#preview-form button[type=submit]").click()
        browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, "#preview .message")))
        driver.execute_script("document.getElementById('preview').replaceChildren()")
    go(browser, server, "/t/usage-demo")
    assert text_of(browser, "#renders") == "3 render(s) in 30 days"
    driver.find_element(By.LINK_TEXT, "Usage").click()
    browser.wait().until(ready.presence_of_element_located((By.ID, "usage-summary")))
    assert text_of(browser, "#usage-summary").startswith("3 render(s) and 0 failed in the last 30 days")
    day_bars = driver.find_elements(By.CSS_SELECTOR, "#per-day-caption")
    assert day_bars
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg[aria-labelledby=per-day-caption] rect.bar")) == 30
    for summary in driver.find_elements(By.CSS_SELECTOR, ".chart-numbers summary"):
        summary.click()  # the numbers behind each chart, folded away until asked for
    client_rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, ".chart-data tbody tr")]
    assert "web 3" in client_rows
    screenshot(driver, "usage")


def test_delete_then_restore(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/t/delete-demo/edit")
    browser.driver.find_element(By.ID, "delete").click()
    restore = browser.wait().until(ready.presence_of_element_located((By.ID, "restore")))
    assert "This template is deleted" in browser.driver.find_element(By.CSS_SELECTOR, ".notice").text
    restore.click()
    browser.wait().until(ready.presence_of_element_located((By.ID, "preview-form")))
    assert text_of(browser, "#description") == "Deleted and restored by a test."


def test_a_new_template_is_created_from_the_editor(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/new")
    browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, "#live-preview .message")))
    source = browser.driver.find_element(By.ID, "source").get_attribute("value")
    replace_source(browser, source.replace("name: my-template", "name: made-in-browser"))
    browser.driver.find_element(By.ID, "save").click()
    arrived(browser, "/t/made-in-browser?saved=1")


def test_hostile_names_descriptions_and_bodies_execute_nothing(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    driver = browser.driver
    pages = [
        "/?q=pwned",
        "/",
        "/t/xss-probe",
        "/t/xss-probe/edit",
        "/t/xss-probe/history",
        "/t/xss-probe/diff?from=1&to=1",
        "/t/xss-probe/usage",
        "/t/xss-probe/enhance",
        "/t/%3Cimg%20src=x%20onerror=window.__pwned=1%3E",
        "/?q=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E",
    ]
    for path in pages:
        go(browser, server, path)
        browser.wait().until(lambda d: d.execute_script("return document.readyState") == "complete")
        assert driver.execute_script("return window.__pwned === undefined"), path
        assert driver.execute_script("return document.querySelectorAll('[onerror], [onload]').length") == 0, path
        assert driver.execute_script("return document.querySelectorAll('a[href^=\"javascript:\"]').length") == 0
        assert driver.execute_script("return [...document.scripts].every(s => s.src.endsWith('/static/app.js'))")
    go(browser, server, "/t/xss-probe")
    assert text_of(browser, "h1") == "<script>window.__pwned = 'title'</script>"  # shown as text
    driver.find_element(By.CSS_SELECTOR, "#preview-form button[type=submit]").click()
    browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, "#preview .message")))
    assert "<script>window.__pwned = 'body'</script>" in text_of(browser, "#preview .content")
    assert driver.execute_script("return window.__pwned === undefined")


def test_enhance_shows_the_proposal_as_a_diff_and_accepting_saves_it(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/t/enhance-demo/enhance")
    driver = browser.driver
    Select(driver.find_element(By.ID, "goal")).select_by_value("clarity")
    Select(driver.find_element(By.ID, "provider")).select_by_value("openai")
    driver.find_element(By.ID, "ask").click()
    browser.wait().until(ready.presence_of_element_located((By.CSS_SELECTOR, "table.diff")))
    added = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.diff tr td.new")]
    assert "+Greet {{ who }} in one friendly sentence." in added
    assert "Hello {{ who }}!" in httpx2.get(f"{server.base}/t/enhance-demo/edit", timeout=5).text  # not saved yet
    screenshot(driver, "enhance")
    driver.find_element(By.ID, "accept").click()
    arrived(browser, "/t/enhance-demo?saved=2")
    assert text_of(browser, "#note") == "Saved as version 2."
    assert text_of(browser, "#description") == "Greets someone by name in one friendly sentence."


def test_readable_at_360_pixels(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    browser.driver.set_window_size(360, 800)
    for path in ("/", "/t/web-form-probe", "/t/history-demo/diff?from=1&to=3", "/t/greet-edit/edit"):
        go(browser, server, path)
        overflow = browser.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at 360 px"
    go(browser, server, "/")
    screenshot(browser.driver, "library-360")


def test_the_page_is_usable_by_keyboard(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/")
    body = browser.driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert browser.driver.switch_to.active_element.text == "Skip to content"
    for element in browser.driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"):
        labelled = browser.driver.execute_script("return arguments[0].labels.length", element)
        assert labelled, element.get_attribute("id")


def test_screenshots_are_saved(browser_test: Browser, server: WebServer) -> None:
    browser = browser_test
    go(browser, server, "/")
    for name in ("library", "diff"):
        assert (Path(__file__).parent / "screenshots" / f"{name}.png").stat().st_size > 1000
