"""``make block`` / ``make unblock`` / ``make promote`` / ``make unpromote`` / ``make
controls``: a newsroom's controls of a portal from the shell.

The route (``/v1/portals/{portal}/editorial``) is the product's way in and takes a
machine client's token (locally the ``newslake-editorial`` client's, from
``python -m newslake.local token newslake-editorial``); this tool needs no service running
and writes the serving store directly through the same functions the route uses
(``newslake.editorial_store``): the same items, the same change log. Changes are made by
``cli:<login>``. Each command prints one JSON line; bad input is one line and exit 2, the
store out of reach one line and exit 1 (:func:`newslake.cli.run_command`).
"""

from __future__ import annotations

import argparse
import os
import pwd
import sys
import time
from collections.abc import Sequence
from typing import Any, Literal

from newslake import aws
from newslake.cli import UsageError, run_command
from newslake.editorial import Block, Promote
from newslake.editorial_store import ControlsStoreError, DynamoControls
from newslake.ids import ARTICLE_ID, ARTICLE_ID_RULE
from newslake.settings import Settings, get_settings


def _login() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(
        prog="python -m newslake.editorial_cli",
        description="Block, promote or list articles of a portal's lists.",
    )
    made.add_argument("command", choices=["block", "unblock", "promote", "unpromote", "controls"])
    made.add_argument("--portal", required=True)
    made.add_argument("--article", default="")
    made.add_argument("--reason", default="")
    made.add_argument("--until", default="", help="epoch seconds (empty: no end / a day)")
    made.add_argument("--position", default="")
    made.add_argument("--share", default="")
    made.add_argument("--sections", default="", help="comma-separated (empty: every list)")
    return made


def _number(name: str, text: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise UsageError(f"{name.upper()} must be a number (got {text[:40]!r})") from None


def _checked(args: argparse.Namespace, settings: Settings, now: int) -> None:
    if args.portal not in settings.portals:
        raise UsageError(
            f"unknown portal {args.portal[:64]!r}: use one of {', '.join(settings.portals)}"
        )
    if args.command != "controls" and not ARTICLE_ID.fullmatch(args.article):
        raise UsageError(f"ARTICLE must be {ARTICLE_ID_RULE} (got {args.article[:40]!r})")
    if args.command == "block" and not args.reason.strip():
        raise UsageError('REASON is required: make block PORTAL=g1 ARTICLE=<id> REASON="..."')
    if args.until and _number("until", args.until, int) <= now:
        raise UsageError("UNTIL must be in the future (epoch seconds)")


def _promotion(args: argparse.Namespace, settings: Settings, now: int, by: str) -> Promote:
    if bool(args.position) == bool(args.share):
        raise UsageError("give POSITION (from 1) or SHARE (0 to 1), one of them")
    position = _number("position", args.position, int) if args.position else None
    share = _number("share", args.share, float) if args.share else None
    if position is not None and not 1 <= position <= 100:
        raise UsageError("POSITION must be from 1 to 100")
    if share is not None and not 0 < share <= 1:
        raise UsageError("SHARE must be above 0 and at most 1")
    end = int(args.until) if args.until else now + settings.editorial_promotion_s
    sections = tuple(s for s in args.sections.split(",") if s)
    return Promote(args.article, position, share, now, end, sections, by, now)


def run(args: argparse.Namespace, settings: Settings, store: DynamoControls) -> dict[str, Any]:
    """Does the command; returns the JSON line's content.

    Raises:
        UsageError: bad input (nothing was written).
        ControlsStoreError: the store failed (nothing was written).
    """
    now, by = int(time.time()), f"cli:{_login()}"
    _checked(args, settings, now)
    portal, article = args.portal, args.article
    if args.command == "block":
        until = int(args.until) if args.until else None
        block = Block(article, args.reason.strip(), until, by, now)
        store.block(portal, block)
        return {"portal": portal, "block": vars(block)}
    if args.command == "promote":
        promotion = _promotion(args, settings, now, by)
        store.promote(portal, promotion)
        return {
            "portal": portal,
            "promotion": {**vars(promotion), "sections": list(promotion.sections)},
        }
    if args.command in {"unblock", "unpromote"}:
        kind: Literal["block", "promote"] = "block" if args.command == "unblock" else "promote"
        return {
            "portal": portal,
            "article_id": article,
            "ended": store.end(portal, kind, article, by),
        }
    controls = store.load(portal)
    return {
        "portal": portal,
        "blocks": [vars(b) for b in controls.blocks],
        "promotions": [{**vars(p), "sections": list(p.sections)} for p in controls.promotions],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = get_settings()
    store = DynamoControls(aws.client("dynamodb", settings), settings.recommendations_table)
    return run_command(
        lambda: run(args, settings, store),
        label=args.command,
        failures={ControlsStoreError: "nothing was changed ({}); is the platform up?"},
        sort_keys=True,
    )


if __name__ == "__main__":
    sys.exit(main())
