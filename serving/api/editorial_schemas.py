"""Bodies of the editorial routes; the OpenAPI document is generated from these."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from newslake.editorial import Block, Promote
from serving.api.deps import SECTION_PATTERN

EPOCH_S = "epoch seconds"
# Rules of a body that no JSON Schema can state, being judged against the server's clock:
# each is the whole detail of its 422, and the PUT routes' documents name them.
UNTIL_AHEAD = "until must be in the future"
END_AHEAD = "end must be after start and in the future"
CLOCK_RULES = {"until": UNTIL_AHEAD, "end": END_AHEAD}
Section = Annotated[str, StringConstraints(pattern=SECTION_PATTERN)]
MAX_SECTIONS = 50
MAX_REASON_CHARS = 500


class BlockIn(BaseModel):
    """Take the article out of every list of the portal."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON_CHARS,
        description="Why (kept in the audit): a retraction, a court order, a sensitive story.",
    )
    until: int | None = Field(
        default=None,
        gt=0,
        description=f"When the block ends by itself ({EPOCH_S}); null: until it is ended.",
    )


class PromoteIn(BaseModel):
    """Put the article in the portal's lists: at ``position``, or first in ``share`` of the
    answers (exactly one of the two), from ``start`` until ``end``."""

    # "Exactly one of position and share" in the document too, which _one_placement judges:
    # one branch per field, with it a value and the other absent or null.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["position"],
                    "properties": {"position": {"type": "integer"}, "share": {"type": "null"}},
                },
                {
                    "required": ["share"],
                    "properties": {"share": {"type": "number"}, "position": {"type": "null"}},
                },
            ]
        },
    )

    position: int | None = Field(default=None, ge=1, le=100, description="From 1.")
    share: float | None = Field(
        default=None, gt=0, le=1, description="The share of answers that show it first."
    )
    start: int | None = Field(default=None, gt=0, description=f"From ({EPOCH_S}); null: now.")
    end: int = Field(gt=0, description=f"Until ({EPOCH_S}), after start and now.")
    sections: list[Section] = Field(
        default_factory=list,
        max_length=MAX_SECTIONS,
        description="Only on the article pages of these sections; empty: every list.",
    )

    @model_validator(mode="after")
    def _one_placement(self) -> PromoteIn:
        if (self.position is None) == (self.share is None):
            raise ValueError("give either position or share")
        return self


class BlockOut(BaseModel):
    article_id: str
    reason: str
    until: int | None
    by: str = Field(description="The machine client that set it.")
    at: int = Field(description=f"When it was set ({EPOCH_S}).")
    in_effect: bool

    @staticmethod
    def of(block: Block, now: float) -> dict[str, Any]:
        return {**_fields(block), "in_effect": block.in_effect(now)}


class PromotionOut(BaseModel):
    article_id: str
    position: int | None
    share: float | None
    start: int
    end: int
    sections: list[str]
    by: str = Field(description="The machine client that set it.")
    at: int = Field(description=f"When it was set ({EPOCH_S}).")
    in_effect: bool = Field(description="Within its window now (sections aside).")

    @staticmethod
    def of(p: Promote, now: float) -> dict[str, Any]:
        return {**_fields(p), "sections": list(p.sections), "in_effect": p.start <= now < p.end}


def _fields(control: Block | Promote) -> dict[str, Any]:
    return dict(vars(control))


class BlockSet(BlockOut):
    """The block as stored; ``known`` says whether the article is in any list yet."""

    portal: str
    known: bool | None = Field(
        description=(
            "Whether newslake has a list for the article (it has been read): false for an "
            "article not published or not read yet, which the block will keep out once it "
            "is; null when the store could not tell."
        )
    )


class PromotionSet(PromotionOut):
    """The promotion as stored; ``known`` as for a block."""

    portal: str
    known: bool | None = Field(
        description=(
            "Whether newslake has a list for the article; null when the store could not tell."
        )
    )


class Ended(BaseModel):
    """``ended`` false: the article had no such control (nothing changed, nothing logged)."""

    portal: str
    article_id: str
    ended: bool


class ControlsOut(BaseModel):
    """The portal's controls as stored now, ended ones not yet dropped included."""

    portal: str
    blocks: list[BlockOut]
    promotions: list[PromotionOut]
