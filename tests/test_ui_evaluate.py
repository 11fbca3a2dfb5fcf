"""The Evaluate tab of the Gradio UI in a real browser: one run of the shipped seed test set, then what
a person sees of it."""

from __future__ import annotations

import re

import pytest

from .conftest import DATA
from .ui_browser import screenshot

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def evaluated(served, browser):
    """A page that has evaluated tests/data/seed_qa.jsonl (32 questions): the run is shared by the tests."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(served)
    page.get_by_role("tab", name="Evaluate").click()
    page.locator("#testset input[type=file]").set_input_files(str(DATA / "seed_qa.jsonl"))
    page.get_by_role("button", name="Run evaluation").click()
    page.get_by_text("Evaluated 32 questions from seed_qa.jsonl").wait_for(timeout=300_000)
    yield page
    context.close()


def test_the_evaluate_tab_shows_the_report_plots_inline(evaluated):
    plots = evaluated.locator("#eval-plots img")
    assert plots.count() >= 3  # evidence scores, the abstention trade-off, latency, F1
    for plot in plots.all():
        assert plot.evaluate("img => img.complete && img.naturalWidth > 100")
    screenshot(evaluated, "evaluate", full_page=True)


def test_metrics_are_named_in_plain_words_with_what_they_measure(evaluated):
    table = evaluated.locator("#eval-metrics").inner_text()
    assert "Answers that keep the citation rules" in table and "every sentence cited" in table
    assert "Unanswerable questions refused" in table
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", table)  # no raw metric key like citation_validity


def test_the_full_report_opens_in_a_new_tab(evaluated):
    with evaluated.context.expect_page() as opened:
        evaluated.get_by_role("link", name="Open the full report in a new tab").click()
    report = opened.value
    report.wait_for_load_state()
    assert report.locator("h1").inner_text() == "rag eval"
    assert report.locator("img").count() >= 3
    report.close()


def test_no_server_path_is_shown(evaluated):
    shown = evaluated.locator("body").inner_text()
    assert "/tmp" not in shown and "gradio/" not in shown
    report = evaluated.locator("#eval-report textarea").input_value()
    assert "/tmp" not in report


def test_a_sample_test_set_about_the_seed_article_can_be_downloaded(served, page, tmp_path):
    page.goto(served)
    page.get_by_role("tab", name="Evaluate").click()
    with page.expect_download() as download:
        page.locator("#sample-testset").click()
    saved = tmp_path / "sample.jsonl"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8") == (DATA / "seed_qa.jsonl").read_text(encoding="utf-8")


def test_a_run_is_listed_after_a_reload_and_reopens_with_its_metrics(evaluated):
    evaluated.reload()
    evaluated.get_by_role("tab", name="Evaluate").click()
    runs = evaluated.locator("#eval-runs input")
    runs.click()
    option = evaluated.get_by_role("option").filter(has_text="seed_qa.jsonl · 32 questions").first
    option.click()
    evaluated.get_by_text("Evaluated 32 questions from seed_qa.jsonl").wait_for()
    assert "Gold answer in the answer" in evaluated.locator("#eval-metrics").inner_text()
    assert evaluated.locator("#eval-plots img").count() >= 2
