"""The sandbox in a process of its own, for the publishing benchmarks: `python -m bench.sandbox_server`.

Prints its URL on the first line of stdout, then serves until its stdin closes (so it never
outlives the benchmark that started it). Everything else goes through the HTTP control API.
"""

from __future__ import annotations

import sys

from outreach.sandbox import build_sandbox, serve


def main() -> None:
    server = serve(build_sandbox())
    print(server.url, flush=True)
    sys.stdin.read()  # EOF when the parent closes the pipe or dies
    server.shutdown()


if __name__ == "__main__":
    main()
