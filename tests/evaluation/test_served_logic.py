"""The article page and the reader's list served (serving.recommender) rank as the evaluated
models do: the same newslake.ranking function on the same lists, then the same top-ups."""

from __future__ import annotations

from evaluation import protocol2, readers
from newslake import store
from newslake.ranking import ARTICLE_PAGE, ReaderParams
from newslake.store import ScoredItem
from serving.recommender import Recommender
from tests.utils.fakes import FakeReader

LIVE = [ScoredItem("10", 6.0), ScoredItem("11", 3.0), ScoredItem("12", 3.0), ScoredItem("7", 2.0)]
TRENDING = [ScoredItem("12", 50.0), ScoredItem("20", 40.0), ScoredItem("11", 10.0)]
POPULAR = [ScoredItem("30", 9.0), ScoredItem("20", 8.0)]


class Lists:
    """The evaluation's Context over fixed lists."""

    def covisited(self, article):
        return [(int(i.article_id), i.score) for i in LIVE] if article == 7 else []

    def trending(self, window_ms=None):
        return [(int(i.article_id), i.score) for i in TRENDING]

    def popular(self):
        return [(int(i.article_id), i.score) for i in POPULAR]


def test_the_served_article_page_is_the_evaluated_one():
    reader = FakeReader()
    reader.versions["g1"] = "v1"
    reader.records[("g1#related#7", "live")] = LIVE
    reader.records[("g1#trending", "live")] = TRENDING
    reader.records[("g1#popular", "v1")] = POPULAR
    served = Recommender(reader).related("g1", "7", limit=6)

    model = protocol2.models(protocol2.Config(blend=ARTICLE_PAGE))["newslake"]
    evaluated = model([7], Lists())  # the engine then leaves out 7, the article read

    assert [int(i.article_id) for i in served.items] == [a for a in evaluated if a != 7][:6]
    # By hand, trending weight w = 0.5: 10 -> 1; 12 -> 0.5 + w; 11 -> 0.5 + 0.2 w (co-visited,
    # boosted by trending); 20 -> 0.8 w (trending, joins the blend); then popular's 30.
    assert [i.article_id for i in served.items] == ["10", "12", "11", "20", "30"]
    assert [i.source for i in served.items] == [
        "covisited", "covisited", "covisited", "trending", "popular",
    ]  # fmt: skip


# ---- the reader's list ----------------------------------------------------------------------
NOW = 1_795_000_020  # epoch seconds: 20 s into a hot bucket
PARAMS = ReaderParams(covisited=1.0, hot=0.25, trending=0.3, last_reads=3, read_decay=0.25)
READS = [ScoredItem("7", NOW - 60), ScoredItem("8", NOW - 600), ScoredItem("9", NOW - 7200)]
RELATED = {
    "7": [ScoredItem("10", 4.0), ScoredItem("11", 2.0)],
    "8": [ScoredItem("11", 4.0), ScoredItem("12", 4.0)],
    "9": [ScoredItem("13", 9.0)],  # read 2 h ago: lends nothing
}
READER_TRENDING = [ScoredItem("12", 50.0), ScoredItem("20", 40.0), ScoredItem("7", 30.0)]
HOT = {NOW - 20: {"20": 2, "21": 1}}  # one bucket: 20 twice as hot as 21
PERSONAL = [ScoredItem("40", 0.1)]


def _pairs(items):
    return [(int(i.article_id), i.score) for i in items]


class ReaderContext:
    """The evaluation's Context for one reader over the same lists (times in ms)."""

    def __init__(self):
        self.recent = [int(i.article_id) for i in READS]
        self.read_at = [int(i.score * 1000) for i in READS]
        self.at = NOW * 1000

    def covisited(self, article):
        return _pairs(RELATED.get(str(article), []))

    def hot(self):
        return [(20, 2.0), (21, 1.0)]

    def trending(self, window_ms=None):
        return _pairs(READER_TRENDING)

    def nightly(self, kind):
        return _pairs(PERSONAL)

    def popular(self):
        return _pairs(POPULAR)


def test_the_served_readers_list_is_the_evaluated_one():
    reader = FakeReader()
    reader.versions["g1"] = "v1"
    reader.records[(store.recent_key("g1", "u1"), "live")] = READS
    reader.records[(store.user_key("g1", "u1"), "v1")] = PERSONAL
    for article, items in RELATED.items():
        reader.records[(store.related_key("g1", article), "live")] = items
    reader.records[(store.trending_key("g1"), "live")] = READER_TRENDING
    reader.records[(store.popular_key("g1"), "v1")] = POPULAR
    reader.hot["g1"] = HOT
    served = Recommender(
        reader, reader_params=PARAMS, lend_minutes=30, wall_clock=lambda: NOW
    ).for_user("g1", "u1", limit=7)

    model = readers.reader_model(PARAMS, 7, lend_ms=30 * 60_000)
    evaluated = model([], ReaderContext())

    assert [int(i.article_id) for i in served.items] == evaluated
    # By hand: co-visitation of 7 (10: 1, 11: 0.5) and of 8 at 0.25 (11, 12: 0.25 each):
    # 10 1, 11 0.75, 12 0.25; hot x 0.25: 20 0.25, 21 0.125; trending x 0.3: 12 0.3,
    # 20 0.24 (7 is read). 12 0.55 (trending gives most), 20 0.49 (hot gives most); then
    # popular's 30 (20 is in already): six articles are all there is.
    assert evaluated == [10, 11, 12, 20, 21, 30]
    assert [i.source for i in served.items] == [
        "covisited", "covisited", "trending", "hot", "hot", "popular",
    ]  # fmt: skip
