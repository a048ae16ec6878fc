"""The evaluation figure: per-joint accuracy bars and AP against the OKS threshold, as one PNG (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alphapose_kit.errors import AkitError


def save_plot(metrics: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Write the PNG for one pass's metrics (``per_joint`` and ``ap_by_oks`` entries); returns its path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    per_joint = metrics["per_joint"]
    names = list(per_joint)
    accuracy = [per_joint[n]["accuracy"] or 0.0 for n in names]
    thresholds = [float(t) for t in metrics["ap_by_oks"]]
    ap = [max(v, 0.0) for v in metrics["ap_by_oks"].values()]
    fig, (bars, curve) = plt.subplots(1, 2, figsize=(12, 0.28 * len(names) + 2), gridspec_kw={"width_ratios": [3, 2]})
    try:
        bars.barh(range(len(names)), accuracy, color="#4c72b0")
        bars.set_yticks(range(len(names)), names, fontsize=8)
        bars.invert_yaxis()
        bars.set_xlim(0, 1)
        bars.set_xlabel("fraction within the OKS thresholds (matched people)")
        bars.set_title(f"per-joint accuracy ({metrics['matched_people']} matched people)")
        curve.plot(thresholds, ap, marker="o", color="#dd8452")
        curve.set_xlim(0.5, 0.95)
        curve.set_ylim(0, 1)
        curve.set_xlabel("OKS threshold")
        curve.set_ylabel("AP")
        curve.set_title(f"AP {metrics['AP']:.3f} (mean over thresholds)")
        curve.grid(alpha=0.3)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        tmp = path.with_name(path.name + ".tmp.png")
        fig.savefig(tmp, dpi=100)
        tmp.replace(path)
    except OSError as exc:
        raise AkitError(f"could not write {path} ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)
    return path
