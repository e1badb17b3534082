"""SMTP server for tests that stores every message it accepts as files in a folder.

Each accepted message becomes two files, named by arrival order and a random suffix:
`<seq>-<hex>.json` with the envelope (`mail_from`, `rcpt_tos`, `received_at`) and
`<seq>-<hex>.eml` with the raw message as received. The JSON file is written first and
each file appears through a rename, so a reader that sees an `.eml` file can read both
files complete.

Needs aiosmtpd (Debian package python3-aiosmtpd), so run it with /usr/bin/python3.
The server offers no TLS and no AUTH, and accepts every sender and recipient. With
`--drop-after-data N` it stores each of the first N messages and then drops the connection
before replying, as a server that fails at the worst moment does: the sender cannot tell
whether the message arrived.
"""

import argparse
import asyncio
import itertools
import json
import logging
import os
import secrets
import signal
from datetime import datetime, timezone
from pathlib import Path

from aiosmtpd.smtp import SMTP

log = logging.getLogger("smtp_catcher")


class FolderHandler:
    """aiosmtpd handler that writes each message to `folder`."""

    def __init__(self, folder: Path, drops: int) -> None:
        self.folder = folder
        self.sequence = itertools.count(1)
        self.drops = drops

    async def handle_DATA(self, server, session, envelope) -> str:
        stem = f"{next(self.sequence):06d}-{secrets.token_hex(4)}"
        metadata = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "received_at": datetime.now(timezone.utc).isoformat(),
        }
        self.write_atomically(stem + ".json", json.dumps(metadata, indent=2).encode())
        self.write_atomically(stem + ".eml", envelope.original_content or envelope.content)
        log.info("stored message %s from %s to %s", stem, envelope.mail_from, envelope.rcpt_tos)
        if self.drops > 0:
            self.drops -= 1
            log.info("dropping the connection before replying to message %s", stem)
            server.transport.abort()
        return "250 Message accepted for delivery"

    def write_atomically(self, name: str, data: bytes) -> None:
        partial = self.folder / ("." + name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, self.folder / name)


async def serve(
    host: str,
    port: int,
    folder: Path,
    ready_file: Path | None,
    idle_timeout: float,
    drops: int,
) -> None:
    loop = asyncio.get_running_loop()
    handler = FolderHandler(folder, drops)
    server = await loop.create_server(
        # A fixed hostname keeps aiosmtpd from resolving this machine's FQDN on each connection.
        lambda: SMTP(
            handler,
            hostname="localhost",
            enable_SMTPUTF8=True,
            timeout=idle_timeout,
            loop=loop,
        ),
        host=host,
        port=port,
    )
    stop = asyncio.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    log.info("listening on %s:%d, writing messages to %s", host, port, folder)
    if ready_file is not None:
        ready_file.write_text(f"{os.getpid()}\n")
    await stop.wait()
    server.close()
    await server.wait_closed()
    log.info("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--dir", type=Path, required=True, help="folder that receives the messages")
    parser.add_argument(
        "--ready-file",
        type=Path,
        help="file to create, containing this process id, once the port is bound",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        help="seconds after which an idle connection is closed (default 300)",
    )
    parser.add_argument(
        "--drop-after-data",
        type=int,
        default=0,
        help="store the first N messages, then drop each connection before replying (default 0)",
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s smtp_catcher %(message)s")
    arguments.dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(
        serve(
            arguments.host,
            arguments.port,
            arguments.dir,
            arguments.ready_file,
            arguments.idle_timeout,
            arguments.drop_after_data,
        )
    )


if __name__ == "__main__":
    main()
