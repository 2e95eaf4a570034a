"""Replay: evaluate a candidate pack over stored decision facts and report what would have
changed, re-running the cumulative counters in time order. Vectorized over the columnar
facts (Arrow + NumPy); the policy engine runs once per distinct decision signature.

How the counters are re-run. A batch's counts are `before` (distinct subjects counted for
the exporter this year by earlier batches) and `after` (`before` plus the batch's subjects
not counted yet). Which subjects get counted depends on the outcomes, which depend on the
counts: a causal system, solved by fixed-point iteration. Start from the live counts;
decide every record; recount (for each exporter/year/category/subject hash, the first batch
in which a record counting it crossed); repeat until the counts no longer change. Each
round is a handful of NumPy passes; batch k is exact after k rounds at the latest, and in
practice two or three rounds suffice. Counts enter rules only through comparisons with
constants, so each count is replaced by the rule breakpoint at or below it and every
(batch signature, record shape, count bucket) is decided once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from silkgate.errors import PolicyError
from silkgate.policy import PolicyEngine
from silkgate.policy.compile import COUNT_FACTS
from silkgate.policy.engine import Shape
from silkgate.sandbox.analytics import read_parquet
from silkgate.sandbox.evaluate import (
    BatchSig,
    Verdict,
    breakpoints,
    countable,
    passes_gate,
    record_shape,
    verdict,
)
from silkgate.sandbox.packs import candidate_engine

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]
OUTCOME_CODES = ("allow", "allow_transformed", "hold", "deny")
CATS = ("pi", "sensitive_pi")
MAX_ROUNDS = 200
SAMPLES_PER_CHANGE = 20
_BATCH_COLUMNS = ("gate", "origin", "destination", "product", "sector", "purpose",
                  "instrument", "ciio", "transit", "filings", "agreement_days",
                  "tia_age_days", "free_trade_zone", "related", "enterprise_size",
                  "importer_authority", "first_transfer_days")  # fmt: skip


@dataclass
class ReplayReport:
    candidate_version: str
    records: int  # facts replayed (within [since, until))
    changed: int  # records whose outcome differs from the recorded one
    by_corridor: dict[str, int]  # changed records per corridor (origin-destination)
    by_product: dict[str, int]
    by_exporter: dict[str, int]
    by_change: dict[str, int]  # "allow→hold" -> records
    outcomes_before: dict[str, int]
    outcomes_after: dict[str, int]
    rounds: int
    signatures: int  # distinct (batch signature, shape, count bucket) evaluated
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    outcomes: list[str] | None = None  # per replayed record, in commit order (on request)
    verdicts: list[Verdict] | None = None  # per replayed record (on request): rules, obligations
    keys: list[tuple[str, int]] | None = None  # (batch id, record index) for `outcomes`
    codes: Any = None  # NumPy: index into OUTCOME_CODES per replayed record, commit order

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("outcomes", "keys", "codes")}


def replay(
    candidate_pack_paths: Iterable[str | Path],
    facts: pa.Table | str | Path,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    base: PolicyEngine | None = None,
    keep_outcomes: bool = False,
) -> ReplayReport:
    """Evaluate the candidate packs (replacing the packs of the same id in `base`, default
    the shipped packs) over the facts (an Arrow table or a Parquet file)."""
    engine = candidate_engine(candidate_pack_paths, base or PolicyEngine.default())
    table = facts if isinstance(facts, pa.Table) else read_parquet(facts)
    return replay_engine(engine, table, since, until, keep_outcomes=keep_outcomes)


def replay_engine(
    engine: PolicyEngine,
    table: pa.Table,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    keep_outcomes: bool = False,
) -> ReplayReport:
    table, window = _select(table, since, until)
    if table.num_rows == 0:
        return _empty(engine)
    run = _Replay(engine, table)
    codes, rounds = run.solve()
    return _report(engine, table, window, run, codes, rounds, keep_outcomes)


# ---------------------------------------------------------------------- preparation
def _select(
    table: pa.Table, since: datetime | None, until: datetime | None
) -> tuple[pa.Table, BOOL]:
    """Rows needed (from 1 January of `since`'s year, for the counters) in commit order,
    and which of them are in the window."""
    seq = table["seq"].to_numpy()
    if len(seq) > 1 and not bool(np.all(seq[1:] > seq[:-1])):
        table = table.sort_by("seq")
    mask = np.ones(table.num_rows, dtype=bool)
    times = table["time"]
    if until is not None:
        mask &= pc.less(times, pa.scalar(_utc(until), pa.timestamp("us", tz="UTC"))).to_numpy(
            zero_copy_only=False
        )
    if since is not None:
        year_start = datetime(since.year, 1, 1, tzinfo=UTC)
        mask &= _ge(times, year_start)
    table = table.filter(pa.array(mask))
    window = _ge(table["time"], _utc(since)) if since is not None else np.ones(table.num_rows, bool)
    return table, window


def _ge(times: Any, at: datetime) -> BOOL:
    scalar = pa.scalar(at, pa.timestamp("us", tz="UTC"))
    return np.asarray(pc.greater_equal(times, scalar).to_numpy(zero_copy_only=False), dtype=bool)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise PolicyError(f"replay window time {at.isoformat()} needs a time zone (UTC)")
    return at.astimezone(UTC)


def _codes(column: Any) -> tuple[I64, list[Any]]:
    """Dictionary codes and values of a column (plain or dictionary-typed)."""
    arr: Any = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr, null_encoding="encode")
    indices = arr.indices.fill_null(0) if arr.indices.null_count else arr.indices
    return indices.to_numpy(zero_copy_only=False).astype(np.int64), arr.dictionary.to_pylist()


def _unique_rows(matrix: I64) -> tuple[I64, I64]:
    """(first row of each distinct row, inverse) for a 2-D integer matrix."""
    _, first, inverse = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
    return first.astype(np.int64), inverse.reshape(-1).astype(np.int64)


class _Replay:
    """The per-replay arrays. Rows are facts in commit order; batches are runs of rows."""

    def __init__(self, engine: PolicyEngine, table: pa.Table) -> None:
        self.engine = engine
        self.n = table.num_rows
        bcodes, _ = _codes(table["batch_id"])
        starts = np.r_[True, bcodes[1:] != bcodes[:-1]]
        self.batch = np.cumsum(starts, dtype=np.int64) - 1
        self.bstart = np.flatnonzero(starts)
        self.nb = len(self.bstart)
        self._batch_signatures(table)
        self._shapes(table)
        self._subjects(table)
        self.points = breakpoints(engine)
        self.live_counts = np.stack(
            [table[name].to_numpy()[self.bstart].astype(np.int64) for name in COUNT_FACTS], axis=1
        )
        self.cache: dict[tuple[int, int, tuple[int, ...]], Verdict] = {}

    # -- batch signatures, exporter/year keys, shapes --------------------------------
    def _batch_signatures(self, table: pa.Table) -> None:
        heads = table.take(self.bstart)
        cols = [_codes(heads[name]) for name in _BATCH_COLUMNS]
        first, self.bsig = _unique_rows(np.stack([c[0] for c in cols], axis=1))
        self.sigs = [
            BatchSig(*(cols[j][1][int(cols[j][0][i])] for j in range(len(cols)))) for i in first
        ]
        keys = np.stack(
            [_codes(heads["exporter"])[0], heads["year"].to_numpy().astype(np.int64)], 1
        )
        _, self.bkey = _unique_rows(keys)
        passed = [passes_gate(self.engine, s) for s in self.sigs]
        self.gate = passed
        self.sig_countable = np.array(
            [
                not g and countable(self.engine.chains[s.origin], s)
                for s, g in zip(self.sigs, passed, strict=True)
            ],
            dtype=bool,
        )

    def _shapes(self, table: pa.Table) -> None:
        f_codes, f_values = _codes(table["findings"])
        p_codes, p_values = _codes(table["paths"])
        _, first, shape = np.unique(
            f_codes * max(len(p_values), 1) + p_codes, return_index=True, return_inverse=True
        )
        self.shape = shape.astype(np.int64)
        self.shape_keys = [(f_values[int(f_codes[i])], p_values[int(p_codes[i])]) for i in first]
        self.nshape = len(first)
        pair = self.bsig[self.batch] * self.nshape + self.shape
        uniq, self.pair = np.unique(pair, return_inverse=True)
        self.pair_keys = [divmod(int(k), self.nshape) for k in uniq]
        # The distinct (batch, pair) combinations: what each round must decide.
        batch_pairs = np.unique(self.batch * len(uniq) + self.pair)
        self.bp_batch, self.bp_pair = np.divmod(batch_pairs, len(uniq))
        self.shape_objs: dict[tuple[int, int], Shape] = {}
        pool = np.zeros((len(uniq), len(CATS)), dtype=bool)
        for i, (s, h) in enumerate(self.pair_keys):
            sig = self.sigs[s]
            if self.gate[s]:
                continue
            shape = record_shape(self.engine.chains[sig.origin], sig, *self.shape_keys[h])
            self.shape_objs[(s, h)] = shape
            for c, cat in enumerate(CATS):
                pool[i, c] = bool(self.sig_countable[s]) and cat in shape.countable
        self.pool_pair = pool

    def _subjects(self, table: pa.Table) -> None:
        subjects = table["subjects"].combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(subjects), 0).to_numpy().astype(np.int64)
        self.has_subjects = lengths > 0
        flat = pc.list_flatten(subjects)
        rows = np.repeat(np.arange(self.n, dtype=np.int64), lengths)
        hcodes, hvalues = _codes(flat) if len(flat) else (np.zeros(0, np.int64), [])
        nh = max(len(hvalues), 1)
        # A subject hash is counted per exporter and year: key it by both.
        combined = self.bkey[self.batch[rows]] * nh + hcodes
        _, hid = np.unique(combined, return_inverse=True)
        self.p_row, self.p_hid = rows, hid.astype(np.int64)
        self.nhid = int(hid.max()) + 1 if len(hid) else 0
        self.p_batch = self.batch[rows]
        order = np.lexsort((self.p_batch, self.p_hid))
        self.o_row, self.o_hid, self.o_batch = rows[order], self.p_hid[order], self.p_batch[order]
        self._pools()
        self.border = np.lexsort((np.arange(self.nb), self.bkey))
        sorted_keys = self.bkey[self.border]
        self.group_start = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]

    def _pools(self) -> None:
        """Per category, the distinct (batch, subject) pairs whose counts the batch reaches:
        subjects of records with a countable shape in a countable batch."""
        width = max(self.nhid, 1)
        self.pool_pairs: list[tuple[I64, I64]] = []
        for c in range(len(CATS)):
            in_pool = self.pool_pair[self.pair[self.p_row], c]
            key = np.unique(self.p_batch[in_pool] * width + self.p_hid[in_pool])
            self.pool_pairs.append(np.divmod(key, width))

    # -- solving -----------------------------------------------------------------------
    def solve(self) -> tuple[I64, int]:
        counts = self.live_counts
        for rounds in range(1, MAX_ROUNDS + 1):
            codes, counted = self.decide(counts)
            again = self.recount(counted)
            if np.array_equal(again, counts):
                return codes, rounds
            counts = again
        raise PolicyError(f"replay did not settle after {MAX_ROUNDS} rounds; report this as a bug")

    def decide(self, counts: I64) -> tuple[I64, npt.NDArray[np.bool_]]:
        """Outcome code and counted categories of every row under the given batch counts."""
        reps = np.stack(
            [_bucket(counts[:, j], self.points[name]) for j, name in enumerate(COUNT_FACTS)], 1
        )
        first, bucket = _unique_rows(reps)
        nbk = len(first)
        # A dense (pair, bucket) table, filled for the combinations that occur, then
        # gathered row by row: no sorting of the rows in a round.
        out = np.zeros(len(self.pair_keys) * nbk, dtype=np.int64)
        cnt = np.zeros((len(self.pair_keys) * nbk, len(CATS)), dtype=bool)
        vid = np.zeros(len(self.pair_keys) * nbk, dtype=np.int64)
        self.verdict_list: list[Verdict] = []
        for key in np.unique(self.bp_pair * nbk + bucket[self.bp_batch]).tolist():
            p, b = divmod(key, nbk)
            v = self._verdict(self.pair_keys[p], tuple(int(x) for x in reps[first[b]]))
            out[key] = OUTCOME_CODES.index(v.outcome)
            cnt[key] = [cat in v.counted for cat in CATS]
            vid[key] = len(self.verdict_list)
            self.verdict_list.append(v)
        index = self.pair * nbk + bucket[self.batch]
        self.row_verdicts = vid[index]  # of the latest round: the settled one, once solved
        return out[index], cnt[index] & self.has_subjects[:, None]

    def _verdict(self, pair: tuple[int, int], reps: tuple[int, ...]) -> Verdict:
        key = (pair[0], pair[1], reps)
        cached = self.cache.get(key)
        if cached is None:
            s, h = pair
            sig = self.sigs[s]
            if self.gate[s]:
                cached = Verdict("deny", frozenset(), (self.gate[s],))
            else:
                chain = self.engine.chains[sig.origin]
                pi = "pi" in chain.counting_categories
                spi = "sensitive_pi" in chain.counting_categories
                counts = (
                    reps[0] if pi else 0,
                    reps[1] if pi else 0,
                    reps[2] if spi else 0,
                    reps[3] if spi else 0,
                )
                shape = self.shape_objs[(s, h)]
                cached = verdict(chain, sig, shape, counts, bool(self.sig_countable[s]))
            self.cache[key] = cached
        return cached

    def recount(self, counted: npt.NDArray[np.bool_]) -> I64:
        """Batch counts (before, after per category) given which rows count which category."""
        out = np.zeros((self.nb, 2 * len(CATS)), dtype=np.int64)
        big = np.iinfo(np.int64).max
        for c in range(len(CATS)):
            first_counted = np.full(max(self.nhid, 1), big, dtype=np.int64)
            idx = np.flatnonzero(counted[self.o_row, c])
            if len(idx):
                hs = self.o_hid[idx]
                firsts = idx[np.r_[True, hs[1:] != hs[:-1]]]
                first_counted[self.o_hid[firsts]] = self.o_batch[firsts]
            seen = first_counted[first_counted != big]
            per_batch = np.bincount(seen, minlength=self.nb).astype(np.int64)
            before = self._exclusive_cumsum_per_key(per_batch)
            pb, ph = self.pool_pairs[c]
            fresh = first_counted[ph] >= pb
            new = np.bincount(pb[fresh], minlength=self.nb).astype(np.int64)
            out[:, 2 * c] = before
            out[:, 2 * c + 1] = before + new
        return out

    def _exclusive_cumsum_per_key(self, per_batch: I64) -> I64:
        values = per_batch[self.border]
        total = np.cumsum(values) - values
        base = np.maximum.accumulate(np.where(self.group_start, total, 0))
        result = np.empty_like(per_batch)
        result[self.border] = total - base
        return result


def _bucket(values: I64, points: Sequence[int]) -> I64:
    bp = np.asarray(points, dtype=np.int64)
    idx = np.searchsorted(bp, values, side="right") - 1
    return np.where(idx >= 0, bp[np.maximum(idx, 0)], 0)


# ---------------------------------------------------------------------- reporting
def _report(
    engine: PolicyEngine,
    table: pa.Table,
    window: BOOL,
    run: _Replay,
    codes: I64,
    rounds: int,
    keep: bool,
) -> ReplayReport:
    before_codes, before_values = _codes(table["outcome"])
    before = np.array([_outcome_code(v) for v in before_values], dtype=np.int64)[before_codes]
    changed = window & (before != codes)
    corridor = run.bsig[run.batch]
    corridor_names = [f"{s.origin}-{s.destination}" for s in run.sigs]
    report = ReplayReport(
        candidate_version=engine.version,
        records=int(window.sum()),
        changed=int(changed.sum()),
        by_corridor=_tally(corridor[changed], corridor_names),
        by_product=_tally(*_coded(table["product"], changed)),
        by_exporter=_tally(*_coded(table["exporter"], changed)),
        by_change=_tally(
            before[changed] * 4 + codes[changed],
            [f"{a}→{b}" for a in OUTCOME_CODES for b in OUTCOME_CODES],
        ),
        outcomes_before=_tally(before[window], list(OUTCOME_CODES)),
        outcomes_after=_tally(codes[window], list(OUTCOME_CODES)),
        rounds=rounds,
        signatures=len(run.cache),
        samples=_samples(table, before, codes, changed),
        codes=codes[window],
    )
    if keep:
        rows = np.flatnonzero(window)
        report.outcomes = [OUTCOME_CODES[int(c)] for c in codes[rows]]
        ids = table["batch_id"].take(rows).to_pylist()
        recs = table["record"].take(rows).to_pylist()
        report.keys = [(str(b), int(r or 0)) for b, r in zip(ids, recs, strict=True)]
        report.verdicts = [run.verdict_list[int(i)] for i in run.row_verdicts[rows]]
    return report


def _outcome_code(value: Any) -> int:
    return OUTCOME_CODES.index(value) if value in OUTCOME_CODES else -1


def _coded(column: Any, mask: BOOL) -> tuple[I64, list[Any]]:
    codes, values = _codes(column)
    return codes[mask], values


def _tally(codes: I64, names: Sequence[Any]) -> dict[str, int]:
    """Records per name; several codes may share a name (they are added up)."""
    counts = np.bincount(codes, minlength=len(names)) if len(codes) else np.zeros(len(names), int)
    out: dict[str, int] = {}
    for i, n in enumerate(counts.tolist()):
        if n:
            out[str(names[i])] = out.get(str(names[i]), 0) + int(n)
    return out


def _samples(
    table: pa.Table, before: I64, after: I64, changed: BOOL
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    rows = np.flatnonzero(changed)
    kinds = before[rows] * 4 + after[rows]
    for kind in np.unique(kinds).tolist():
        pick = rows[kinds == kind][:SAMPLES_PER_CHANGE]
        part = table.take(pick).select(
            ["batch_id", "record", "exporter", "product", "origin", "destination", "rule_ids"]
        )
        name = f"{OUTCOME_CODES[kind // 4]}→{OUTCOME_CODES[kind % 4]}"
        out[name] = part.to_pylist()
    return out


def _empty(engine: PolicyEngine) -> ReplayReport:
    return ReplayReport(engine.version, 0, 0, {}, {}, {}, {}, {}, {}, 0, 0)
