"""Securities: Treasury auctions and redemptions, the Fed's SOMA operations, dealer sales.

Auctions settle on their calendar days: dealers take down a share of coupon auctions and
money funds a share of bill auctions, paying from their cash (the TGA rises, reserves fall);
dealers then sell their new inventory to investors over a few days. Once a month the Fed's
maturing holdings run off under the caps (the Treasury pays the Fed from the TGA), paydowns
of MBS drain reserves, and reinvestments and reserve-management purchases add them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.sim import markets
from fedplumbing.sim.ledger import ASSET_COLUMN, LIABILITY_COLUMN, LedgerError, Leg
from fedplumbing.sim.payments import CASH_WEIGHTS, FED, PUBLIC, TREASURY, add_cash_legs

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel

#: Share of bill auctions (not taken by money funds) that dealers take down.
DEALER_BILL_SHARE = 0.25


def settle_auction(model: FedPlumbingModel, kind: str, gross: float) -> None:
    """New `kind` ("bills"/"coupons") securities worth `gross` are paid for and delivered."""
    if gross <= 0:
        return
    cfg, led, pay = model.config, model.ledger, model.payments
    n = led.n_holders
    buy = np.zeros(n)
    mmfs, dealers = model.mmfs, model.dealers
    if kind == "bills":
        cash = np.maximum(led.held("deposits", mmfs.rows), 0.0)
        want = cfg.treasury.bill_mmf_takedown * gross * mmfs["assets"] / mmfs["assets"].sum()
        buy[mmfs.rows] = np.minimum(want, cash)
        buy[dealers.rows] = DEALER_BILL_SHARE * (gross - buy[mmfs.rows].sum()) * dealers["share"]
    else:
        buy[dealers.rows] = cfg.treasury.dealer_takedown * gross * dealers["share"]
    buy[PUBLIC] = gross - buy.sum()
    delta = -buy
    delta[TREASURY] = gross
    pay.pay(
        f"{kind} auction settlement",
        delta,
        Leg(slice(None), led.asset(kind), buy),
        Leg(TREASURY, led.liability(kind), gross),
        amount=gross,
    )


def cash_management_bills(model: FedPlumbingModel) -> None:
    """The Treasury sells the public bills for cash when its account would be overdrawn.

    Spending, redemptions and interest are paid from the TGA whatever its balance; like the
    Treasury's cash-management bills, a same-day sale to the public brings an account that
    would end below zero back to zero (nothing happens otherwise).
    """
    led = model.ledger
    short = -float(led.held("tga", TREASURY))
    if not short > 0.0:
        return
    delta = model.payments.zeros()
    delta[PUBLIC] = -short
    delta[TREASURY] = short
    model.payments.pay(
        "cash management bills",
        delta,
        Leg(PUBLIC, led.asset("bills"), short),
        Leg(TREASURY, led.liability("bills"), short),
        amount=short,
    )


#: A money fund's overdraft below this ($bn) is rounding, not a shortfall (left alone).
_MMF_OVERDRAFT_DUST = 1e-9


def money_fund_bill_sales(model: FedPlumbingModel) -> None:
    """Money funds overdrawn by redemptions sell bills to the public for the cash, at par.

    A fund's shares are its cash and bills in the morning (its repo and ON RRP have come
    back), and redemptions stop at its shares: what its cash does not cover, its bills do.
    Investors redeem a fund's shares for cash the same day (tax dates, outflows); the fund
    sells bills to meet them. Nothing happens on days no fund is overdrawn.
    """
    led, mmfs = model.ledger, model.mmfs
    short = -led.held("deposits", mmfs.rows)
    if not short.max() > _MMF_OVERDRAFT_DUST:
        return
    sold = np.where(
        short > _MMF_OVERDRAFT_DUST, np.minimum(short, led.held("bills", mmfs.rows)), 0.0
    )
    total = float(sold.sum())
    delta = model.payments.zeros()
    delta[mmfs.rows] = sold
    delta[PUBLIC] = -total
    model.payments.pay(
        "money-fund bill sales",
        delta,
        Leg(mmfs.rows, led.asset("bills"), -sold),
        Leg(PUBLIC, led.asset("bills"), total),
        amount=total,
    )


def redeem_private(model: FedPlumbingModel, kind: str, amount: float) -> None:
    """Repay maturing privately held `kind` securities from the TGA.

    Paid pro rata to the holdings of money funds, dealers and the public.
    """
    if amount <= 0:
        return
    led, pay = model.ledger, model.payments
    holdings = np.zeros(led.n_holders)
    for rows in (model.mmfs.rows, model.dealers.rows, PUBLIC):
        holdings[rows] = np.maximum(led.held(kind, rows), 0.0)
    total = holdings.sum()
    if total <= 0:
        return
    paid = holdings * min(1.0, amount / total)
    paid_total = paid.sum()
    delta = paid.copy()
    delta[TREASURY] = -paid_total
    pay.pay(
        f"{kind} redemptions",
        delta,
        Leg(slice(None), led.asset(kind), -paid),
        Leg(TREASURY, led.liability(kind), -paid_total),
        amount=float(paid_total),
    )


def dealer_distribution(model: FedPlumbingModel) -> None:
    """Dealers sell inventory above their normal level to investors (the public).

    Compiled, one kernel (`_distribution_loops`) works out the sales and posts them; the
    numpy path, and the reference it is checked against in debug mode, is
    `_distribute_leg_by_leg`.
    """
    fraction = 1.0 - 0.5 ** (1.0 / model.config.dealers.distribution_days)
    if not markets.USE_COMPILED:
        _distribute_leg_by_leg(model, fraction)
        return
    dealers = model.dealers
    args = (
        fraction,
        dealers.rows.start,
        np.ascontiguousarray(dealers["normal_bills"], dtype=float),
        np.ascontiguousarray(dealers["normal_coupons"], dtype=float),
    )
    model.payments.post_compiled(
        (DISTRIBUTION_LABEL,),
        _distribution_kernel,
        args,
        lambda: _distribute_leg_by_leg(model, fraction),
    )


#: The label of dealers' sales to investors.
DISTRIBUTION_LABEL = "dealer sales to investors"
#: The columns of bills and coupons held (constants in the compiled kernel).
_BILLS_COLUMN = ASSET_COLUMN["bills"]
_COUPONS_COLUMN = ASSET_COLUMN["coupons"]


def _distribute_leg_by_leg(model: FedPlumbingModel, fraction: float) -> None:
    """`dealer_distribution` through `Payments.pay`: sell `fraction` of the excess."""
    led, pay, dealers = model.ledger, model.payments, model.dealers
    legs = []
    delta = pay.zeros()
    total = 0.0
    for kind in ("bills", "coupons"):
        excess = np.maximum(led.held(kind, dealers.rows) - dealers[f"normal_{kind}"], 0.0)
        sell = fraction * excess
        sold = sell.sum()  # one sum, used four times
        if sold <= 0:
            continue
        legs += [
            Leg(dealers.rows, led.asset(kind), -sell),
            Leg(PUBLIC, led.asset(kind), sold),
        ]
        delta[dealers.rows] += sell
        delta[PUBLIC] -= sold
        total += float(sold)
    if legs:
        pay.pay(DISTRIBUTION_LABEL, delta, *legs, amount=total)


def _distribution_loops(
    balances: np.ndarray,
    first: int,
    fraction: float,
    dealer_start: int,
    normal_bills: np.ndarray,
    normal_coupons: np.ndarray,
    posted: np.ndarray,
    amounts: np.ndarray,
    cash: tuple,
) -> int:
    """`_distribute_leg_by_leg` as loops: the same floats, added in the same order.

    Args:
        balances: the ledger's matrix (changed in place).
        first: 0 (the one posting; see `Payments.post_compiled`).
        fraction: the share of their excess inventory dealers sell today.
        dealer_start: the first dealer's row.
        normal_bills: each dealer's normal bill inventory.
        normal_coupons: each dealer's normal coupon inventory.
        posted: set when the sales are posted.
        amounts: filled with the amount sold.
        cash: `Payments.kernel_args()`, passed on to `add_cash_legs`.

    Returns:
        -1 when done, or 0 (nothing changed) when the public's deposit weights are needed.
    """
    n, n_dealers = balances.shape[0], normal_bills.size
    sells = np.empty((2, n_dealers))
    sold = np.zeros(2)
    delta = np.zeros(n)
    total = 0.0
    any_sold = False
    for s in range(2):
        normal = normal_bills if s == 0 else normal_coupons
        column = _BILLS_COLUMN if s == 0 else _COUPONS_COLUMN
        for i in range(n_dealers):
            excess = balances[dealer_start + i, column] - normal[i]
            # np.maximum(excess, 0.0): NaN propagates, and a tie gives the second operand
            if not (excess > 0.0 or excess != excess):
                excess = 0.0
            sells[s, i] = fraction * excess
        sold[s] = markets.numpy_sum(sells[s])
        if sold[s] <= 0:
            continue
        any_sold = True
        for i in range(n_dealers):
            delta[dealer_start + i] += sells[s, i]
        delta[PUBLIC] -= sold[s]
        total += sold[s]
    if not any_sold:
        return -1
    if delta[PUBLIC] != 0 and cash[CASH_WEIGHTS].size == 0:
        return 0
    add_cash_legs(balances, delta, cash)
    for s in range(2):
        if sold[s] <= 0:
            continue
        column = _BILLS_COLUMN if s == 0 else _COUPONS_COLUMN
        for i in range(n_dealers):
            balances[dealer_start + i, column] += -sells[s, i]
        balances[PUBLIC, column] += sold[s]
    posted[0] = True
    amounts[0] = total
    return -1


_distribution_kernel = markets.compiled(_distribution_loops)


def soma_month(model: FedPlumbingModel) -> None:
    """One month of SOMA runoff, rollovers, MBS paydowns and purchases, posted to the ledger."""
    led, pay, fed = model.ledger, model.payments, model.fed
    soma = fed.soma
    bills0, coupons0, mbs0 = soma.bills.sum(), soma.coupons.sum(), soma.mbs
    # the Fed buys bills from the public: at most what it holds (morning: none pledged)
    flows = fed.run_off_month(model.date, max(float(led.held("bills", PUBLIC)), 0.0))
    d_bills, d_coupons = soma.bills.sum() - bills0, soma.coupons.sum() - coupons0
    d_mbs = soma.mbs - mbs0
    model.month_runoff = flows

    redeemed = flows.coupons_redeemed + flows.bills_redeemed
    if redeemed > 0:
        delta = pay.zeros()
        delta[TREASURY] = -redeemed
        pay.pay(
            "SOMA redemptions",
            delta,
            Leg(FED, led.asset("bills"), -flows.bills_redeemed),
            Leg(FED, led.asset("coupons"), -flows.coupons_redeemed),
            Leg(TREASURY, led.liability("bills"), -flows.bills_redeemed),
            Leg(TREASURY, led.liability("coupons"), -flows.coupons_redeemed),
            amount=redeemed,
        )
    # purchases in the market: reserve-management bills and MBS reinvested into Treasuries
    buy_bills = flows.rmp_bills + (
        flows.mbs_reinvested if flows.mbs_reinvested_into == "bills" else 0.0
    )
    buy_coupons = flows.mbs_reinvested if flows.mbs_reinvested_into == "treasuries" else 0.0
    buy_mbs = flows.mbs_reinvested if flows.mbs_reinvested_into == "mbs" else 0.0
    # rollovers at auction: exchange of maturing for new securities, no cash
    roll_bills = d_bills - buy_bills + flows.bills_redeemed
    roll_coupons = d_coupons - buy_coupons + flows.coupons_redeemed
    if abs(roll_bills) + abs(roll_coupons) > 0:
        led.post(
            "SOMA rollovers",
            Leg(FED, led.asset("bills"), roll_bills),
            Leg(FED, led.asset("coupons"), roll_coupons),
            Leg(TREASURY, led.liability("bills"), roll_bills),
            Leg(TREASURY, led.liability("coupons"), roll_coupons),
            amount=flows.coupons_rolled + flows.bills_rolled,
        )
    purchases = buy_bills + buy_coupons
    if purchases > 0:
        delta = pay.zeros()
        delta[PUBLIC] = purchases
        pay.pay(
            "Fed purchases",
            delta,
            Leg(FED, led.asset("bills"), buy_bills),
            Leg(FED, led.asset("coupons"), buy_coupons),
            Leg(PUBLIC, led.asset("bills"), -buy_bills),
            Leg(PUBLIC, led.asset("coupons"), -buy_coupons),
            amount=purchases,
        )
    paid_down = flows.mbs_paydown - buy_mbs
    if not abs(d_mbs + paid_down) < 1e-6:
        raise LedgerError(
            f"MBS purchases and paydowns ({buy_mbs:.6g}, {flows.mbs_paydown:.6g} $bn) differ "
            f"from the SOMA's change in MBS ({d_mbs:.6g})"
        )
    if flows.mbs_paydown > 0:
        delta = pay.zeros()
        delta[PUBLIC] = -paid_down
        pay.pay(
            "MBS paydowns",
            delta,
            Leg(FED, led.asset("mbs"), -paid_down),
            Leg(PUBLIC, led.liability("mbs"), -paid_down),
            amount=flows.mbs_paydown,
        )


def apply(model: FedPlumbingModel) -> None:
    """Today's securities settlements in the policy mode."""
    cal, day, t = model.calendar, model.day, model.config.treasury
    treasury = model.treasury
    tga = float(model.ledger.held("tga", TREASURY))
    if cal.is_mid_month_coupon[day] and model.last_soma_month != (cal.year[day], cal.month[day]):
        model.last_soma_month = (int(cal.year[day]), int(cal.month[day]))
        soma_month(model)
        tga = float(model.ledger.held("tga", TREASURY))
    # (maturing, gross) of each auction today; an auction of nothing posts nothing
    auctions = {"bills": (0.0, 0.0), "coupons": (0.0, 0.0)}
    if cal.is_bill_settlement[day]:
        net = treasury.net_issuance(tga, day, "bills")
        auctions["bills"] = (t.bill_rollover, max(net + t.bill_rollover, 0.0))
    if cal.is_coupon_settlement[day]:
        net = treasury.net_issuance(tga, day, "coupons")
        auctions["coupons"] = (t.coupon_rollover, max(net + t.coupon_rollover, 0.0))
    if markets.USE_COMPILED:
        _settle_compiled(model, auctions)
        return
    for kind, (maturing, gross) in auctions.items():
        redeem_private(model, kind, maturing)
        settle_auction(model, kind, gross)
    dealer_distribution(model)


