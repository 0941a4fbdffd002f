"""Which answer made the reader click: pageviews naming a recommendation, matched to it.

The tracker reports a pageview that came through a recommended link with the answer's id
and the link's position (``rec_id``, ``rec_position``); the service recorded each answer
(``silver/impressions``: its id, portal, items by position, when it was served). A
pageview is **attributed** to the answer when all of these hold:

* an answer with that id was recorded (else ``unknown_rec``: never served, lost, not
  landed yet, or older than the look-up reaches);
* for the pageview's portal (else ``foreign_rec``: another site's id is never credited);
* its item at that position is the article read (else ``wrong_article``: the position
  holds another article, or none);
* the pageview came within the window after the answer (else ``late``: outside the
  window; the pageview's client clock may run ``skew`` behind the service's).

Any other pageview naming a recommendation stays what it was, an organic pageview, with its
reason; none is dropped. The reasons are checked in that order, so each pageview has one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from spark_jobs import columns as C
from spark_jobs.impressions import (
    EXPERIMENT,
    IMPRESSION_COLUMNS,
    ITEMS,
    MODEL_VERSION,
    POSITION,
    RECOMMENDATION_ID,
    ROUTE,
    SERVED_AT,
    SERVED_DATE,
    SOURCE,
    VARIANT,
)
from spark_jobs.validation import require_columns

# What attribution adds to a pageview.
ATTRIBUTED = "attributed"
REASON = "reason"
UNKNOWN_REC = "unknown_rec"
FOREIGN_REC = "foreign_rec"
WRONG_ARTICLE = "wrong_article"
LATE = "late"
REASONS = (UNKNOWN_REC, FOREIGN_REC, WRONG_ARTICLE, LATE)

VISIT_COLUMNS = (C.PAGEVIEW_ID, C.PORTAL, C.USER_ID, C.ARTICLE_ID, C.VISIT_START)
ANSWER_COLUMNS = (ROUTE, EXPERIMENT, VARIANT, MODEL_VERSION, SERVED_AT, SERVED_DATE)
OUTCOME_COLUMNS = (
    *VISIT_COLUMNS, C.REC_ID, C.REC_POSITION, ATTRIBUTED, REASON, *ANSWER_COLUMNS, SOURCE,
)  # fmt: skip


def attribute(
    impressions: DataFrame, *, window: timedelta, skew: timedelta
) -> Callable[[DataFrame], DataFrame]:
    """Visits -> one row per visit naming a recommendation: ``OUTCOME_COLUMNS``.

    ``attributed`` says whether it counts as a click on the answer, ``reason`` why not (null
    when it does). The answer's route, variant, model version, time and the item's source
    are filled when the answer was found for the visit's portal; a foreign answer's never.
    """

    def transform(visits: DataFrame) -> DataFrame:
        require_columns(visits, [*VISIT_COLUMNS, C.REC_ID, C.REC_POSITION], where="attribute")
        require_columns(impressions, IMPRESSION_COLUMNS, where="attribute (impressions)")
        answers = impressions.select(
            F.col(RECOMMENDATION_ID).alias(C.REC_ID),
            F.col(C.PORTAL).alias("_answer_portal"),
            *ANSWER_COLUMNS,
            ITEMS,
        ).dropDuplicates([C.REC_ID])
        named = visits.where(F.col(C.REC_ID).isNotNull()).select(
            *VISIT_COLUMNS, C.REC_ID, C.REC_POSITION
        )
        joined = named.join(answers, C.REC_ID, "left")
        item = F.try_element_at(
            F.filter(F.col(ITEMS), lambda i: i[POSITION] == F.col(C.REC_POSITION)), F.lit(1)
        )
        reason = _reason(item, window=window, skew=skew)
        ours = F.col("_answer_portal").eqNullSafe(F.col(C.PORTAL))
        return joined.select(
            *VISIT_COLUMNS,
            C.REC_ID,
            C.REC_POSITION,
            reason.isNull().alias(ATTRIBUTED),
            reason.alias(REASON),
            *[F.when(ours, F.col(c)).alias(c) for c in ANSWER_COLUMNS],
            F.when(ours, item[SOURCE]).alias(SOURCE),
        )

    return transform


def _reason(item: Column, *, window: timedelta, skew: timedelta) -> Column:
    served = F.col(SERVED_AT)
    earliest = served - F.expr(f"INTERVAL {int(skew.total_seconds())} SECONDS")
    latest = served + F.expr(f"INTERVAL {int(window.total_seconds())} SECONDS")
    in_window = F.coalesce(F.col(C.VISIT_START).between(earliest, latest), F.lit(False))
    same_article = item.isNotNull() & item[C.ARTICLE_ID].eqNullSafe(F.col(C.ARTICLE_ID))
    return (
        F.when(F.col("_answer_portal").isNull(), F.lit(UNKNOWN_REC))
        .when(~F.col("_answer_portal").eqNullSafe(F.col(C.PORTAL)), F.lit(FOREIGN_REC))
        .when(~same_article, F.lit(WRONG_ARTICLE))
        .when(~in_window, F.lit(LATE))
    )
