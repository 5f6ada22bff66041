"""Operator commands: ``python -m llmops.cli audit verify`` (exit status 0 when the audit log holds, 1 when not).

``audit verify`` checks the audit log's hash chain and that the serving state (the ``champion`` alias and the
version Triton's ``config.pbtxt`` pins) matches its last promotion or rollback; it names the first bad record.
``--chain-only`` skips the serving state (no MLflow needed). ``audit show`` prints the records, one per line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m llmops.cli", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    audit = commands.add_parser("audit", help="the hash-chained audit log of promotions, rollbacks and erasures")
    actions = audit.add_subparsers(dest="action", required=True)
    verify = actions.add_parser("verify", help="check the chain and the serving state against the last record")
    verify.add_argument("--chain-only", action="store_true", help="do not compare with the serving state")
    verify.add_argument("--json", action="store_true", help="print the verdict as JSON")
    actions.add_parser("show", help="print the records, oldest first")
    args = parser.parse_args(argv)

    from llmops.audit import audit_log_path, read_records
    from llmops.audit import verify as verify_log
    from llmops.config import load_config

    cfg = load_config()
    if args.action == "show":
        for record in read_records(audit_log_path(cfg)):
            print(json.dumps(record, sort_keys=True))
        return 0
    verdict = verify_log(cfg, check_serving=not args.chain_only)
    if args.json:
        print(json.dumps(verdict.to_dict(), sort_keys=True))
    else:
        print(("OK: " if verdict.passed else "FAILED: ") + verdict.reason)
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
