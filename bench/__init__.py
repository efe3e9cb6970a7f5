"""``make bench``: throughput and latency figures, measured in one run, each next to
a baseline measured the same way on the same machine. Results go to stdout as a
Markdown table; docs/BENCHMARKS.md keeps them with the command that produced them."""
