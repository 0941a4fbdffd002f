"""A clock the tests move by hand, for code that takes ``clock=`` (and ``sleep=``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeClock:
    """Seconds that pass only when a test sets ``now`` or the code under test sleeps;
    ``slept`` lists every sleep asked for, in order."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
