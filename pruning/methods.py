"""The pruning methods: one `Method` record each, and the registry that holds them (no torch).

Everything the rest of the project knows about a method is read from its record: the scopes it
takes (its natural one first), its options with their defaults, whether it needs calibration
text, whether its masks may be cached and reused, whether it draws a mask per seed, and whether
it fixes its own sparsity. The compute function is named as "module:function" and imported on
first use, so validating a spec never imports torch; a test may register a callable instead.

A compute function takes, by name, any of: model, params (the tensors to prune, by name),
sparsity, scope, calibration, seed, and the method's own options; it returns the masks
(True = kept). Adding a method is its file plus one `register_method(Method(...))` line below.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from pruning.errors import PruningError

REQUIRED = object()
"""The default of an option that has none: the user must give it."""


@dataclass(frozen=True)
class Option:
    """A method option: a whole number or a number, at least `low`, with its default."""

    kind: type[int] | type[float]
    low: float
    default: Any = REQUIRED

    def check(self, method: str, name: str, value: object) -> int | float:
        """The value as this option's kind; PruningError naming the option if it does not fit."""
        number = Integral if self.kind is int else Real
        if isinstance(value, bool) or not isinstance(value, number) or value < self.low:
            what = "an integer" if self.kind is int else "a number"
            raise PruningError(f"{method} option {name} = {value!r} must be {what} >= {self.low}")
        return self.kind(value)


def _patterns(name: str, value: object) -> list[str] | None:
    if value is not None and not (
        isinstance(value, list | tuple) and all(isinstance(p, str) and p for p in value)
    ):
        raise PruningError(
            f"{name} = {value!r} must be a list of name patterns, e.g. ['*.attention.*']"
        )
    return None if value is None else list(value)


SELECTION = ("include", "exclude", "targets")
"""Options every method takes: which tensors to prune (see pruning.selection)."""


