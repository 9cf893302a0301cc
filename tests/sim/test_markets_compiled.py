"""The compiled call-market kernel gives the numpy reference's numbers, bit for bit."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedplumbing.sim import markets
from fedplumbing.sim.markets import PERCENTILES, Clearing, _clear_compiled, _clear_numpy

pytestmark = pytest.mark.skipif(markets.numba is None, reason="numba not installed")


def assert_identical(a: Clearing, b: Clearing) -> None:
    assert a.volume == b.volume
    for name in (
        "bid_fill",
        "ask_fill",
        "bid_rate",
        "ask_rate",
        "session_rates",
        "session_volumes",
    ):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape, name
        assert np.array_equal(x, y), name
        assert np.array_equal(np.signbit(x), np.signbit(y)), name
    for p in PERCENTILES:
        assert a.percentiles[p] == b.percentiles[p] or (
            np.isnan(a.percentiles[p]) and np.isnan(b.percentiles[p])
        )


def both(bq, br, aq, ar, sessions=40, imbalance=0.1) -> tuple[Clearing, Clearing]:
    compiled = _clear_compiled(bq, br, aq, ar, sessions, imbalance)
    assert compiled is not None
    return _clear_numpy(bq, br, aq, ar, sessions, imbalance), compiled


amounts = st.floats(0, 100)
rates = st.one_of(st.floats(0, 5), st.sampled_from([1.0, 1.5, 2.0, 2.0001, 2.5]))
orders = st.lists(st.tuples(amounts, rates), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(orders, orders, st.integers(1, 60), st.floats(0, 0.9))
def test_compiled_equals_numpy_on_random_orders(bids, asks, sessions, imbalance):
    bq, br = map(np.array, zip(*bids, strict=True))
    aq, ar = map(np.array, zip(*asks, strict=True))
    assert_identical(*both(bq, br, aq, ar, sessions, imbalance))


@pytest.mark.parametrize("seed", range(5))
def test_compiled_equals_numpy_on_bank_schedules(seed):
    """Thousands of tranches, many of zero amount, rates spread over thousands of ticks."""
    rng = np.random.default_rng(seed)
    n_bid, n_ask = 3000, 2000
    bq = rng.exponential(2.0, n_bid) * (rng.random(n_bid) < 0.3)
    br = 2.4 + rng.choice([0.0, 0.05, -0.02], n_bid) + rng.exponential(0.3, n_bid)
    aq = rng.exponential(5.0, n_ask) * (rng.random(n_ask) < 0.8)
    ar = 2.35 + rng.exponential(0.5, n_ask)
    numpy_result, compiled = both(bq, br, aq, ar, 40, 0.1 * seed)
    assert compiled.volume > 0
    assert_identical(numpy_result, compiled)


@settings(max_examples=200, deadline=None)
@given(orders, orders, st.integers(2, 60), st.floats(-0.9, 0.9))
def test_session_prices_in_any_order_give_the_same_percentiles(bids, asks, sessions, imbalance):
    """Falling session prices take the kernel's run-by-run ordering, others its insertion
    sort (a negative imbalance makes prices rise); both give numpy's stable sort."""
    bq, br = map(np.array, zip(*bids, strict=True))
    aq, ar = map(np.array, zip(*asks, strict=True))
    assert_identical(*both(bq, br, aq, ar, sessions, imbalance))


@pytest.mark.parametrize("imbalance", [-0.5, 0.5])
def test_percentiles_of_rising_and_falling_session_prices(imbalance):
    """Session prices spread over several levels, rising or falling, with ties."""
    rng = np.random.default_rng(3)
    bq, br = rng.exponential(2.0, 300), 2.0 + rng.integers(0, 30, 300) * 0.01
    aq, ar = rng.exponential(2.0, 300), 1.9 + rng.integers(0, 30, 300) * 0.01
    numpy_result, compiled = both(bq, br, aq, ar, 40, imbalance)
    prices = numpy_result.session_rates
    assert np.unique(prices).size > 3  # several clearing levels, hence ties too
    assert (np.all(np.diff(prices) <= 0)) == (imbalance > 0)
    assert_identical(numpy_result, compiled)


def test_compiled_no_trade_and_no_orders():
    assert_identical(*both(np.array([50.0]), np.array([1.0]), np.array([60.0]), np.array([2.0])))
    assert_identical(*both(np.zeros(3), np.ones(3), np.array([60.0]), np.array([2.0])))


def test_non_finite_rates_fall_back_to_numpy():
    args = (np.array([10.0]), np.array([np.nan]), np.array([10.0]), np.array([1.0]), 40, 0.1)
    assert _clear_compiled(*args) is None


def test_clear_call_market_uses_the_same_numbers(monkeypatch):
    rng = np.random.default_rng(7)
    args = (rng.random(50), 2 + rng.random(50), rng.random(60), 1.8 + rng.random(60))
    compiled = markets.clear_call_market(*args, sessions=40, imbalance=0.15)
    monkeypatch.setattr(markets, "USE_COMPILED", False)
    assert_identical(markets.clear_call_market(*args, sessions=40, imbalance=0.15), compiled)


