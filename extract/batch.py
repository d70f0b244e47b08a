"""Bulk runs: a folder (or a list) of reports into the results store, resumable and parallel,
on this machine's cores or as a Ray Data job on a cluster.

Every input is known by the SHA-256 of its bytes: a file already done (under any name)
is skipped, so a run killed at any moment, even with SIGKILL, and started again does
nothing twice and loses nothing.  Worker processes read reports (each loads the model
and the OCR engine once); the parent alone writes to the store, one transaction per
file, the report and the file's record together.  A file that fails is recorded with
its error, and the run goes on.
"""
from __future__ import annotations

import hashlib
import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from .pipeline import ExtractOptions, Extractor
from .records import Cell, ExtractError, Report
from .store import Store

LOG_FORMAT = "%(asctime)s %(name)s %(message)s"
# a worker is a core: processes side by side outrun one process's OCR threads (onnxruntime's
# second thread on a page gives far less than a second process does); the store keeps page images
BATCH = ExtractOptions(ocr_threads=1, keep_images=True)

SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".txt", ".html", ".htm", ".docx"})


@dataclass(frozen=True, slots=True)
class Job:
    path: str
    sha256: str


@dataclass(slots=True)
class Outcome:
    """What reading one file gave: a report (with its page images and cells) or an error."""

    job: Job
    report: Report | None = None
    images: dict = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


@dataclass(slots=True)
class Summary:
    done: int = 0
    failed: int = 0
    skipped: int = 0  # already in the store (or the same bytes twice in this run)
    seconds: float = 0.0
    review: Counter = field(default_factory=Counter)  # cells this run sent to review, by reason code


