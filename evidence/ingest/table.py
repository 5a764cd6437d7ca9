"""The table a CSV of effects is read into (:func:`evidence.ingest.effect_table.read_table`): plain
columns and the file line of each row, not a DataFrame.

Why not pandas: ``evidence meta --csv`` reads, checks and pools a file in a fraction of a second, and
importing pandas alone took a fifth of that. The app, which wants a DataFrame to show and download,
gets one at its edge (:meth:`Table.to_frame`); moderator coding does the same, only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Table:
    """A CSV as read: per lower-case column name, its cells (text, ``None`` when blank; a float array
    once :func:`~evidence.ingest.effect_table.typed` found the column numeric), the file ``lines`` each
    row starts on, and the ``delimiter``, which decides whether a number cell may have a decimal comma
    (:func:`~evidence.ingest.effect_table.numbers`).

    ``columns``, ``index`` (the lines), ``len()``, ``table[column]`` and ``table.loc[line, column]``
    read as they did on the DataFrame this replaces, so a page or a message names the same things."""

    cells: dict[str, Any]  # column -> list of text cells | np.ndarray of floats
    lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    delimiter: str = ","

    @property
    def columns(self) -> list[str]:
        return list(self.cells)

    @property
    def index(self) -> np.ndarray:
        return self.lines

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, column: str):
        return self.cells[column]

    @property
    def loc(self) -> _Cell:
        return _Cell(self)

    def rename(self, columns: dict[str, str]) -> Table:
        return Table({columns.get(c, c): v for c, v in self.cells.items()}, self.lines, self.delimiter)

    def assign(self, **columns) -> Table:
        """New or replaced columns (a replaced one keeps its place, a new one goes last)."""
        return Table({**self.cells, **columns}, self.lines, self.delimiter)

    def to_frame(self) -> pd.DataFrame:
        """The DataFrame the app shows and moderator coding reads: text columns as ``object`` (as
        read), float columns as floats, indexed by ``line``."""
        import pandas as pd

        index = pd.Index(self.lines, name="line")
        return pd.DataFrame({c: pd.Series(v, index=index, dtype=object if isinstance(v, list) else float)
                             for c, v in self.cells.items()}, index=index)


@dataclass
class _Cell:
    """``table.loc[line, column]``: the cell of the row that starts on that line of the file."""

    table: Table

    def __getitem__(self, key: tuple[int, str]):
        line, column = key
        hits = np.flatnonzero(self.table.lines == line)
        if not len(hits):
            raise KeyError(line)
        return self.table.cells[column][int(hits[0])]