def bank_inputs(seed: int, n: int = 300) -> tuple[np.ndarray, ...]:
    """Reserves around the LCLoR (some far above, some far below), costs and penalties."""
    rng = np.random.default_rng(seed)
    lclor = rng.exponential(5.0, n)
    shock_sd = 0.1 + rng.exponential(1.0, n)
    reserves = lclor + shock_sd * rng.normal(0.0, 3.0, n)
    cost = rng.exponential(0.05, n)
    penalty = 5.0 + rng.exponential(1.0, n)
    return reserves, lclor, shock_sd, cost, penalty


@pytest.mark.parametrize("seed", range(3))
def test_compiled_bank_schedules_equal_numpy(seed, monkeypatch):
    from fedplumbing.agents.bank import Bank

    reserves, lclor, shock_sd, cost, penalty = bank_inputs(seed)
    args = (reserves, lclor, shock_sd, cost, 4.4, penalty)
    before = (np.array([1.0, 2.0]), np.array([4.3, 4.35]), np.array([9, 12]))
    offers = (np.array([1.0, 0.0, 2.0]), np.array([4.3, 4.31, 4.35]), np.array([3, 4, 5]))
    compiled = [
        Bank.lending_schedule(*args),
        Bank.borrowing_schedule(*args),
        Bank.borrowing_orders(*args, 3.5, 7, before),
        Bank.lending_orders(*args, 7, offers),
    ]
    monkeypatch.setattr(markets, "USE_COMPILED", False)
    reference = [
        Bank.lending_schedule(*args),
        Bank.borrowing_schedule(*args),
        Bank.borrowing_orders(*args, 3.5, 7, before),
        Bank.lending_orders(*args, 7, offers),
    ]
    for got, want in zip(compiled, reference, strict=True):
        for x, y in zip(got, want, strict=True):
            assert x.shape == y.shape
            assert np.array_equal(x, y)
    assert 2 < reference[2][0].size < reserves.size * 19  # some banks bid, some do not
    assert 2 < reference[3][0].size < reserves.size * 19  # some tranches are empty
    assert reference[3][2][1] == 5  # the empty order of `before` is left out too


def test_compiled_cash_legs_equal_numpy(monkeypatch):
    """Payments.cash_legs: the same legs, bit for bit, for sparse and dense cash changes."""
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.payments import FED, PUBLIC, TREASURY
    from fedplumbing.sim.run import simulate

    cfg = apply_overrides(
        load_scenario("default"),
        {"population.banks": 40, "population.fed_funds_active_banks": 20},
    )
    pay = simulate(cfg, 0, days=3, keep_model=True).model.payments
    rng = np.random.default_rng(3)
    deltas = []
    for rows in ([TREASURY, PUBLIC], [TREASURY, FED], [PUBLIC], list(range(pay.zeros().size))):
        for _ in range(5):
            delta = pay.zeros()
            delta[rows] = rng.normal(0.0, 10.0, len(rows)) * (rng.random(len(rows)) < 0.7)
            deltas.append(delta)
    delta = pay.zeros()
    delta[pay.nonbanks[1].rows] = 1.0  # one nonbank population only
    deltas.append(delta)
    for delta in deltas:
        compiled = [(leg.holders, leg.column, np.copy(leg.amount)) for leg in pay.cash_legs(delta)]
        monkeypatch.setattr(markets, "USE_COMPILED", False)
        reference = pay.cash_legs(delta)
        monkeypatch.setattr(markets, "USE_COMPILED", True)
        assert len(compiled) == len(reference)
        for (holders, column, amount), leg in zip(compiled, reference, strict=True):
            assert holders == leg.holders and column == leg.column
            assert np.array_equal(amount, leg.amount)
            assert np.array_equal(np.signbit(amount), np.signbit(leg.amount))


@pytest.mark.parametrize("n_orders", [7, 40, 5000])
def test_compiled_overnight_sums_equal_numpy(n_orders, monkeypatch):
    """OvernightBook sums per row: runs of one row, rows that come back later, zero fills."""
    from fedplumbing.sim.overnight import OvernightBook

    class _Ledger:
        n_holders = 30

    book = OvernightBook.__new__(OvernightBook)
    book.ledger = _Ledger()
    rng = np.random.default_rng(n_orders)
    rows = np.sort(rng.integers(0, 30, n_orders))
    rows[: n_orders // 3] = rng.integers(0, 30, n_orders // 3)  # rows out of order too
    amounts = rng.lognormal(0.0, 3.0, n_orders) * (rng.random(n_orders) < 0.6)
    rates = 4.0 + rng.normal(0.0, 1.0, n_orders)
    compiled = book._sums_by_row(rows, amounts, rates)
    monkeypatch.setattr(markets, "USE_COMPILED", False)
    reference = book._sums_by_row(rows, amounts, rates)
    for got, want in zip(compiled, reference, strict=True):
        assert np.array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    assert np.count_nonzero(reference[0]) > 3


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 127, 128, 129, 200, 511, 4838, 20001])
def test_compiled_numpy_sum_equals_np_sum(size):
    """markets.numpy_sum: numpy's pairwise summation, bit for bit, at every block boundary."""
    rng = np.random.default_rng(size)
    for trial in range(10):
        values = rng.standard_normal(size) * 10.0 ** rng.integers(-8, 9, size)
        if trial % 2:
            values[rng.random(size) < 0.5] = 0.0
        want = np.sum(values)
        got = markets.numpy_sum(values)
        assert np.float64(got).tobytes() == want.tobytes()


