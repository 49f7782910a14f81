"""Deliveries on the sample stems: EBU R 128 broadcast, a dynamic master, and each format read back."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from workbench.analysis.loudness import measure
from workbench.delivery import (
    BROADCAST_LUFS,
    FORMATS,
    bus_from_stems,
    dynamic_gain_db,
    parse_deliveries,
    write_deliveries,
)
from workbench.errors import ParameterError
from workbench.mixing.render import master_stems
from workbench.pipeline import mix_session

from .conftest import SAMPLE_STEMS


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    out = tmp_path_factory.mktemp("deliver")
    result = mix_session(SAMPLE_STEMS, out, deliver="all", output_format="flac", stems=True)
    return out, result


def _read(path):
    x, sr = sf.read(str(path), always_2d=True, dtype="float32")
    return x.T, sr


def test_broadcast_meets_r128(delivered):
    out, _ = delivered
    x, sr = _read(out / "delivery" / "broadcast.flac")
    m = measure(x, sr)
    assert m.integrated_lufs == pytest.approx(BROADCAST_LUFS, abs=0.2)
    assert m.true_peak_dbtp <= -1.0 + 0.1


def test_streaming_delivery_is_the_mix(delivered):
    out, _ = delivered
    flac, _ = _read(out / "delivery" / "streaming.flac")
    mix, _ = _read(out / "mix.wav")
    # The same master from the 24-bit processed stems (the mix is 16-bit): within 16-bit dither.
    assert np.max(np.abs(flac - mix)) < 4 * 2.0 ** -15


def test_dynamic_has_at_most_about_3_db_of_limiting(delivered, tmp_path):
    """Measured: the same master without a limiter (ceiling far above) peaks at most ~3 dB over the ceiling."""
    out, result = delivered
    plan = result.plan
    bus = bus_from_stems(result.render.stem_files)
    sf.write(str(tmp_path / "bus.wav"), bus.T.astype(np.float32), plan.sample_rate, subtype="FLOAT")
    main_gain, ceiling = plan.master.rendered_gain_db, plan.master.rendered_limiter_ceiling_db
    peak_db = 20 * np.log10(np.max(np.abs(bus)))
    gain = dynamic_gain_db(main_gain, peak_db, ceiling)
    free = master_stems(plan, [tmp_path / "bus.wav"], tmp_path / "free.wav", master_gain_db=gain,
                        limiter_ceiling_db=24.0, bit_depth=32)
    limiting_db = free.sample_peak_dbfs - ceiling
    assert limiting_db <= 3.5
    assert result.render.limiter_peak_reduction_db > limiting_db     # it limits less than the streaming master
    x, sr = _read(out / "delivery" / "dynamic.flac")
    d = measure(x, sr)
    s = measure(*_read(out / "delivery" / "streaming.flac"))
    assert d.true_peak_dbtp - d.integrated_lufs >= s.true_peak_dbtp - s.integrated_lufs   # PLR not lower


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_reads_back(delivered, tmp_path, fmt):
    out, result = delivered
    bus = bus_from_stems(result.render.stem_files)
    (d,) = write_deliveries(result.plan, bus, result.render.integrated_lufs, tmp_path, ["streaming"], fmt=fmt)
    container, subtype, ext, _ = FORMATS[fmt]
    info = sf.info(str(d.path))
    assert d.path.suffix == ext and info.format == container and info.subtype == subtype
    assert info.frames == result.render.frames
    x, sr = _read(d.path)
    mix, _ = _read(out / "mix.wav")
    m = measure(x, sr)
    assert m.integrated_lufs == pytest.approx(-14.0, abs=0.3)
    if fmt != "mp3":                                # lossless: the same samples within dither
        assert np.max(np.abs(x - mix)) < 4 * 2.0 ** -15
    else:                                           # lossy: the same loudness, close waveform
        assert np.corrcoef(x[0], mix[0])[0, 1] > 0.99
    assert not list(tmp_path.glob(".*"))


def test_release_check_covers_every_delivered_file(delivered):
    out, result = delivered
    labels = [c.label for c in result.release]
    assert labels == ["mix.wav", "delivery/streaming.flac", "delivery/broadcast.flac", "delivery/dynamic.flac"]
    broadcast = result.release[2]
    assert broadcast.passed


def test_bad_delivery_and_format_are_refused():
    with pytest.raises(ParameterError, match="radio"):
        parse_deliveries("radio")
    with pytest.raises(ParameterError, match="ogg"):
        mix_session(SAMPLE_STEMS, "/tmp/never", deliver="broadcast", output_format="ogg")


def test_cli_versions_and_deliveries(tmp_path, capsys):
    from workbench.cli import main

    out = tmp_path / "o"
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(out), "--versions", "instrumental,tv", "--vocal-step", "2",
                 "--deliver", "broadcast", "--format", "wav24", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "release check" in printed and "delivery/broadcast.wav:" in printed
    assert sorted(p.name for p in (out / "versions").iterdir()) == ["instrumental.wav", "tv.wav"]
    assert sf.info(str(out / "delivery" / "broadcast.wav")).subtype == "PCM_24"
    assert not (out / "stems").exists()


def test_cli_bad_version_is_a_clear_error(tmp_path, capsys):
    from workbench.cli import main

    assert main(["mix", str(SAMPLE_STEMS), "-o", str(tmp_path / "o"), "--versions", "karaoke", "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "karaoke" in err and "Traceback" not in err
