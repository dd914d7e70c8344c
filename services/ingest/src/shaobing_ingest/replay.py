"""`python -m shaobing_ingest.replay [--since T] [--until T] [--topic …]`: queue a replay.

The running relays publish what is queued; consumers absorb repeats by event id.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from shaobing_runtime.database import create_pool

from .adapters.operations_store import replay
from .config import IngestSettings


async def _run(args: argparse.Namespace) -> int:
    pool = await create_pool(IngestSettings().database_url, max_size=1)
    try:
        return await replay(pool, since=args.since, until=args.until, topics=args.topic)
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=datetime.fromisoformat, default=None)
    parser.add_argument("--until", type=datetime.fromisoformat, default=None)
    parser.add_argument("--topic", action="append", default=None)
    print(f"queued {asyncio.run(_run(parser.parse_args()))} events for publishing")


if __name__ == "__main__":
    main()
