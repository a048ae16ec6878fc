"""Reader for darknet ``.cfg`` network definitions (the format of YOLOv3 / YOLOv3-SPP).

A cfg file is a list of ``[section]`` headers, each followed by ``key=value`` lines. Comments start with ``#`` or
``;``. :func:`parse_darknet_cfg` turns it into a list of plain dicts, one per section, in file order::

    {"type": "convolutional", "batch_normalize": 1, "filters": 32, "size": 3, "stride": 1, "pad": 1,
     "activation": "leaky"}

Values are typed: integers -> ``int``, other numbers -> ``float``, comma-separated numbers (and always the keys
``layers``, ``mask``, ``anchors``, ``steps``, ``scales``) -> ``list`` of numbers, anything else -> ``str``.
"""

from __future__ import annotations

import re
from pathlib import Path

from alphapose_kit.errors import ConfigError

BlockValue = str | int | float | list
Block = dict[str, BlockValue]

#: Section names akit can build a network from, with darknet's accepted aliases mapped to one spelling.
SECTION_ALIASES = {
    "net": "net",
    "network": "net",
    "convolutional": "convolutional",
    "conv": "convolutional",
    "shortcut": "shortcut",
    "route": "route",
    "upsample": "upsample",
    "maxpool": "maxpool",
    "max": "maxpool",
    "yolo": "yolo",
}

#: Options that are lists even when they hold a single number (``layers=-4`` -> ``[-4]``).
LIST_KEYS = frozenset({"layers", "mask", "anchors", "steps", "scales"})

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(text: str) -> int | float | None:
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return None


def _value(key: str, text: str, where: str) -> BlockValue:
    if key in LIST_KEYS or "," in text:
        parts = [p.strip() for p in text.split(",")]
        parts = [p for p in parts if p]  # darknet tolerates a trailing comma
        numbers = [_number(p) for p in parts]
        if all(n is not None for n in numbers) and numbers:
            return numbers
        if key in LIST_KEYS:
            raise ConfigError(f"{where}: '{key}' must be a comma-separated list of numbers, got {text!r}")
        return text
    number = _number(text)
    return text if number is None else number


def _read_source(source: str | Path) -> tuple[str, str]:
    """Return (text, name used in error messages)."""
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("[") or not source.strip()):
        return source, "<cfg text>"
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8-sig"), str(path)
    except FileNotFoundError:
        raise ConfigError(f"darknet cfg file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"darknet cfg path is a directory, not a file: {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a darknet cfg (not UTF-8 text)") from None
    except OSError as err:
        raise ConfigError(f"cannot read darknet cfg {path}: {err.strerror or err}") from None


def parse_darknet_cfg(source: str | Path) -> list[Block]:
    """Parse a darknet ``.cfg`` (a path, or the cfg text itself) into one dict per section, in file order.

    Each dict has ``"type"`` (the section name, aliases normalised: ``network`` -> ``net``, ``conv`` ->
    ``convolutional``, ``max`` -> ``maxpool``) plus the section's options. Raises :class:`ConfigError` naming the
    file and line for an unknown section, an option outside any section, a line that is not ``key=value``, an
    option given twice in one section, or a file without sections.
    """
    text, name = _read_source(source)
    blocks: list[Block] = []
    block: Block | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line[0] in "#;":
            continue
        where = f"{name} line {lineno}"
        if line.startswith("["):
            if not line.endswith("]"):
                raise ConfigError(f"{where}: section header {line!r} is missing its closing ']'")
            section = line[1:-1].strip().lower()
            if section not in SECTION_ALIASES:
                known = ", ".join(f"[{s}]" for s in sorted(set(SECTION_ALIASES.values())))
                raise ConfigError(f"{where}: unknown section [{section}]; akit supports {known}")
            block = {"type": SECTION_ALIASES[section]}
            blocks.append(block)
            continue
        if block is None:
            raise ConfigError(f"{where}: option {line!r} appears before the first [section]")
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.split("#", 1)[0].strip()
        if not sep or not key:
            raise ConfigError(f"{where}: expected 'key=value', got {line!r}")
        if key in block:
            raise ConfigError(f"{where}: option '{key}' is set twice in this [{block['type']}] section")
        block[key] = _value(key, value, where)
    if not blocks:
        raise ConfigError(f"{name} has no [sections]; it is not a darknet cfg")
    return blocks
