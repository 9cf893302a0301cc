import numpy as np
import pytest

from fedplumbing.sim.ledger import Ledger, LedgerError, Leg


def make(debug=True):
    return Ledger(["Fed", "Treasury", "public", "bank A", "bank B"], debug=debug)


def open_reserves(led: Ledger, a: float, b: float) -> None:
    # the Fed buys bills from two banks, creating their reserves
    led.post(
        "opening",
        Leg(0, led.asset("bills"), a + b),
        Leg(0, led.liability("reserves"), a + b),
        Leg(1, led.liability("bills"), a + b),
        Leg(1, led.equity_col, -(a + b)),
        Leg(np.array([3, 4]), led.asset("reserves"), np.array([a, b])),
        Leg(np.array([3, 4]), led.equity_col, np.array([a, b])),
    )


def test_balanced_posting_keeps_every_identity():
    led = make()
    open_reserves(led, 10.0, 5.0)
    led.post(
        "interbank loan",
        Leg(3, led.asset("reserves"), -4.0),
        Leg(3, led.asset("fed_funds"), 4.0),
        Leg(4, led.asset("reserves"), 4.0),
        Leg(4, led.liability("fed_funds"), 4.0),
    )
    led.check()
    assert led.held("reserves", 3) == 6.0
    assert led.owed("fed_funds", 4) == 4.0
    assert led.flows["interbank loan"] == 4.0
    errors = led.invariant_errors()
    assert max(errors.values()) < 1e-12


def test_unbalanced_sheet_is_rejected_and_names_the_holder():
    led = make()
    with pytest.raises(LedgerError, match="bank A"):
        led.post(
            "bad",
            Leg(3, led.asset("reserves"), 1.0),
            Leg(0, led.liability("reserves"), 1.0),
            Leg(0, led.asset("bills"), 1.0),
            Leg(1, led.liability("bills"), 1.0),
            Leg(1, led.equity_col, -1.0),
        )


def test_instrument_mismatch_is_rejected():
    led = make()
    with pytest.raises(LedgerError, match="reserves"):
        led.post("bad", Leg(3, led.asset("reserves"), 1.0), Leg(3, led.equity_col, 1.0))


def test_check_detects_a_direct_write():
    led = make()
    open_reserves(led, 10.0, 5.0)
    led.balances[3, led.asset("reserves")] += 1.0  # bypassing the ledger
    with pytest.raises(LedgerError, match="balance sheets"):
        led.check()


def test_an_account_overdrawn_at_the_end_of_the_day_is_caught():
    """A balanced posting may overdraw an account; the end-of-day check refuses it (the
    morning check, before the markets, does not)."""
    led = make()
    open_reserves(led, 10.0, 5.0)
    led.post(
        "overdraft",
        Leg(3, led.asset("reserves"), -12.0),
        Leg(4, led.asset("reserves"), 12.0),
        Leg(3, led.equity_col, -12.0),
        Leg(4, led.equity_col, 12.0),
    )
    assert led.invariant_errors()["negative holdings"] == pytest.approx(2.0)
    with pytest.raises(LedgerError, match=r"identity 'negative holdings' broken by 2 \$bn"):
        led.check()
    led.check(holdings=False)


def test_a_leg_listing_a_holder_twice_is_refused():
    """Numpy adds a repeated index's amounts once, not summed: such a leg would move 1.0
    of bills while the check, summing them, saw 2.0 balanced by the issuer's legs."""
    led = make()
    twice = np.array([3, 3])
    with pytest.raises(LedgerError, match="same holder twice"):
        led.post(
            "bank buys bills twice",
            Leg(twice, led.asset("bills"), np.array([1.0, 1.0])),
            Leg(twice, led.equity_col, np.array([1.0, 1.0])),
            Leg(1, led.liability("bills"), 2.0),
            Leg(1, led.equity_col, -2.0),
        )
    assert led.held("bills", 3) == 0.0  # nothing posted
    with pytest.raises(LedgerError, match="same borrower is listed twice"):
        led.pledge("bills", twice, np.zeros(2), np.full(5, 0.2))


def test_pledge_limited_to_unencumbered_holdings():
    led = make()
    led.post(
        "bank buys coupons",
        Leg(3, led.asset("coupons"), 5.0),
        Leg(3, led.equity_col, 5.0),
        Leg(1, led.liability("coupons"), 5.0),
        Leg(1, led.equity_col, -5.0),
    )
    share = np.zeros(5)
    share[4] = 1.0
    led.pledge("coupons", np.array([3]), np.array([3.0]), share)
    assert led.held_as_collateral[4, 1] == 3.0
    assert led.unencumbered("coupons", 3) == 2.0
    with pytest.raises(LedgerError, match="unencumbered"):
        led.pledge("coupons", np.array([3]), np.array([2.5]), share)
    led.release("coupons")
    assert led.unencumbered("coupons", 3) == 5.0
    led.check()


def test_t_account_shows_both_sides():
    led = make()
    open_reserves(led, 10.0, 5.0)
    text = led.t_account(0)
    header = next(line for line in text.splitlines() if line.startswith("assets"))
    assert header.split("|")[1].strip() == "liabilities"
    row = next(line for line in text.splitlines() if line.startswith("bills"))
    asset_side, liability_side = (side.split() for side in row.split("|"))
    assert asset_side == ["bills", "15.0"]  # the Fed's bills on the left
    assert liability_side == ["reserves", "15.0"]  # its reserve liability on the right
    assert led.sheet(0) == {
        "assets": {"bills": 15.0},
        "liabilities": {"reserves": 15.0, "equity": 0.0},
    }
    sheet = led.sheet(slice(3, 5))
    assert sheet["assets"]["reserves"] == 15.0


class _Router:
    """A cash router for two banks paying in reserves; `skew` makes it add more than it lists."""

    def __init__(self, led: Ledger, skew: float = 0.0) -> None:
        self.led, self.skew = led, skew

    def cash_legs(self, delta):
        led = self.led
        return [
            Leg(np.array([3, 4]), led.asset("reserves"), delta[3:5]),
            Leg(0, led.liability("reserves"), float(delta[3:5].sum())),
        ]

    def apply_cash(self, balances, delta):
        balances[3:5, self.led.asset("reserves")] += delta[3:5] + self.skew
        balances[0, self.led.liability("reserves")] += float(delta[3:5].sum())
        return float(np.sum(np.maximum(delta, 0.0)))


def test_payment_posts_cash_legs_through_the_router():
    led = make()
    open_reserves(led, 10.0, 5.0)
    delta = np.array([0.0, 0.0, 0.0, -2.0, 2.0])
    eq = led.equity_col
    led.post("gift", Leg(3, eq, -2.0), Leg(4, eq, 2.0), cash=(_Router(led), delta))
    led.check()
    assert led.held("reserves", 3) == 8.0 and led.held("reserves", 4) == 7.0
    assert led.flows["gift"] == 2.0  # the gross cash received
    with pytest.raises(LedgerError, match="unbalances bank A"):
        led.post("no equity leg", cash=(_Router(led), delta))
    with pytest.raises(LedgerError, match="differ from listed"):
        led.post("skewed", Leg(3, eq, -2.0), Leg(4, eq, 2.0), cash=(_Router(led, 1e-9), delta))
