"""A Ray worker set-up hook for the tests: while the file named by $AKIT_TEST_CRASH_ARM exists, the first worker to
finish the second frame of a source claims it (renames it to ``<arm>.fired``, holding the folder it was writing)
and dies there with os._exit(1), as a killed machine would; every later attempt runs normally."""

from __future__ import annotations

import os
from pathlib import Path

from alphapose_kit.io.writers import ResultWriter

ARM_ENV = "AKIT_TEST_CRASH_ARM"


def install() -> None:
    """Wrap ResultWriter.write in this worker process (Ray calls this once when the worker starts)."""
    arm = os.environ.get(ARM_ENV)
    if not arm:
        return
    original = ResultWriter.write

    def write(self: ResultWriter, result, image=None) -> None:  # type: ignore[no-untyped-def]
        original(self, result, image)
        if self.frames != 2:
            return
        fired = Path(f"{arm}.fired")
        try:
            os.rename(arm, fired)  # atomic: one worker claims the crash
        except FileNotFoundError:
            return
        fired.write_text(str(self.outdir))
        os._exit(1)

    ResultWriter.write = write  # type: ignore[method-assign]
