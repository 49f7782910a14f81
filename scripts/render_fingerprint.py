"""Fingerprints (sha256) of every file the renderer writes, to prove a refactor changes no byte.

Renders, with the code on ``PYTHONPATH``:

- the sample stems: the full mix; the full mix with processed stems
  (``stems_dir``) and :func:`~workbench.mixing.render.master_stems` of them;
  a preview section with pre-roll at 16, 24 and 32 bit, with one worker and
  odd blocks, with each bypass (every stage alone and the plain sum), and
  through a :class:`~workbench.mixing.render.StemCache` (filled, then hit);
- a generated session (``tests/synth.py``, two stereo parts): the full mix with
  processed stems, and a section.

and records the sha256 of every output file, and of the plans used.

Usage (from the repository root)::

    PYTHONPATH=. python scripts/render_fingerprint.py --write scripts/render_fingerprints.json
    PYTHONPATH=. python scripts/render_fingerprint.py --check scripts/render_fingerprints.json

``--check`` exits 1 and lists the files that differ. The fingerprints depend on
the installed numpy/scipy/pedalboard/libsndfile builds, so ``--write`` them
with the code before a change and ``--check`` after it, on the same machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _sha(path: Path) -> str:
    """sha256 of the file; of its format and samples for float WAVs.

    libsndfile stamps the PEAK chunk of a float WAV with the time of writing,
    so two identical float renders differ there and only there.
    """
    import soundfile as sf

    info = sf.info(str(path))
    if info.subtype != "FLOAT":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    head = f"{info.samplerate}/{info.channels}/{info.frames}/{info.subtype}".encode()
    return hashlib.sha256(head + data.tobytes()).hexdigest()


def _session_plan(folder: Path, cache: Path):
    from workbench.mixing.planner import plan_mix
    from workbench.mixing.preview import choose_section
    from workbench.pipeline import prepare

    session, analysis = prepare(folder, cache_dir=cache)
    plan = plan_mix(session, analysis)
    section = choose_section(analysis, 8.0, plan.sample_rate)
    return session, plan, section


def fingerprints(work: Path) -> dict[str, str]:
    """Render every case into ``work``; ``{case/file: sha256}``."""
    from workbench.mixing.plan import STAGES
    from workbench.mixing.render import PLAIN_SUM, StemCache, master_stems, render

    sys.path.insert(0, str(ROOT / "tests"))
    from synth import write_session

    out: dict[str, str] = {}
    generated = write_session(work / "generated", seconds=5.0, stereo=("Keys", "Pad"))
    for tag, folder in (("sample", ROOT / "sample_stems"), ("generated", generated)):
        session, plan, section = _session_plan(folder, work / f"cache-{tag}")
        out[f"{tag}/plan.json"] = hashlib.sha256(plan.to_json().encode()).hexdigest()
        sec = dict(section=(section.start_frame, section.frames), preroll_frames=section.preroll_frames)

        def one(name: str, **kw) -> None:
            path = work / tag / name
            path.parent.mkdir(parents=True, exist_ok=True)
            result = render(plan, session, path, **kw)
            out[f"{tag}/{name}"] = _sha(path)
            for f in result.stem_files:
                out[f"{tag}/{name}:stems/{f.name}"] = _sha(f)

        one("full.wav")
        stems_dir = work / tag / "stems"
        path = work / tag / "full-stems.wav"
        r = render(plan, session, path, stems_dir=stems_dir)
        out[f"{tag}/full-stems.wav"] = _sha(path)
        for f in r.stem_files:
            out[f"{tag}/stems/{f.name}"] = _sha(f)
        remaster = work / tag / "master-stems.wav"
        master_stems(plan, r.stem_files, remaster, master_gain_db=r.master_gain_db,
                     limiter_ceiling_db=r.limiter_ceiling_db)
        out[f"{tag}/master-stems.wav"] = _sha(remaster)
        one("section.wav", **sec)
        one("section-stems.wav", stems_dir=work / tag / "section-stems", stems_bit_depth=32, **sec)
        if tag == "generated":
            continue
        for bits in (16, 24, 32):
            one(f"section-{bits}.wav", bit_depth=bits, **sec)
        one("section-w1-b999.wav", workers=1, block_frames=999, **sec)
        for stage in STAGES:
            one(f"section-no-{stage}.wav", bypass={stage}, **sec)
        one("section-plain.wav", bypass=PLAIN_SUM, **sec)
        cache = StemCache()
        one("section-cache-fill.wav", cache=cache, **sec)
        one("section-cache-hit.wav", cache=cache, **sec)
        one("section-cache-no-reverb.wav", cache=cache, bypass={"reverb"}, **sec)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="record the fingerprints in this JSON file")
    g.add_argument("--check", type=Path, help="compare with the fingerprints in this JSON file")
    args = p.parse_args(argv)
    # A fixed folder: the plans name the stems' folder.
    work = Path(tempfile.gettempdir()) / "workbench-render-fingerprint"
    shutil.rmtree(work, ignore_errors=True)
    try:
        got = fingerprints(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.write:
        args.write.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"{len(got)} fingerprints written to {args.write}")
        return 0
    want = json.loads(args.check.read_text())
    bad = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    for k in bad:
        print(f"DIFFERS: {k}  (recorded {want.get(k, 'missing')[:12]}, now {got.get(k, 'missing')[:12]})")
    print(f"{len(got) - len(bad)} of {len(set(want) | set(got))} fingerprints identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
