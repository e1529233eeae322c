"""Reading results needs no model libraries: queries and tables import light."""

from __future__ import annotations

import pytest

from tests.imports import light_import


@pytest.mark.parametrize("module", ["results.query", "results.tables", "results.monotonicity"])
def test_results_modules_import_without_torch_datasets_transformers_or_sacrebleu(module):
    assert light_import(module) == []
