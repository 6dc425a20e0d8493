"""Run the benchmarks: `python -m bench.run [latency|batch|ingest|scale|coldstart|reach|multilingual|all]`.

Each prints its figures and saves bench/out/NAME.json (git-ignored) with the machine facts; bench/RESULTS.md
is written by hand from those files, with the commands. Benchmarks are not tests: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from . import coldstart, latency, multilingual, reach, scale  # noqa: E402
from .common import WORK, machine, save, set_torch_threads  # noqa: E402

BENCHES = {
    "latency": lambda: latency.latency(),
    "batch": lambda: latency.batch_throughput(),
    "ingest": lambda: latency.ingest_throughput(),
    "scale": lambda: scale.scale(),
    "coldstart": lambda: {"cli": coldstart.cli(), "apptest": coldstart.apptest(), "browser": coldstart.browser()},
    "reach": lambda: reach.reach(),
    "multilingual": lambda: multilingual.multilingual(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["all"], help=f"any of {', '.join(BENCHES)}, or all")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch.set_num_threads(N) before measuring (compare with the default)")
    parser.add_argument("--tag", default="", help="suffix for the output file names (e.g. t1)")
    args = parser.parse_args()
    names = list(BENCHES) if args.names == ["all"] else args.names
    WORK.mkdir(parents=True, exist_ok=True)
    set_torch_threads(args.torch_threads)
    print(f"machine: {json.dumps(machine())}")
    for name in names:
        print(f"== {name}")
        result = BENCHES[name]()
        result["torch_threads"] = args.torch_threads or "default"
        path = save(name + (f"-{args.tag}" if args.tag else ""), result)
        print(json.dumps(result, indent=2))
        print(f"saved {path}")


if __name__ == "__main__":
    main()
