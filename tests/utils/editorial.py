"""A store of editorial controls in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from newslake.editorial import Block, Controls, Promote
from newslake.editorial_store import ControlsStoreError


@dataclass
class FakeControls:
    """ControlsStore over dicts; ``fail = True`` acts like DynamoDB down. ``log`` keeps
    (action, portal, article, by) per change, as the change log would."""

    blocks: dict[tuple[str, str], Block] = field(default_factory=dict)
    promotions: dict[tuple[str, str], Promote] = field(default_factory=dict)
    log: list[tuple[str, str, str, str]] = field(default_factory=list)
    fail: bool = False
    loads: int = 0

    def load(self, portal: str) -> Controls:
        self._check()
        self.loads += 1
        return Controls(
            tuple(b for (p, _), b in self.blocks.items() if p == portal),
            tuple(x for (p, _), x in self.promotions.items() if p == portal),
        )

    def block(self, portal: str, block: Block) -> None:
        self._check()
        self.blocks[(portal, block.article_id)] = block
        self.log.append(("block", portal, block.article_id, block.by))

    def promote(self, portal: str, promotion: Promote) -> None:
        self._check()
        self.promotions[(portal, promotion.article_id)] = promotion
        self.log.append(("promote", portal, promotion.article_id, promotion.by))

    def end(self, portal: str, kind: Literal["block", "promote"], article_id: str, by: str) -> bool:
        self._check()
        kept = self.blocks if kind == "block" else self.promotions
        if kept.pop((portal, article_id), None) is None:
            return False
        self.log.append(("unblock" if kind == "block" else "unpromote", portal, article_id, by))
        return True

    def _check(self) -> None:
        if self.fail:
            raise ControlsStoreError("fake controls store is down")