def test_compiled_payment_equals_posting_its_legs(monkeypatch):
    """Payments.apply_cash adds the cash legs to the matrix as posting them would, bit for bit."""
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.ledger import add_legs
    from fedplumbing.sim.payments import FED, PUBLIC, TREASURY
    from fedplumbing.sim.run import simulate

    cfg = apply_overrides(
        load_scenario("default"),
        {"population.banks": 300, "population.fed_funds_active_banks": 20},
    )
    model = simulate(cfg, 0, days=3, keep_model=True).model
    pay, balances = model.payments, model.ledger.balances
    rng = np.random.default_rng(5)
    deltas = []
    for rows in ([TREASURY, PUBLIC], [TREASURY, FED], [PUBLIC], list(range(pay.zeros().size))):
        for _ in range(5):
            delta = pay.zeros()
            delta[rows] = rng.normal(0.0, 10.0, len(rows)) * (rng.random(len(rows)) < 0.7)
            deltas.append(delta)
    delta = pay.zeros()
    delta[pay.nonbanks[1].rows] = 1.0  # one nonbank population only
    deltas += [delta, pay.zeros()]
    moved = 0
    for delta in deltas:
        compiled = balances.copy(order="F")
        received = pay.apply_cash(compiled, delta)
        moved += not np.array_equal(compiled, balances)
        monkeypatch.setattr(markets, "USE_COMPILED", False)
        reference = balances.copy(order="F")
        add_legs(reference, pay.cash_legs(delta))
        assert received == pay.apply_cash(balances.copy(order="F"), delta)
        monkeypatch.setattr(markets, "USE_COMPILED", True)
        assert np.array_equal(compiled, reference)
        assert np.array_equal(np.signbit(compiled), np.signbit(reference))
        assert np.float64(received).tobytes() == np.sum(np.maximum(delta, 0.0)).tobytes()
    assert moved > len(deltas) // 2  # most payments moved cash (some draw only zeros)


def _debug_model():
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.model import FedPlumbingModel

    cfg = apply_overrides(
        load_scenario("default"),
        {"population.banks": 40, "population.fed_funds_active_banks": 20},
    )
    model = FedPlumbingModel(cfg, rng=0, debug=True)
    for _ in range(3):
        model.step()
    return model


def test_compiled_booking_and_unwind_equal_their_legs():
    """In debug mode the kernels run on copies and must match the postings leg by leg.

    The public lends (fire-sale funding) before its deposit weights are computed, so the
    kernels stop, have the weights computed and resume.
    """
    from fedplumbing.sim.payments import PUBLIC

    model = _debug_model()
    led, book, pay = model.ledger, model.overnight, model.payments
    led.start_day()
    pay.start_day()
    dealers, banks = model.dealers.rows, model.banks.rows
    rows = np.arange(dealers.start, dealers.stop)
    need = np.linspace(0.5, 2.0, rows.size)
    booked = book.book(
        "fire-sale funding",
        "repo",
        np.array([PUBLIC]),
        np.array([need.sum()]),
        np.array([5.0]),
        rows,
        need,
        np.full(rows.size, 5.0),
        3,
    )
    assert booked == need.sum() and pay._weights is not None
    lenders = np.array([banks.start, banks.start, banks.start + 1])
    book.book(
        "fed funds",
        "fed_funds",
        lenders,
        np.array([1.0, 0.0, 2.5]),
        np.array([2.4, 0.0, 2.45]),
        np.array([banks.start + 5] * 2),
        np.array([1.0, 2.5]),
        np.array([2.4, 2.45]),
        1,
    )
    assert book.receivable["repo"][PUBLIC] > 0 and book.payable["fed_funds"][banks.start + 5] > 0
    pay.start_day()  # the unwind needs the weights again (the public is repaid)
    book.unwind()
    assert pay._weights is not None
    assert led.flows["repo unwind"] > need.sum() and led.flows["fed_funds unwind"] > 3.5
    assert not np.any(led.held("repo", slice(None))) and not np.any(book.receivable["repo"])
    led.check(holdings=False)  # no market ran: the opening's dealer overdrafts remain


def test_debug_mode_catches_a_kernel_that_differs(monkeypatch):
    from fedplumbing.sim import overnight
    from fedplumbing.sim.ledger import LedgerError

    monkeypatch.setattr(markets, "USE_COMPILED", True)
    model = _debug_model()
    kernel = overnight._unwind_kernel

    def skewed(balances, *args):
        balances[5, 0] += 1e-12
        return kernel(balances, *args)

    monkeypatch.setattr(overnight, "_unwind_kernel", skewed)
    with pytest.raises(LedgerError, match="differ from their legs"):
        model.overnight.unwind()