def inputs(target: Path) -> list[Path | str]:
    """A folder's report files (recursively, in name order), or the paths (and URLs) a list file names."""
    target = Path(target)
    if target.is_dir():
        return sorted(p for p in target.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not target.is_file():
        raise ExtractError(f"{target}: no such folder or list file")
    base = target.parent
    lines = [line.strip() for line in target.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    return [line if "://" in line else Path(line) if Path(line).is_absolute() else base / line for line in lines]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def plan(paths: Iterable[Path], store: Store) -> tuple[list[Job], int, list[tuple[str, str]]]:
    """The jobs still to do (unique by content, not in the store), how many were skipped,
    and the files that could not even be read (path, error)."""
    done = store.files_seen()
    jobs, skipped, unreadable, seen = [], 0, [], set()
    for p in paths:
        try:
            sha = sha256_of(p)
        except OSError as e:
            unreadable.append((str(p), f"cannot read {p}: {e.strerror or e}"))
            continue
        if sha in done or sha in seen:
            skipped += 1
            continue
        seen.add(sha)
        jobs.append(Job(str(p), sha))
    return jobs, skipped, unreadable


# --- the work of one file, in whichever process ------------------------------------------------

_extractor: Extractor | None = None  # what a worker process (or Ray actor) keeps loaded between files


def start_worker(options: ExtractOptions = ExtractOptions(), log_level: int = logging.WARNING) -> None:
    """Load the model once per worker (the OCR engine when a page first needs it); a spawned
    process logs as its parent asked (``extract -v``)."""
    global _extractor
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    _extractor = Extractor(options)


def read_one(job: Job) -> Outcome:
    if _extractor is None:
        start_worker()
    t = time.perf_counter()
    try:
        doc = _extractor.read(job.path)
        if doc.source.sha256 != job.sha256:
            raise ExtractError(f"{job.path} changed while the batch ran")
        report = _extractor.convert_document(doc)
        # a scan's pages are kept for its second look only, unless the store is to keep them
        images = doc.images if _extractor.options.keep_images else {}
        return Outcome(job, report, images, doc.cells, seconds=time.perf_counter() - t)
    except ExtractError as e:
        return Outcome(job, error=str(e), seconds=time.perf_counter() - t)
    except Exception as e:  # a bug in one file must not stop the run
        return Outcome(job, error=f"{job.path}: internal error: {e.__class__.__name__}: {e}", seconds=time.perf_counter() - t)


def _keep(store: Store, outcome: Outcome, summary: Summary) -> None:
    """One file's result into the store: its report, or its error."""
    if outcome.report is not None:
        store.add_report(outcome.report, outcome.images, outcome.cells, seconds=outcome.seconds)
        summary.done += 1
        summary.review.update(r.reason.split(":", 1)[0] if r.reason else "unstated"
                              for r in outcome.report.readings if r.status == "needs_review")
    else:
        store.record_failure(outcome.job.sha256, outcome.job.path, outcome.error or "unknown error")
        summary.failed += 1


# --- the run ------------------------------------------------------------------------------------

def run(paths: Iterable[Path], store: Store, workers: int = 1, options: ExtractOptions = BATCH,
        progress: Callable[[int, int], None] | None = None) -> Summary:
    """Read every new file into the store with ``workers`` processes (1: in this process), each
    with an ``Extractor(options)``."""
    t0 = time.perf_counter()
    jobs, skipped, unreadable = plan(paths, store)
    summary = Summary(skipped=skipped)
    for path, error in unreadable:
        store.record_failure(None, path, error)
        summary.failed += 1
    total = len(jobs)

    def finish(outcome: Outcome) -> None:
        _keep(store, outcome, summary)
        if progress:
            progress(summary.done + summary.failed - len(unreadable), total)

    level = logging.getLogger("extract").getEffectiveLevel()
    if workers <= 1:
        start_worker(options, level)
        for job in jobs:
            finish(read_one(job))
    else:
        # spawned, not forked: a fork of a process whose OCR engine already runs threads can hang
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=spawn, initializer=start_worker, initargs=(options, level)) as pool:
            # a bounded window of files in flight: page images wait in memory for the writer
            pending, queue = set(), iter(jobs)
            for job in queue:
                pending.add(pool.submit(read_one, job))
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        finish(f.result())
            for f in pending:
                finish(f.result())
    summary.seconds = time.perf_counter() - t0
    return summary


# --- on a Ray cluster ---------------------------------------------------------------------------

class RayReader:
    """A Ray actor's reading of files: the model and OCR engine loaded once per actor, the file's
    bytes (from a path or object storage) read by Ray, its result sent back pickled."""

    def __init__(self, done: frozenset[str], options: ExtractOptions):
        self.done = done
        start_worker(options)

    def __call__(self, batch: dict) -> dict:
        import pickle
        import tempfile

        out = []
        for data, path in zip(batch["bytes"], batch["path"]):
            sha = hashlib.sha256(data).hexdigest()
            if sha in self.done:
                out.append(b"")
                continue
            with tempfile.TemporaryDirectory() as tmp:
                local = Path(tmp) / Path(path).name
                local.write_bytes(data)
                outcome = read_one(Job(str(local), sha))
            outcome.job = Job(path, sha)
            if outcome.report is not None:
                s = outcome.report.source
                outcome.report.source = type(s)(path, s.sha256, s.pages, s.kind)
            elif outcome.error:
                outcome.error = outcome.error.replace(str(local), path)
            out.append(pickle.dumps(outcome))
        return {"outcome": out}


def run_ray(paths: list[str], store: Store, address: str | None = None, workers: int | None = None,
            options: ExtractOptions = BATCH, progress: Callable[[int, int], None] | None = None) -> Summary:
    """The same pipeline as a Ray Data job: ``paths`` may be local files or URLs Ray reads
    (``s3://…``); ``address`` a running cluster (None or "local": start one here).  Actors keep
    an ``Extractor(options)`` loaded; on a cluster with GPUs and ``options.device="cuda"`` each takes a GPU.  The
    results are written here, into the same store, as each arrives."""
    import pickle

    import ray

    t0 = time.perf_counter()
    ray.init(address=None if address in (None, "local") else address, ignore_reinit_error=True,
             include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = False  # ours is the progress bar
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    done = frozenset(store.files_seen())
    local = [p for p in paths if "://" not in str(p)]
    # what is known done by its bytes here is not sent at all
    todo, skipped, unreadable = plan([Path(p) for p in local], store)
    names = [j.path for j in todo] + [str(p) for p in paths if "://" in str(p)]
    summary = Summary(skipped=skipped)
    for path, error in unreadable:
        store.record_failure(None, path, error)
        summary.failed += 1
    if names:
        gpus = ray.cluster_resources().get("GPU", 0) if options.device == "cuda" else 0
        actors = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        # reading is I/O: it takes no CPU from the actors (else they starve it on a small cluster)
        ds = ray.data.read_binary_files(names, include_paths=True, override_num_blocks=len(names),
                                        ray_remote_args={"num_cpus": 0})
        results = ds.map_batches(RayReader, batch_size=1, compute=ray.data.ActorPoolStrategy(size=actors),
                                 num_cpus=1, num_gpus=1 if gpus else 0,
                                 fn_constructor_kwargs={"done": done, "options": options})
        seen: set[str] = set()
        for row in results.iter_rows():
            if not row["outcome"]:
                summary.skipped += 1
                continue
            outcome: Outcome = pickle.loads(row["outcome"])
            if outcome.job.sha256 in seen:  # the same bytes under two names in one run
                summary.skipped += 1
                continue
            seen.add(outcome.job.sha256)
            _keep(store, outcome, summary)
            if progress:
                progress(summary.done + summary.failed - len(unreadable), len(names))
    summary.seconds = time.perf_counter() - t0
    return summary
