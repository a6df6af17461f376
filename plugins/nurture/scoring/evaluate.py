"""Evaluate a lead-scoring model on a team's own history: a CSV or Excel file of past
leads with a won/lost (or converted/not) column.

Generic features come from whatever columns the file has: numbers as numbers (a missing
value gets its own indicator), dates as their age in days before the file's latest date
and their month, short lists of text values one-hot (values rarer than ``MIN_LEVEL_SHARE``
pooled into ``(other)``, a blank its own level). Identifier-like columns (a distinct
value on nearly every row) and text with too many distinct values (company names,
addresses) are dropped and listed with the reason, as are constant and empty columns.

The rows are split once, randomly (stratified by the label, seeded) or by time (the
latest ``holdout`` share of a date column held out: the question production asks, "will
the newer leads convert?"). On the same split a gradient-boosting model (the model under
test) and a plain logistic regression (the baseline) are fitted on the training rows and
judged on the holdout: AUC (ranking), Brier score (probability accuracy) and a
calibration table by decile. A paired bootstrap of the holdout gives the interval of the
AUC difference, so a small holdout is not mistaken for a win. A feature that alone
ranks the training rows almost perfectly is flagged: it is usually known only after the
outcome (a won amount, a close date) and must be left out with ``exclude``.

User mistakes raise ``ConfigError`` (one line at the CLI).
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nurture.config import ConfigError

MIN_POSITIVES = 30  # each outcome in the whole file
MIN_SPLIT_POSITIVES = 10  # each outcome in the training rows and in the holdout
MIN_LEVEL_SHARE = 0.005  # rarer text values are pooled into (other)
MIN_LEVEL_ROWS = 5
MAX_LEVELS = 30  # per text column, the commonest
MIN_LEVEL_COVERAGE = 0.5  # kept levels must cover this share of a text column's rows
ID_LIKE_SHARE = 0.9  # distinct values per non-empty row above this: an identifier
PARSE_SHARE = 0.95  # share of non-empty values that must parse as a number or a date
LEAK_AUC = 0.95  # a single feature ranking the training rows this well is suspicious
BOOTSTRAP_ROUNDS = 200

POSITIVE = {"1", "1.0", "true", "t", "yes", "y", "won", "win", "受注", "成約", "はい", "○", "◯"}
NEGATIVE = {"0", "0.0", "false", "f", "no", "n", "lost", "lose", "失注", "不成約", "いいえ", "×"}
LABEL_FORMS = "1/0, true/false, yes/no, won/lost, 受注/失注"
OTHER, BLANK = "(other)", "(blank)"

_YMD = re.compile(
    r"^(?P<y>\d{4})[-/.](?P<a>\d{1,2})[-/.](?P<b>\d{1,2})"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_DMY = re.compile(
    r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)
_JA_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日")


@dataclass
class Column:
    """What became of one column of the file."""

    name: str
    kind: str  # number, date, text, or dropped
    detail: str = ""
    features: list[str] = field(default_factory=list)


@dataclass
class Scores:
    name: str
    auc: float
    brier: float
    calibration: list[dict]
    brier_skill: float = 0.0  # 1 - Brier / the base rate's Brier: the share of it removed


@dataclass
class Evaluation:
    source: str
    label: str
    rows: int
    labelled_rows: int
    positives: int
    split: str
    train_rows: int
    train_positives: int
    holdout_rows: int
    holdout_positives: int
    used: list[Column]
    dropped: list[Column]
    features: list[str]
    model: Scores
    baseline: Scores
    base_rate_brier: float
    auc_difference: float
    auc_difference_interval: tuple[float, float]
    beats_baseline: bool
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["auc_difference_interval"] = list(self.auc_difference_interval)
        return out

    def render(self) -> str:
        return render(self)


# --- reading -------------------------------------------------------------------------


def read_table(path: Path | str, sheet: str | None = None) -> tuple[pd.DataFrame, str]:
    """The file as text columns (Excel cells keep their type); and how it was read."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"--file {path}: no such file.")
    if path.is_dir():
        raise ConfigError(f"--file {path} is a directory; give a .csv or .xlsx file.")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if suffix == ".xls":
        raise ConfigError(f"{path.name}: old .xls workbooks are not read; save it as .xlsx.")
    if sheet is not None:
        raise ConfigError("--sheet applies to .xlsx workbooks only.")
    return _read_csv(path)


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise ConfigError(f"{path.name} is empty.")
    bom = head.startswith(b"\xef\xbb\xbf")
    for encoding, shown in (("utf-8-sig", "UTF-8 with BOM" if bom else "UTF-8"), ("cp932", "")):
        try:  # incremental: the head may end inside a character
            lines = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        first = lines.splitlines()[0] if lines else ""
        sep = "\t" if first.count("\t") > first.count(",") else ","
        try:
            frame = pd.read_csv(path, encoding=encoding, sep=sep, dtype=str, skipinitialspace=True)
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as exc:
            raise ConfigError(f"{path.name} is not a readable CSV file: {exc}") from exc
        kind = shown or "Shift_JIS (cp932)"
        return frame, f"CSV, {kind}{', tab-separated' if sep == chr(9) else ''}"
    raise ConfigError(f"{path.name}: neither UTF-8 nor Shift_JIS (cp932) text; save it as UTF-8.")


