"""The one size rule of the networks: pose inputs (HRNet's four branches end at stride 32) and detector letterbox
sides (YOLO's deepest stride is 32) are positive multiples of 32."""

from __future__ import annotations

from numbers import Real

from alphapose_kit.errors import AkitError

SIZE_STEP = 32


def is_multiple_of_32(value: object) -> bool:
    """Whether ``value`` is a positive number that 32 divides (``True``/``False`` are not sizes)."""
    if not isinstance(value, Real) or isinstance(value, bool):
        return False
    return float(value) > 0 and float(value) % SIZE_STEP == 0


def check_multiple_of_32(value: object, name: str) -> None:
    """One line naming ``name`` unless ``value`` is a positive multiple of 32 (checked before any slow work)."""
    if not is_multiple_of_32(value):
        raise AkitError(f"{name} must be a positive multiple of {SIZE_STEP}, got {value!r}")