def test_compiled_pledge_equals_numpy(monkeypatch):
    """repo_market.pledge_for: coupons first, then bills, custody shared; the same floats."""
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.ledger import SECURITIES
    from fedplumbing.sim.repo_market import pledge_for
    from fedplumbing.sim.run import simulate

    cfg = apply_overrides(
        load_scenario("default"),
        {"population.banks": 40, "population.fed_funds_active_banks": 20},
    )
    model = simulate(cfg, 0, days=3, keep_model=True).model
    led, dealers, mmfs = model.ledger, model.dealers.rows, model.mmfs.rows
    led.release()  # no collateral pledged yet today
    rng = np.random.default_rng(11)
    borrowers = np.repeat(np.arange(dealers.start, dealers.stop), 2)
    coupons = np.repeat(led.unencumbered("coupons", dealers), 2)
    borrowed = coupons * rng.uniform(0.0, 0.8, borrowers.size)  # some need bills too
    lenders = np.repeat(np.arange(mmfs.start, mmfs.stop), 3)
    lent = rng.exponential(1.0, lenders.size) * (rng.random(lenders.size) < 0.7)
    before = led.pledged.copy(order="F"), led.held_as_collateral.copy(order="F")
    results = []
    for use_compiled in (True, False):
        monkeypatch.setattr(markets, "USE_COMPILED", use_compiled)
        led.pledged[:], led.held_as_collateral[:] = before
        pledge_for(model, borrowers, borrowed, lenders, lent, 0.02)
        results.append((led.pledged.copy(), led.held_as_collateral.copy()))
    for got, want in zip(*results, strict=True):
        assert np.array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    bills = SECURITIES.index("bills")
    assert np.count_nonzero(results[1][0][dealers, bills] > before[0][dealers, bills]) > 0


def test_compiled_bank_positions_equal_numpy(monkeypatch):
    """FedPlumbingModel.bank_positions: reserves less clients' cash at their custodians."""
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.run import simulate

    cfg = apply_overrides(
        load_scenario("default"),
        {"population.banks": 40, "population.fed_funds_active_banks": 20},
    )
    model = simulate(cfg, 0, days=3, keep_model=True).model
    rng = np.random.default_rng(2)
    for pop in (model.mmfs, model.dealers, model.fhlbs):  # clients' cash of both signs
        model.ledger.balances[pop.rows, model.ledger.asset("deposits")] = rng.normal(
            0.0, 5.0, pop.size
        )
    compiled = model.bank_positions()
    monkeypatch.setattr(markets, "USE_COMPILED", False)
    reference = model.bank_positions()
    assert np.array_equal(compiled, reference)
    assert np.array_equal(np.signbit(compiled), np.signbit(reference))
    reserves = model.ledger.held("reserves", model.banks.rows)
    assert 0 < np.count_nonzero(reference != reserves) < model.banks.size


def test_compiled_collateral_capacity_and_row_caps_equal_numpy(monkeypatch):
    """repo_market.collateral_capacity and _cap_rows: the same floats compiled and in numpy."""
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.repo_market import _cap_rows, collateral_capacity
    from fedplumbing.sim.run import simulate

    cfg = apply_overrides(
        load_scenario("default"),
        {"population.banks": 40, "population.fed_funds_active_banks": 20},
    )
    model = simulate(cfg, 0, days=3, keep_model=True).model  # collateral pledged today
    rng = np.random.default_rng(4)
    qty = rng.exponential(1.0, (30, 19)) * (rng.random((30, 19)) < 0.6)
    cap = qty.sum(axis=1) * rng.uniform(-0.2, 1.5, 30)
    results = []
    for use_compiled in (True, False):
        monkeypatch.setattr(markets, "USE_COMPILED", use_compiled)
        results.append(
            [
                collateral_capacity(model, model.dealers.rows, 0.02),
                collateral_capacity(model, model.banks.rows, 0.05),
                _cap_rows(qty, cap),
            ]
        )
    for got, want in zip(*results, strict=True):
        assert got.shape == want.shape
        assert np.array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    capped = results[1][2].sum(axis=1) < qty.sum(axis=1)
    assert 0 < np.count_nonzero(capped) < 30  # some rows are scaled down, some are not


@pytest.mark.parametrize("weights_known", [False, True])
def test_compiled_exogenous_flows_equal_their_legs(weights_known, monkeypatch):
    """flows._exogenous_loops: the day's exogenous flows and postings, bit for bit.

    Against the numpy path (`hedge_fund_change`, `mmf_flow`, `_post_leg_by_leg`), with the
    hedge funds off or on trend, window dressing, a tax day; before the public's deposit
    weights are computed the kernel stops at the first posting the public pays or
    receives, has them computed and resumes.
    """
    from fedplumbing.sim import flows

    model = _small_model()
    led, pay, dealers, day = model.ledger, model.payments, model.dealers, model.day
    opening = led.balances.copy(order="F")
    rng_state = model.rng.bit_generator.state
    rng = np.random.default_rng(11)
    window, calendar = model.window_dressing, model.calendar
    on_trend = dealers["hedge_fund_base"] * flows.hedge_fund_growth(model)
    cases = [  # (hedge-fund lending, window-dressing target, binding, tax day)
        (on_trend + rng.normal(0.0, 2.0, dealers.size), 1.0, False, False),
        (on_trend, 1.0, False, True),
        (on_trend + rng.normal(0.0, 2.0, dealers.size), 0.8, True, False),
        (on_trend + rng.normal(0.0, 2.0, dealers.size), 0.9, False, True),
    ]
    for lending, target, binding, tax_day in cases:
        # today's window dressing and tax date, on copies of the model's arrays
        targets, bindings = window.target.copy(), window.binding.copy()
        targets[day], bindings[day] = target, binding
        model.window_dressing = dataclasses.replace(window, target=targets, binding=bindings)
        tax_dates = calendar.is_corporate_tax_date.copy()
        tax_dates[day] = tax_day
        monkeypatch.setattr(calendar, "is_corporate_tax_date", tax_dates)
        results = []
        for use_compiled in (False, True):
            monkeypatch.setattr(markets, "USE_COMPILED", use_compiled)
            led.balances[...] = opening
            led.balances[dealers.rows, led.asset("hf_repo")] = lending
            model.rng.bit_generator.state = rng_state
            led.start_day()
            pay.start_day()
            if weights_known:
                pay.public_deposit_weights()
            flows.apply(model)
            results.append((led.balances.copy(order="F"), dict(led.flows)))
        (reference, logged), (compiled, compiled_logged) = results
        assert not np.array_equal(reference, opening)
        assert np.array_equal(compiled, reference)
        assert np.array_equal(np.signbit(compiled), np.signbit(reference))
        assert compiled_logged == logged
        assert "MMF flows" in logged
        assert ("hedge-fund lending" in logged) == (target != 1.0 or lending is not on_trend)
        assert ("tax receipts" in logged) == tax_day
    led.balances[...] = opening


