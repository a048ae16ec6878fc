"""Many sources at once: ``akit infer SOURCES... --ray`` runs each source as a Ray task (Ray is an optional extra,
imported only when a batch runs)."""

from alphapose_kit.batch.manifest import MANIFEST_NAME, Manifest, SourceResult
from alphapose_kit.batch.runner import run_batch
from alphapose_kit.batch.sources import BatchSource, expand_sources

__all__ = ["MANIFEST_NAME", "BatchSource", "Manifest", "SourceResult", "expand_sources", "run_batch"]
