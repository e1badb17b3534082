#!/usr/bin/env python3
"""Measures KinLink's transcoding against the `ffmpeg` tool, and chat latency
while a transcode runs inside the server.

Part 1: a 60 s 1080p clip to 720p H.264 and AAC, once through KinLink's
pipeline (`bench/src/bin/transcode.rs`: the server's worker pool and media
job process) and once
through the `ffmpeg` tool with the same settings and libraries: libx264
`veryfast`, CRF 23, 2 decoder and 2 encoder threads, bicubic scaling, AAC at
128 kbit/s and 48 kHz, index at the front. Both run at nice 10, the workers'
default. The two alternate, three runs each; wall and CPU time (user plus
system, from wait4) are recorded and the medians compared.

Part 2: the chat fan-out load (`bench/src/bin/fanout.rs`) at a fixed rate
against a fresh KinLink, once idle and once while the server transcodes the
same clip, uploaded through the HTTP API just before. The server and its
media job are pinned to CPU 0 and the load generator to CPU 1, as in
`bench/run-fanout.sh`. Idle and busy runs alternate, three each.

Usage: bench/run-transcode.py [RESULTS_FILE]
Environment: REPEATS (3), RATE (3000 messages per second), DURATION (4 s),
WARMUP (1 s of load before the measured window, as in the fan-out benchmark),
NICE (10), PARTS ("transcode chat": either or both), IDLE_PRIORITY ("true":
the server's `media.worker_idle_priority`).
"""

import http.cookiejar
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/kinlink-target"))
RELEASE = TARGET / "release"
REPEATS = int(os.environ.get("REPEATS", "3"))
RATE = int(os.environ.get("RATE", "3000"))
DURATION = int(os.environ.get("DURATION", "4"))
WARMUP = int(os.environ.get("WARMUP", "1"))
THREADS = 2
NICE = int(os.environ.get("NICE", "10"))
IDLE_PRIORITY = os.environ.get("IDLE_PRIORITY", "true")
CHUNK = 64 * 1024 * 64