def test_debug_mode_checks_the_exogenous_kernel(monkeypatch):
    """A kernel that strays from the postings' legs is caught in debug mode."""
    from fedplumbing.sim import flows
    from fedplumbing.sim.ledger import LedgerError

    monkeypatch.setattr(markets, "USE_COMPILED", True)
    model = _debug_model()
    model.ledger.start_day()
    flows.apply(model)  # the real kernel passes the check
    kernel = flows._exogenous_kernel

    def skewed(balances, *args):
        result = kernel(balances, *args)
        balances[4, 0] += 1e-12
        return result

    monkeypatch.setattr(flows, "_exogenous_kernel", skewed)
    with pytest.raises(LedgerError, match="differ from their legs"):
        flows.apply(model)


def _small_model():
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.run import simulate

    cfg = apply_overrides(
        load_scenario("default"),
        {"population.banks": 60, "population.fed_funds_active_banks": 20},
    )
    return simulate(cfg, 0, days=3, keep_model=True).model


def _compare_postings(model, setups, reference, compiled, weights_known):
    """Run `reference` and `compiled` from each state `setups` leaves; the same floats."""
    led, pay = model.ledger, model.payments
    for setup in setups:
        results = []
        for post in (reference, compiled):
            setup()
            led.start_day()
            pay.start_day()
            if weights_known:
                pay.public_deposit_weights()
            opening = led.balances.copy(order="F")
            returned = post()
            results.append((led.balances.copy(order="F"), dict(led.flows), returned))
        (ref, ref_logged, ref_returned), (out, logged, returned) = results
        assert not np.array_equal(ref, opening)  # something was posted
        assert np.array_equal(out, ref)
        assert np.array_equal(np.signbit(out), np.signbit(ref))
        assert logged == ref_logged
        assert returned == ref_returned


@pytest.mark.parametrize("weights_known", [False, True])
def test_compiled_dealer_distribution_equals_its_legs(weights_known, monkeypatch):
    """securities._distribution_loops sells the same excess inventory as the numpy path."""
    from fedplumbing.sim import securities

    monkeypatch.setattr(markets, "USE_COMPILED", True)
    model = _small_model()
    led, dealers = model.ledger, model.dealers
    opening = led.balances.copy(order="F")
    rng = np.random.default_rng(2)

    def excess(bills_scale, coupons_scale):
        shifts = {
            "bills": bills_scale * rng.normal(0.0, 5.0, dealers.size),
            "coupons": coupons_scale * rng.normal(0.0, 5.0, dealers.size),
        }

        def setup():
            led.balances[...] = opening
            for kind, shift in shifts.items():
                led.balances[dealers.rows, led.asset(kind)] = dealers[f"normal_{kind}"] + shift

        return setup

    def compiled():
        securities.dealer_distribution(model)
        return led.flows.get(securities.DISTRIBUTION_LABEL)

    def reference():
        fraction = 1.0 - 0.5 ** (1.0 / model.config.dealers.distribution_days)
        securities._distribute_leg_by_leg(model, fraction)
        return led.flows.get(securities.DISTRIBUTION_LABEL)

    setups = [excess(1.0, 1.0), excess(0.0, 1.0), excess(1.0, 0.0)]
    _compare_postings(model, setups, reference, compiled, weights_known)
    led.balances[...] = opening


