"""Reading pickled PyTorch checkpoints without ever running code from them.

A ``torch.save`` file is a pickle, and a pickle may name any importable callable (``os.system``, ``eval``,
...) to be called while it loads. This module reads such files in two steps:

1. ``torch.load(weights_only=True)``: PyTorch's own restricted reader. It handles every file that holds only
   tensors and plain containers (a state_dict, ``{"state_dict": ...}``, ``{"model": state_dict, "epoch": 3}``).
2. Only if that refuses the file (it names a class such as ``models.yolo.DetectionModel``): ``torch.load``
   again with a pickle module whose ``Unpickler.find_class`` resolves an explicit allow-list and nothing else:

   - the tensor rebuild helpers of ``torch._utils``, ``collections.OrderedDict``, ``set``/``frozenset``,
     ``torch.Size``, torch dtypes and ``_codecs.encode`` (protocol 2's spelling of bytes); storage classes
     are resolved by ``torch.load`` itself, to inert ``StorageType`` records;
   - class names the caller lists (e.g. ``models.common.Conv``, ``torch.nn.modules.conv.Conv2d``) and a few
     metadata types (numpy arrays and scalars, pathlib paths), each mapped to an *inert* :class:`Placeholder`
     that records its constructor arguments and pickled state and runs nothing of the original class;
   - every other name raises :class:`RefusedGlobal`, which :func:`load_checkpoint` turns into
     ``CheckpointError("refused to unpickle <module.name>: a checkpoint may only hold tensors ...")``.

Pickled ``nn.Module`` objects come back as Placeholder trees; :func:`module_state_dict` walks their
``_modules`` / ``_parameters`` / ``_buffers`` into an ordinary state_dict, and :func:`attribute` reads other
plain attributes (``yaml``, ``names``).
"""

from __future__ import annotations

import _codecs
import _compat_pickle
import collections
import io
import os
import pickle
import types
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from alphapose_kit.errors import CheckpointError

__all__ = [
    "METADATA_PLACEHOLDERS",
    "TORCH_NN_MODULES",
    "Placeholder",
    "RefusedGlobal",
    "attribute",
    "is_placeholder",
    "load_checkpoint",
    "module_state_dict",
    "placeholder_class",
    "restricted_pickle_module",
]

# Real callables a checkpoint may name: they build tensors and plain containers, and call nothing that the
# pickle names itself (their arguments are again built under this allow-list).
_TENSOR_GLOBALS: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): torch._utils._rebuild_parameter_with_state,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("torch", "Size"): torch.Size,
    ("_codecs", "encode"): _codecs.encode,  # how pickle protocol 2 writes bytes (as torch's weights_only allows)
}

# Common torch.nn classes, for callers that read pickled modules (each becomes an inert Placeholder).
TORCH_NN_MODULES: tuple[str, ...] = tuple(
    f"torch.nn.modules.{name}"
    for name in (
        "container.Sequential",
        "container.ModuleList",
        "container.ModuleDict",
        "conv.Conv2d",
        "batchnorm.BatchNorm2d",
        "activation.SiLU",
        "activation.ReLU",
        "activation.LeakyReLU",
        "activation.Hardswish",
        "pooling.MaxPool2d",
        "upsampling.Upsample",
        "linear.Identity",
        "linear.Linear",
        "dropout.Dropout",
    )
)

