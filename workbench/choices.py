"""Lists of names a user picks from (``--versions``, ``--deliver``): parsed and checked in one place."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ParameterError


def parse_name_list(value: str | Iterable[str] | None, allowed: tuple[str, ...], *, field: str,
                    noun: str) -> tuple[str, ...]:
    """The names asked for — ``"all"``, a comma-separated string or an iterable — in ``allowed`` order.

    Parameters
    ----------
    value : str, iterable of str or None
        What the user gave (``None``: nothing).
    allowed : tuple of str
        The valid names, in the order they are returned.
    field, noun : str
        The option and what one name is ("versions", "version"), for the message.

    Raises
    ------
    ParameterError
        Naming the first unknown name and the valid ones.
    """
    if value is None:
        return ()
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else [str(v).strip() for v in value]
    names = [n for n in names if n]
    if "all" in names:
        return allowed
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ParameterError(f"{field}: unknown {noun} {unknown[0]!r}.",
                             f"Use 'all' or some of: {', '.join(allowed)} (comma-separated).")
    return tuple(n for n in allowed if n in names)