#: Labels of the postings of `_settlement_loops`, in the order they are made.
SETTLEMENT_LABELS = (
    "bills redemptions",
    "bills auction settlement",
    "coupons redemptions",
    "coupons auction settlement",
    DISTRIBUTION_LABEL,
)


def _settle_compiled(model: FedPlumbingModel, auctions: dict[str, tuple[float, float]]) -> None:
    """Both auctions (`redeem_private`, then `settle_auction`), then `dealer_distribution`.

    One compiled kernel (`_settlement_loops`) makes all their postings.

    Args:
        model: the model.
        auctions: (maturing, gross) of the bill and the coupon auction; (0, 0) for none.
    """
    cfg, mmfs, dealers = model.config, model.mmfs, model.dealers
    fraction = 1.0 - 0.5 ** (1.0 / cfg.dealers.distribution_days)
    (bills_maturing, bills_gross), (coupons_maturing, coupons_gross) = (
        auctions["bills"],
        auctions["coupons"],
    )
    args = (
        float(bills_maturing),
        float(bills_gross),
        float(coupons_maturing),
        float(coupons_gross),
        mmfs.rows.start,
        np.ascontiguousarray(mmfs["assets"], dtype=float),
        dealers.rows.start,
        np.ascontiguousarray(dealers["share"], dtype=float),
        float(cfg.treasury.bill_mmf_takedown),
        float(cfg.treasury.dealer_takedown),
        fraction,
        np.ascontiguousarray(dealers["normal_bills"], dtype=float),
        np.ascontiguousarray(dealers["normal_coupons"], dtype=float),
    )

    def reference() -> None:
        for kind, (maturing, gross) in auctions.items():
            redeem_private(model, kind, maturing)
            settle_auction(model, kind, gross)
        _distribute_leg_by_leg(model, fraction)

    model.payments.post_compiled(SETTLEMENT_LABELS, _settlement_kernel, args, reference)