def _read_xlsx(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise ConfigError(f"{path.name} is not a readable .xlsx workbook ({exc}).") from exc
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise ConfigError(f"{path.name} has no sheet {sheet!r}; its sheets: {', '.join(names)}")
        chosen = sheet if sheet is not None else names[0]
        rows = book[chosen].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ConfigError(f"sheet {chosen!r} of {path.name} is empty.")
        columns = [
            str(h).strip() if h is not None else f"column {i + 1}" for i, h in enumerate(header)
        ]
        width = len(columns)  # read-only sheets trim trailing empty cells
        records = [(tuple(r) + (None,) * width)[:width] for r in rows]
        frame = pd.DataFrame.from_records(records, columns=columns)
    finally:
        book.close()
    return frame.dropna(how="all"), f"Excel, sheet {chosen!r}"


# --- the label ---------------------------------------------------------------------


def parse_label(values: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(labelled mask, 0/1 labels of the labelled rows)."""
    text = _as_text(values)
    present = text.notna().to_numpy()
    lowered = text[present].str.lower()
    distinct = sorted(lowered.unique())
    unknown = [v for v in distinct if v not in POSITIVE and v not in NEGATIVE]
    if unknown:
        originals = sorted(text[present].unique())
        shown = ", ".join(repr(v) for v in originals[:8]) + (" ..." if len(originals) > 8 else "")
        raise ConfigError(
            f"the label column {name!r} is not a yes/no outcome: it holds {len(originals)} "
            f"distinct values ({shown}); accepted: {LABEL_FORMS}."
        )
    labels = lowered.isin(POSITIVE).to_numpy(dtype=int)
    return present, labels


# --- features ----------------------------------------------------------------------


def _as_text(values: pd.Series) -> pd.Series:
    """Strings, stripped, with blanks as missing (Excel numbers and dates keep no type)."""
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        stripped = values.str.strip()  # a CSV column: vectorised
        return stripped.where(stripped.notna() & (stripped != ""), None).astype(object)
    text = values.astype(object).where(values.notna(), None)
    text = text.map(lambda v: None if v is None else str(v).strip())
    return text.where(text != "", None).astype(object)


def _numbers(text: pd.Series) -> pd.Series:
    cleaned = text.str.replace(r"[,¥￥円%\s]", "", regex=True)
    return pd.to_numeric(cleaned, errors="coerce")


def _dates(values: pd.Series, text: pd.Series) -> tuple[pd.Series, str] | None:
    """Parsed timestamps and how, or None when the column is not dates."""
    non_null = values.dropna()
    if len(non_null) and all(
        isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year")
        for v in non_null.iloc[:200]
    ):
        parsed = pd.to_datetime(values, errors="coerce")
        if parsed.notna().sum() >= PARSE_SHARE * len(non_null):
            return parsed, "Excel dates"
    present = text.dropna()
    if present.empty or not _looks_like_dates(present):
        return None
    normalised = present.str.replace(_JA_DATE, r"\1-\2-\3", regex=True)
    for pattern, order in ((_YMD, "ymd"), (_DMY, "dmy")):
        parts = normalised.str.extract(pattern)
        matched = parts["y"].notna()
        if matched.sum() < PARSE_SHARE * len(present):
            continue
        a = pd.to_numeric(parts["a"], errors="coerce")
        b = pd.to_numeric(parts["b"], errors="coerce")
        how = "year first"
        if order == "ymd":
            month, day = a, b
        elif (a > 12).any() or not (b > 12).any():
            day, month = a, b
            how = "day first" if (a > 12).any() else "day first (ambiguous: no day above 12)"
        else:
            month, day = a, b
            how = "month first"
        stamp = pd.to_datetime(
            pd.DataFrame(
                {
                    "year": pd.to_numeric(parts["y"], errors="coerce"),
                    "month": month,
                    "day": day,
                    "hour": pd.to_numeric(parts["H"], errors="coerce").fillna(0),
                    "minute": pd.to_numeric(parts["M"], errors="coerce").fillna(0),
                    "second": pd.to_numeric(parts["S"], errors="coerce").fillna(0),
                }
            ),
            errors="coerce",
        )
        out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        out.loc[stamp.index] = stamp.to_numpy()
        return out, how
    return None


@dataclass
class Prepared:
    frame: pd.DataFrame  # numeric features, NaN where missing
    used: list[Column]
    dropped: list[Column]
    notes: list[str]


def build_features(data: pd.DataFrame, excluded: dict[str, str]) -> Prepared:
    """Numeric features from every column of ``data`` not in ``excluded`` (name: reason)."""
    rows = len(data)
    used: list[Column] = []
    dropped: list[Column] = [Column(name, "dropped", reason) for name, reason in excluded.items()]
    notes: list[str] = []
    parts: dict[str, np.ndarray] = {}
    dates: dict[str, pd.Series] = {}
    kinds: dict[str, Column] = {}
    for name in data.columns:
        if name in excluded:
            continue
        values = data[name]
        text = _as_text(values)
        present = int(text.notna().sum())
        if present == 0:
            dropped.append(Column(name, "dropped", "empty"))
            continue
        distinct = int(text.nunique())
        if distinct == 1 and present == rows:
            dropped.append(Column(name, "dropped", f"constant ({text.iloc[0]!r} on every row)"))
            continue
        numbers = _numbers(text)
        parsed = int(numbers.notna().sum())
        if parsed >= PARSE_SHARE * present and not _looks_like_dates(text):
            whole = bool(np.all(np.mod(numbers.dropna(), 1) == 0))
            if whole and distinct == present and present >= ID_LIKE_SHARE * rows and rows >= 20:
                dropped.append(
                    Column(name, "dropped", f"identifier-like: {distinct:,} distinct numbers")
                )
                continue
            column = Column(name, "number", _range(numbers))
            parts[name] = numbers.to_numpy(dtype=float)
            column.features.append(name)
            if parsed < present:
                notes.append(
                    f"{name}: {present - parsed:,} values that are not numbers read as missing"
                )
            if numbers.isna().any():
                parts[f"{name}:missing"] = numbers.isna().to_numpy(dtype=float)
                column.features.append(f"{name}:missing")
            kinds[name] = column
            continue
        as_dates = _dates(values, text)
        if as_dates is not None:
            stamps, how = as_dates
            dates[name] = stamps
            kinds[name] = Column(name, "date", how)
            unparsed = int(stamps.isna().sum()) - (rows - present)
            if unparsed > 0:
                notes.append(f"{name}: {unparsed:,} values that are not dates read as missing")
            continue
        if distinct >= ID_LIKE_SHARE * present and present >= 20:
            dropped.append(
                Column(
                    name,
                    "dropped",
                    f"identifier-like: {distinct:,} distinct values in {present:,} rows",
                )
            )
            continue
        counts = text.value_counts()
        floor = max(MIN_LEVEL_ROWS, math.ceil(MIN_LEVEL_SHARE * rows))
        kept = counts[counts >= floor].iloc[:MAX_LEVELS]
        coverage = kept.sum() / present
        if coverage < MIN_LEVEL_COVERAGE:
            detail = f"too many distinct values: {distinct:,}, " + (
                f"the commonest {len(kept)} cover {coverage:.0%} of rows"
                if len(kept)
                else f"none on {floor:,} rows or more"
            )
            dropped.append(Column(name, "dropped", detail))
            continue
        column = Column(name, "text", f"{len(kept)} values")
        levels = text.where(text.isin(kept.index), OTHER).where(text.notna(), BLANK)
        pooled = int((levels == OTHER).sum())
        if pooled:
            column.detail += f", {distinct - len(kept):,} rare pooled into {OTHER}"
        for level in [*kept.index, OTHER, BLANK]:
            flag = (levels == level).to_numpy(dtype=float)
            if flag.any():
                parts[f"{name}={level}"] = flag
                column.features.append(f"{name}={level}")
        kinds[name] = column
    if dates:
        reference = max(s.max() for s in dates.values() if s.notna().any())
        notes.append(
            f"date ages are days before {reference:%Y-%m-%d %H:%M}, the file's latest date"
        )
        for name, stamps in dates.items():
            column = kinds[name]
            parts[f"{name}:age_days"] = ((reference - stamps).dt.total_seconds() / 86400).to_numpy(
                dtype=float
            )
            parts[f"{name}:month"] = stamps.dt.month.to_numpy(dtype=float)
            column.features += [f"{name}:age_days", f"{name}:month"]
            if stamps.isna().any():
                parts[f"{name}:missing"] = stamps.isna().to_numpy(dtype=float)
                column.features.append(f"{name}:missing")
    for name in data.columns:
        if name in kinds:
            used.append(kinds[name])
    frame = pd.DataFrame(parts, index=data.index)
    return Prepared(frame, used, dropped, notes)


def _looks_like_dates(text: pd.Series) -> bool:
    """A cheap look at the first values: digits, a separator, one or two digits, another."""
    sample = text.dropna().iloc[:50]
    pattern = r"^\d{1,4}(?:[-/.]\d{1,2}[-/.]|年\d{1,2}月)\d"
    return bool(len(sample)) and bool(sample.str.contains(pattern).all())


def _range(numbers: pd.Series) -> str:
    lo, hi = numbers.min(), numbers.max()
    return f"{lo:,.6g} to {hi:,.6g}"


# --- splitting and fitting ---------------------------------------------------------


def parse_split(split: str) -> str | None:
    """None for a random split, else the time column's name."""
    if split == "random":
        return None
    if split.startswith("time:") and split[5:].strip():
        return split[5:].strip()
    raise ConfigError(f"--split must be 'random' or 'time:COLUMN', not {split!r}.")


def _split(
    data: pd.DataFrame, labels: np.ndarray, time_column: str | None, holdout: float, seed: int
) -> tuple[np.ndarray, str]:
    """Boolean mask of the holdout rows and a description of the split."""
    n = len(labels)
    size = max(1, round(holdout * n))
    if time_column is None:
        from sklearn.model_selection import train_test_split

        index = np.arange(n)
        _, test = train_test_split(index, test_size=size, stratify=labels, random_state=seed)
        mask = np.zeros(n, dtype=bool)
        mask[test] = True
        return mask, f"random, stratified by the label (seed {seed}), {holdout:.0%} held out"
    values = data[time_column]
    text = _as_text(values)
    parsed = _dates(values, text)
    if parsed is None:
        numbers = _numbers(text)
        if numbers.notna().sum() < PARSE_SHARE * text.notna().sum() or numbers.notna().sum() == 0:
            raise ConfigError(
                f"--split time:{time_column}: the column holds neither dates nor numbers."
            )
        order_key = numbers
    else:
        order_key = parsed[0]
    known = order_key.notna().to_numpy()
    positions = np.flatnonzero(known)
    if len(positions) < 2:
        raise ConfigError(f"--split time:{time_column}: the column is empty.")
    ranked = positions[np.argsort(order_key.to_numpy()[known], kind="stable")]
    size = min(size, len(ranked) - 1)
    mask = np.zeros(n, dtype=bool)
    mask[ranked[-size:]] = True
    first = order_key.iloc[ranked[-size]]
    start = f"{first:%Y-%m-%d}" if hasattr(first, "strftime") else f"{first:,}"
    missing = n - int(known.sum())
    described = f"by time: the latest {holdout:.0%} by {time_column} held out (from {start} on)"
    if missing:
        described += f"; {missing:,} rows without {time_column} train only"
    return mask, described


def _baseline():
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=5000),
    )