@pytest.mark.parametrize("weights_known", [False, True])
def test_compiled_private_income_equals_its_legs(weights_known, monkeypatch):
    """private_income._income_loops: dealer carry and money-fund dividends, bit for bit."""
    from fedplumbing.sim import private_income

    monkeypatch.setattr(markets, "USE_COMPILED", True)
    model = _small_model()
    led, mmfs = model.ledger, model.mmfs
    opening = led.balances.copy(order="F")
    rng = np.random.default_rng(4)

    dealers = model.dealers

    def setup_with(dividends):
        # dealers' books whose carry, summed in another order, would come out different
        books = {kind: rng.uniform(0.0, 50.0, dealers.size) for kind in ("bills", "hf_repo")}
        income = rng.normal(0.0, 0.01, mmfs.size) if dividends else None

        def setup():
            led.balances[...] = opening
            for kind, held in books.items():
                led.balances[dealers.rows, led.asset(kind)] = held
            if income is not None:
                led.balances[mmfs.rows, led.equity_col] = income

        return setup

    def compiled():
        rate, factor = private_income.carry_rate_and_factor(model)
        args = private_income.kernel_args(model, rate, factor)
        model.payments.post_compiled(
            private_income.INCOME_LABELS, private_income._income_kernel, args, lambda: None
        )

    def reference():
        rate = model.recorder.last_repo_rate
        factor = model.accrual_days_today / 360.0 / 100.0
        private_income.pay_income_leg_by_leg(model, rate, factor)

    assert np.isfinite(model.recorder.last_repo_rate)
    setups = [setup_with(dividends) for dividends in (True, False, True, True, False)]
    _compare_postings(model, setups, reference, compiled, weights_known)
    led.balances[...] = opening


@pytest.mark.parametrize("weights_known", [False, True])
def test_compiled_interest_equals_its_legs(weights_known, monkeypatch):
    """interest._interest_loops: IORB, SOMA and MBS interest, remittances, bit for bit."""
    from fedplumbing.sim import interest

    monkeypatch.setattr(markets, "USE_COMPILED", True)
    model = _small_model()
    led, pay = model.ledger, model.payments
    opening = led.balances.copy(order="F")
    equity = float(led.equity(0))
    cases = [
        (4.0, 0.0001, 0.5, 0.2, equity - 10.0),  # a surplus to remit
        (4.0, 0.0001, 0.5, 0.2, equity + 10.0),  # none
        (4.0, 0.0003, 0.0, 0.0, equity - 1.0),  # no SOMA interest
        (0.0, 0.0001, 0.5, -0.3, equity),
    ]
    for case in cases:
        out = np.zeros(3)

        def compiled(case=case, out=out):
            args = (model.banks.rows.start, model.banks.size, *case, out)
            pay.post_compiled(
                interest.INTEREST_LABELS, interest._interest_kernel, args, lambda: None
            )
            return tuple(out.tolist())

        def reference(case=case):
            return interest._post_leg_by_leg(model, *case)

        def setup():
            led.balances[...] = opening

        _compare_postings(model, [setup], reference, compiled, weights_known)
    led.balances[...] = opening


@pytest.mark.parametrize("weights_known", [False, True])
def test_compiled_interest_and_private_income_equal_their_legs(weights_known, monkeypatch):
    """interest._interest_income_loops: the interest postings, then the private income's."""
    from fedplumbing.sim import interest, private_income

    monkeypatch.setattr(markets, "USE_COMPILED", True)
    model = _small_model()
    led, pay, dealers, mmfs = model.ledger, model.payments, model.dealers, model.mmfs
    opening = led.balances.copy(order="F")
    equity = float(led.equity(0))
    rng = np.random.default_rng(5)
    rate, factor = private_income.carry_rate_and_factor(model)
    cases = [
        (4.0, 0.0001, 0.5, 0.2, equity - 10.0),  # a surplus to remit
        (4.0, 0.0001, 0.5, 0.2, equity + 10.0),  # none
        (4.0, 0.0003, 0.0, 0.0, equity - 1.0),  # no SOMA or MBS interest
        (0.0, 0.0001, 0.5, -0.3, equity),
    ]
    for case in cases:
        out = np.zeros(3)
        books = rng.uniform(0.0, 50.0, dealers.size)
        income = rng.normal(0.0, 0.01, mmfs.size)

        def setup(books=books, income=income):
            led.balances[...] = opening
            led.balances[dealers.rows, led.asset("hf_repo")] = books
            led.balances[mmfs.rows, led.equity_col] = income

        def compiled(case=case, out=out):
            args = (model.banks.rows.start, model.banks.size, *case, out)
            args += private_income.kernel_args(model, rate, factor)
            labels = interest.INTEREST_LABELS + private_income.INCOME_LABELS
            pay.post_compiled(labels, interest._interest_income_kernel, args, lambda: None)
            return tuple(out.tolist())

        def reference(case=case):
            returned = interest._post_leg_by_leg(model, *case)
            private_income.pay_income_leg_by_leg(model, rate, factor)
            return returned

        _compare_postings(model, [setup], reference, compiled, weights_known)
        assert led.flows["dealer carry"] > 0 and led.flows["MMF dividends"] != 0
    led.balances[...] = opening


def test_debug_model_runs_the_new_kernels():
    """A debug-mode run checks every compiled posting against its legs, day after day."""
    model = _debug_model()
    for _ in range(5):
        model.step()
    assert model.ledger.flows["interest on reserves"] > 0
    assert "MMF flows" in model.ledger.flows


