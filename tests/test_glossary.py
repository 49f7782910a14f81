"""The glossary: every definition present and sourced where a standard defines it; docs/glossary.md agrees."""

from __future__ import annotations

import pytest

from workbench.glossary import GLOSSARY, anchor, define, glossary_markdown
from workbench.ui.style import term

from .conftest import ROOT

#: Terms the issue asks to be explained, and those a standard or paper defines (their entry must cite it).
REQUIRED = ("LUFS", "LU", "dBTP", "true peak", "ERB", "Bark", "Q", "glue", "TPDF dither", "crest factor", "PLR",
            "loudness range", "centroid", "masking", "pan law", "send/return")
STANDARDISED = ("LUFS", "LU", "dBTP", "true peak", "loudness range", "ERB", "Bark", "TPDF dither", "masking")


def test_docs_glossary_is_generated_from_the_module():
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert text == glossary_markdown(), "docs/glossary.md is stale: run python -m workbench.glossary docs/glossary.md"


@pytest.mark.parametrize("name", REQUIRED)
def test_required_terms_are_defined(name):
    t = define(name)
    assert len(t.definition) > 40
    assert f"## {t.name}\n" in glossary_markdown()


@pytest.mark.parametrize("name", STANDARDISED)
def test_standard_terms_cite_their_source(name):
    assert define(name).source


def test_lookup_is_case_insensitive_and_unknown_terms_are_named():
    assert define("lufs") is GLOSSARY["LUFS"]
    with pytest.raises(KeyError, match="wobble"):
        define("wobble")
    assert anchor("TPDF dither") == "tpdf-dither"
    assert anchor("send/return") == "sendreturn"


def test_term_markup_carries_the_definition_escaped():
    html = term("dBTP")
    assert 'class="wb-term"' in html and ">dBTP</abbr>" in html
    assert "true-peak level" in html
    assert "<" not in html.split('title="', 1)[1].split('"', 1)[0]
    assert term("LUFS", "loudness").endswith(">loudness</abbr>")


def test_jargon_in_dashboard_text_gets_its_definition():
    from workbench.ui.style import with_terms

    html = with_terms("Full mix ready: −14.0 LUFS, true peak −1.2 dBTP <b>")
    assert html.count('class="wb-term"') == 3
    assert "&lt;b&gt;" in html                          # the rest is still escaped
    assert with_terms("LUFSX and Quick") == "LUFSX and Quick"   # whole words only