def _model(seed: int):
    """Gradient boosting started from the baseline's logistic fit: shallow trees (depth 2,
    pairwise interactions) learn, slowly, only what a linear logit misses. Trees alone
    (HistGradientBoostingClassifier) spent the few hundred wins of a typical file
    relearning the additive part: on the sandbox export they lost to the baseline in 7
    of 18 splits, this model in 1."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        GradientBoostingClassifier(
            init=_baseline(),
            n_estimators=100,
            learning_rate=0.05,
            max_depth=2,
            min_samples_leaf=50,
            subsample=0.8,
            random_state=seed,
        ),
    )


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half): sklearn's figure, without
    its input checks, which dominate the bootstrap's and the leak check's time."""
    from scipy.stats import rankdata

    positives = labels == 1
    n_pos = int(positives.sum())
    n_neg = len(labels) - n_pos
    ranks = rankdata(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _scores(name: str, labels: np.ndarray, predicted: np.ndarray) -> Scores:
    from nurture.scoring.model import reliability_table

    return Scores(
        name=name,
        auc=round(_auc(labels, predicted), 4),
        brier=round(float(np.mean((predicted - labels) ** 2)), 5),
        calibration=reliability_table(labels, predicted),
    )


def _bootstrap_difference(
    labels: np.ndarray, model: np.ndarray, baseline: np.ndarray, seed: int
) -> tuple[float, float]:
    """95% interval of (model AUC - baseline AUC) over resamples of the holdout."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    differences = []
    for _ in range(BOOTSTRAP_ROUNDS):
        pick = rng.integers(0, n, n)
        y = labels[pick]
        if y.min() == y.max():
            continue
        differences.append(_auc(y, model[pick]) - _auc(y, baseline[pick]))
    if not differences:
        return (float("nan"), float("nan"))
    low, high = np.percentile(differences, [2.5, 97.5])
    return (round(float(low), 4), round(float(high), 4))


def _leaks(frame: pd.DataFrame, labels: np.ndarray, used: list[Column]) -> list[str]:
    """Columns one of whose features alone ranks the training rows almost perfectly."""
    owner = {feature: column.name for column in used for feature in column.features}
    best: dict[str, float] = {}
    for feature in frame.columns:
        values = frame[feature].to_numpy(dtype=float)
        if np.all(np.isnan(values)):
            continue
        filled = np.where(np.isnan(values), np.nanmin(values) - 1, values)
        if filled.min() == filled.max():
            continue
        auc = _auc(labels, filled)
        strength = max(auc, 1 - auc)
        column = owner.get(feature, feature)
        best[column] = max(best.get(column, 0.0), strength)
    return [
        f"{column} alone ranks the outcome almost perfectly (AUC {strength:.3f} on the training "
        f"rows): if it is known only after the outcome, leave it out with --exclude {column}"
        for column, strength in best.items()
        if strength >= LEAK_AUC
    ]


def evaluate_file(
    path: Path | str,
    label: str,
    exclude: list[str] | tuple[str, ...] = (),
    split: str = "random",
    holdout: float = 0.3,
    seed: int = 42,
    sheet: str | None = None,
) -> Evaluation:
    """Read the file, build the features, split, fit both models and measure them."""
    if not 0.05 <= holdout <= 0.5:
        raise ConfigError(f"--holdout must be between 0.05 and 0.5, not {holdout}.")
    time_column = parse_split(split)
    data, how = read_table(path, sheet)
    columns = [str(c) for c in data.columns]
    data.columns = columns
    listing = ", ".join(columns)
    if label not in data.columns:
        raise ConfigError(f"no column {label!r} in {Path(path).name}; its columns: {listing}")
    unknown = [c for c in exclude if c not in data.columns]
    if unknown:
        raise ConfigError(
            f"--exclude {', '.join(unknown)}: no such column in {Path(path).name}; "
            f"its columns: {listing}"
        )
    if time_column is not None and time_column not in data.columns:
        raise ConfigError(
            f"--split time:{time_column}: no such column in {Path(path).name}; "
            f"its columns: {listing}"
        )
    rows = len(data)
    present, labels = parse_label(data[label], label)
    notes: list[str] = []
    if not present.all():
        notes.append(f"{int((~present).sum()):,} rows without a {label} value left out")
    data = data.loc[present].reset_index(drop=True)
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if min(positives, negatives) < MIN_POSITIVES:
        few = "positive" if positives < negatives else "negative"
        raise ConfigError(
            f"too few {few} outcomes to evaluate: {min(positives, negatives):,} of "
            f"{len(labels):,} labelled rows; at least {MIN_POSITIVES} of each (won and not "
            f"won) are needed, {MIN_SPLIT_POSITIVES} of them in the holdout."
        )
    excluded = {label: "the label"}
    excluded |= {c: "excluded (--exclude)" for c in exclude if c != label}
    prepared = build_features(data, excluded)
    if prepared.frame.shape[1] == 0:
        raise ConfigError("no usable feature column is left once the dropped ones are out.")
    notes += prepared.notes
    holdout_mask, described = _split(data, labels, time_column, holdout, seed)
    train = ~holdout_mask
    y_train, y_test = labels[train], labels[holdout_mask]
    for part, y in (("the training rows hold", y_train), ("the holdout holds", y_test)):
        won = int(y.sum())
        if min(won, len(y) - won) < MIN_SPLIT_POSITIVES:
            raise ConfigError(
                f"{part} only {won:,} positive and {len(y) - won:,} negative rows; at least "
                f"{MIN_SPLIT_POSITIVES} of each are needed (a larger --holdout, or a random "
                "split, may help)."
            )
    matrix = prepared.frame.to_numpy(dtype=float)
    from threadpoolctl import threadpool_limits

    # One thread: on a busy machine OpenMP's spinning threads make the fit 20x slower.
    with threadpool_limits(limits=1):
        model = _model(seed).fit(matrix[train], y_train)
        baseline = _baseline().fit(matrix[train], y_train)
    p_model = model.predict_proba(matrix[holdout_mask])[:, 1]
    p_baseline = baseline.predict_proba(matrix[holdout_mask])[:, 1]
    model_scores = _scores("gradient boosting", y_test, p_model)
    baseline_scores = _scores("logistic regression", y_test, p_baseline)
    base_rate = float(y_train.mean())
    base_brier = float(np.mean((base_rate - y_test) ** 2))
    for scores in (model_scores, baseline_scores):
        scores.brier_skill = round(1 - scores.brier / base_brier, 4) if base_brier else 0.0
    difference = round(model_scores.auc - baseline_scores.auc, 4)
    return Evaluation(
        source=f"{Path(path).name} ({how})",
        label=label,
        rows=rows,
        labelled_rows=len(labels),
        positives=positives,
        split=described,
        train_rows=int(train.sum()),
        train_positives=int(y_train.sum()),
        holdout_rows=int(holdout_mask.sum()),
        holdout_positives=int(y_test.sum()),
        used=prepared.used,
        dropped=prepared.dropped,
        features=list(prepared.frame.columns),
        model=model_scores,
        baseline=baseline_scores,
        base_rate_brier=round(base_brier, 5),
        auc_difference=difference,
        auc_difference_interval=_bootstrap_difference(y_test, p_model, p_baseline, seed),
        beats_baseline=difference > 0,
        warnings=_leaks(prepared.frame.loc[train], y_train, prepared.used),
        notes=notes,
    )


# --- the report --------------------------------------------------------------------


def _verdict(ev: Evaluation) -> str:
    low, high = ev.auc_difference_interval
    interval = f"95% interval of the difference {low:+.3f} to {high:+.3f}"
    if ev.beats_baseline:
        sure = "clearly" if low > 0 else "but within the noise of this holdout"
        return f"the model beats the baseline by {ev.auc_difference:+.3f} AUC, {sure} ({interval})"
    return (
        f"the model does NOT beat the baseline ({ev.auc_difference:+.3f} AUC, {interval}): "
        "the logistic regression is as good on these columns"
    )


def render(ev: Evaluation) -> str:
    share = ev.positives / ev.labelled_rows
    lines = [
        f"file: {ev.source}",
        f"label: {ev.label}  rows: {ev.rows:,} ({ev.labelled_rows:,} labelled), "
        f"positives: {ev.positives:,} ({share:.1%})",
        f"split: {ev.split}",
        f"  training {ev.train_rows:,} rows ({ev.train_positives:,} positive), "
        f"holdout {ev.holdout_rows:,} rows ({ev.holdout_positives:,} positive)",
        "",
        f"columns used ({len(ev.used)}), {len(ev.features)} features:",
    ]
    lines += [f"  {c.name}: {c.kind}, {c.detail}" for c in ev.used]
    lines.append(f"columns dropped ({len(ev.dropped)}):")
    lines += [f"  {c.name}: {c.detail}" for c in ev.dropped]
    lines += [
        "",
        "model: gradient-boosted trees (depth 2, 100 rounds) started from the logistic fit;",
        "baseline: plain logistic regression; both on the same features and split.",
        "",
        "holdout                         AUC     Brier     Brier skill",
        f"  model (gradient boosting)     {ev.model.auc:.3f}   {ev.model.brier:.5f}   "
        f"{ev.model.brier_skill:+.1%}",
        f"  baseline (logistic)           {ev.baseline.auc:.3f}   {ev.baseline.brier:.5f}   "
        f"{ev.baseline.brier_skill:+.1%}",
        f"  base rate only                0.500   {ev.base_rate_brier:.5f}   +0.0%",
        "",
        f"verdict: {_verdict(ev)}",
        "",
        "calibration by decile of predicted probability (holdout): predicted vs observed",
        "  decile   leads   model pred  observed   baseline pred  observed",
    ]
    for m, b in zip(ev.model.calibration, ev.baseline.calibration, strict=False):
        lines.append(
            f"  {m['decile']:>6}   {m['leads']:>5}   {m['mean_predicted']:>10.4f}  "
            f"{m['observed_rate']:>8.4f}   {b['mean_predicted']:>13.4f}  {b['observed_rate']:>8.4f}"
        )
    if ev.warnings:
        lines += ["", "warnings:"] + [f"  ! {w}" for w in ev.warnings]
    if ev.notes:
        lines += ["", "notes:"] + [f"  {n}" for n in ev.notes]
    return "\n".join(lines)


__all__ = [
    "MIN_POSITIVES",
    "Evaluation",
    "build_features",
    "evaluate_file",
    "parse_label",
    "read_table",
    "render",
]
