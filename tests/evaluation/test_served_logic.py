"""The article page served (serving.recommender) ranks as the evaluated model does: the same
newslake.ranking.blend on the same lists, then the same top-ups."""

from __future__ import annotations

from evaluation import protocol2
from newslake.ranking import ARTICLE_PAGE
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
