"""What an export wrote and how it compared with PyTorch (shared by the fp32/fp16 exporters and INT8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alphapose_kit.deploy.verify import Comparison


@dataclass
class ExportResult:
    """What an export wrote and how it compared with PyTorch."""

    path: Path
    comparison: Comparison
    metadata: dict[str, Any]
    report_path: Path | None = None
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size

    def line(self) -> str:
        """The one line ``akit export`` prints at the end."""
        extra = f" (report {self.report_path})" if self.report_path else ""
        return f"exported {self.metadata['model']} ({self.metadata['precision']}) -> {self.path}{extra}"
