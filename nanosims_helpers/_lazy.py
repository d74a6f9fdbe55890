"""Names resolved when first used, and the old spellings that keep working for one release.

The package and its subpackages import nothing heavy when they are imported: each ``__init__``
calls :func:`attach`, which answers an attribute (a submodule, or a name of one) by importing
its module when it is first asked for (PEP 562, as scikit-image does with ``lazy_loader``).
So ``import nanosims_helpers`` and ``nanosims-cluster --help`` start at once, and a program
loads scikit-learn or Matplotlib only when it uses something that needs them.

An old spelling (a module that moved, a top-level name, an argument renamed) still works in
this release and says what to write instead with a :class:`DeprecationWarning`
(:func:`deprecated`, the one place that words it).
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["MOVED_MODULES", "attach", "deprecated", "renamed"]

#: Modules that moved, old name -> new name; importing the old name (or a module inside it) gives
#: the new one, with a warning. Kept for one release.
MOVED_MODULES = {
    "nanosims_helpers.io.image": "nanosims_helpers.image",
    "nanosims_helpers.io.outputs": "nanosims_helpers.runs.outputs",
    "nanosims_helpers.io.study_outputs": "nanosims_helpers.runs.study_outputs",
    "nanosims_helpers.io.samples": "nanosims_helpers.teaching.samples",
    "nanosims_helpers.challenge": "nanosims_helpers.teaching.challenge",
    "nanosims_helpers.environment_check": "nanosims_helpers.teaching.environment_check",
    "nanosims_helpers.exercises": "nanosims_helpers.teaching.exercises",
    "nanosims_helpers.realistic": "nanosims_helpers.teaching.realistic",
    "nanosims_helpers.supervised": "nanosims_helpers.teaching.supervised",
    "nanosims_helpers.synthetic": "nanosims_helpers.teaching.synthetic",
}


def deprecated(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is an old spelling of ``new`` (:class:`DeprecationWarning`).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     deprecated("seed=", "random_state=")
    >>> print(caught[0].message)
    seed= is deprecated: use random_state= (the old spelling works in this release only)
    """
    warnings.warn(f"{old} is deprecated: use {new} (the old spelling works in this release only)",
                  DeprecationWarning, stacklevel=stacklevel)


def renamed(**renames):
    """Decorate a function whose keyword arguments were renamed: ``@renamed(seed="random_state")``.

    A call with an old name (``f(seed=3)``) works as the new one, with a warning
    (:func:`deprecated`); giving both names is an error. The signature shows the new names only.

    Examples
    --------
    >>> import warnings
    >>> @renamed(seed="random_state")
    ... def draw(*, random_state=0):
    ...     return random_state
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     draw(seed=3)
    3
    """

    def decorate(function):
        @functools.wraps(function)
        def with_old_names(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        from .errors import NanoSIMSError

                        raise NanoSIMSError(f"{function.__name__}: give {new}= only ({old}= is its old name).")
                    deprecated(f"{function.__name__}({old}=...)", f"{function.__name__}({new}=...)")
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return with_old_names

    return decorate


def attach(package: str, submodules=(), names=None, old_names=None):
    """Return ``__getattr__``, ``__dir__`` and ``__all__`` for a package whose names load when first used.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    submodules : sequence of str
        Its submodules and subpackages, imported when first asked for.
    names : dict, optional
        Name -> submodule (relative to ``package``) that defines it.
    old_names : dict, optional
        Name -> submodule, as ``names``, but each use warns (:func:`deprecated`) and names the
        submodule to import it from instead. Not in ``__all__``.
    """
    names = dict(names or {})
    old_names = dict(old_names or {})
    public = sorted({*submodules, *names})

    def __getattr__(name: str):
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        if name in names:
            value = getattr(importlib.import_module(f"{package}.{names[name]}"), name)
            setattr(sys.modules[package], name, value)
            return value
        if name in old_names:
            home = f"{package}.{old_names[name]}"
            deprecated(f"from {package} import {name}", f"from {home} import {name}")
            return getattr(importlib.import_module(home), name)
        if f"{package}.{name}" in MOVED_MODULES:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return public

    return __getattr__, __dir__, public


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import a module of :data:`MOVED_MODULES` (or one inside it) under its old name: the new module, warned."""

    def __init__(self):
        self._specs = {}

    @staticmethod
    def new_name(name: str) -> str | None:
        for old, new in MOVED_MODULES.items():
            if name == old or name.startswith(old + "."):
                return new + name[len(old):]
        return None

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if self.new_name(name) else None

    def create_module(self, spec):
        new = self.new_name(spec.name)
        deprecated(f"module {spec.name}", f"module {new}", stacklevel=2)
        module = importlib.import_module(new)
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self._specs.pop(module.__spec__.name)  # the import system set the old name's spec


def install_moved_modules() -> None:
    """Let the old names of :data:`MOVED_MODULES` be imported (once per process)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MovedModuleFinder())
