"""pandas source: a Series or a single-dtype DataFrame through NumPy without copying; a DataFrame of
mixed column types through the C++ table, its columns gathered into their common type."""

from __future__ import annotations

from typing import Any

from ..errors import DTypeError
from . import numpy as _numpy

NAME = "pandas"


def is_native(obj: Any) -> bool:
    import pandas as pd

    return isinstance(obj, (pd.Series, pd.DataFrame, pd.Index))


def gather_columns(obj: Any, dtype: str | None, casting: str, checked: bool, allow_copy: bool) -> Any:
    """A DataFrame whose columns are not all of one NumPy number type, as one tensor of their common
    type (as ``df.to_numpy()`` chooses it) or of ``dtype``, gathered and cast in one pass by the C++
    table (:meth:`tensorbridge.Table.to_tensor`, whose missing-value rule applies); None for the
    rest (a Series, a DataFrame of one number dtype), which ``import_tensor`` shares without a copy.

    Returns ``(tensor, why it was copied, the columns' common dtype)``."""
    import pandas as pd

    if not isinstance(obj, pd.DataFrame) or obj.shape[1] == 0:
        return None
    dtypes = list(obj.dtypes)
    _refuse_categorical(dtypes, [str(c) for c in obj.columns])
    if len(set(dtypes)) == 1 and (getattr(dtypes[0], "kind", "O") in "biufc"):
        return None  # one number type: shared as it is (or, nullable with missing values, float64 NaN)
    from ..table import from_dataframe

    return from_dataframe(obj)._gather_columns(dtype, casting, checked, allow_copy)


def _refuse_categorical(dtypes: list[Any], names: list[str] | None = None) -> None:
    for i, d in enumerate(dtypes):
        if str(d) == "category":
            where = f" {names[i]!r}" if names else ""
            raise DTypeError(f"cannot convert the categorical pandas column{where}; use .cat.codes for the integer codes")


def import_tensor(obj: Any, allow_copy: bool) -> tuple[Any, str]:
    import pandas as pd

    gathered = gather_columns(obj, None, "same_kind", False, allow_copy)
    if gathered is not None:
        return gathered[0], gathered[1]
    _refuse_categorical(list(obj.dtypes) if isinstance(obj, pd.DataFrame) else [obj.dtype])
    dtypes = list(obj.dtypes) if isinstance(obj, pd.DataFrame) else [obj.dtype]
    if any(_is_nullable_number(d) for d in dtypes) and bool(obj.isna().to_numpy().any()):
        # Missing values in nullable int/bool columns: float64 with NaN, the rule of Table.to_tensor
        # (and of pandas' DataFrame.to_numpy for Int64), never 0 or an object array.
        import numpy as np

        return _numpy.import_tensor(obj.to_numpy(dtype=np.float64, na_value=np.nan), allow_copy)
    try:
        arr = obj.to_numpy(copy=False)
    except (TypeError, ValueError) as e:
        raise DTypeError(f"cannot convert this pandas object to an array: {e}") from e
    if arr.dtype.kind == "O":
        raise DTypeError(
            "cannot convert a pandas object with object dtype (strings, mixed values or missing values in "
            "an integer/bool column); convert it to a numeric dtype first, e.g. .astype('float32')"
        )
    return _numpy.import_tensor(arr, allow_copy)


def _is_nullable_number(dtype: Any) -> bool:
    """A pandas masked dtype of numbers or bools (Int64, UInt8, Float32, boolean...)."""
    import pandas as pd

    return isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(dtype, pd.CategoricalDtype) \
        and dtype.kind in "biuf"
