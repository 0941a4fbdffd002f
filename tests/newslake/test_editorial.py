"""Applying a portal's editorial controls to a list, worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass

from newslake.editorial import Block, Controls, Promote, apply, reader_draw, refill

NOW = 1_800_000_000


@dataclass(frozen=True)
class Item:
    article_id: str
    source: str


def _list(*ids: str) -> list[Item]:
    return [Item(a, "model") for a in ids]


def _promoted(article_id: str, own: Item | None) -> Item:
    return Item(article_id, "editorial")


def _block(article: str, until: int | None = None) -> Block:
    return Block(article, "retracted", until, "newsroom", NOW - 60)


def _promote(article: str, position: int | None = 1, **fields: object) -> Promote:
    values: dict[str, object] = {
        "share": None,
        "start": NOW - 60,
        "end": NOW + 3600,
        "sections": (),
        "by": "newsroom",
        "at": NOW - 60,
    }
    values.update(fields)
    return Promote(article, position, **values)  # type: ignore[arg-type]


def _ids(items: list[Item]) -> list[str]:
    return [i.article_id for i in items]


def test_a_blocked_article_is_dropped_and_the_list_keeps_its_length() -> None:
    controls = Controls(blocks=(_block("b"),))
    got = apply(_list("a", "b", "c", "d"), controls, now=NOW, limit=3, promoted=_promoted)
    assert _ids(got) == ["a", "c", "d"]


def test_a_block_past_its_end_no_longer_applies() -> None:
    controls = Controls(blocks=(_block("b", until=NOW),))
    got = apply(_list("a", "b", "c"), controls, now=NOW, limit=3, promoted=_promoted)
    assert _ids(got) == ["a", "b", "c"]
    still = apply(_list("a", "b", "c"), controls, now=NOW - 1, limit=3, promoted=_promoted)
    assert _ids(still) == ["a", "c"]


def test_a_promotion_is_placed_at_its_position_marked_editorial() -> None:
    controls = Controls(promotions=(_promote("p", position=2),))
    got = apply(_list("a", "b", "c"), controls, now=NOW, limit=3, promoted=_promoted)
    assert got == [Item("a", "model"), Item("p", "editorial"), Item("b", "model")]


def test_a_promoted_article_already_listed_moves_to_its_position() -> None:
    controls = Controls(promotions=(_promote("c", position=1),))
    got = apply(_list("a", "b", "c", "d"), controls, now=NOW, limit=4, promoted=_promoted)
    assert _ids(got) == ["c", "a", "b", "d"]


def test_the_block_wins_over_a_promotion_of_the_same_article() -> None:
    controls = Controls(blocks=(_block("p"),), promotions=(_promote("p", position=1),))
    got = apply(_list("a", "p", "b"), controls, now=NOW, limit=3, promoted=_promoted)
    assert _ids(got) == ["a", "b"]


def test_a_promotion_outside_its_window_is_not_placed() -> None:
    early = _promote("p", start=NOW + 10)
    ended = _promote("q", end=NOW)
    got = apply(
        _list("a", "b"), Controls(promotions=(early, ended)), now=NOW, limit=2, promoted=_promoted
    )
    assert _ids(got) == ["a", "b"]


def test_two_promotions_at_one_position_put_the_newest_first() -> None:
    older = _promote("old", position=1, at=NOW - 100)
    newer = _promote("new", position=1, at=NOW - 10)
    third = _promote("x", position=2, at=NOW - 50)
    controls = Controls(promotions=(newer, third, older))
    got = apply(_list("a", "b"), controls, now=NOW, limit=4, promoted=_promoted)
    assert _ids(got) == ["new", "x", "old", "a"]


def test_a_position_past_the_list_goes_last_and_past_the_limit_is_not_shown() -> None:
    controls = Controls(promotions=(_promote("p", position=9),))
    assert _ids(apply(_list("a"), controls, now=NOW, limit=5, promoted=_promoted)) == ["a", "p"]
    full = _list("a", "b", "c")
    assert _ids(apply(full, controls, now=NOW, limit=3, promoted=_promoted)) == ["a", "b", "c"]


def test_a_share_promotion_goes_first_in_answers_whose_draw_is_below_its_share() -> None:
    controls = Controls(promotions=(_promote("p", position=None, share=0.25),))
    shown = apply(_list("a", "b"), controls, now=NOW, limit=2, promoted=_promoted, draw=0.2)
    hidden = apply(_list("a", "b"), controls, now=NOW, limit=2, promoted=_promoted, draw=0.25)
    assert (_ids(shown), _ids(hidden)) == (["p", "a"], ["a", "b"])


def test_a_readers_share_promotion_holds_all_day_and_is_drawn_again_the_next() -> None:
    two_days = _promote("p", position=None, share=0.25, end=NOW + 2 * 86_400)
    controls = Controls(promotions=(two_days,))

    def seen(reader: str, at: int) -> list[str]:
        got = apply(
            _list("a", "b"), controls, now=at, limit=2, promoted=_promoted,
            draw=reader_draw(reader, at),
        )  # fmt: skip
        return _ids(got)

    # hand-picked readers: bruno's draw for p that day is below 0.25, ana's above
    assert [seen("bruno", NOW + s) for s in (0, 60, 3600)] == [["p", "a"]] * 3
    assert [seen("ana", NOW + s) for s in (0, 60, 3600)] == [["a", "b"]] * 3
    assert seen("bruno", NOW + 86_400) == ["a", "b"]  # the next day, drawn again


def test_readers_draws_spread_evenly() -> None:
    shown = sum(reader_draw(f"reader-{i}", NOW)("p") < 0.25 for i in range(4_000))
    assert 880 <= shown <= 1_120  # a quarter of 4,000, give or take five standard deviations


def test_a_sectioned_promotion_applies_only_to_article_pages_of_its_sections() -> None:
    controls = Controls(promotions=(_promote("p", sections=("politica",)),))

    def on(section: str | None) -> list[str]:
        got = apply(
            _list("a", "b"), controls, now=NOW, limit=2, promoted=_promoted, section=section
        )
        return _ids(got)

    assert (on("politica"), on("economia"), on(None)) == (["p", "a"], ["a", "b"], ["a", "b"])


def test_refill_asks_one_more_item_per_block_in_effect_within_a_bound() -> None:
    controls = Controls(blocks=(_block("a"), _block("b"), _block("c", until=NOW - 1)))
    assert refill(10, controls, now=NOW, most=100) == 12
    assert refill(10, controls, now=NOW, most=11) == 11
    assert refill(10, Controls(), now=NOW, most=100) == 10
