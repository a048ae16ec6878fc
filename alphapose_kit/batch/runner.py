"""``akit infer SOURCES... --ray``: every source a Ray task, on a local Ray runtime or a cluster.

Facts from Ray's documentation (docs.ray.io, ray-core fault tolerance for tasks; ``ray.init``): a task whose worker
process dies is run again up to ``max_retries`` times, an exception it raises is not retried; ``ray.init`` with
``address="local"`` starts a new runtime, with a cluster's address joins it. Ray assigns each ``num_gpus=1`` task
its own GPU through ``CUDA_VISIBLE_DEVICES`` and sets ``OMP_NUM_THREADS`` to a task's ``num_cpus``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

from alphapose_kit.batch.manifest import Manifest, SourceResult
from alphapose_kit.batch.sources import expand_sources
from alphapose_kit.batch.worker import remove_leftovers, run_source
from alphapose_kit.engine.options import InferOptions
from alphapose_kit.errors import AkitError
from alphapose_kit.io.run_dir import ensure_writable_dir, next_run_dir
from alphapose_kit.utils.logging import get_logger

log = get_logger("batch")
INSTALL_HINT = "akit infer --ray needs Ray: pip install 'alphapose-kit[ray]' (or pip install ray)"
DEFAULT_WORKER_THREADS = 2  # torch threads of a CPU worker when --threads is not given
MAX_RETRIES = 3  # Ray's default for tasks, stated
HEAD_PORT, CLIENT_PORT = 6379, 10001  # Ray's defaults: `ray start --head --port`, Ray Client server
CONNECT_TIMEOUT_S = 5.0
PATH_OPTIONS = ("config", "checkpoint", "detfile", "pose_model", "detector_model", "detector_weights")


def run_batch(
    sources: Sequence[str],
    options: InferOptions,
    outdir: str | Path | None = None,
    ray: str = "auto",
    *,
    num_cpus: int | None = None,
    max_retries: int = MAX_RETRIES,
) -> Manifest:
    """Run ``akit infer`` on every source as a Ray task into ``outdir/<name>/`` and keep ``outdir/manifest.json``
    (rewritten after each source); sources already done there are skipped. ``ray``: ``auto`` starts a local runtime
    (``num_cpus``: its CPUs, default all), else a cluster address to join. ``options.source``/``outdir`` are ignored.
    Returns the manifest; failed sources are in ``manifest.failed()``, not raised."""
    options.validate()
    options = portable_options(dataclasses.replace(options, ray=None))  # each worker runs one source, as infer
    root = Path(outdir or next_run_dir("infer")).resolve()
    manifest = Manifest.open(root, options)
    items = expand_sources(sources, taken=manifest.names())
    todo = [item for item in items if not manifest.is_done(item.name)]
    if len(todo) < len(items):
        log.info(f"{len(items) - len(todo)} of {len(items)} sources already done in {root}: skipped")
    if not todo:
        return manifest
    check_address(ray)
    ray_module = import_ray()
    ensure_writable_dir(root)
    with ray_runtime(ray_module, ray, num_cpus):
        resources, worker_options = task_resources(ray_module, options)
        task = ray_module.remote(run_source).options(max_retries=max_retries, **resources)
        pending = {task.remote(item, worker_options, root): item for item in todo}
        order = [item.name for item in items]
        try:
            while pending:
                ready, _ = ray_module.wait(list(pending), num_returns=1)
                item = pending.pop(ready[0])
                try:
                    result = ray_module.get(ready[0])
                except ray_module.exceptions.RayError as exc:  # its worker died every time, or a bug raised
                    remove_leftovers(root, item.name)
                    reason = _first_line(exc)
                    if isinstance(
                        exc, (ray_module.exceptions.WorkerCrashedError, ray_module.exceptions.OutOfMemoryError)
                    ):
                        reason = f"its worker died on all {max_retries + 1} attempts ({reason})"
                    result = SourceResult(item.name, item.source, "failed", error=reason)
                manifest.record(result, order)
                log.info(f"[{len(todo) - len(pending)}/{len(todo)}] {result.line()}")
        except KeyboardInterrupt:
            for ref in pending:
                ray_module.cancel(ref, force=True)
            raise
    return manifest


def check_address(address: str) -> None:
    """A cluster address that nothing answers at is one line at once (``ray.init`` would wait for minutes).
    ``HOST`` alone means Ray's default port, 6379 for a head node, 10001 for a ``ray://`` client server."""
    if address == "auto":
        return
    parsed = urlparse(address if "://" in address else f"//{address}")
    try:
        host, port = parsed.hostname, parsed.port or (CLIENT_PORT if parsed.scheme == "ray" else HEAD_PORT)
    except ValueError:
        host = None
    if not host or parsed.scheme not in ("", "ray"):
        raise AkitError(f"--ray {address}: give auto, HOST:PORT of a head node or ray://HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise AkitError(
            f"no Ray cluster answers at {host}:{port} ({exc.strerror or exc}); start one there with "
            "`ray start --head`, or pass --ray auto for a local one"
        ) from None