def test_compiled_late_payment_shock_equals_numpy(monkeypatch):
    """facilities._late_shock_loops and _shift_loops: the shock and its reversal, bit for bit."""
    model = _small_model()
    led, facilities = model.ledger, model.facilities
    opening = led.balances.copy(order="F")
    rng_state = model.rng.bit_generator.state
    results = []
    for use_compiled in (False, True):
        monkeypatch.setattr(markets, "USE_COMPILED", use_compiled)
        led.balances[...] = opening
        model.rng.bit_generator.state = rng_state
        led.start_day()
        facilities.apply_late_payment_shock(model)
        shocked = led.balances.copy(order="F")
        shock = facilities.late_shock.copy()
        facilities.reverse_late_payment_shock(model)
        results.append((shocked, shock, led.balances.copy(order="F"), dict(led.flows)))
    (numpy_shocked, numpy_shock, numpy_back, numpy_logged) = results[0]
    (shocked, shock, back, logged) = results[1]
    assert not np.array_equal(numpy_shocked, opening)
    for compiled, reference in ((shocked, numpy_shocked), (shock, numpy_shock), (back, numpy_back)):
        assert np.array_equal(compiled, reference)
        assert np.array_equal(np.signbit(compiled), np.signbit(reference))
    assert logged == numpy_logged
    assert logged["late payment shock"] == logged["late payment reversal"] > 0
    led.balances[...] = opening


@pytest.mark.parametrize("weights_known", [False, True])
def test_compiled_settlement_equals_auctions_then_distribution(weights_known, monkeypatch):
    """securities._settlement_loops: both auctions, then dealers' sales, bit for bit.

    Each auction (`_auction_loops`) redeems the maturing private securities, then settles.
    """
    from fedplumbing.sim import securities

    monkeypatch.setattr(markets, "USE_COMPILED", True)
    model = _small_model()
    led, dealers = model.ledger, model.dealers
    opening = led.balances.copy(order="F")
    rng = np.random.default_rng(6)
    fraction = 1.0 - 0.5 ** (1.0 / model.config.dealers.distribution_days)
    cases = [
        {"bills": (35.0, 120.0), "coupons": (0.0, 0.0)},
        {"bills": (0.0, 0.0), "coupons": (20.0, 90.0)},
        {"bills": (10.0, 60.0), "coupons": (15.0, 0.0)},
        {"bills": (1e9, 50.0), "coupons": (5.0, 40.0)},  # more maturing than held
        {"bills": (0.0, 80.0), "coupons": (15.0, 0.0)},  # nothing maturing; no auction
        {"bills": (0.0, 0.0), "coupons": (0.0, 0.0)},  # the sales alone
    ]
    for auctions in cases:
        excess = {kind: rng.normal(0.0, 5.0, dealers.size) for kind in ("bills", "coupons")}

        def setup(excess=excess):
            led.balances[...] = opening
            for kind, shift in excess.items():
                led.balances[dealers.rows, led.asset(kind)] = dealers[f"normal_{kind}"] + shift

        def compiled(auctions=auctions):
            securities._settle_compiled(model, auctions)

        def reference(auctions=auctions):
            for kind, (maturing, gross) in auctions.items():
                securities.redeem_private(model, kind, maturing)
                securities.settle_auction(model, kind, gross)
            securities._distribute_leg_by_leg(model, fraction)

        _compare_postings(model, [setup], reference, compiled, weights_known)
        assert led.flows[securities.DISTRIBUTION_LABEL] > 0
    led.balances[...] = opening


@pytest.mark.parametrize("seed", range(4))
def test_compiled_equals_numpy_when_sessions_clear_at_many_levels(seed):
    """A steep book: sessions clear at many distinct levels, with empty levels between.

    The kernel sums the sessions' weights at their clearing levels only and carries the
    running sums over the levels between them; the numpy reference sums over every level.
    """
    rng = np.random.default_rng(100 + seed)
    n = 400
    ask_rate = np.round(2.0 + rng.random(n) * 3.0, 3)
    ask_qty = rng.exponential(1.0, n) * (rng.random(n) < 0.7)
    bid_rate = np.round(2.0 + rng.random(n) * 3.0, 3)
    bid_qty = rng.exponential(1.0, n) * (rng.random(n) < 0.7)
    numpy_result, compiled = both(bid_qty, bid_rate, ask_qty, ask_rate, 60, 0.9)
    assert np.unique(compiled.session_rates).size >= 10
    assert np.count_nonzero(compiled.bid_fill) > 0 and np.count_nonzero(compiled.ask_fill) > 0
    assert_identical(numpy_result, compiled)


