"""What every benchmark needs: machine facts, percentiles, a corpus store, the eval questions, JSON output."""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

from partnerbot.settings import PROJECT_ROOT, Settings, get_settings

OUT = PROJECT_ROOT / "bench" / "out"
WORK = Path(os.environ.get("PARTNERBOT_BENCH_DIR", "/tmp/partnerbot-bench"))


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "load_avg": os.getloadavg(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def rss_mib() -> float:
    """Resident memory of this process (VmRSS) and its peak (VmHWM), in MiB."""
    status = Path("/proc/self/status").read_text().splitlines()
    return round(next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024, 1)


def peak_rss_mib() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return round(next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024, 1)


def stats(seconds: list[float]) -> dict:
    """Milliseconds: p50, p95, p99, mean, max, n."""
    import numpy as np

    ms = np.asarray(seconds) * 1000
    return {"p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2),
            "p99": round(float(np.percentile(ms, 99)), 2), "mean": round(float(ms.mean()), 2),
            "max": round(float(ms.max()), 2), "n": int(ms.size)}


def timed(fn, *args, **kwargs) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def corpus_store(name: str = "corpus") -> Settings:
    """A store under WORK holding the built-in corpus (ingested once, reused by later runs)."""
    from ingest import ingest_corpus

    cfg = get_settings(store=WORK / name)
    ingest_corpus(cfg)
    return cfg


def eval_questions() -> list[tuple[str, list]]:
    """(question, history) of the project eval set."""
    from partnerbot.evals import load_eval_set

    return [(item.question, item.history) for item in load_eval_set()]


def save(name: str, data: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, ensure_ascii=False))
    return path


def set_torch_threads(n: int | None) -> None:
    if n:
        import torch

        torch.set_num_threads(n)