#: The column of deposits held (a constant in the compiled kernels).
_DEPOSITS_HELD = ASSET_COLUMN["deposits"]


def _auction_loops(
    balances: np.ndarray,
    first: int,
    asset_col: int,
    liability_col: int,
    bills: bool,
    maturing: float,
    gross: float,
    mmf_start: int,
    mmf_assets: np.ndarray,
    dealer_start: int,
    dealer_share: np.ndarray,
    mmf_takedown: float,
    dealer_takedown: float,
    posted: np.ndarray,
    amounts: np.ndarray,
    cash: tuple,
) -> int:
    """`redeem_private`, then `settle_auction`, as loops: the same floats in the same order.

    Args:
        balances: the ledger's matrix (changed in place).
        first: 0 (the redemptions) or 1 (the settlement): the posting to start from.
        asset_col: the column of the security held.
        liability_col: the column of the security issued.
        bills: whether the security is bills (money funds take part of the auction).
        maturing: the privately held amount maturing (none redeemed when <= 0).
        gross: the amount auctioned (none settled when <= 0).
        mmf_start: the first money fund's row.
        mmf_assets: each money fund's assets at the start.
        dealer_start: the first dealer's row.
        dealer_share: each dealer's share of dealers' takedown.
        mmf_takedown: money funds' share of bill auctions.
        dealer_takedown: dealers' share of coupon auctions.
        posted: set for each posting made.
        amounts: filled with the amount each posting logs.
        cash: `Payments.kernel_args()`, passed on to `add_cash_legs`.

    Returns:
        -1 when done, or the posting to resume from once the public's deposit weights are
        computed (that posting is left untouched).
    """
    n, n_mmfs, n_dealers = balances.shape[0], mmf_assets.size, dealer_share.size
    if first == 0 and maturing > 0:
        holdings = np.zeros(n)
        for first_row, size in ((mmf_start, n_mmfs), (dealer_start, n_dealers), (PUBLIC, 1)):
            for row in range(first_row, first_row + size):
                held = balances[row, asset_col]
                # np.maximum(held, 0.0): NaN propagates, and a tie gives the second operand
                holdings[row] = held if held > 0.0 or held != held else 0.0
        total = markets.numpy_sum(holdings)
        if total > 0:
            ratio = maturing / total
            scale = ratio if ratio < 1.0 else 1.0  # min(1.0, ratio)
            paid = np.empty(n)
            for i in range(n):
                paid[i] = holdings[i] * scale
            paid_total = markets.numpy_sum(paid)
            delta = paid.copy()
            delta[TREASURY] = -paid_total
            if delta[PUBLIC] != 0 and cash[CASH_WEIGHTS].size == 0:
                return 0
            add_cash_legs(balances, delta, cash)
            for i in range(n):
                balances[i, asset_col] += -paid[i]
            balances[TREASURY, liability_col] += -paid_total
            posted[0] = True
            amounts[0] = paid_total
    if gross <= 0:
        return -1
    buy = np.zeros(n)
    if bills:
        assets_total = markets.numpy_sum(mmf_assets)
        offered = mmf_takedown * gross
        for i in range(n_mmfs):
            cash_held = balances[mmf_start + i, _DEPOSITS_HELD]
            if not (cash_held > 0.0 or cash_held != cash_held):  # np.maximum(cash, 0.0)
                cash_held = 0.0
            want = offered * mmf_assets[i] / assets_total
            # np.minimum(want, cash): NaN propagates, and a tie gives the second operand
            buy[mmf_start + i] = want if want < cash_held or want != want else cash_held
        taken = markets.numpy_sum(buy[mmf_start : mmf_start + n_mmfs])
        dealers_take = DEALER_BILL_SHARE * (gross - taken)
    else:
        dealers_take = dealer_takedown * gross
    for i in range(n_dealers):
        buy[dealer_start + i] = dealers_take * dealer_share[i]
    buy[PUBLIC] = gross - markets.numpy_sum(buy)
    delta = np.empty(n)
    for i in range(n):
        delta[i] = -buy[i]
    delta[TREASURY] = gross
    if delta[PUBLIC] != 0 and cash[CASH_WEIGHTS].size == 0:
        return 1
    add_cash_legs(balances, delta, cash)
    for i in range(n):
        balances[i, asset_col] += buy[i]
    balances[TREASURY, liability_col] += gross
    posted[1] = True
    amounts[1] = gross
    return -1


