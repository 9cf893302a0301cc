"""The on-disk layout of a sweep: manifest, one Parquet file per run, optional daily paths.

::

    out_dir/
      manifest.json            spec, config hash, seeding, package versions (written first)
      runs/run-000123.parquet  one summary row per finished run (the run's commit marker)
      daily/run-000123.parquet optional daily path of that run (written before its run file)

Every file is written atomically: to a hidden temp file in the same folder (a name starting
with ``.``, which Parquet dataset readers ignore), flushed and fsynced, then `os.replace`d into
place. A run file therefore exists only when it is complete, and "the run is done" means "its
run file exists".
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from fedplumbing.experiments.spec import ParamValue, SweepSpec

__all__ = [
    "DAILY_DIR",
    "MANIFEST",
    "RUNS_DIR",
    "clean_temp_files",
    "finished_run_ids",
    "load_daily",
    "load_results",
    "package_versions",
    "read_manifest",
    "run_file",
    "run_statuses",
    "summary_schema",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_run",
    "write_table_atomic",
]

MANIFEST = "manifest.json"
RUNS_DIR = "runs"
DAILY_DIR = "daily"
RUN_FILE = re.compile(r"^run-(\d+)\.parquet$")
TEMP_SUFFIX = ".tmp"
VERSIONED_PACKAGES = ("numpy", "pandas", "scipy", "mesa", "pyarrow", "fedplumbing")


def run_file(out_dir: str | Path, run_id: int, kind: str = RUNS_DIR) -> Path:
    """Return the path of run ``run_id``'s file in ``out_dir/kind`` (``runs`` or ``daily``)."""
    return Path(out_dir) / kind / f"run-{run_id:06d}.parquet"


