"""Summarises bench/run-fanout.sh results: medians per target and rate, the
saturation throughput of each target, and memory per idle connection."""

import json
import statistics
import sys
from collections import defaultdict

# A rate counts as sustained when at least this share of the expected
# deliveries arrived inside the window and the run saw no duplicates.
SUSTAINED_SHARE = 0.99


def main(path):
    runs = defaultdict(list)
    idle = defaultdict(list)
    with open(path) as results:
        for line in results:
            row = json.loads(line)
            if "idle_connections" in row and "rss_idle_kib" in row:
                idle[row["target"]].append((row["rss_idle_kib"] - row["rss_before_kib"]) / row["idle_connections"])
            elif "rate" in row:
                runs[(row["target"], row["rate"])].append(row)

    print("| target | rate (msg/s) | deliveries/s | delivered share | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    saturation = {}
    for (target, rate), rows in sorted(runs.items()):
        deliveries = statistics.median(r["deliveries_per_second"] for r in rows)
        share = statistics.median(r["delivered"] / r["expected_deliveries"] for r in rows)
        p50 = statistics.median(r["p50_ms"] for r in rows)
        p99 = statistics.median(r["p99_ms"] for r in rows)
        duplicates = sum(r.get("duplicates", 0) for r in rows)
        print(f"| {target} | {rate:.0f} | {deliveries:.0f} | {share:.3f} | {p50:.2f} | {p99:.2f} |")
        if share >= SUSTAINED_SHARE and duplicates == 0:
            saturation[target] = max(saturation.get(target, 0), deliveries)
    print()
    for target, value in sorted(saturation.items()):
        print(f"saturation {target}: {value:.0f} deliveries/s (highest sustained rate)")
    if "bare" in saturation and "kinlink" in saturation:
        print(f"ratio kinlink/bare: {saturation['kinlink'] / saturation['bare']:.2f}")
    for target, values in sorted(idle.items()):
        print(f"memory per idle connection {target}: {statistics.median(values):.1f} KiB (median of {len(values)})")


if __name__ == "__main__":
    main(sys.argv[1])