def measured(command, stdout_path):
    """Runs a command and returns (wall seconds, CPU seconds)."""
    started = time.perf_counter()
    with open(stdout_path, "wb") as stdout:
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(map(str, command))}\n{process.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime


def audio_layout(clip):
    channels = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=channels", "-of", "csv=p=0", str(clip)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    return "mono" if channels == "1" else "stereo"


def tool_command(clip, out):
    layout = audio_layout(clip)
    return [
        "nice", "-n", str(NICE), "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-threads", str(THREADS), "-i", str(clip),
        "-map", "0:v:0", "-map", "0:a:0", "-map_metadata", "-1",
        "-vf", "scale=1280:720:flags=bicubic,setsar=1,format=yuv420p",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-threads", str(THREADS),
        "-af", f"aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts={layout}",
        "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(out),
    ]


def pipeline_command(clip, out_dir):
    return [
        str(RELEASE / "transcode"), "--input", str(clip), "--out-dir", str(out_dir),
        "--threads", str(THREADS), "--nice", str(NICE), "--server", str(RELEASE / "kinlink"),
    ]


def part_one(clip, work, results):
    for repeat in range(1, REPEATS + 1):
        for target in ("pipeline", "tool"):
            out = work / f"{target}-{repeat}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            command = pipeline_command(clip, out) if target == "pipeline" else tool_command(clip, out / "main.mp4")
            wall, cpu = measured(command, work / "stdout")
            row = {"part": "transcode", "repeat": repeat, "target": target, "wall_s": wall, "cpu_s": cpu,
                   "threads": THREADS, "nice": NICE}
            results.write(json.dumps(row) + "\n")
            results.flush()
            print(json.dumps(row), file=sys.stderr)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_kinlink(data):
    data.mkdir(parents=True)
    environment = dict(os.environ, KINLINK__DATA_DIR=str(data), RUST_LOG="error")
    subprocess.run([str(RELEASE / "kinlink"), "seed-load", "--users", "10", "--conversations", "100",
                    "--out", str(data / "fixtures.json")], check=True, env=environment,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    environment.update(
        KINLINK__SERVER__LISTEN=f"127.0.0.1:{port}", KINLINK__SERVER__WORKERS="1",
        KINLINK__MEDIA__WORKERS="1", KINLINK__MEDIA__THREADS_PER_JOB=str(THREADS),
        KINLINK__MEDIA__WORKER_NICE=str(NICE), KINLINK__MEDIA__WORKER_IDLE_PRIORITY=IDLE_PRIORITY,
    )
    log = open(data / "server.log", "wb")
    server = subprocess.Popen(
        ["taskset", "-c", "0", str(RELEASE / "kinlink"), "serve", "--ready-file", str(data / "ready.json")],
        env=environment, stdout=log, stderr=log,
    )
    for _ in range(200):
        if (data / "ready.json").exists() and (data / "ready.json").stat().st_size > 0:
            break
        time.sleep(0.1)
    return server, f"http://127.0.0.1:{port}", json.loads((data / "fixtures.json").read_text())


def upload(address, fixtures, clip):
    """Signs in as the first load user and uploads the clip into their first
    conversation; returns the opener and the file id once it is processing."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def call(method, path, body=None, headers=None):
        request = urllib.request.Request(address + path, data=body, method=method,
                                         headers={"Origin": address, **(headers or {})})
        with opener.open(request) as response:
            return json.loads(response.read() or b"null")

    user = fixtures["users"][0]
    call("POST", "/api/v1/auth/sign-in", json.dumps({"email": user["email"], "password": user["password"]}).encode(),
         {"Content-Type": "application/json"})
    conversation = fixtures["conversations"][0]
    size = clip.stat().st_size
    view = call("POST", f"/api/v1/conversations/{conversation}/uploads",
                json.dumps({"name": "clip.mp4", "size": size}).encode(), {"Content-Type": "application/json"})
    with open(clip, "rb") as source:
        offset = 0
        while offset < size:
            chunk = source.read(CHUNK)
            view = call("PATCH", f"/api/v1/uploads/{view['id']}", chunk,
                        {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
            offset += len(chunk)
    if view["status"] != "processing":
        sys.exit(f"the clip is {view['status']}, not processing")
    return lambda: call("GET", f"/api/v1/uploads/{view['id']}")["status"]


def fanout(address, fixtures_path):
    output = subprocess.run(
        ["taskset", "-c", "1", str(RELEASE / "fanout"), "--connections", "1000", "--rooms", "100",
         "--duration", str(DURATION), "--warmup", str(WARMUP), "--target", "kinlink", "--address", address,
         "--fixtures", str(fixtures_path), "--rate", str(RATE)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def part_two(clip, work, results):
    for repeat in range(1, REPEATS + 1):
        for state in ("idle", "transcoding"):
            data = work / f"server-{state}-{repeat}"
            # The previous run's writes (a transcoding run leaves over 100 MB)
            # reach the disk now, not during this run's window.
            subprocess.run(["sync"], check=True)
            server, address, fixtures = start_kinlink(data)
            try:
                status = None
                if state == "transcoding":
                    status = upload(address, fixtures, clip)
                # Both states wait the same, so the upload's own writes have
                # settled before the measured window.
                time.sleep(3)
                report = fanout(address, data / "fixtures.json")
                still = status() if status else None
            finally:
                server.terminate()
                server.wait()
            row = {"part": "chat", "repeat": repeat, "state": state, "rate": RATE,
                   "p50_ms": report["p50_ms"], "p99_ms": report["p99_ms"],
                   "delivered": report["delivered"], "expected_deliveries": report["expected_deliveries"],
                   "nice": NICE, "idle_priority": IDLE_PRIORITY == "true", "warmup_s": WARMUP,
                   "worst_ms_per_100ms": report.get("worst_ms_per_100ms"),
                   "processing_throughout": still == "processing" if status else None}
            results.write(json.dumps(row) + "\n")
            results.flush()
            print(json.dumps(row), file=sys.stderr)


def summarise(path):
    rows = [json.loads(line) for line in open(path)]
    median = statistics.median
    pipeline = [r for r in rows if r.get("part") == "transcode" and r["target"] == "pipeline"]
    tool = [r for r in rows if r.get("part") == "transcode" and r["target"] == "tool"]
    if pipeline and tool:
        print("| target | median wall s | median CPU s |")
        print("|---|---|---|")
        for name, group in (("KinLink pipeline", pipeline), ("ffmpeg tool", tool)):
            print(f"| {name} | {median(r['wall_s'] for r in group):.2f} | {median(r['cpu_s'] for r in group):.2f} |")
        print()
        wall = median(r["wall_s"] for r in pipeline) / median(r["wall_s"] for r in tool)
        cpu = median(r["cpu_s"] for r in pipeline) / median(r["cpu_s"] for r in tool)
        print(f"pipeline / tool: wall {wall:.3f}×, CPU {cpu:.3f}×")
    chat = [r for r in rows if r.get("part") == "chat"]
    if chat:
        print()
        print(f"| chat at {chat[0]['rate']} msg/s | median p50 ms | median p99 ms | delivered share |")
        print("|---|---|---|---|")
        for state in ("idle", "transcoding"):
            group = [r for r in chat if r["state"] == state]
            if group:
                share = median(r["delivered"] / r["expected_deliveries"] for r in group)
                print(f"| {state} | {median(r['p50_ms'] for r in group):.2f} | "
                      f"{median(r['p99_ms'] for r in group):.2f} | {share:.3f} |")
        idle = [r["p99_ms"] for r in chat if r["state"] == "idle"]
        busy = [r["p99_ms"] for r in chat if r["state"] == "transcoding"]
        if idle and busy:
            print(f"\np99 while transcoding / idle: {median(busy) / median(idle):.2f}×")
        throughout = [r["processing_throughout"] for r in chat if r["state"] == "transcoding"]
        print(f"transcode still running at the end of every busy run: {all(throughout)}")


def main():
    results_path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench/transcode-results.jsonl"
    subprocess.run(["cargo", "build", "--release", "-p", "kinlink-server", "-p", "kinlink-bench"],
                   check=True, cwd=ROOT, env=dict(os.environ, CARGO_TARGET_DIR=str(TARGET)))
    media = Path(tempfile.gettempdir()) / "kinlink-bench-media"
    subprocess.run([str(ROOT / "scripts/make-test-media"), str(media), "--bench"], check=True)
    clip = media / "bench-1080p.mp4"
    parts = os.environ.get("PARTS", "transcode chat").split()
    with tempfile.TemporaryDirectory() as work, open(results_path, "w") as results:
        if "transcode" in parts:
            part_one(clip, Path(work), results)
        if "chat" in parts:
            part_two(clip, Path(work), results)
    summarise(results_path)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--summarise":
        summarise(sys.argv[2])
    else:
        main()
