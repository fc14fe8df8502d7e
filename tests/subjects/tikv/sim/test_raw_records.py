"""``raw_record``: PD's own answer for a store or a region, byte for byte, errors included."""

from __future__ import annotations

import json

import httpx
import pytest
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings

from operator_tui.core.raw import RawRecords
from operator_tui.core.subject import SubjectContext, SubjectError


async def test_raw_store_and_region_are_pds_bytes(sim, http) -> None:
    subject = plugin.create(SubjectContext(http=http, settings=TikvSettings(pd=list(sim.pd_urls))))
    try:
        assert isinstance(subject, RawRecords)
        assert subject.raw_kinds() == ("store", "region")
        raw = await subject.raw_record("store", 2)
        direct = await http.get(f"{sim.pd_urls[0]}/pd/api/v1/store/2")
        assert raw.status == 200
        assert raw.body == direct.text
        assert raw.source.endswith("/pd/api/v1/store/2") and raw.source.startswith("GET ")
        assert json.loads(raw.body)["store"]["id"] == 2
        region_id = json.loads((await http.get(f"{sim.pd_urls[0]}/pd/api/v1/regions")).text)[
            "regions"
        ][0]["id"]
        region = await subject.raw_record("region", region_id)
        assert json.loads(region.body)["id"] == region_id
        missing = await subject.raw_record("store", 999)
        assert missing.status >= 400 and missing.body
        with pytest.raises(SubjectError, match="no raw ticket records"):
            await subject.raw_record("ticket", 1)
    finally:
        await subject.aclose()


async def test_raw_unreachable_pd_raises() -> None:
    async with httpx.AsyncClient(timeout=0.5) as http:
        settings = TikvSettings(pd=["http://127.0.0.1:9"])
        subject = plugin.create(SubjectContext(http=http, settings=settings))
        try:
            with pytest.raises(SubjectError):
                await subject.raw_record("store", 1)
        finally:
            await subject.aclose()
