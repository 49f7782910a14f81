"""The widget classes of workbench.ui, without a browser.

What matters here: the workbench says when its preview is out of date, the
category and importance pickers accept only the known values (checked on the
server, whatever a browser sends), uploaded files are stored under names we
make and within our caps, and every text that reaches HTML is escaped.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import ipywidgets as W
import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from traitlets import TraitError

from workbench import WorkbenchError
from workbench.categories import CATEGORY_NAMES
from workbench.mixing.settings import MixSettings
from workbench.session import IMPORTANCE_LEVELS
from workbench.ui.mix import MixPanel
from workbench.ui import (ABPlayers, DecisionTable, Downloads, FindingsPanel, MaskingView, StemTable, UploadLimits,
                          Workbench, WorkFolder, sample_stems_dir, sanitise_upload_name, save_uploads)
from workbench.ui.files import DOWNLOADS_DIRNAME, MB, InlineLinks, VoilaLinks
from workbench.ui.views import decisions_html

from .conftest import ROOT, SAMPLE_STEMS, tone

FAST = MixSettings(preview_seconds=5.0)


def wav_bytes(seconds: float = 1.0, freq_hz: float = 220.0) -> bytes:
    import io

    buf = io.BytesIO()
    sf.write(buf, tone(seconds, freq_hz).T, 44100, subtype="PCM_16", format="WAV")
    return buf.getvalue()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def sample_bench():
    """One Workbench on the sample session with a 5 s preview (rendered once for the module)."""
    wb = Workbench(SAMPLE_STEMS, background=False, settings=FAST, links="inline")
    yield wb
    wb.work.cleanup()


# ------------------------------------------------------------------ the workbench on the sample session
def test_sample_session_loads_with_suggestions_and_players(sample_bench):
    wb = sample_bench
    assert len(wb.stems.rows) == 10
    piano = wb.stems.rows["07 Piano.wav"]
    assert piano.category.value == "Keys"
    # the figure shown is the measured accuracy of this kind of name match, not a constant
    from workbench.confidence import name_accuracy

    measured = name_accuracy(wb.model.base.stem("07 Piano.wav").confidence)
    assert f"Keys · from the name: right {measured.right}/{measured.stems} on authored stems" in piano.auto.value
    assert "%" not in piano.auto.value
    assert piano.importance.value in IMPORTANCE_LEVELS
    assert all(isinstance(r.player_box.children[0], W.Audio) for r in wb.stems.rows.values())
    wav = wb.stems.rows["01 Kick.wav"].player_box.children[0].value
    info = sf.info(__import__("io").BytesIO(wav))
    assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
    assert info.duration <= 20.01
    assert not wb.mix.generate.disabled


def test_preview_is_out_of_date_after_any_change_until_regenerated(sample_bench):
    wb = sample_bench
    wb._on_generate()
    assert set(wb.ab.players) == {"automix", "plain", "no-eq", "no-compression", "no-panning", "no-reverb"}
    assert not wb.mix.stale and not wb.ab.stale
    assert "Preview ready" in wb.mix.status.value
    assert "preview" in wb.model.downloads and "plan" in wb.model.downloads

    wb.stems.rows["07 Piano.wav"].importance.value = "high"
    assert wb.mix.stale and wb.ab.stale
    assert "out of date" in wb.mix.status.value
    assert "wb-stale" in wb.mix.widget._dom_classes
    assert wb.model.download_stale("preview")

    wb._on_generate()
    assert not wb.mix.stale and not wb.ab.stale
    assert wb.model.plan.stems["Piano"].importance == "high"

    wb.stems.rows["08 Pad.wav"].category.value = "Strings"      # a category change counts too
    assert wb.mix.stale
    assert "your choice" in wb.stems.rows["08 Pad.wav"].auto.value
    assert wb.model.category == {"08 Pad.wav": "Strings"}


def test_regenerating_reprocesses_only_the_stems_a_change_touched(tmp_path, cache):
    # The model keeps the automix's processed stems (StemCache): the other A/B
    # versions do not push them out, and a regeneration after one importance
    # change processes again only the stems whose chain changed.
    wb = Workbench(SAMPLE_STEMS, background=False, settings=FAST, links="inline")
    try:
        stem_cache = wb.model.stem_cache
        wb._on_generate()
        n = len(wb.model.plan.stems)
        assert len(stem_cache) == n and stem_cache.hits >= 2 * n        # no-panning, no-reverb reused them
        before = dict(wb.model.plan.stems)
        wb.stems.rows["07 Piano.wav"].importance.value = "high"
        misses = stem_cache.misses
        wb._on_generate()
        after = wb.model.plan.stems
        changed = [k for k in after if (after[k].gain_db, after[k].eq, after[k].compressor)
                   != (before[k].gain_db, before[k].eq, before[k].compressor)]
        assert 1 <= len(changed) < n
        assert stem_cache.misses - misses == len(changed)              # the automix render; the rest hit
    finally:
        wb.work.cleanup()


def test_category_dropdown_offers_only_the_category_names(sample_bench):
    for row in sample_bench.stems.rows.values():
        assert tuple(row.category.options) == CATEGORY_NAMES
        assert tuple(row.importance.options) == IMPORTANCE_LEVELS
        with pytest.raises(TraitError):
            row.category.value = "Kazoo"
        with pytest.raises(TraitError):
            row.importance.value = "urgent"


def test_values_are_validated_on_the_server_whatever_the_browser_sends(sample_bench):
    wb = sample_bench
    row = wb.stems.rows["02 Snare.wav"]
    before = (row.category.value, dict(wb.model.category), wb.model.version)
    # A forged change event (as if the browser had sent a value outside the options).
    wb.stems._on_value(row, "category", SimpleNamespace(old="Snare", new="<script>alert(1)</script>"))
    assert (row.category.value, dict(wb.model.category), wb.model.version) == before
    with pytest.raises(WorkbenchError) as e:
        wb.model.set_category("Snare", "Kazoo")
    assert e.value.code == "bad_category"
    with pytest.raises(WorkbenchError) as e:
        wb.model.set_importance("Snare", "loudest")
    assert e.value.code == "bad_importance"
    with pytest.raises(WorkbenchError):
        wb.model.set_importance("../../etc/passwd", "high")
    assert wb._on_stem_change("importance", "no such stem.wav", "high") is False
    assert "No stem called" in wb.findings.notices.value


def test_full_mix_offers_every_download(sample_bench, tmp_path):
    wb = sample_bench
    wb._on_render()
    assert "Full mix ready" in wb.mix.status.value
    files = wb.model.downloads
    assert {"mix", "preview", "dawproject", "als", "plan", "report"} <= set(files)
    info = sf.info(str(files["mix"]))
    assert (info.subtype, info.samplerate, info.channels) == ("PCM_16", 44100, 2)
    with zipfile.ZipFile(files["dawproject"]) as z:
        assert "project.xml" in z.namelist()
    with zipfile.ZipFile(files["als"]) as z:
        assert any(n.endswith(".als") for n in z.namelist())
    json.loads(files["plan"].read_text())
    # The release check of the rendered mix is shown, row by row, with its verdicts.
    release = wb.release.value
    assert "Release check of the full mix" in release and "mix.wav" in release
    for row in ("Integrated loudness", "True peak", "Mono"):
        assert row in release
    assert release.count("<tr>") == 1 + len(wb.model.mix.release[0].rows)
    # Inline links: small files at once as data: URLs, large ones on request.
    mix_row = wb.downloads.rows["plan"]
    link = next(c for c in mix_row.children if isinstance(c, W.HTML) and "data:" in c.value)
    assert "download='plan.json'" in link.value
    big = wb.downloads.rows["dawproject"]
    button = next(c for c in big.children if isinstance(c, W.Button))
    button.click()
    assert any(isinstance(c, W.HTML) and "data:application/octet-stream;base64," in c.value for c in big.children)


def test_masking_and_spectrogram_views_draw(sample_bench):
    wb = sample_bench
    view = wb.masking
    assert isinstance(view.heatmap.children[0], W.Image)
    view.when.value = "after"
    view.masker.value, view.target.value = "Bass", "Kick"
    assert isinstance(view.over_time.children[0], W.Image)
    spec = wb.spectrograms
    spec.source.value = "Piano"
    spec.draw()
    assert len(spec.out.children) == 2 and all(isinstance(c, W.Image) for c in spec.out.children)


# ------------------------------------------------------------------ uploads
@pytest.mark.parametrize("sent, saved", [
    ("../../etc/passwd", "passwd.wav"),
    ("C:\\Users\\me\\Kick In.wav", "Kick In.wav"),
    ("/abs/path/Snare.WAV", "Snare.wav"),
    (".hidden.wav", "hidden.wav"),
    ("..", "stem.wav"),
    ("", "stem.wav"),
    ("notes.txt", "notes.txt.wav"),
    ("bad\x00name<>|.wav", "bad_name.wav"),
    ("Gesang Lead äöü.wav", "Gesang Lead äöü.wav"),
    ("x" * 300 + ".wav", "x" * 100 + ".wav"),
])
def test_sanitise_upload_name(sent, saved):
    assert sanitise_upload_name(sent) == saved


def test_sanitise_upload_name_deduplicates_case_insensitively():
    assert sanitise_upload_name("Kick.WAV", taken=["kick.wav"]) == "Kick 2.wav"
    assert sanitise_upload_name("kick.wav", taken=["Kick.wav", "kick 2.wav"]) == "kick 3.wav"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_sanitised_names_stay_inside_the_folder(name):
    safe = sanitise_upload_name(name)
    folder = Path("/srv/uploads")
    assert safe.endswith(".wav") and len(safe) <= 104
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert all(ch.isprintable() for ch in safe)
    assert (folder / safe).resolve().parent == folder


def test_uploads_are_capped_with_a_message(tmp_path):
    limits = UploadLimits(max_file_bytes=100_000, max_session_bytes=150_000, max_stems=3)
    small, big = wav_bytes(0.5), wav_bytes(2.0)          # 44 kB and 176 kB
    out = save_uploads([("a.wav", small), ("huge.wav", big), ("b.wav", small), ("c.wav", small),
                        ("../d.wav", small)], tmp_path, limits)
    assert [p.name for p in out.saved] == ["a.wav", "b.wav", "c.wav"]
    assert "“huge.wav” was not added" in out.refused[0] and "limit of 100 kB per file" in out.refused[0]
    assert "“d.wav” was not added" in out.refused[1]
    assert "above the limit of 150 kB" in out.refused[1] or "at most 3 stems" in out.refused[1]
    out2 = save_uploads([("e.wav", small)], tmp_path, limits)
    assert not out2.saved and "at most 3 stems" in out2.refused[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav", "c.wav"]


def test_upload_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAX_UPLOAD_MB", "1.5")
    monkeypatch.setenv("WORKBENCH_MAX_SESSION_MB", "not a number")
    monkeypatch.setenv("WORKBENCH_MAX_STEMS", "-4")
    limits = UploadLimits.from_env()
    assert limits.max_file_bytes == int(1.5 * MB)
    assert limits.max_session_bytes == UploadLimits().max_session_bytes
    assert limits.max_stems == 32


def test_dashboard_uploads_show_findings_and_caps_and_keep_working(cache):
    limits = UploadLimits(max_file_bytes=150_000, max_session_bytes=10 * MB, max_stems=32)
    wb = Workbench(uploads=True, background=False, settings=FAST, limits=limits, links="inline")
    try:
        assert wb.mix.generate.disabled

        def upload(*files):
            wb._on_upload(SimpleNamespace(new=tuple({"name": n, "type": "audio/wav", "size": len(c),
                                                     "content": memoryview(c)} for n, c in files)))

        upload(("Kick.wav", wav_bytes(1.0, 60.0)), ("../../Bass.wav", wav_bytes(1.0, 110.0)))
        assert sorted(wb.stems.rows) == ["Bass.wav", "Kick.wav"]
        assert all(p.parent == wb.work.stems for p in wb.work.stems.iterdir())
        assert "Added 2 file(s)" in wb.findings.notices.value
        assert not wb.mix.generate.disabled

        assert "wb-notice-ok" in wb.findings.notices.value         # green: every file went in

        # text named .wav, a .txt, a damaged WAV: refused with their reasons, never renamed; the rest goes in
        damaged = wav_bytes(1.0)[:30]
        upload(('my <b>"notes"<b>.wav', b"just some text, not audio"), ("notes.txt", b"text"),
               ("Cut.wav", damaged), ("Snare.wav", wav_bytes(1.0, 200.0)))
        notice = wb.findings.notices.value
        assert "Added 1 file(s), refused 3." in notice
        assert "“my &lt;b&gt;&quot;notes&quot;&lt;b&gt;.wav” was not added: its content is not a WAV" in notice
        assert "“notes.txt” was not added: only WAV files (.wav) are taken, and this one is .txt" in notice
        assert "“Cut.wav” was not added: it starts like a WAV but cannot be read" in notice
        assert "wb-notice-ok" not in notice and "<b>\"notes" not in notice     # not green; escaped
        assert sorted(wb.stems.rows) == ["Bass.wav", "Kick.wav", "Snare.wav"]
        assert sorted(p.name for p in wb.work.stems.iterdir()) == ["Bass.wav", "Kick.wav", "Snare.wav"]

        # the same name again replaces the stem (case-insensitively), keeping the user's choices
        wb.stems.rows["Kick.wav"].importance.value = "high"
        upload(("KICK.WAV", wav_bytes(1.5, 55.0)))
        assert "replaced the stem uploaded earlier" in wb.findings.notices.value
        assert "wb-notice-ok" in wb.findings.notices.value
        assert sorted(wb.stems.rows) == ["Bass.wav", "Kick.wav", "Snare.wav"]
        assert wb.model.base.stem("Kick.wav").duration_s == pytest.approx(1.5)
        assert wb.stems.rows["Kick.wav"].importance.value == "high"
        assert not wb.mix.generate.disabled

        upload(("Long Pad.wav", wav_bytes(3.0)))          # 265 kB > 150 kB
        assert "“Long Pad.wav” was not added" in wb.findings.notices.value
        assert "above the limit of 150 kB per file" in wb.findings.notices.value
        assert "wb-notice-error" in wb.findings.notices.value
        assert len(wb.stems.rows) == 3

        wb.stems.rows["Snare.wav"].remove.click()
        assert sorted(wb.stems.rows) == ["Bass.wav", "Kick.wav"]
        assert not wb.mix.generate.disabled
        wb._on_generate()
        assert "automix" in wb.ab.players and "Preview ready" in wb.mix.status.value
    finally:
        wb.work.cleanup()
    assert not wb.work.path.exists()


# ------------------------------------------------------------------ pieces
def test_decision_table_escapes_every_cell():
    plan = SimpleNamespace(decisions=lambda: [("<img src=x onerror=alert(1)>", "gain +1.0 dB", "a & b")],
                           notes=["<script>"])
    html = decisions_html(plan)
    assert "<img" not in html and "&lt;img src=x" in html and "a &amp; b" in html and "&lt;script&gt;" in html
    assert DecisionTable(plan).table.value == html


def test_findings_panel_escapes_notices():
    panel = FindingsPanel()
    panel.notify("“<script>.wav” was not added", "warning")
    assert "<script>" not in panel.notices.value and "&lt;script&gt;" in panel.notices.value


def test_stem_table_reports_changes_and_reverts_refused_ones(make_wav):
    from workbench import load_session

    session = load_session([make_wav("Piano.wav"), make_wav("Track 7.wav")])
    table = StemTable(session, players=False)
    seen = []
    table.on_change(lambda kind, file, value: seen.append((kind, file, value)) or value != "Brass")
    row = table.rows["Piano.wav"]
    row.category.value = "Synth"
    row.category.value = "Brass"            # refused by the handler: back to Synth
    assert row.category.value == "Synth"
    row.importance.value = "high"
    assert seen == [("category", "Piano.wav", "Synth"), ("category", "Piano.wav", "Brass"),
                    ("importance", "Piano.wav", "high")]
    # a generic name says nothing: the suggestion comes from listening to the stem
    track7 = session.stem("Track 7")
    assert track7.category_source == "audio"
    assert table.rows["Track 7.wav"].category.value == track7.category
    assert "from the sound" in table.rows["Track 7.wav"].auto.value
    assert "generic name" in table.rows["Track 7.wav"].findings.value


def test_inline_download_link_carries_the_file(tmp_path):
    f = tmp_path / "plan.json"
    f.write_text('{"a": 1}')
    d = Downloads(links="inline")
    d.update({"plan": f})
    html = d.rows["plan"].children[0].value
    import base64

    url = re.search(r"href='([^']+)'", html).group(1)
    assert url.startswith("data:application/json;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == b'{"a": 1}'
    assert InlineLinks(max_bytes=3).url(f) is None


def test_served_links_match_the_voila_allowlist(tmp_path):
    work = WorkFolder()
    links = VoilaLinks(work, root=tmp_path, server_url="/base/")
    assert work.out.parent == tmp_path / DOWNLOADS_DIRNAME and work.out.name == links.token
    f = work.out / "sample stems Project.zip"
    f.write_bytes(b"zip")
    url = links.url(f)
    assert url.startswith(f"/base/voila/files/{DOWNLOADS_DIRNAME}/{links.token}/sample%20stems%20Project.zip?v=")
    relative = unquote(url.split("/voila/files/", 1)[1].split("?", 1)[0])
    allow = json.loads((ROOT / "voila.json").read_text())["VoilaConfiguration"]["file_allowlist"]
    assert any(re.fullmatch(p, relative, re.IGNORECASE) for p in allow)
    for private in (f"{DOWNLOADS_DIRNAME}/{links.token}/.owner", "dashboard.ipynb", "../sample_stems/01 Kick.wav",
                    f"{DOWNLOADS_DIRNAME}/short/mix.wav"):
        assert not any(re.fullmatch(p, private, re.IGNORECASE) for p in allow), private
    work.cleanup()
    assert not work.path.exists() and not (tmp_path / DOWNLOADS_DIRNAME / links.token).exists()


def test_voila_config_keeps_tracebacks_off_and_raises_the_message_size():
    config = json.loads((ROOT / "voila.json").read_text())
    assert config["VoilaConfiguration"]["show_tracebacks"] is False
    assert config["Voila"]["tornado_settings"]["websocket_max_message_size"] >= UploadLimits().max_file_bytes + MB


def test_work_folder_is_removed(tmp_path):
    work = WorkFolder()
    assert work.path.name.startswith("workbench-") and work.stems.is_dir()
    work.cleanup()
    assert not work.path.exists() and not work.alive


def test_sample_stems_dir(monkeypatch, tmp_path):
    assert sample_stems_dir() == SAMPLE_STEMS
    (tmp_path / "x.wav").write_bytes(wav_bytes(0.1))
    monkeypatch.setenv("WORKBENCH_SAMPLE_STEMS", str(tmp_path))
    assert sample_stems_dir() == tmp_path


def test_ab_players_and_masking_view_start_empty():
    assert ABPlayers().player.versions == []
    assert MaskingView().analysis is None
    assert np.isfinite(FAST.preview_seconds)


def test_downloads_fall_back_to_inline_links_when_voila_does_not_serve_the_folder(tmp_path, monkeypatch):
    import socket

    from workbench.ui.downloads import make_links

    with socket.socket() as sock:                           # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERVER_SOFTWARE", "voila/0.5.13")
    monkeypatch.setenv("VOILA_APP_PORT", str(port))
    monkeypatch.setenv("SERVER_NAME", "127.0.0.1")
    work = WorkFolder()
    try:
        links = make_links("auto", work)
        assert isinstance(links, InlineLinks)
    finally:
        work.cleanup()
    assert list((tmp_path / DOWNLOADS_DIRNAME).iterdir()) == []


def test_the_suggested_lead_is_shown_in_the_stem_table(tmp_path, cache):
    # an instrumental: a melody, a chord part and a kick; the melody is suggested as the lead
    n = 16 * 44100
    t = np.arange(n) / 44100
    folder = tmp_path / "song"
    folder.mkdir()
    melody = sum(np.sin(2 * np.pi * 660 * k * t * (1 + 0.003 * np.sin(2 * np.pi * 5 * t))) / k for k in range(1, 6))
    chords = sum(np.sin(2 * np.pi * f * t) for f in (110, 138.6, 164.8)) * (np.sin(2 * np.pi * 0.1 * t) > 0.3)
    kick = np.sin(2 * np.pi * 60 * t) * np.exp(-((t % 0.5) / 0.12))
    for name, x in (("Synth 1", melody), ("Synth 2", chords), ("Kick", kick)):
        sf.write(str(folder / f"{name}.wav"), (0.3 * x / np.abs(x).max()).astype(np.float32), 44100, subtype="PCM_16")
    wb = Workbench(folder, background=False, settings=FAST, links="inline")
    try:
        assert wb.stems.rows["Synth 1.wav"].importance.value == "medium"     # before planning: the default
        wb._on_generate()
        assert wb.model.plan.stems["Synth 1"].importance == "high"
        assert wb.stems.rows["Synth 1.wav"].importance.value == "high"       # the suggestion, shown
        assert "Suggested lead: Synth 1" in wb.findings.notices.value
        # the user's choice wins over the suggestion
        wb.stems.rows["Synth 1.wav"].importance.value = "low"
        wb._on_generate()
        assert wb.model.plan.stems["Synth 1"].importance == "low"
        assert wb.stems.rows["Synth 1.wav"].importance.value == "low"
    finally:
        wb.work.cleanup()


# ------------------------------------------------------------------ issue 15: uploads that talk, unsure guesses
def test_chunked_upload_acknowledges_chunks_and_refuses_what_breaks_the_rules(tmp_path):
    from workbench.ui.upload import ChunkedUpload

    up = ChunkedUpload(tmp_path / "incoming", max_file_bytes=1000)
    sent, begun, done = [], [], []
    up.send = lambda content, buffers=None: sent.append(content)
    up.on_begin(begun.append)
    up.on_done(done.append)
    msg = up._on_msg
    msg(up, {"type": "begin", "files": [{"name": "a.wav", "size": 600}, {"name": "big.wav", "size": 5000},
                                        {"name": "liar.wav", "size": 10}, "junk"]}, [])
    assert begun == [4] and up.busy
    assert sent[-1]["type"] == "ready" and set(sent[-1]["skip"]) == {"1"}
    msg(up, {"type": "chunk", "index": 0, "offset": 0}, [memoryview(b"x" * 400)])
    assert sent[-1] == {"type": "ack", "index": 0, "received": 400}
    msg(up, {"type": "chunk", "index": 0, "offset": 0}, [memoryview(b"y" * 10)])        # out of order
    assert sent[-1]["type"] == "refused"
    msg(up, {"type": "chunk", "index": 0, "offset": 400}, [memoryview(b"z" * 200)])
    assert sent[-1]["received"] == 600
    msg(up, {"type": "chunk", "index": 1, "offset": 0}, [memoryview(b"x" * 10)])        # refused at begin
    assert sent[-1]["type"] == "refused"
    msg(up, {"type": "chunk", "index": 2, "offset": 0}, [memoryview(b"x" * 1200)])      # more than the cap
    assert sent[-1]["type"] == "refused"
    msg(up, {"type": "chunk", "index": 9, "offset": 0}, [memoryview(b"x")])             # no such file
    assert sent[-1]["type"] == "refused"
    msg(up, {"type": "end"}, [])
    assert not up.busy and len(done) == 1
    (n0, p0, r0), (n1, p1, r1), (n2, p2, r2), (n3, p3, r3) = done[0]
    assert n0 == "a.wav" and p0.read_bytes() == b"x" * 400 + b"z" * 200 and r0 == ""
    assert n1 == "big.wav" and p1 is None and "above the limit of 1 kB per file" in r1
    assert p2 is None and "larger than the limit" in r2
    assert n3 == "?" and p3.parent == tmp_path / "incoming"          # the name sent never makes a path


def test_chunked_upload_in_the_dashboard_locks_then_reports_each_file(cache):
    wb = Workbench(uploads=True, background=False, settings=FAST, links="inline",
                   limits=UploadLimits(max_file_bytes=150_000))
    try:
        up = wb.upload
        up.send = lambda content, buffers=None: None
        good, text = wav_bytes(1.0, 60.0), b"not audio at all"
        up._on_msg(up, {"type": "begin", "files": [{"name": "Kick.wav", "size": len(good)},
                                                   {"name": "notes.txt", "size": len(text)},
                                                   {"name": "Huge.wav", "size": 10 ** 9}]}, [])
        assert wb.mix.generate.disabled and wb.sample.disabled and "Uploading 3 file(s)" in wb.mix.status.value
        up._on_msg(up, {"type": "chunk", "index": 0, "offset": 0}, [memoryview(good)])
        up._on_msg(up, {"type": "chunk", "index": 1, "offset": 0}, [memoryview(text)])
        up._on_msg(up, {"type": "end"}, [])
        notice = wb.findings.notices.value
        assert "Added 1 file(s), refused 2." in notice and "wb-notice-ok" not in notice
        assert "“Huge.wav” was not added: it is 1 GB, above the limit" in notice
        assert "“notes.txt” was not added: only WAV files" in notice
        assert "Added 1 file(s), refused 2." in up.outcome_html and "wb-outcome-added" in notice
        assert sorted(wb.stems.rows) == ["Kick.wav"] and not wb.sample.disabled
    finally:
        wb.work.cleanup()


def test_sample_session_asks_before_replacing_uploaded_stems(cache):
    wb = Workbench(uploads=True, background=False, settings=FAST, links="inline")
    try:
        wb.add_files([("Kick.wav", wav_bytes(1.0, 60.0))])
        assert sorted(wb.stems.rows) == ["Kick.wav"]
        wb.sample.click()
        assert wb.sample_confirm.layout.display == "flex" and "1 uploaded stem" in wb.sample_question.value
        assert sorted(wb.stems.rows) == ["Kick.wav"]                       # nothing replaced yet
        wb.sample_no.click()
        assert wb.sample_confirm.layout.display == "none" and sorted(wb.stems.rows) == ["Kick.wav"]
        wb.sample.click()
        wb.sample_yes.click()
        assert len(wb.stems.rows) == 10 and wb.model.source_kind == "sample"
        assert not any(wb.work.stems.iterdir())                            # the uploads are gone
        wb.add_files([("Bass.wav", wav_bytes(1.0, 110.0))])                 # a new upload starts afresh
        assert sorted(wb.stems.rows) == ["Bass.wav"]
        wb.sample.click()                                                   # the sample session: no question
    finally:
        wb.work.cleanup()


def test_unsure_guesses_are_questions_sorted_first_and_confirmed_by_a_click(make_wav, cache):
    from workbench import load_session
    from workbench.confidence import is_unsure, name_accuracy

    # "Lead 2" is a hint-only name match: measured right 0 times on authored stems, so it must be asked.
    assert name_accuracy(0.55).accuracy < 0.5
    session = load_session([make_wav("Piano.wav"), make_wav("Lead 2.wav")])
    lead = session.stem("Lead 2.wav")
    assert is_unsure(lead) and not is_unsure(session.stem("Piano.wav"))
    wb = Workbench(session, background=False, settings=FAST, links="inline")
    try:
        assert list(wb.stems.rows) == ["Lead 2.wav", "Piano.wav"]          # the question first
        row = wb.stems.rows["Lead 2.wav"]
        assert f"{lead.category}? — please check" in row.auto.value and "wb-row-unsure" in row.box._dom_classes
        assert "1 category guess(es) are unsure" in wb.mix.status.value
        assert wb.model.unconfirmed() == [f"Lead 2 ({lead.category}?)"]
        wb._on_generate()
        assert "unconfirmed category guess" in wb.mix.status.value          # it mixed, and says so
        wb._on_render()
        report = wb.model.downloads["report"].read_text(encoding="utf-8")
        assert "## Category guesses not confirmed" in report and "Lead 2" in report
        row.confirm.click()                                                 # "Yes, <category>"
        assert wb.model.unconfirmed() == [] and "you confirmed it" in row.auto.value
        assert row.confirm is None and "wb-row-unsure" not in row.box._dom_classes
        assert not wb.model.preview_stale                                   # confirming changes nothing audible
        wb._on_render()
        report = wb.model.downloads["report"].read_text(encoding="utf-8")
        assert "## Category guesses not confirmed" not in report
    finally:
        wb.work.cleanup()


def test_stem_table_brings_its_own_style():
    table = StemTable()
    assert "<style>" in table.widget.children[0].value and ".wb-badge" in table.widget.children[0].value


def _tree(w):
    yield w
    for c in getattr(w, "children", ()):
        yield from _tree(c)


@pytest.mark.parametrize("make", [StemTable, FindingsPanel, DecisionTable, MaskingView, ABPlayers, MixPanel],
                         ids=lambda m: m.__name__)
def test_each_widget_used_alone_brings_the_dashboard_style(make):
    from workbench.ui.style import style_html

    widget = make().widget
    css = [w.value for w in _tree(widget) if isinstance(w, W.HTML) and "<style>" in w.value]
    assert style_html() in css, f"{make.__name__} used alone in a notebook lacks the dashboard's style"


def test_the_dashboard_takes_an_edited_plan_and_refuses_a_broken_one(cache):
    wb = Workbench(SAMPLE_STEMS, uploads=True, background=False, settings=FAST, links="inline")
    try:
        wb._on_render()
        plan = json.loads(wb.model.downloads["plan"].read_text(encoding="utf-8"))
        kick = next(k for k in plan["stems"] if "Kick" in k)
        # broken: a field out of range → the message names it, nothing changes
        bad = json.loads(json.dumps(plan))
        bad["stems"][kick]["gain_db"] = "loud"
        wb.use_plan(json.dumps(bad).encode())
        notice = wb.findings.notices.value
        assert "wb-notice-error" in notice and "The plan was not used" in notice and "gain_db" in notice
        assert wb.model.user_plan is None
        wb.use_plan(b"\xff\xfe not text")
        assert "not UTF-8" in wb.findings.notices.value
        # edited: the kick 6 dB down → the decision table and the render use it
        plan["stems"][kick]["gain_db"] = plan["stems"][kick]["gain_db"] - 6.0
        wb._on_plan_upload(SimpleNamespace(new=({"name": "plan.json", "content": memoryview(
            json.dumps(plan).encode())},)))
        assert "Your plan is in use" in wb.findings.notices.value
        assert wb.model.user_plan.stems[kick].gain_db == pytest.approx(plan["stems"][kick]["gain_db"])
        wb._on_generate()
        assert wb.model.plan is wb.model.user_plan and "Preview ready" in wb.mix.status.value
        wb._on_render()
        rendered = json.loads(wb.model.downloads["plan"].read_text(encoding="utf-8"))
        assert rendered["stems"][kick]["gain_db"] == pytest.approx(plan["stems"][kick]["gain_db"])
        # a change of importance plans afresh
        wb.stems.rows[wb.model.base.stem(kick).file].importance.value = "high"
        wb._on_generate()
        assert wb.model.user_plan is None and wb.model.plan.stems[kick].gain_db != pytest.approx(
            plan["stems"][kick]["gain_db"])
    finally:
        wb.work.cleanup()


def test_ab_player_takes_versions_as_files_with_their_loudness(tmp_path):
    from workbench.ui.player import ABPlayer, Version, file_loudness

    loud, quiet = tmp_path / "loud.wav", tmp_path / "quiet.wav"
    sf.write(str(loud), tone(3.0, 440.0).T, 44100, subtype="PCM_16")
    sf.write(str(quiet), (0.25 * tone(3.0, 440.0)).T, 44100, subtype="PCM_16")
    assert file_loudness(loud) - file_loudness(quiet) == pytest.approx(20 * np.log10(4), abs=0.05)
    p = ABPlayer({"loud": loud, "quiet": Version(quiet, "Quiet one", "preview", 12.5),
                  "missing": tmp_path / "nope.wav"})
    assert p.version_keys == ["loud", "quiet"]
    v = p.versions[1]
    assert v["label"] == "Quiet one" and v["start_s"] == 12.5 and v["duration_s"] == pytest.approx(3.0)
    assert v["wav"] == quiet.read_bytes() and p.level_matched