@pytest.mark.parametrize("seed", range(3))
def test_compiled_fed_funds_order_book_equals_numpy(seed, monkeypatch):
    from fedplumbing.sim import fed_funds_market as ff

    reserves, lclor, shock_sd, cost, penalty = bank_inputs(seed)
    rng = np.random.default_rng(seed)
    fhlb_cash = np.array([5.0, -1.0, 0.0, -0.0, 12.5, np.nan])
    foreign = rng.random(reserves.size) < 0.4
    capacity = np.where(foreign, rng.exponential(3.0, reserves.size), 0.0)
    capacity[:3] = (-1.0, np.nan, 1e-320)  # none of them arbitrages at a share of 0.3
    arb_cost = rng.exponential(0.05, reserves.size)
    # the positions' inputs: reserves, then four clients' cash at three custodian banks
    n = reserves.size
    balances = np.zeros((n + 4, 2), order="F")
    balances[:n, 1] = reserves
    balances[n:, 0] = (1.5, -0.5, 2.0, 0.25)
    client_starts, client_sizes = np.array([n, n + 2]), np.array([2, 2])
    positions = (balances, 0, 1, 0, n, client_starts, client_sizes, np.array([0, 1, 0, 2]), 3)
    for share in (1.0, 0.3):
        args = (fhlb_cash, 3, 4.3, 0.8, positions, lclor, shock_sd, cost, 4.4, penalty)
        args = (*args, 120, 20, capacity, arb_cost, share)
        compiled = ff._order_book_kernel(*args)
        monkeypatch.setattr(markets, "USE_COMPILED", False)
        reference = ff._order_book_numpy(*args)
        monkeypatch.setattr(markets, "USE_COMPILED", True)
        assert compiled[0].size > 3 and compiled[3].size > 10
        for got, want in zip(compiled, reference, strict=True):
            assert got.shape == want.shape
            assert np.array_equal(got, want)
            assert np.array_equal(np.signbit(got), np.signbit(want))


def test_compiled_repo_order_book_equals_numpy(monkeypatch):
    """repo_market.order_book: money funds', banks', the Fed's and dealers' orders."""
    from fedplumbing.sim import repo_market
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.run import simulate

    cfg = apply_overrides(
        load_scenario("default"),
        {
            "population.banks": 40,
            "population.fed_funds_active_banks": 20,
            "dealers.elastic_share": 0.3,
        },
    )
    model = simulate(cfg, 0, days=3, keep_model=True).model
    led = model.ledger
    pledged = led.pledged[model.dealers.rows].copy()
    led.release()
    led.pledged[model.dealers.rows][::2] = pledged[::2]  # some collateral pledged already
    deposits = led.asset("deposits")
    rng = np.random.default_rng(5)
    mmfs, dealers = model.mmfs.rows, model.dealers.rows
    cash = led.balances[mmfs, deposits]
    led.balances[mmfs, deposits] = cash * rng.uniform(-0.5, 3.0, cash.size)
    led.balances[mmfs.start, deposits] = -0.0
    led.balances[dealers, deposits] = rng.normal(-20.0, 20.0, model.dealers.size)
    led.balances[dealers.start, deposits] = 0.0  # its need, -0.0, is bid as 0.0
    model.fed_repo_ops_today = 7.5
    compiled = repo_market.order_book(model)
    monkeypatch.setattr(markets, "USE_COMPILED", False)
    reference = repo_market._order_book_numpy(model)
    for got, want in zip(compiled, reference, strict=True):
        assert got.shape == want.shape
        assert np.array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    ask_qty, bid_qty, elastic = reference[0], reference[3], reference[6]
    assert np.count_nonzero(ask_qty > 0) > 10 and np.count_nonzero(bid_qty > 0) > 3
    assert 0 < np.count_nonzero(elastic) < model.dealers.size  # dealers with and without need


def test_books_pass_read_only_rows_and_contiguous_amounts(monkeypatch):
    """The markets and facilities hand `OvernightBook.book` arrays of one kind each.

    The booking kernel takes them as they are: rows of another kind (writable, say) would
    load a second compiled specialisation of it in every process.
    """
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.overnight import OvernightBook
    from fedplumbing.sim.run import simulate

    seen = []
    book = OvernightBook.book

    def recording(self, label, instrument, *arrays_and_days):
        seen.append((label, arrays_and_days[:-1]))
        return book(self, label, instrument, *arrays_and_days)

    monkeypatch.setattr(OvernightBook, "book", recording)
    cfg = apply_overrides(
        load_scenario("default"),
        {"population.banks": 40, "population.fed_funds_active_banks": 20},
    )
    simulate(cfg, 0, days=5)
    assert {"repo", "fed funds", "ON RRP"} <= {label for label, _ in seen}
    for label, arrays in seen:
        for i, array in enumerate(arrays):
            assert array.flags.c_contiguous, label
            if i in (0, 3):  # lender rows, borrower rows
                assert array.dtype == np.int64 and not array.flags.writeable, label
            else:
                assert array.dtype == np.float64, label


@pytest.mark.parametrize("srf", [False, True], ids=["repo operations", "SRF"])
def test_whole_runs_are_the_same_compiled_and_in_numpy(srf, monkeypatch):
    """Every kernel is checked against its numpy path above; this checks a whole run, day
    for day, through a stressed September (repo operations or the SRF, deleveraging, the
    window, tax-day redemptions): every column of the daily table, bit for bit."""
    import pandas as pd
    from test_emergence import lab

    from fedplumbing.sim.run import simulate

    cfg = lab(
        **{
            "fed.repo_ops_trigger_bp": 20.0,
            "fed.srf_enabled": srf,
            "fed.srf_stigma_bp": 0.0,
            "start": "2019-08-26",
            "end": "2019-09-30",
        }
    )
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(markets, "USE_COMPILED", compiled)
        runs.append(simulate(cfg, 2).daily)
    # it was stressed: the SRF lent, or without it repo traded 20 bp over IORB
    if srf:
        assert runs[0]["srf_take_up"].sum() > 10.0
    else:
        assert (runs[0]["sofr"] - runs[0]["iorb"]).max() > 0.2
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)
