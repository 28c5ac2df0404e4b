"""The benchmarks' and the soak's SMTP server, its own process: `python -m bench.catcher PORT FILE`.

Every accepted message is appended to FILE as one line, `time<TAB>Message-ID<TAB>To`, before
the server answers 250, so the recording holds every message a worker was told was delivered
and shows any that arrived twice. The file is opened for appending: the soak stops and starts
this server and keeps one record.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller


class RecordingHandler:
    """Appends each message's arrival time, Message-ID and recipient to a file."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope) -> str:
        headers = self.parser.parsebytes(envelope.original_content)
        message_id = headers.get("Message-ID", "-")
        self.file.write(f"{time.time():.3f}\t{message_id}\t{','.join(envelope.rcpt_tos)}\n")
        return "250 OK"


def main() -> None:
    """Serve on loopback until SIGTERM."""
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(RecordingHandler(path), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
