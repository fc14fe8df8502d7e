"""PDClient: failover between members, preference, bounded retries, PD errors named by endpoint."""

import httpx
import pytest
from operator_tikv.pd import PDClient, PDError, PDUnreachable

from operator_tui.core.subject import SubjectUnreachable


def client(fake_pd, http, **kw):
    kw.setdefault("backoff_s", 0.01)
    return PDClient(http, fake_pd.endpoints, **kw)


async def test_reads_from_the_first_member(fake_pd, mock_http):
    pd = client(fake_pd, mock_http)
    info = await pd.stores()
    assert info.count == 4
    assert fake_pd.calls[0].url.host == "pd1"
    assert pd.preferred == "http://pd1:2379"


async def test_fails_over_and_prefers_the_member_that_answered(fake_pd, mock_http):
    fake_pd.dead.add("http://pd1:2379")
    pd = client(fake_pd, mock_http)
    await pd.stores()
    assert pd.preferred == "http://pd2:2379"
    assert pd.failovers == 1
    fake_pd.calls.clear()
    await pd.members()
    assert [r.url.host for r in fake_pd.calls] == ["pd2"]


async def test_no_leader_503_moves_on(fake_pd, mock_http):
    fake_pd.overrides["http://pd1:2379/pd/api/v1/stores"] = (
        503,
        '"[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader"',
    )
    pd = client(fake_pd, mock_http)
    assert (await pd.stores()).count == 4
    assert pd.preferred == "http://pd2:2379"


async def test_timeouts_move_on(fake_pd, mock_http):
    fake_pd.slow["http://pd1:2379"] = 1.0
    pd = client(fake_pd, mock_http)
    assert (await pd.stores()).count == 4
    assert pd.preferred == "http://pd2:2379"


async def test_all_members_down_is_unreachable_with_one_line(fake_pd, mock_http):
    fake_pd.dead.update(fake_pd.endpoints)
    pd = client(fake_pd, mock_http, retries=2)
    with pytest.raises(PDUnreachable) as err:
        await pd.stores()
    assert isinstance(err.value, SubjectUnreachable)
    message = str(err.value)
    assert "\n" not in message
    assert "http://pd1:2379: connection refused" in message
    assert "http://pd3:2379" in message
    assert len(fake_pd.calls) == 9


async def test_call_budget_bounds_the_retries(fake_pd, mock_http):
    fake_pd.dead.update(fake_pd.endpoints)
    pd = client(fake_pd, mock_http, retries=1000, backoff_s=0.05, call_budget_s=0.3)
    with pytest.raises(PDUnreachable):
        await pd.stores()
    assert len(fake_pd.calls) < 100


async def test_real_refused_connection_on_loopback(tk):
    port = tk.free_port()
    async with httpx.AsyncClient() as http:
        pd = PDClient(http, [f"127.0.0.1:{port}"], retries=0)
        with pytest.raises(PDUnreachable) as err:
            await pd.stores()
    assert "connection refused" in str(err.value)
    assert f"http://127.0.0.1:{port}" in str(err.value)


async def test_loopback_server_failover(loopback_pd, tk):
    dead = f"http://127.0.0.1:{tk.free_port()}"
    async with httpx.AsyncClient() as http:
        pd = PDClient(http, [dead, loopback_pd.url], retries=0)
        assert (await pd.members()).leader.name == "basic-53pe89"
        assert pd.preferred == loopback_pd.url


async def test_malformed_body_names_the_endpoint(fake_pd, mock_http):
    fake_pd.overrides["/pd/api/v1/stores"] = (200, "{not json")
    pd = client(fake_pd, mock_http)
    with pytest.raises(PDError) as err:
        await pd.stores()
    assert "GET http://pd1:2379/pd/api/v1/stores: malformed JSON" == str(err.value)


async def test_unexpected_shape_names_the_endpoint_and_field(fake_pd, mock_http):
    fake_pd.overrides["/pd/api/v1/health"] = (200, '{"name": "pd1"}')
    pd = client(fake_pd, mock_http)
    with pytest.raises(PDError) as err:
        await pd.health()
    assert str(err.value).startswith("GET http://pd1:2379/pd/api/v1/health: unexpected response")


async def test_pd_error_message_is_pd_message(fake_pd, mock_http):
    fake_pd.overrides["/pd/api/v1/store/9"] = (404, '"[PD:core:ErrStoreNotFound]store 9 not found"')
    pd = client(fake_pd, mock_http)
    with pytest.raises(PDError) as err:
        await pd.store(9)
    assert err.value.status == 404
    assert "[PD:core:ErrStoreNotFound]store 9 not found" in str(err.value)


async def test_missing_region_is_none(fake_pd, mock_http):
    pd = client(fake_pd, mock_http)
    assert await pd.region(999) is None
    assert (await pd.region(10)).id == 10


async def test_tombstone_query_sends_state_params(fake_pd, mock_http):
    pd = client(fake_pd, mock_http)
    await pd.stores((0, 1, 2))
    assert fake_pd.calls[-1].url.query == b"state=0&state=1&state=2"


async def test_region_check_counts_without_the_list(fake_pd, mock_http):
    pd = client(fake_pd, mock_http)
    assert await pd.region_check_count("down-peer") == 1
    assert await pd.region_check_count("miss-peer") == 0
    assert await pd.region_count() == 3


async def test_changes_return_pd_messages(fake_pd, mock_http):
    pd = client(fake_pd, mock_http)
    assert await pd.add_operator({"name": "split-region"}) == "The operator is created."
    fake_pd.overrides["/pd/api/v1/operators"] = (
        500,
        '"[PD:operator:ErrAddOperator]failed to add operator, maybe already have one"',
    )
    with pytest.raises(PDError) as err:
        await pd.add_operator({"name": "split-region"})
    assert (
        str(err.value)
        == "[PD:operator:ErrAddOperator]failed to add operator, maybe already have one"
    )


async def test_changes_are_not_resent_after_a_read_timeout(fake_pd, mock_http):
    fake_pd.slow["http://pd1:2379"] = 1.0
    pd = client(fake_pd, mock_http)
    with pytest.raises(PDError) as err:
        await pd.add_operator({"name": "split-region", "region_id": 1})
    assert "not retried" in str(err.value)
    assert len(fake_pd.requests_to("/operators")) == 1


async def test_leader_election_503s_are_waited_out_within_the_budget(fake_pd):
    answers = {"n": 0}

    def handler(request):
        if request.url.host == "pd1":
            raise httpx.ConnectError("refused", request=request)
        answers["n"] += 1
        if answers["n"] <= 12:
            return httpx.Response(
                503, text="[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader\n"
            )
        return fake_pd.handler(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        pd = PDClient(http, fake_pd.endpoints, retries=1, backoff_s=0.01, call_budget_s=5)
        assert (await pd.stores()).count == 4
    assert answers["n"] == 13


async def test_no_leader_for_the_whole_budget_is_a_pd_error_not_unreachable(fake_pd):
    def handler(request):
        return httpx.Response(
            503, text="[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader\n"
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        pd = PDClient(http, fake_pd.endpoints, backoff_s=0.01, call_budget_s=0.3)
        with pytest.raises(PDError) as err:
            await pd.stores()
    assert not isinstance(err.value, PDUnreachable)
    assert "leader election in progress?" in str(err.value)
    assert "ErrRedirectNoLeader" in str(err.value)
