"""Mix settings: one validated dataclass of the user's choices."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import WorkbenchError

#: The ranges a user may ask for (the plan's master is held to the same ones,
#: :mod:`workbench.mixing.plan`).
TARGET_LUFS_RANGE = (-40.0, -5.0)
CEILING_DBTP_RANGE = (-12.0, 0.0)
BIT_DEPTHS = (16, 24)
SAMPLE_RATES = (44100, 48000, 88200, 96000)


@dataclass(frozen=True)
class MixSettings:
    """What the user may set for a mix; everything else is decided from the stems.

    Parameters
    ----------
    target_lufs : float
        Integrated loudness of the finished mix (ITU-R BS.1770-4). −14 LUFS is our
        engineering choice: the level the large streaming services normalise music
        to on playback, so the mix is neither turned down nor up there. (AES TD1008,
        2021, recommends −16 LUFS for track-normalised streaming delivery.)
    ceiling_dbtp : float
        True-peak ceiling of the mix. −1 dBTP leaves room for lossy encoding:
        the maximum permitted true-peak level of EBU R 128 (2020), also
        recommended by AES TD1008 (2021).
    bit_depth : int
        16 (dithered, the delivery spec of DESIGN §6) or 24.
    sample_rate : int
        Output sample rate.
    width : float
        0..1 scale of every stereo stem's own width (1 keeps it as recorded).
    preview_seconds : float
        Length of the preview section.
    max_eq_cut_db : float
        Deepest unmasking cut the planner may make.
    pan_style : {"authored", "wide"}
        How far parts are spread: ``"authored"`` (default) as far as the authors
        of the training corpus spread them; ``"wide"`` the full spectral spread.
    """

    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0
    bit_depth: int = 16
    sample_rate: int = 44100
    width: float = 1.0
    preview_seconds: float = 30.0
    max_eq_cut_db: float = 6.0
    pan_style: str = "authored"

    def __post_init__(self) -> None:
        checks = [
            ("target_lufs", TARGET_LUFS_RANGE[0] <= self.target_lufs <= TARGET_LUFS_RANGE[1],
             "between −40 and −5 LUFS"),
            ("ceiling_dbtp", CEILING_DBTP_RANGE[0] <= self.ceiling_dbtp <= CEILING_DBTP_RANGE[1],
             "between −12 and 0 dBTP"),
            ("bit_depth", self.bit_depth in BIT_DEPTHS, "16 or 24"),
            ("sample_rate", self.sample_rate in SAMPLE_RATES, "44100, 48000, 88200 or 96000"),
            ("width", 0.0 <= self.width <= 1.0, "between 0 and 1"),
            ("preview_seconds", 5.0 <= self.preview_seconds <= 120.0, "between 5 and 120 s"),
            ("max_eq_cut_db", 0.0 <= self.max_eq_cut_db <= 12.0, "between 0 and 12 dB"),
            ("pan_style", self.pan_style in ("authored", "wide"), '"authored" or "wide"'),
        ]
        for name, ok, valid in checks:
            if not ok:
                raise WorkbenchError("bad_setting", f"The setting {name}={getattr(self, name)!r} is out of range.",
                                     f"Use a value {valid}.")

    def to_dict(self) -> dict:
        return asdict(self)