def package_versions() -> dict[str, str | None]:
    """Return the versions of python and the packages that shape a run's results."""
    versions: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_table_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` as Parquet to ``path`` so that the file appears complete or not at all."""
    _write_atomic(path, lambda fh: pq.write_table(table, fh))


def write_bytes_atomic(data: bytes, path: Path) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename)."""
    _write_atomic(path, lambda fh: fh.write(data))


def write_json_atomic(obj: object, path: Path) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    data = json.dumps(obj, indent=2, sort_keys=False).encode() + b"\n"
    _write_atomic(path, lambda fh: fh.write(data))


def _write_atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        # mkstemp makes the file private (0600); results are shared as any file is
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@functools.cache
def _umask() -> int:
    """The process's umask (read once: reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def clean_temp_files(out_dir: str | Path) -> int:
    """Delete temp files left by an interrupted writer; return how many were removed."""
    removed = 0
    for kind in (RUNS_DIR, DAILY_DIR, "."):
        folder = Path(out_dir) / kind
        if folder.is_dir():
            for tmp in folder.glob(f".*{TEMP_SUFFIX}"):
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


def read_manifest(out_dir: str | Path) -> dict[str, object] | None:
    """Return the sweep manifest of ``out_dir``, or None if there is none.

    Raises:
        ValueError: the file is not a manifest (not a JSON object), naming it.
    """
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a sweep manifest (invalid JSON: {exc})") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: not a sweep manifest (expected a JSON object)")
    # what every manifest `run_sweep` has written holds (older ones lack config_hash), and
    # what `report` reads
    spec = manifest.get("spec")
    if isinstance(spec, dict):
        keys = ("sampler", "metrics", "parameters", "seeds")
        missing = [f"spec.{k}" for k in keys if k not in spec]
    else:
        missing = ["spec" if spec is None else "spec (a JSON object)"]
    if missing:
        raise ValueError(f"{path}: not a sweep manifest (missing {', '.join(missing)})")
    return manifest


def finished_run_ids(out_dir: str | Path) -> set[int]:
    """Return the ids of runs whose run file exists (finished, successfully or not)."""
    folder = Path(out_dir) / RUNS_DIR
    if not folder.is_dir():
        return set()
    return {int(m.group(1)) for f in os.scandir(folder) if (m := RUN_FILE.match(f.name))}


def run_statuses(out_dir: str | Path) -> dict[int, str]:
    """Return run id -> status (``"ok"``/``"failed"``) of every finished run."""
    if not finished_run_ids(out_dir):
        return {}
    table = _dataset(out_dir, RUNS_DIR).to_table(columns=["run_id", "status"])
    return dict(zip(table["run_id"].to_pylist(), table["status"].to_pylist(), strict=True))


def summary_schema(spec: SweepSpec) -> pa.Schema:
    """Return the Arrow schema of a sweep's summary rows (the same for every run file)."""
    fields = [
        pa.field("run_id", pa.int64()),
        pa.field("point", pa.int64()),
        pa.field("replicate", pa.int64()),
        pa.field("seed_entropy", pa.int64()),
        pa.field("seed_spawn_key", pa.int64()),
    ]
    for param in spec.parameters:
        fields.append(pa.field(param.name, _param_type(param.values)))
    fields += [pa.field(m, pa.float64()) for m in spec.metrics]
    fields += [
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("elapsed_s", pa.float64()),
        pa.field("worker", pa.string()),
        pa.field("config_hash", pa.string()),
    ]
    return pa.schema(fields)


def _param_type(values: tuple[ParamValue, ...] | None) -> pa.DataType:
    if values is None:
        return pa.float64()
    first = values[0]
    if isinstance(first, bool):
        return pa.bool_()
    if isinstance(first, int):
        return pa.int64()
    if isinstance(first, str):
        return pa.string()
    return pa.float64()


def write_run(
    out_dir: str | Path,
    row: Mapping[str, object],
    schema: pa.Schema,
    *,
    daily: pd.DataFrame | None = None,
    metadata_json: str | None = None,
) -> Path:
    """Write one run's summary row (and its daily path first, if given) atomically.

    Args:
        out_dir: The sweep folder.
        row: Values for every column of ``schema``.
        schema: `summary_schema` of the sweep.
        daily: The run's daily DataFrame, stored with a leading ``run_id`` column.
        metadata_json: Stored as the Parquet key-value metadata ``fedplumbing`` of both files.

    Returns:
        The path of the run file.

    """
    run_id = int(row["run_id"])
    meta = {b"fedplumbing": metadata_json.encode()} if metadata_json else None
    if daily is not None:
        frame = daily.reset_index(drop=True)
        frame.insert(0, "run_id", run_id)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if meta:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
        write_table_atomic(table, run_file(out_dir, run_id, DAILY_DIR))
    table = pa.Table.from_pylist([dict(row)], schema=schema.with_metadata(meta) if meta else schema)
    path = run_file(out_dir, run_id)
    write_table_atomic(table, path)
    return path


def _dataset(out_dir: str | Path, kind: str) -> ds.Dataset:
    return ds.dataset(Path(out_dir) / kind, format="parquet", exclude_invalid_files=False)


def load_results(out_dir: str | Path) -> pd.DataFrame:
    """Read every finished run's summary row, sorted by run id.

    Args:
        out_dir: The sweep folder (the one holding ``manifest.json`` and ``runs/``).

    Returns:
        One row per finished run; empty (no columns) if no run has finished.

    """
    if not finished_run_ids(out_dir):
        return pd.DataFrame()
    frame = _dataset(out_dir, RUNS_DIR).to_table().to_pandas()
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def load_daily(out_dir: str | Path, run_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Read stored daily paths (all, or those of ``run_ids``), sorted by run id.

    Args:
        out_dir: The sweep folder.
        run_ids: Runs to read; all stored daily paths when None.

    Returns:
        The concatenated daily frames with a ``run_id`` column; empty if none are stored.

    """
    folder = Path(out_dir) / DAILY_DIR
    if not folder.is_dir():
        return pd.DataFrame()
    if run_ids is None:
        files = sorted(str(f) for f in folder.glob("run-*.parquet"))
    else:
        files = [str(run_file(out_dir, i, DAILY_DIR)) for i in sorted(set(run_ids))]
        files = [f for f in files if Path(f).exists()]
    if not files:
        return pd.DataFrame()
    frame = ds.dataset(files, format="parquet").to_table().to_pandas()
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def now_iso() -> str:
    """Return the current UTC time as an ISO 8601 string (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