_auction_kernel = markets.compiled(_auction_loops)


#: The columns of bills and coupons issued (constants in the compiled kernel).
_BILLS_ISSUED = LIABILITY_COLUMN["bills"]
_COUPONS_ISSUED = LIABILITY_COLUMN["coupons"]


def _settlement_loops(
    balances: np.ndarray,
    first: int,
    bills_maturing: float,
    bills_gross: float,
    coupons_maturing: float,
    coupons_gross: float,
    mmf_start: int,
    mmf_assets: np.ndarray,
    dealer_start: int,
    dealer_share: np.ndarray,
    mmf_takedown: float,
    dealer_takedown: float,
    fraction: float,
    normal_bills: np.ndarray,
    normal_coupons: np.ndarray,
    posted: np.ndarray,
    amounts: np.ndarray,
    cash: tuple,
) -> int:
    """`_auction_loops` for bills, then for coupons, then `_distribution_loops`.

    Postings 0-1 are the bills' redemptions and auction, 2-3 the coupons', 4 the dealers'
    sales (`SETTLEMENT_LABELS`); the arguments are those of the three kernels.

    Returns:
        -1 when done, or the posting to resume from once the public's deposit weights are
        computed (that posting is left untouched).
    """
    if first < 2:
        resume = _auction_kernel(
            balances,
            first,
            _BILLS_COLUMN,
            _BILLS_ISSUED,
            True,
            bills_maturing,
            bills_gross,
            mmf_start,
            mmf_assets,
            dealer_start,
            dealer_share,
            mmf_takedown,
            dealer_takedown,
            posted[0:2],
            amounts[0:2],
            cash,
        )
        if resume >= 0:
            return resume
        first = 2
    if first < 4:
        resume = _auction_kernel(
            balances,
            first - 2,
            _COUPONS_COLUMN,
            _COUPONS_ISSUED,
            False,
            coupons_maturing,
            coupons_gross,
            mmf_start,
            mmf_assets,
            dealer_start,
            dealer_share,
            mmf_takedown,
            dealer_takedown,
            posted[2:4],
            amounts[2:4],
            cash,
        )
        if resume >= 0:
            return resume + 2
        first = 4
    resume = _distribution_kernel(
        balances,
        first - 4,
        fraction,
        dealer_start,
        normal_bills,
        normal_coupons,
        posted[4:5],
        amounts[4:5],
        cash,
    )
    return resume if resume < 0 else resume + 4


_settlement_kernel = markets.compiled(_settlement_loops)
