"""A counting SMTP server for the mail benchmarks, run as its own process.

`python -m bench.catcher PORT FILE` appends each received message's Message-ID to FILE, one a
line, so the benchmark can prove no message arrived twice.
"""

from __future__ import annotations

import signal
import sys
import threading
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller


class CountingHandler:
    """Writes every message's Message-ID to a file as it is accepted."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope) -> str:
        headers = self.parser.parsebytes(envelope.original_content)
        self.file.write(f"{headers.get('Message-ID', '-')}\n")
        return "250 OK"


def main() -> None:
    """Serve until SIGTERM."""
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(CountingHandler(path), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
