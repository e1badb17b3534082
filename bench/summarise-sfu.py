"""Summarises bench/run-sfu.sh results: medians per server and subscriber
count, and the SFU's cost beside the plain UDP forwarder's."""

import json
import statistics
import sys
from collections import defaultdict

# At most this share of a core per forwarded stream, at under 1% loss.
TARGET_CORE_PER_STREAM = 0.01
TARGET_LOSS = 0.01


def main(path):
    runs = defaultdict(list)
    with open(path) as results:
        for line in results:
            row = json.loads(line)
            runs[(row["target"], row["subscribers"])].append(row)

    def median(target, subscribers, field):
        return statistics.median(r[field] for r in runs[(target, subscribers)])

    print("| server | subscribers | runs | % of a core per stream | server CPU % | loss % | p50 ms | p99 ms | driver CPU % |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (target, subscribers), rows in sorted(runs.items(), key=lambda item: (item[0][1], item[0][0])):
        seconds = median(target, subscribers, "seconds")
        print(
            f"| {target} | {subscribers} | {len(rows)} "
            f"| {100 * median(target, subscribers, 'core_per_stream'):.3f} "
            f"| {100 * median(target, subscribers, 'server_cpu_seconds') / seconds:.1f} "
            f"| {100 * median(target, subscribers, 'loss'):.3f} "
            f"| {median(target, subscribers, 'p50_ms'):.2f} "
            f"| {median(target, subscribers, 'p99_ms'):.2f} "
            f"| {100 * median(target, subscribers, 'driver_cpu_seconds') / seconds:.1f} |"
        )
    print()
    for subscribers in sorted({s for (_, s) in runs}):
        if ("sfu", subscribers) not in runs or ("udp", subscribers) not in runs:
            continue
        share = median("sfu", subscribers, "core_per_stream")
        loss = median("sfu", subscribers, "loss")
        added = median("sfu", subscribers, "p99_ms") - median("udp", subscribers, "p99_ms")
        ratio = share / max(median("udp", subscribers, "core_per_stream"), 1e-9)
        met = share <= TARGET_CORE_PER_STREAM and loss < TARGET_LOSS
        print(
            f"{subscribers} subscribers: SFU {100 * share:.3f}% of a core per stream "
            f"({ratio:.1f}x the UDP forwarder), p99 {added:+.2f} ms beside it, "
            f"loss {100 * loss:.3f}%: target {'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    main(sys.argv[1])
