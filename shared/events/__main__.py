"""`python -m shared.events [--check]`: write (or check) the JSON Schemas and asyncapi.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.events.schema import SCHEMA_DIR, BreakingChangeError, contract_breaks, stale_files
from shared.events.schema import write_all as write_schemas

_BREAKING_HINT = (
    "Within v1 a contract may only gain optional fields; publish a breaking change as a new "
    "event version. Pass --allow-breaking only for a contract that was never released."
)


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m shared.events",
        description="Generate the event JSON Schemas and the AsyncAPI document from the models.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if any generated file is stale or a change is not additive",
    )
    parser.add_argument(
        "--allow-breaking",
        action="store_true",
        help="overwrite committed schemas even with non-additive changes",
    )
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    directory: Path = args.dir

    if args.check:
        status = 0
        stale = stale_files(directory)
        if stale:
            print(f"stale files in {directory} (run `python -m shared.events`):")
            print("\n".join(f"  {name}" for name in stale))
            status = 1
        breaks = contract_breaks(directory)
        if breaks:
            print("non-additive contract changes:")
            print("\n".join(f"  {change}" for change in breaks))
            print(_BREAKING_HINT)
            status = 1
        if status == 0:
            print(f"{directory}: up to date")
        return status

    try:
        written = write_schemas(directory, allow_breaking=args.allow_breaking)
    except BreakingChangeError as error:
        print(error, file=sys.stderr)
        print(_BREAKING_HINT, file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"{directory}: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
