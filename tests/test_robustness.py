"""Random bytes and corrupted headers yield findings, never an exception."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench import load_session

from .conftest import tone

_settings = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_wav_bytes(subtype="PCM_16", channels=1) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, tone(seconds=0.3, channels=channels).T, 44100, subtype=subtype, format="WAV")
    return buf.getvalue()


def _load_one(tmp_path, data: bytes):
    path = tmp_path / "Stem.wav"
    path.write_bytes(data)
    s = load_session(tmp_path)
    assert len(s.stems) == 1
    return s


@_settings
@given(data=st.binary(min_size=0, max_size=4096))
def test_random_bytes_give_findings(tmp_path, data):
    s = _load_one(tmp_path, data)
    assert s.findings and not s.can_mix
    assert all(f.stem in (None, "Stem.wav") for f in s.findings)


@_settings
@given(pos=st.integers(min_value=0, max_value=80), junk=st.binary(min_size=1, max_size=16),
       cut=st.one_of(st.none(), st.integers(min_value=0, max_value=30000)),
       subtype=st.sampled_from(["PCM_16", "PCM_24", "FLOAT"]), channels=st.sampled_from([1, 2]))
def test_corrupted_headers_never_raise(tmp_path, pos, junk, cut, subtype, channels):
    data = bytearray(_valid_wav_bytes(subtype, channels))
    data[pos:pos + len(junk)] = junk
    if cut is not None:
        data = data[:cut]
    s = _load_one(tmp_path, bytes(data))
    for f in s.findings:  # every finding is complete and printable
        assert f.severity in ("error", "warning", "note") and f.message and f.fix


@_settings
@given(values=st.lists(st.sampled_from([0.0, 1.0, -1.0, np.nan, np.inf, 1e30, -1e-30, 0.5]),
                       min_size=1, max_size=200))
def test_extreme_float_samples_never_raise(tmp_path, values):
    path = tmp_path / "Stem.wav"
    sf.write(str(path), np.asarray(values, dtype=np.float32), 44100, subtype="FLOAT")
    s = load_session(tmp_path)
    if any(not np.isfinite(v) for v in values):
        assert "nan_samples" in {f.code for f in s.findings}
