"""Exporting a notebook to offline HTML: players embedded, tables kept, widgets noted, nothing remote."""

from __future__ import annotations

import nbformat
import pytest

from workbench.ui.lesson_html import export_html, main, remote_urls


def test_remote_url_rule():
    assert remote_urls('<script src="https://cdn.example/x.js"></script>')
    assert remote_urls("<link rel='stylesheet' href='http://x/y.css'>")
    assert remote_urls("<style>@font-face{src: url(https://x/f.woff)}</style>")
    assert remote_urls('<img src="https://x/p.png">')
    # a link a reader may click loads nothing
    assert not remote_urls('<p>See <a href="https://example.org/glossary">the glossary</a></p>')
    assert not remote_urls('<audio controls src="data:audio/flac;base64,AAAA"></audio>')


def _notebook(path):
    code = ("import numpy as np\nimport ipywidgets as W\n"
            "from workbench.ui.lessons import audio_player\n"
            "t = np.arange(22050) / 22050\n"
            "display(audio_player(0.3 * np.sin(2 * np.pi * 440 * t)[None, :], 22050, 'A 440 Hz tone'))\n"
            "W.IntSlider()")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Test lesson"),
                                         nbformat.v4.new_code_cell(code)])
    nbformat.write(nb, path)


def test_export_html_executes_and_embeds(tmp_path):
    src = tmp_path / "lesson.ipynb"
    _notebook(src)
    before = src.read_bytes()
    out = export_html(src, tmp_path / "lesson.html", timeout_s=120)
    html = out.read_text(encoding="utf-8")
    assert src.read_bytes() == before  # the notebook is not modified
    assert "A 440 Hz tone" in html and "data:audio/flac;base64," in html
    assert "does not survive export" in html  # the slider became a note
    assert not remote_urls(html)
    assert not list(tmp_path.glob("*.part"))


def test_main_refuses_bad_input(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    assert main([str(tmp_path / "out"), str(tmp_path / "notes.txt")]) == 2
    err = capsys.readouterr().err
    assert "notes.txt is not a notebook file" in err and "Give the lesson notebooks" in err
    assert not (tmp_path / "out").exists()
    f = tmp_path / "file"
    f.write_text("x")
    assert main([str(f), str(tmp_path / "notes.txt")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["missing.ipynb"])
def test_main_missing_notebook(tmp_path, capsys, bad):
    assert main([str(tmp_path / "out"), str(tmp_path / bad)]) == 2
    assert "missing.ipynb is not a notebook file" in capsys.readouterr().err
