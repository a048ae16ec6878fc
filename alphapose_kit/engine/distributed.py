"""Data-parallel training on torchrun: process-group set-up from its environment (NCCL on GPUs, gloo on CPU), the
device of each process, and the few collectives the trainer needs. Outside torchrun everything is a no-op."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from alphapose_kit.errors import AkitError
from alphapose_kit.utils.device import resolve_device


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size`` processes, its device, and whether it saves and logs."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "auto") -> DistContext:
    """Join torchrun's process group when ``WORLD_SIZE`` > 1; each process takes ``cuda:LOCAL_RANK`` (or the CPU).

    ``device`` ``auto`` or ``cuda`` picks the local GPU under torchrun; ``cpu`` forces gloo on CPUs.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(device=resolve_device(device))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if device.startswith("cuda") and not use_cuda:
        raise AkitError(f"device {device!r} requested but CUDA is not available here; use --device cpu")
    if use_cuda:
        if local_rank >= torch.cuda.device_count():
            raise AkitError(f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} CUDA device(s) here")
        torch.cuda.set_device(local_rank)
        target = torch.device(f"cuda:{local_rank}")
    else:
        target = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return DistContext(target, rank, world, local_rank)


def shutdown(ctx: DistContext) -> None:
    """Leave the process group (when this process joined one)."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    """Wait for every process (no-op outside torchrun)."""
    if ctx.distributed:
        dist.barrier()


def all_sum(ctx: DistContext, values: list[float]) -> list[float]:
    """Element-wise sum of ``values`` over all processes (float64)."""
    if not ctx.distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return t.tolist()


def all_true(ctx: DistContext, flag: bool) -> bool:
    """True only if ``flag`` holds on every process (so all of them stop together)."""
    if not ctx.distributed:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item())


def broadcast_object(ctx: DistContext, value: object) -> object:
    """Rank 0's ``value`` on every process."""
    if not ctx.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
