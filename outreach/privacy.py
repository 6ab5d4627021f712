"""The privacy rule, in one place: counts of people below the threshold (default 10) are shown as
"<10", and no such count can be worked out from a total and the other cells of the same output.

Primary suppression: a count from 1 to threshold-1 becomes "<10" (`Count.of`). Zero stays visible
(it reveals nobody); unknown shows "–".

Complementary suppression (`protect`): an output is a set of cells and the sums that tie them
together (a table's rows and columns add up to their totals, months add up to the period). For
every sum whose total is shown, a suppressed cell must not be the only hidden part, or the total
minus the visible parts gives it away; so the smallest other non-zero part is hidden too, shown as
"×" (Statistics Netherlands' sign for "hidden to protect others"), and this repeats until every sum
is safe. A "×" cell may hold any number, so the "<10" cell stays between 1 and 9 for a reader. Sums are
also read together: in a table with row and column totals, a row plus a column minus the grand total
gives their shared cell (with "<10" margins that can pin it when no single sum does), so those
identities are checked too.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 10
HIDDEN = "×"  # a complementary suppression: not small itself, hidden so that a "<10" stays unknown


@dataclass(frozen=True, slots=True)
class Count:
    """A count of people or interactions. Values 1..threshold-1 are suppressed: `value` is None and
    `display` is "<10". `hidden` marks a complementary suppression ("×"). Unknown is None ("–")."""

    value: int | None
    suppressed: bool = False
    threshold: int = DEFAULT_THRESHOLD
    hidden: bool = False

    @classmethod
    def of(cls, n: float | None, *, threshold: int = DEFAULT_THRESHOLD) -> Count:
        if n is None:
            return cls(None, threshold=threshold)
        n = round(n)
        if is_small(n, threshold):
            return cls(None, suppressed=True, threshold=threshold)
        return cls(int(n), threshold=threshold)

    @property
    def known(self) -> bool:
        return self.value is not None or self.suppressed or self.hidden

    @property
    def display(self) -> str:
        if self.suppressed:
            return f"<{self.threshold}"
        if self.hidden:
            return HIDDEN
        return "–" if self.value is None else f"{self.value}"

    def hide(self) -> Count:
        """The same count, hidden as a complementary suppression (its value is dropped). A "<10" becomes
        "×" too when the cells around it are all small, so that "at least 1" would pin it."""
        if self.value is None and not self.suppressed:
            return self
        return Count(None, threshold=self.threshold, hidden=True)

    def __str__(self) -> str:
        return self.display


def is_small(n: float | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """The primary rule: a count of 1..threshold-1 people is never shown."""
    return n is not None and 0 < round(n) < threshold


def people(n: float | None, *, threshold: int = DEFAULT_THRESHOLD) -> str:
    """A count of people as plain text ("" when unknown): "<10" when small, else the whole number."""
    if n is None:
        return ""
    return Count.of(n, threshold=threshold).display


@dataclass(frozen=True, slots=True)
class Sum:
    """`total` is the sum of `parts` (all keys of one table's cells)."""

    total: Hashable
    parts: tuple[Hashable, ...]


def protect(values: Mapping[Hashable, float | None], sums: Iterable[Sum], *,
            threshold: int = DEFAULT_THRESHOLD) -> dict[Hashable, Count]:
    """Every cell as a `Count`, with small ones "<10" and enough others "×" that no "<10" can be
    worked out exactly from the sums whose totals are shown (checked the way a reader would: by
    narrowing every cell's possible range through every sum — and, for a table with row and column
    totals, through what they say together — until nothing changes)."""
    cells = {k: Count.of(v, threshold=threshold) for k, v in values.items()}
    raw = {k: (0 if v is None else round(v)) for k, v in values.items()}
    sums = [s for s in sums if s.parts]
    relations = [{s.total: -1, **{p: 1 for p in s.parts}} for s in sums] + _table_identities(sums)
    while True:
        lo, hi = _bounds(cells, relations)
        pinned = next((k for k, c in cells.items() if c.suppressed and lo[k] >= hi[k]), None)
        if pinned is None:
            return cells
        key = _complement(pinned, cells, raw, sums)
        cells[key] = cells[key].hide()


@dataclass(frozen=True, slots=True)
class _Table:
    """What rows and columns say together. Where one grand total is the sum of row totals and also of
    column totals, the cells x in row r and column c satisfy grand = row r + column c - x + (every cell
    in neither): a reader adds the two margins and subtracts the grand total (with "<10" margins that can
    pin a "<10" cell that no single sum pins). One identity per (row, column), narrowed all at once in
    time linear in the table (`_narrow_table`), not one relation over the whole table each."""

    grand: Hashable
    rows: dict[Hashable, frozenset[Hashable]]  # row total -> its cells
    columns: dict[Hashable, frozenset[Hashable]]
    cells: frozenset[Hashable]


def _table_identities(sums: Sequence[Sum]) -> list[_Table]:
    """The tables among `sums`: one grand total that is the sum of row totals and of column totals,
    its rows and columns partitioning the same cells."""
    by_total = {s.total: s for s in sums}
    identities: list[_Table] = []
    grand_sums: dict[Hashable, list[Sum]] = {}
    for s in sums:
        if all(p in by_total for p in s.parts):
            grand_sums.setdefault(s.total, []).append(s)
    for grand, (rows, cols, *_) in ((g, ss) for g, ss in grand_sums.items() if len(ss) >= 2):
        row_cells = {r: set(by_total[r].parts) for r in rows.parts if r != grand}
        col_cells = {c: set(by_total[c].parts) for c in cols.parts if c != grand}
        every = set().union(*row_cells.values())
        if every != set().union(*col_cells.values()) or sum(map(len, row_cells.values())) != len(every):
            continue  # not one table partitioned by both
        identities.append(_Table(grand, {r: frozenset(v) for r, v in row_cells.items()},
                                 {c: frozenset(v) for c, v in col_cells.items()}, frozenset(every)))
    return identities


class _Range:
    """A sum of ranges: the finite part of its lows and highs and how many highs are unbounded."""

    __slots__ = ("lo", "hi", "open")

    def __init__(self, keys: Iterable[Hashable], lo: Mapping[Hashable, float], hi: Mapping[Hashable, float]) -> None:
        self.lo = self.hi = 0.0
        self.open = 0
        for k in keys:
            self.lo += lo[k]
            if hi[k] == float("inf"):
                self.open += 1
            else:
                self.hi += hi[k]


def _narrow_table(table: _Table, lo: dict[Hashable, float], hi: dict[Hashable, float]) -> bool:
    """Every (row r, column c) identity of `table` once, each member narrowed as a reader would:
    both = r + c - grand + neither, so the cells in both, the two margins, the grand total and every
    cell in neither (neither = grand - r - c + both, less the other cells in neither). The cells in
    neither enter as one range, by inclusion and exclusion of the sums over all cells, the row's and the
    column's; a cell takes the tightest of the identities it is "neither" in from the identities sorted by
    what they allow, so a pass costs (cells x (rows + columns)), not (cells squared). Lows are never
    below 0, highs may be unbounded (an unbounded cell's low is left to its sums)."""
    inf = float("inf")
    moved = False
    lo0, hi0 = dict(lo), dict(hi)  # the sums of cells from one moment (narrowing only tightens, so they stay true)
    every = _Range(table.cells, lo0, hi0)
    rows = {r: _Range(cells, lo0, hi0) for r, cells in table.rows.items()}
    columns = {c: _Range(cells, lo0, hi0) for c, cells in table.columns.items()}
    g = table.grand

    def narrow(key: Hashable, low: float, high: float) -> None:
        nonlocal moved
        if low > lo[key] or high < hi[key]:
            lo[key], hi[key] = max(lo[key], low), min(hi[key], high)
            moved = True

    allow_hi: list[tuple[float, Hashable, Hashable]] = []  # (neither's high less its low, r, c)
    allow_lo: list[tuple[float, Hashable, Hashable]] = []  # (neither's low less its high, r, c), as -value
    for r, in_row in table.rows.items():
        for c, in_col in table.columns.items():
            both = in_row & in_col
            if not both:
                continue
            b = _Range(both, lo0, hi0)
            n_lo = every.lo - rows[r].lo - columns[c].lo + b.lo  # the cells in neither
            n_hi = inf if every.open - rows[r].open - columns[c].open + b.open else \
                every.hi - rows[r].hi - columns[c].hi + b.hi
            b_hi = inf if b.open else b.hi
            if len(both) == 1:
                (x,) = both
                narrow(x, lo[r] + lo[c] - hi[g] + n_lo, hi[r] + hi[c] - lo[g] + n_hi)
            narrow(g, lo[r] + lo[c] - b_hi + n_lo, hi[r] + hi[c] - b.lo + n_hi)
            narrow(r, lo[g] - hi[c] + b.lo - n_hi, hi[g] - lo[c] + b_hi - n_lo)
            narrow(c, lo[g] - hi[r] + b.lo - n_hi, hi[g] - lo[r] + b_hi - n_lo)
            allow_hi.append((hi[g] - lo[r] - lo[c] + b_hi - n_lo, r, c))  # + the cell's own low
            allow_lo.append((-(lo[g] - hi[r] - hi[c] + b.lo - n_hi), r, c))  # + the cell's own high
    allow_hi.sort(key=lambda t: t[0])
    allow_lo.sort(key=lambda t: t[0])
    row_of = {x: r for r, cells in table.rows.items() for x in cells}
    column_of = {x: c for c, cells in table.columns.items() for x in cells}
    for y in table.cells:
        r_y, c_y = row_of[y], column_of[y]
        best = next((v for v, r, c in allow_hi if r != r_y and c != c_y), inf)
        low = -inf
        if hi0[y] != inf:
            low = -next((v for v, r, c in allow_lo if r != r_y and c != c_y), inf) + hi0[y]
        narrow(y, low, best + lo0[y])
    return moved


def _complement(pinned: Hashable, cells: Mapping[Hashable, Count], raw: Mapping[Hashable, int],
                sums: Sequence[Sum]) -> Hashable:
    """What to hide so `pinned` opens up: the smallest shown non-zero part of a sum it takes part in,
    else that sum's shown total; when its sums show nothing, the same search from their hidden cells."""
    seen, queue = {pinned}, [pinned]
    while queue:
        cell = queue.pop(0)
        around = [s for s in sums if cell in s.parts or s.total == cell]
        for s in around:
            shown = sorted((raw[p], str(p), p) for p in s.parts if cells[p].value)
            if shown and cells[s.total].value is not None:
                return shown[0][2]
        for s in around:
            if cells[s.total].value:
                return s.total
        for s in around:
            for other in (*s.parts, s.total):
                if other not in seen and cells[other].value is None:
                    seen.add(other)
                    queue.append(other)
    return pinned  # everything around is small: "<10" would say too much (all ones), so "×" it is


def bounds(cells: Mapping[Hashable, Count], sums: Sequence[Sum]) -> tuple[dict[Hashable, float], dict[Hashable, float]]:
    """What a reader can tell about each cell from these sums (see `_bounds`)."""
    return _bounds(cells, [{s.total: -1, **{p: 1 for p in s.parts}} for s in sums])


def _bounds(cells: Mapping[Hashable, Count], relations: Sequence[Mapping[Hashable, int] | _Table]
            ) -> tuple[dict[Hashable, float], dict[Hashable, float]]:
    """What a reader can tell about each cell: shown ones exactly, "<10" within 1..threshold-1, "×"
    and unknown ones at least 0; then every relation (coefficients adding up to 0: a sum is its parts
    minus its total) narrows each of its members until nothing moves."""
    inf = float("inf")
    lo: dict[Hashable, float] = {}
    hi: dict[Hashable, float] = {}
    for k, c in cells.items():
        if c.value is not None or not (c.suppressed or c.hidden):
            lo[k] = hi[k] = c.value or 0  # unknown ("–") adds nothing to a total: a reader may take it as 0
        elif c.suppressed:
            lo[k], hi[k] = 1, c.threshold - 1
        else:
            lo[k], hi[k] = 0, inf
    for _ in range(100 * (len(relations) + 1)):
        moved = False
        for rel in relations:
            if isinstance(rel, _Table):
                moved = _narrow_table(rel, lo, hi) or moved
                continue
            # The range of sum(a * x) over all members: finite parts plus how many members are unbounded.
            low = [a * (lo[k] if a > 0 else hi[k]) for k, a in rel.items()]
            high = [a * (hi[k] if a > 0 else lo[k]) for k, a in rel.items()]
            low_inf, high_inf = sum(v == -inf for v in low), sum(v == inf for v in high)
            low_sum = sum(v for v in low if v != -inf)
            high_sum = sum(v for v in high if v != inf)
            for (k, a), lk, hk in zip(rel.items(), low, high, strict=True):
                # the others' range: sum(a * x) without this member; then a * x = -(the others)
                o_lo = -inf if low_inf - (lk == -inf) else low_sum - (lk if lk != -inf else 0)
                o_hi = inf if high_inf - (hk == inf) else high_sum - (hk if hk != inf else 0)
                new_lo, new_hi = (-o_hi, -o_lo) if a > 0 else (o_lo, o_hi)
                new_lo, new_hi = max(lo[k], new_lo), min(hi[k], new_hi)
                if new_lo > lo[k] or new_hi < hi[k]:
                    lo[k], hi[k] = new_lo, new_hi
                    moved = True
        if not moved:
            break
    return lo, hi


def protect_list(values: Sequence[float | None], total: float | None, *,
                 threshold: int = DEFAULT_THRESHOLD) -> tuple[list[Count], Count]:
    """One row of cells and its total (shown with them): the cells and the total, protected."""
    cells = protect({**dict(enumerate(values)), "total": total},
                    [Sum("total", tuple(range(len(values))))], threshold=threshold)
    return [cells[i] for i in range(len(values))], cells["total"]


def table_sums(rows: Sequence[Hashable], columns: Sequence[Hashable]) -> list[Sum]:
    """The sums of a table keyed (row, column), with row totals (row, None), column totals
    (None, column) and the grand total (None, None)."""
    result = [Sum((r, None), tuple((r, c) for c in columns)) for r in rows]
    result += [Sum((None, c), tuple((r, c) for r in rows)) for c in columns]
    result += [Sum((None, None), tuple((r, None) for r in rows)), Sum((None, None), tuple((None, c) for c in columns))]
    return result
