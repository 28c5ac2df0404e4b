"""The development OpenID provider as its own process: `python -m bench.soak.provider PORT`."""

from __future__ import annotations

import signal
import sys
import threading

from webapp.dev.provider import run_provider


def main() -> None:
    """Serve oidc-provider-mock on loopback until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with run_provider(port=int(sys.argv[1])):
        print("ready", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
