"""Pages parsed off the loop: a size cap, a time cap, and a cancelled parse that stops."""

import asyncio
import threading

import pytest
from operator_tikv.metrics.direct import FAMILIES
from operator_tikv.metrics.exposition import RUN_SLICE, ExpositionReader, ParseStopped
from operator_tikv.metrics.parsing import TOO_LARGE, TOO_SLOW, PageParser, PageSkipped

HEAD = "# TYPE tikv_raftstore_region_count gauge\n"


def page(series: int) -> str:
    return HEAD + "".join(f'tikv_raftstore_region_count{{type="r{i}"}} 1\n' for i in range(series))


async def test_a_page_within_the_caps_is_parsed_off_the_loop():
    parser = PageParser(ExpositionReader(FAMILIES))
    try:
        scrape = await parser.parse(page(3), 1.0)
    finally:
        parser.close()
    assert len(scrape.series("tikv_raftstore_region_count")) == 3 and not parser.skipped


async def test_a_page_over_the_size_cap_is_skipped_and_counted():
    parser = PageParser(ExpositionReader(FAMILIES), max_chars=100)
    try:
        with pytest.raises(PageSkipped) as err:
            await parser.parse(page(10), 1.0)
    finally:
        parser.close()
    assert err.value.reason == TOO_LARGE and parser.skipped == {TOO_LARGE: 1}


async def test_a_parse_past_its_time_cap_is_skipped_and_counted():
    ticks = iter(range(10**9))
    # A clock that moves one "second" per look: the cap of 2 passes at the third check.
    parser = PageParser(ExpositionReader(FAMILIES), max_seconds=2, clock=lambda: next(ticks))
    try:
        with pytest.raises(PageSkipped) as err:
            await parser.parse(page(5000), 1.0)
    finally:
        parser.close()
    assert err.value.reason == TOO_SLOW and parser.skipped == {TOO_SLOW: 1}


async def test_a_cancelled_parse_stops_its_thread():
    started = threading.Event()
    reader = ExpositionReader(FAMILIES)
    parse = reader.parse

    def slow(text, at, stop):
        started.set()
        for _ in range(10_000):  # bounded: stops as soon as ``stop`` says so
            if stop():
                break
            threading.Event().wait(0.01)
        return parse(text, at, stop)

    reader.parse = slow
    parser = PageParser(reader, max_seconds=100, inline_chars=1)
    task = asyncio.create_task(parser.parse(page(3), 1.0))
    for _ in range(500):
        if started.is_set():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    parser.close()
    workers = [t for t in threading.enumerate() if t.name.startswith("metrics-parse")]
    for worker in workers:
        worker.join(timeout=10)
    assert started.is_set() and not any(t.is_alive() for t in workers)


async def test_the_time_cap_counts_from_the_start_of_the_read():
    now = [10.0]
    parser = PageParser(ExpositionReader(FAMILIES), max_seconds=2, clock=lambda: now[0])
    try:
        # Read from 10.0 to 11.9: 0.1 s would be left, but the parse gets a tenth of the cap.
        now[0] = 11.9
        scrape = await parser.parse(page(3), 1.0, started=10.0)
        assert len(scrape.series("tikv_raftstore_region_count")) == 3
        # A clock 0.1 s on per look: about 12 looks parse this page, within 2 s of its hand-over
        # but not within the 0.2 s a read begun 3 s ago leaves it.
        ticks = iter(range(10**9))
        parser._clock = lambda: 100.0 + 0.1 * next(ticks)
        assert (
            len((await parser.parse(page(5000), 1.0)).series("tikv_raftstore_region_count")) == 5000
        )
        with pytest.raises(PageSkipped) as err:
            await parser.parse(page(5000), 1.0, started=97.0)
    finally:
        parser.close()
    assert err.value.reason == TOO_SLOW and parser.skipped == {TOO_SLOW: 1}


def test_a_long_run_of_one_family_is_split_with_a_stop_check_between_slices():
    looks = []

    def stop() -> bool:
        looks.append(1)
        return len(looks) > 2

    text = page(3 * RUN_SLICE // 40)
    with pytest.raises(ParseStopped):
        ExpositionReader(FAMILIES).parse(text, 1.0, stop)
    assert len(looks) == 3
    whole = ExpositionReader(FAMILIES).parse(text, 1.0, lambda: False)
    assert len(whole.series("tikv_raftstore_region_count")) == 3 * RUN_SLICE // 40
