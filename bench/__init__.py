"""Benchmarks (not tests): `python -m bench.run [latency|batch|ingest|scale|coldstart|all]`; results in bench/RESULTS.md."""
