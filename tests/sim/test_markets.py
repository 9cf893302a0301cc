import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fedplumbing.sim.markets import clear_call_market, session_demand_factors


def test_single_session_uniform_price_at_marginal_ask():
    r = clear_call_market([100.0], [5.0], [60.0, 60.0], [1.0, 2.0], sessions=1, imbalance=0.0)
    assert r.volume == 100.0
    np.testing.assert_allclose(r.ask_fill, [60.0, 40.0])
    assert r.median == 2.0
    np.testing.assert_allclose(r.ask_rate, [2.0, 2.0])


def test_price_set_by_marginal_bid_when_supply_binds():
    r = clear_call_market([50.0, 50.0], [3.0, 2.5], [60.0], [1.0], sessions=1, imbalance=0.0)
    assert r.volume == 60.0
    np.testing.assert_allclose(r.bid_fill, [50.0, 10.0])
    assert r.median == 2.5


def test_no_trade_when_limits_do_not_cross():
    r = clear_call_market([50.0], [1.0], [60.0], [2.0])
    assert r.volume == 0.0
    assert np.isnan(r.median)


def test_zero_orders_ignored():
    r = clear_call_market(
        [100.0, 0.0], [5.0, 9.0], [60.0, 60.0, 0.0], [1.0, 2.0, 0.5], sessions=1, imbalance=0.0
    )
    assert r.volume == 100.0
    assert r.bid_fill[1] == 0.0 and r.ask_fill[2] == 0.0


def test_dispersion_grows_with_the_slope_of_supply():
    demand = [100.0]
    flat = clear_call_market(demand, [9.0], [200.0], [2.0], sessions=40, imbalance=0.1)
    # a steep supply curve: 10 tranches of 11 each, 20 bp apart
    q = np.full(10, 11.0)
    steep = clear_call_market(
        demand, [9.0], q, 2.0 + 0.2 * np.arange(10), sessions=40, imbalance=0.1
    )
    assert flat.percentiles[99.0] - flat.percentiles[1.0] == 0.0
    assert steep.percentiles[99.0] - steep.percentiles[1.0] >= 0.2 - 1e-9
    assert steep.percentiles[1.0] <= steep.median <= steep.percentiles[99.0]


def test_session_factors_average_to_one():
    m = session_demand_factors(40, 0.2)
    assert abs(m.mean() - 1.0) < 1e-12
    assert m[0] > 1.0 > m[-1]


orders = st.lists(st.tuples(st.floats(0, 100), st.floats(0, 5)), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(orders, orders, st.integers(1, 50), st.floats(0, 0.5))
def test_clearing_properties(bids, asks, sessions, imbalance):
    bq, br = map(np.array, zip(*bids, strict=True))
    aq, ar = map(np.array, zip(*asks, strict=True))
    r = clear_call_market(bq, br, aq, ar, sessions=sessions, imbalance=imbalance)
    tol = 1e-9 * (1 + bq.sum() + aq.sum())
    assert np.all(r.bid_fill <= bq + tol) and np.all(r.ask_fill <= aq + tol)
    assert np.all(r.bid_fill >= -tol) and np.all(r.ask_fill >= -tol)
    assert abs(r.bid_fill.sum() - r.volume) < tol and abs(r.ask_fill.sum() - r.volume) < tol
    # nobody trades outside its limit (0.1 bp ticks)
    filled_b = r.bid_fill > tol
    filled_a = r.ask_fill > tol
    assert np.all(r.bid_rate[filled_b] <= br[filled_b] + 0.0011)
    assert np.all(r.ask_rate[filled_a] >= ar[filled_a] - 0.0011)
    # lenders receive what borrowers pay
    paid = (r.bid_fill * r.bid_rate).sum()
    received = (r.ask_fill * r.ask_rate).sum()
    assert abs(paid - received) < 1e-6 * (1 + abs(paid))
    if r.volume > 0:
        p = r.percentiles
        assert p[1.0] <= p[25.0] <= p[50.0] <= p[75.0] <= p[99.0]
    # one uniform-price session clears every crossing order: no bid left unfilled above an
    # ask left unfilled (beyond the 0.1 bp tick), so a market that under-clears fails here
    one = clear_call_market(bq, br, aq, ar, sessions=1, imbalance=0.0)
    left_b = br[(bq - one.bid_fill) > tol]
    left_a = ar[(aq - one.ask_fill) > tol]
    if left_b.size and left_a.size:
        assert left_b.max() <= left_a.min() + 0.0011
