"""Python arguments for C++ parameters: the type and the range the C++ type can hold are
checked here, with errors naming the argument; the rules within that range are C++'s (the
options' ``validate()``), so nothing is decided twice."""

from __future__ import annotations

import operator
from typing import Any

from .errors import DTypeError, InvalidValueError

INT64_MAX = 2**63 - 1


def integer(value: Any, where: str, name: str, valid: str, low: int = -(2**63), high: int = INT64_MAX) -> int:
    """``value`` as an int for a C++ integer parameter whose type holds [low, high] (int64 unless
    given): a ``DTypeError`` for a non-integer (bools and floats included), an
    ``InvalidValueError`` quoting ``valid`` (the parameter's rule) for a value out of that range.

    Example:
        >>> integer(np.int32(4), "batch", "batch_size", "an integer in [1, 2**63 - 1]")
        4
        >>> integer(2**64, "batch", "batch_size", "an integer in [1, 2**63 - 1]")
        Traceback (most recent call last):
            ...
        tensorbridge.errors.InvalidValueError: batch: batch_size must be an integer in [1, 2**63 - 1], got 18446744073709551616
    """
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise DTypeError(f"{where}: {name} must be an integer ({valid}), got {type(value).__name__} {value!r}")
    v = operator.index(value)
    if not low <= v <= high:
        raise InvalidValueError(f"{where}: {name} must be {valid}, got {v}")
    return v


def number(value: Any, where: str, name: str, valid: str) -> float:
    """``value`` as a float for a C++ ``double`` parameter: a ``DTypeError`` naming the argument
    for anything that is not a real number.

    Example:
        >>> number(1, "random_flip", "p", "a probability in [0, 1]")
        1.0
    """
    if isinstance(value, (bool, str, bytes)) or not hasattr(type(value), "__float__"):
        raise DTypeError(f"{where}: {name} must be a number ({valid}), got {type(value).__name__} {value!r}")
    return float(value)
