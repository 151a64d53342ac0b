"""pandas source: a Series or a single-dtype DataFrame, through NumPy without copying."""

from __future__ import annotations

from typing import Any

from ..errors import DTypeError
from . import numpy as _numpy

NAME = "pandas"


def is_native(obj: Any) -> bool:
    import pandas as pd

    return isinstance(obj, (pd.Series, pd.DataFrame, pd.Index))


def import_tensor(obj: Any, allow_copy: bool) -> tuple[Any, str]:
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        kinds = set(obj.dtypes.astype(str))
        if len(kinds) > 1:
            raise DTypeError(
                f"cannot convert a DataFrame with mixed column dtypes ({', '.join(sorted(kinds))}) to one "
                "tensor; use tb.from_dataframe(df) for a table of columns, or df.astype('float32') first"
            )
    if any(str(d) == "category" for d in (obj.dtypes if isinstance(obj, pd.DataFrame) else [obj.dtype])):
        raise DTypeError("cannot convert a categorical pandas column; use .cat.codes for the integer codes")
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