# Metadata types that training checkpoints carry beside the weights (a numpy ``best_fitness``, paths in
# options). Their values are never needed, so they too become inert Placeholders.
METADATA_PLACEHOLDERS: tuple[str, ...] = (
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.ndarray",
    "numpy.dtype",
    "pathlib.Path",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
)


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle named a global that is not on the allow-list."""

    def __init__(self, qualified_name: str) -> None:
        super().__init__(f"refused to unpickle {qualified_name}")
        self.qualified_name = qualified_name


class Placeholder:
    """Inert stand-in for a pickled class: records constructor arguments and pickled state, nothing else.

    Subclasses are made per qualified name by :func:`placeholder_class`; ``_akit_name`` holds that name.
    """

    _akit_name = "?"
    _akit_args: tuple[Any, ...]
    _akit_state: Any

    def __new__(cls, *args: Any, **kwargs: Any) -> Placeholder:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_akit_args", args)
        object.__setattr__(obj, "_akit_state", None)
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        object.__setattr__(self, "_akit_state", state)

    def __repr__(self) -> str:
        return f"<placeholder {self._akit_name}>"


_PLACEHOLDER_CLASSES: dict[str, type[Placeholder]] = {}


def placeholder_class(qualified_name: str) -> type[Placeholder]:
    """The (cached) Placeholder subclass standing for ``module.ClassName``."""
    cls = _PLACEHOLDER_CLASSES.get(qualified_name)
    if cls is None:
        cls = type(
            "Placeholder_" + qualified_name.replace(".", "_"),
            (Placeholder,),
            {"_akit_name": qualified_name, "__module__": __name__},
        )
        _PLACEHOLDER_CLASSES[qualified_name] = cls
    return cls


def is_placeholder(obj: Any, qualified_name: str | None = None) -> bool:
    """Whether ``obj`` is a Placeholder (standing for ``qualified_name`` if given)."""
    return isinstance(obj, Placeholder) and (qualified_name is None or obj._akit_name == qualified_name)


def _printable(text: str, limit: int = 120) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _make_unpickler(placeholders: frozenset[str]) -> type[pickle.Unpickler]:
    class RestrictedUnpickler(pickle.Unpickler):
        """pickle.Unpickler whose find_class resolves only the allow-list (see the module docstring)."""

        allowed_placeholders = placeholders

        def find_class(self, module: str, name: str) -> Any:
            # Python-2 era names (protocol 2 writes ``__builtin__.set``) mapped as pickle itself would.
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
            key = (module, name)
            if key in _TENSOR_GLOBALS:
                return _TENSOR_GLOBALS[key]
            if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
                return getattr(torch, name)
            qualified = f"{module}.{name}"
            if qualified in self.allowed_placeholders:
                return placeholder_class(qualified)
            raise RefusedGlobal(_printable(qualified))

    return RestrictedUnpickler


def restricted_pickle_module(placeholders: Iterable[str] = ()) -> types.ModuleType:
    """A pickle-like module for ``torch.load(pickle_module=...)`` that resolves only the allow-list.

    ``placeholders``: qualified class names (``"models.common.Conv"``) to load as inert Placeholders, on top
    of :data:`METADATA_PLACEHOLDERS`.
    """
    allowed = frozenset(placeholders) | frozenset(METADATA_PLACEHOLDERS)
    unpickler = _make_unpickler(allowed)
    module = types.ModuleType(f"{__name__}.restricted")

    def load(file: Any, **kwargs: Any) -> Any:
        return unpickler(file, **kwargs).load()

    def loads(data: bytes, **kwargs: Any) -> Any:
        return unpickler(io.BytesIO(data), **kwargs).load()

    module.Unpickler = unpickler  # type: ignore[attr-defined]
    module.load = load  # type: ignore[attr-defined]
    module.loads = loads  # type: ignore[attr-defined]
    module.UnpicklingError = pickle.UnpicklingError  # type: ignore[attr-defined]
    return module


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return _printable(lines[0], 200) if lines else type(exc).__name__


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("constants.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def load_checkpoint(path: str | os.PathLike, placeholders: Iterable[str] = ()) -> Any:
    """Read a ``torch.save`` file onto the CPU without running code from it.

    Tensor-only files come back exactly as ``torch.load`` gives them. Files with pickled objects come back
    with those objects as Placeholders, provided every class they name is in ``placeholders`` (or a metadata
    type); a name outside the allow-list raises CheckpointError before anything of it runs.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if _is_torchscript(path):
        raise CheckpointError(f"{path}: is a TorchScript archive, not a checkpoint; akit reads torch.save files")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")  # raw pickles: refused below
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        pass  # names a class: try the restricted reader below
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({_first_line(exc)})") from None
    try:
        with warnings.catch_warnings():
            # legacy (pre-zip) files compare each module's saved source with the (placeholder) class's
            warnings.filterwarnings("ignore", message="Couldn't retrieve source code for container")
            return torch.load(
                path, map_location="cpu", pickle_module=restricted_pickle_module(placeholders), weights_only=False
            )
    except RefusedGlobal as exc:
        raise CheckpointError(
            f"refused to unpickle {exc.qualified_name}: a checkpoint may only hold tensors ({path})"
        ) from None
    except Exception as exc:  # anything else a malformed pickle can raise
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({_first_line(exc)})") from None


def _state_dict_of(node: Placeholder) -> Mapping[str, Any]:
    state = node._akit_state
    if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
        state = state[0]
    return state if isinstance(state, Mapping) else {}


def attribute(node: Any, name: str, default: Any = None) -> Any:
    """A pickled attribute of a Placeholder (``yaml``, ``names``...), or ``default``."""
    if not isinstance(node, Placeholder):
        return default
    return _state_dict_of(node).get(name, default)


def module_state_dict(root: Placeholder, max_depth: int = 64) -> dict[str, torch.Tensor]:
    """The state_dict of a pickled ``nn.Module`` tree (Placeholders), with ``state_dict()``'s dotted names.

    Walks ``_parameters``, ``_buffers`` (minus ``_non_persistent_buffers_set``) and ``_modules``, keeps
    tensors only and converts half/bfloat16 to float32. Raises CheckpointError on anything malformed.
    """
    out: dict[str, torch.Tensor] = {}

    def visit(node: Any, prefix: str, path: tuple[int, ...]) -> None:
        where = prefix.rstrip(".") or "the model"
        if not isinstance(node, Placeholder):
            raise CheckpointError(f"checkpoint module {where} is a {type(node).__name__}, not a pickled module")
        if id(node) in path or len(path) > max_depth:
            raise CheckpointError(f"checkpoint module {where} contains itself")
        state = _state_dict_of(node)
        skip = state.get("_non_persistent_buffers_set") or ()
        for group in ("_parameters", "_buffers"):
            entries = state.get(group) or {}
            if not isinstance(entries, Mapping):
                raise CheckpointError(f"checkpoint module {where}: {group} is not a dict")
            for name, value in entries.items():
                if value is None or (group == "_buffers" and name in skip):
                    continue
                if not isinstance(name, str) or not isinstance(value, torch.Tensor):
                    raise CheckpointError(f"checkpoint module {where}: entry {_printable(name)} is not a tensor")
                tensor = value.detach()
                if tensor.is_floating_point() and tensor.dtype != torch.float32:
                    tensor = tensor.float()
                out[prefix + name] = tensor
        children = state.get("_modules") or {}
        if not isinstance(children, Mapping):
            raise CheckpointError(f"checkpoint module {where}: _modules is not a dict")
        for name, child in children.items():
            if child is None:
                continue
            if not isinstance(name, str):
                raise CheckpointError(f"checkpoint module {where}: a submodule name is not a string")
            visit(child, f"{prefix}{name}.", (*path, id(node)))

    visit(root, "", ())
    return out
