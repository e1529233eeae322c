"""The one-pass analysis writes exactly the reports the analysis wrote before it (issue 24)."""

import pytest

from tests.results.golden import GOLDEN, render


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render()


def test_every_golden_file_is_rendered_again(rendered):
    assert sorted(rendered) == sorted(p.name for p in GOLDEN.iterdir() if p.suffix != ".parquet")


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.iterdir() if p.suffix != ".parquet"))
def test_the_report_text_is_unchanged(rendered, name):
    assert rendered[name] == (GOLDEN / name).read_text(), (
        f"{name} changed; if on purpose: .venv/bin/python -m tests.results.golden"
    )