def import_ray() -> ModuleType:
    """The ``ray`` package, or one line saying how to install it (akit itself runs without Ray)."""
    try:
        import ray
    except ImportError:
        raise AkitError(INSTALL_HINT) from None
    return ray


@contextmanager
def ray_runtime(ray: ModuleType, address: str, num_cpus: int | None) -> Iterator[None]:
    """Use the Ray runtime this process already joined, or start a local one (``auto``) / join ``address``, and
    leave it again afterwards (a cluster keeps running; only this driver disconnects)."""
    if ray.is_initialized():
        yield
        return
    settings: dict[str, Any] = {"logging_level": logging.WARNING}
    if address == "auto":
        settings.update(address="local", num_cpus=num_cpus or os.cpu_count(), include_dashboard=False)
    else:
        settings.update(address=address)
    try:
        ray.init(**settings)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "start a local Ray runtime" if address == "auto" else f"join the Ray cluster at {address}"
        raise AkitError(f"could not {where} ({_first_line(exc)})") from None
    try:
        yield
    finally:
        ray.shutdown()


def task_resources(ray: ModuleType, options: InferOptions) -> tuple[dict[str, Any], InferOptions]:
    """Ray resources of one source's task and the options its worker runs with: where the cluster has GPUs (and
    not ``--device cpu``) one GPU each with the cluster's CPUs per GPU, else CPUs only, ``--threads`` each (default
    2); never more CPUs than a node has (such a task would wait forever)."""
    total = ray.cluster_resources()
    gpus, cpus = total.get("GPU", 0), total.get("CPU", 0)
    node_cpus = max(int(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node["Alive"])
    if options.device.startswith("cuda") and gpus < 1:
        raise AkitError(f"--device {options.device}: the Ray cluster has no GPU")
    if gpus >= 1 and options.device != "cpu":
        threads = max(1, min(options.threads or int(cpus // gpus), node_cpus))
        device = "cuda" if options.device.startswith("cuda") else options.device  # Ray picks the GPU
        return {"num_gpus": 1, "num_cpus": threads}, dataclasses.replace(options, device=device, threads=threads)
    threads = max(1, min(options.threads or DEFAULT_WORKER_THREADS, node_cpus))
    return {"num_cpus": threads}, dataclasses.replace(options, threads=threads)


def portable_options(options: InferOptions) -> InferOptions:
    """The options with every file they name made absolute, so workers in other working folders (or on other
    machines sharing the file system) open the same files; zoo names stay names."""
    changes: dict[str, Any] = {}
    for name in PATH_OPTIONS:
        value = getattr(options, name)
        if value and Path(value).exists():
            changes[name] = str(Path(value).resolve())
    return dataclasses.replace(options, **changes)


def _first_line(exc: BaseException) -> str:
    """A one-line reason: the original exception of a Ray task error, else the error's own first line."""
    cause = getattr(exc, "cause", None)
    shown = cause if isinstance(cause, BaseException) else exc
    text = str(shown).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(shown).__name__}: {first}" if first else type(shown).__name__
