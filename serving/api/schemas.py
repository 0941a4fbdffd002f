"""Response bodies of the API; the OpenAPI document is generated from these."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from serving.recommender import Recommendations, Source


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class RecommendedItem(BaseModel):
    article_id: str
    score: float
    source: Source


class RecommendationsOut(BaseModel):
    """A reader's recommendations; ``degraded`` is true when served from memory in an outage."""

    portal: str
    user_id: str
    model_version: str | None
    items: list[RecommendedItem]
    degraded: bool

    @classmethod
    def of(cls, recs: Recommendations) -> RecommendationsOut:
        return cls(
            portal=recs.portal,
            user_id=recs.user_id,
            model_version=recs.model_version,
            items=[
                RecommendedItem(article_id=i.article_id, score=i.score, source=i.source)
                for i in recs.items
            ],
            degraded=recs.degraded,
        )


class ErrorOut(BaseModel):
    """FastAPI's error body, named so the OpenAPI document shows it."""

    detail: str