@dataclass(frozen=True)
class Method:
    """Everything about one pruning method."""

    name: str
    scopes: tuple[str, ...]  # the scopes it takes, its natural one first
    compute: str | Callable[..., dict]  # "module:function", imported on first use, or a callable
    options: Mapping[str, Option] = field(default_factory=dict)  # its own, beside SELECTION
    check: Callable[[dict[str, Any]], None] | None = None  # a rule across its options
    needs_calibration: bool = False  # takes activations of calibration text
    cacheable: bool = True  # its masks alone reproduce its result (False: it rewrites weights)
    seeded: bool = False  # draws a different mask per seed
    sets_sparsity: Callable[[dict[str, Any]], float] | None = None  # fixes it from the options
    needs: str = ""  # what a missing option should have said, in words (default: their names)
    # which weights it may prune: `blocks` (the linear layers inside the blocks, the default)
    # and, for methods that need no linear layer, `all` (every matrix, the seed's translation rule)
    targets: tuple[str, ...] = ("blocks",)
    # bumped when the algorithm changes its masks for the same inputs, so that rows and stored
    # masks of the earlier algorithm are not taken for this one's (it enters both keys when > 1)
    revision: int = 1

    @property
    def scope(self) -> str:
        """The natural scope: the default where a spec names none."""
        return self.scopes[0]

    def check_scope(self, scope: str) -> str:
        """The scope, if the method takes it; PruningError listing the allowed ones otherwise."""
        if scope not in self.scopes:
            allowed = ", ".join(self.scopes)
            raise PruningError(
                f"scope = {scope!r} is not allowed for {self.name}; allowed: {allowed}"
            )
        return scope

    def resolve_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The options with their defaults, checked; PruningError naming the first bad one."""
        calibration = ("calibration",) if self.needs_calibration else ()
        allowed = (*self.options, *SELECTION, *calibration)
        for name in given:
            if name not in allowed:
                raise PruningError(
                    f"option {name!r} is unknown for method {self.name}; "
                    f"allowed: {', '.join(allowed)}"
                )
        resolved = {name: _patterns(name, given.get(name)) for name in SELECTION[:2]}
        resolved["targets"] = given.get("targets") or "blocks"
        if resolved["targets"] not in self.targets:
            raise PruningError(
                f"{self.name} option targets = {resolved['targets']!r}; allowed: "
                f"{', '.join(self.targets)}"
            )
        for name, option in self.options.items():
            value = given.get(name, option.default)
            if value is REQUIRED:
                required = [n for n, o in self.options.items() if o.default is REQUIRED]
                raise PruningError(
                    f"{self.name} needs {self.needs or 'the options ' + ' and '.join(required)}"
                )
            resolved[name] = option.check(self.name, name, value)
        if self.check is not None:
            self.check(resolved)
        return resolved

    def sparsity(self, requested: object, options: Mapping[str, Any]) -> float:
        """The sparsity it prunes to: the requested one, or its own (then None or equal to it)."""
        if self.sets_sparsity is None:
            return check_sparsity(requested)
        own = self.sets_sparsity(options)
        if requested is not None and not math.isclose(check_sparsity(requested), own):
            raise PruningError(
                f"sparsity = {requested!r} disagrees with {self.name} {self._label(options)}, "
                f"whose sparsity is {own}; pass that or None"
            )
        return own

    def sparsities(self, requested: list[float], options: Mapping[str, Any]) -> list[float]:
        """The sparsities a sweep runs it at: its own, if it fixes one, else those requested."""
        return [self.sets_sparsity(options)] if self.sets_sparsity else requested

    def _label(self, options: Mapping[str, Any]) -> str:
        return ":".join(str(options[name]) for name in self.options)  # nm 2:4

    def function(self) -> Callable[..., dict]:
        """The compute function, imported now if it was named as a string."""
        if callable(self.compute):
            return self.compute
        module, _, name = self.compute.partition(":")
        return getattr(importlib.import_module(module), name)

    def run(self, **arguments: Any) -> dict:
        """Call the compute function with the arguments it names."""
        fn = self.function()
        accepted = inspect.signature(fn).parameters
        return fn(**{k: v for k, v in arguments.items() if k in accepted})


def check_sparsity(sparsity: object) -> float:
    """The sparsity as a float in [0, 1); PruningError otherwise."""
    if isinstance(sparsity, bool) or not isinstance(sparsity, Real) or not 0 <= sparsity < 1:
        raise PruningError(f"sparsity = {sparsity!r} is outside [0, 1)")
    return float(sparsity)


METHODS: dict[str, Method] = {}
"""The registered methods by name, in registration order."""

RTN_BITS = (8, 4, 3, 2)
"""The bit widths round-to-nearest quantization (pruning.rtn) supports."""

NOT_A_MASK = {
    "rtn": "rtn (round-to-nearest quantization) quantizes and makes no mask: in a sweep, "
    "write it under quantization: [{method: rtn, bits: [8, 4, 3, 2], group_size: 128}]; "
    "in code, call pruning.quantize_rtn(model, bits, group_size)"
}
"""Names of the pruning library that are no mask method, and what to do instead."""


def register_method(method: Method) -> Method:
    """Add a method to the registry; its name must be new and its record whole."""
    if method.name in METHODS or method.name in NOT_A_MASK:
        raise ValueError(f"pruning method {method.name!r} is registered twice")
    if not method.scopes:
        raise ValueError(f"pruning method {method.name!r} has no scope")
    if not callable(method.compute) and ":" not in method.compute:
        raise ValueError(f"pruning method {method.name!r}: compute names no 'module:function'")
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    """The registered method; PruningError listing the known ones otherwise."""
    if name in NOT_A_MASK:
        raise PruningError(f"method = {name!r}: {NOT_A_MASK[name]}")
    if name not in METHODS:
        raise PruningError(f"method = {name!r} is unknown; allowed: {', '.join(METHODS)}")
    return METHODS[name]


def _keep_below_of(options: dict[str, Any]) -> None:
    if options["keep"] >= options["of"]:
        raise PruningError(
            f"nm: keep = {options['keep']} must be smaller than of = {options['of']}"
        )


ANY_MATRIX = ("blocks", "all")
register_method(
    Method(
        "magnitude", ("global", "layer"), "pruning.magnitude:magnitude_masks", targets=ANY_MATRIX
    )
)
register_method(
    Method(
        "random",
        ("global", "layer"),
        "pruning.random_masks:random_masks",
        seeded=True,
        targets=ANY_MATRIX,
    )
)
register_method(
    Method(
        "nm",
        ("row",),
        "pruning.nm:nm_masks",
        options={"keep": Option(int, 1), "of": Option(int, 2)},
        check=_keep_below_of,
        sets_sparsity=lambda options: 1 - options["keep"] / options["of"],
        needs="whole numbers keep < of, the options keep and of: e.g. {method: nm, keep: 2, "
        "of: 4} keeps 2 of every 4 consecutive weights (50% sparsity)",
    )
)
# revision 2: block by block on the pruned earlier blocks, as the reference (1: one dense pass)
register_method(
    Method("wanda", ("row",), "pruning.wanda:wanda_masks", needs_calibration=True, revision=2)
)
register_method(
    Method(
        "sparsegpt",
        ("layer",),
        "pruning.sparsegpt:sparsegpt_masks",
        options={"blocksize": Option(int, 1, 128), "percdamp": Option(float, 0, 0.01)},
        needs_calibration=True,
        cacheable=False,
    )
)
