"""The Treasury's marketable debt by maturity, run inside the model: duration, bills, cost.

The ledger knows how many bills and coupons the Treasury owes and how many the Fed holds;
this block adds their maturity structure. The Fed's part is the SOMA ladder
(:mod:`fedplumbing.sim.soma`); the private part is a ladder of the same shape kept here:

* it opens from ``initial.private_bills`` / ``initial.private_coupons`` spread over maturities
  by ``treasury.private_coupon_shares`` (bills in the new-bill stock profile);
* each new calendar month it ages by a month and the Treasury refinances what matured in
  kind (bills into the new-bill mix, coupons into the new-coupon mix of
  :data:`~fedplumbing.sim.soma.NEW_COUPON_MIX`);
* every day it follows the ledger: when private holdings of bills or coupons rise (net
  issuance) the increase is added in the new-issue mix; when they fall (net redemptions,
  Fed purchases from the public) every maturity shrinks in proportion.

From it come the Treasury's WAM, the private bill share, private 10-year equivalents and,
with the duration-supply rule of thumb (about 10 bp of 10-year term premium per 1% of GDP of
10-year equivalents in private hands; :func:`~fedplumbing.sim.term_premium.term_premium_change_bp`),
the term premium relative to the run's start. GDP grows at ``treasury.gdp_growth``, so the
measure is private duration *relative to the economy*.

Interest cost (a measure, $bn per day, ACT/360): bills pay the bill rate (taken equal to the
ON RRP rate, as the SOMA's bills earn in :mod:`fedplumbing.sim.interest`); each month's slot of
private coupons pays the coupon it was issued at. Coupons outstanding at the start pay one
rate chosen so that the whole debt costs ``treasury.average_debt_rate`` on the first day;
new coupons pay IORB + ``treasury.coupon_spread_bp`` + the term premium change. The SOMA's
part is what the Treasury pays the Fed (posted in the ledger). Interest to private holders is
not a separate ledger flow: the scenario's ``deficit_per_year`` stands for all outlays.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.sim.payments import FED, TREASURY
from fedplumbing.sim.soma import (
    BILL_SLOTS,
    BILL_YEARS,
    BUCKETS,
    COUPON_SLOTS,
    COUPON_YEARS,
    NEW_COUPON_MIX,
    MaturityLadder,
)
from fedplumbing.sim.term_premium import (
    ladder_ten_year_equivalents,
    ladder_teq_weights,
    term_premium_change_bp,
)

if TYPE_CHECKING:
    from fedplumbing.sim.config import ScenarioConfig
    from fedplumbing.sim.model import FedPlumbingModel

#: Yield (percent) at which holdings are converted to 10-year equivalents.
TEQ_YIELD = 4.0


def steady_state_coupons() -> np.ndarray:
    """Coupon stock by remaining maturity when every maturity is refinanced in kind (sums to 1).

    A new ``n``-year coupon issued every month in the :data:`~fedplumbing.sim.soma.NEW_COUPON_MIX`
    share occupies slots ``0 .. 12 n - 1``; WAM about 7.6 years, bucket shares about 13% under
    1y, 24% 1-3y, 37% 3-10y and 26% over 10y.
    """
    profile = np.zeros(COUPON_SLOTS)
    for years, share in NEW_COUPON_MIX.items():
        profile[: 12 * years] += share
    return profile / profile.sum()


def private_ladder(
    bills_bn: float, coupons_bn: float, coupon_shares: list[float]
) -> MaturityLadder:
    """Privately held debt spread over maturities.

    Within each remaining-maturity bucket coupons follow the steady-state profile of the
    new-coupon mix (:func:`steady_state_coupons`), so a book opened in the steady-state shares
    keeps its shape as it ages and is refinanced; bills follow the new-bill stock profile.

    Args:
        bills_bn: privately held bills, $bn.
        coupons_bn: privately held notes and bonds, $bn.
        coupon_shares: shares of the coupons under 1y, 1-3y, 3-10y and over 10y.

    Returns:
        The ladder.

    """
    bills_bn, coupons_bn = max(bills_bn, 0.0), max(coupons_bn, 0.0)
    total = bills_bn + coupons_bn
    if total <= 0:
        return MaturityLadder(np.zeros(BILL_SLOTS), np.zeros(COUPON_SLOTS))
    ladder = MaturityLadder.from_mix(total, bills_bn / total, {"<1y coupons": coupons_bn / total})
    profile = steady_state_coupons()
    coupons = np.zeros(COUPON_SLOTS)
    norm = sum(coupon_shares)
    for (lo, hi), share in zip(BUCKETS.values(), coupon_shares, strict=True):
        coupons[lo:hi] = coupons_bn * share / norm * profile[lo:hi] / profile[lo:hi].sum()
    ladder.coupons = coupons
    return ladder


def initial_coupon_rate(
    average_rate_pct: float,
    bills_bn: float,
    bill_rate_pct: float,
    soma_coupons_bn: float,
    soma_coupon_rate_pct: float,
    private_coupons_bn: float,
) -> float:
    """Coupon rate of the private notes and bonds outstanding at the start (percent).

    Chosen so that all the debt (bills at the bill rate, SOMA coupons at their yield, private
    coupons at this rate) costs ``average_rate_pct``; never below 0.

    """
    if private_coupons_bn <= 0:
        return 0.0
    total = bills_bn + soma_coupons_bn + private_coupons_bn
    rest = average_rate_pct * total - bills_bn * bill_rate_pct
    rest -= soma_coupons_bn * soma_coupon_rate_pct
    return max(rest / private_coupons_bn, 0.0)


class TreasuryDebtBlock:
    """Marketable Treasury debt by maturity, with private and SOMA holdings.

    Call :meth:`update` once a day (after the day's securities have settled); read the
    attributes afterwards.

    Attributes:
        private: privately held bills and coupons by remaining maturity ($bn).
        coupon_rate: coupon (percent) of the private coupons in each monthly slot.
        term_premium_bp: 10-year term premium change since the start (bp).
        private_teq: private 10-year equivalents ($bn).
        treasury_wam_months: weighted-average maturity of all marketable debt (months).
        private_bill_share: bills / privately held debt.
        interest_cost_today: interest the Treasury owes for today's accrual days ($bn).
        debt_total: marketable debt outstanding ($bn).
    """

    def __init__(self, config: ScenarioConfig) -> None:
        self.config = config
        self.private: MaturityLadder | None = None
        self.coupon_rate = np.zeros(COUPON_SLOTS)
        self.start: dt.date = config.start
        self.month: tuple[int, int] = (config.start.year, config.start.month)
        self.teq_to_gdp0 = 0.0
        self.term_premium_bp = 0.0
        self.private_teq = 0.0
        self.treasury_wam_months = 0.0
        self.private_bill_share = 0.0
        self.interest_cost_today = 0.0
        self.debt_total = 0.0
        # What `update` reads of each private ladder, kept until that ladder changes (bills
        # change on about two days in three, coupons on one in three): its total, its
        # maturity-weighted years, its 10-year equivalents and (coupons) its interest. The
        # same reductions of the same arrays, so the same floats as computing them daily.
        self._bill_stats: tuple[float, np.float64, np.float64] | None = None
        self._coupon_stats: tuple[float, np.float64, np.float64, float] | None = None

    # ------------------------------------------------------------------ state
    def gdp_on(self, date: dt.date) -> float:
        """Nominal GDP on `date` ($bn), growing from ``treasury.gdp`` at ``gdp_growth``."""
        t = self.config.treasury
        years = (date - self.start).days / 365.25
        return t.gdp * (1.0 + t.gdp_growth) ** years

    def new_coupon_yield(self, iorb_pct: float) -> float:
        """Yield of coupons issued today (percent): IORB + spread + term premium change."""
        t = self.config.treasury
        return iorb_pct + (t.coupon_spread_bp + self.term_premium_bp) / 100.0

    def _open(self, model: FedPlumbingModel) -> None:
        cfg = self.config
        ini, t = cfg.initial, cfg.treasury
        self.private = private_ladder(
            ini.private_bills, ini.private_coupons, t.private_coupon_shares
        )
        soma = model.fed.soma
        rate0 = initial_coupon_rate(
            t.average_debt_rate,
            ini.private_bills + float(soma.bills.sum()),
            model.rates_today.on_rrp,
            float(soma.coupons.sum()),
            cfg.fed.soma_coupon_yield,
            ini.private_coupons,
        )
        self.coupon_rate[:] = rate0
        self._bill_stats = self._coupon_stats = None
        self.teq_to_gdp0 = self._teq() / t.gdp

    def _teq(self) -> float:
        assert self.private is not None
        return ladder_ten_year_equivalents(self.private, yield_pct=TEQ_YIELD)

    def _add_coupons(self, amount: float, rate: float) -> None:
        """Issue `amount` of new coupons in the new-issue mix at coupon `rate`."""
        assert self.private is not None
        c = self.private.coupons
        for years, share in NEW_COUPON_MIX.items():
            slot = 12 * years - 1
            add = amount * share
            held = c[slot] + add
            if held > 0:
                self.coupon_rate[slot] = (c[slot] * self.coupon_rate[slot] + add * rate) / held
            c[slot] = held
        self._coupon_stats = None

    def _age(self, rate: float) -> None:
        """A month passes: refinance what matured in kind, at today's coupon yield."""
        assert self.private is not None
        bills0, coupons0 = self.private.maturing_this_month()
        self.private.age_one_month()
        self.coupon_rate[:-1] = self.coupon_rate[1:]
        self.private.buy_bills(bills0)
        self._add_coupons(coupons0, rate)
        self._bill_stats = self._coupon_stats = None

    def _follow(self, kind: str, target: float, rate: float) -> None:
        """Move the private `kind` holdings to `target` ($bn): add new issues or shrink."""
        assert self.private is not None
        bills = kind == "bills"
        ladder = self.private.bills if bills else self.private.coupons
        target = max(target, 0.0)
        held = self._bills()[0] if bills else self._coupons()[0]  # float(ladder.sum())
        if target > held:
            if bills:
                self.private.buy_bills(target - held)
            else:
                self._add_coupons(target - held, rate)
        elif target < held:
            ladder *= target / held
        else:
            return
        if bills:
            self._bill_stats = None
        else:
            self._coupon_stats = None

    def _bills(self) -> tuple[float, np.float64, np.float64]:
        """The private bills' total, maturity-weighted years and 10-year equivalents."""
        if self._bill_stats is None:
            assert self.private is not None
            bills = self.private.bills
            self._bill_stats = (
                float(bills.sum()),
                bills @ BILL_YEARS,
                bills @ ladder_teq_weights(TEQ_YIELD)[0],
            )
        return self._bill_stats

    def _coupons(self) -> tuple[float, np.float64, np.float64, float]:
        """The private coupons' total, years, 10-year equivalents and interest (rate x $bn)."""
        if self._coupon_stats is None:
            assert self.private is not None
            coupons = self.private.coupons
            self._coupon_stats = (
                float(coupons.sum()),
                coupons @ COUPON_YEARS,
                coupons @ ladder_teq_weights(TEQ_YIELD)[1],
                float(coupons @ self.coupon_rate),
            )
        return self._coupon_stats

    # ------------------------------------------------------------------ the day
    def update(self, model: FedPlumbingModel) -> None:
        """Follow today's ledger and recompute the debt measures."""
        led, rates, date = model.ledger, model.rates_today, model.date
        if self.private is None:
            self._open(model)
        assert self.private is not None
        rate = self.new_coupon_yield(rates.iorb)
        if (date.year, date.month) != self.month:
            self.month = (date.year, date.month)
            self._age(rate)
        for kind in ("bills", "coupons"):
            target = float(led.owed(kind, TREASURY)) - float(led.held(kind, FED))
            self._follow(kind, target, rate)

        t = self.config.treasury
        p_bills, bill_years, bill_teq = self._bills()
        p_coupons, coupon_years, coupon_teq, private_coupon_interest = self._coupons()
        self.private_teq = float(bill_teq + coupon_teq)  # self._teq()
        teq_to_gdp = self.private_teq / self.gdp_on(date)
        self.term_premium_bp = term_premium_change_bp(
            teq_to_gdp - self.teq_to_gdp0, 1.0, bp_per_pct_gdp=t.term_premium_bp_per_pct_gdp
        )
        soma = model.fed.soma
        private = p_bills + p_coupons
        self.private_bill_share = p_bills / private if private > 0 else 0.0
        s_total = soma.treasuries
        self.debt_total = private + s_total
        years = bill_years + coupon_years + soma.bills @ BILL_YEARS + soma.coupons @ COUPON_YEARS
        self.treasury_wam_months = 12.0 * years / self.debt_total if self.debt_total > 0 else 0.0

        factor = model.accrual_days_today / 360.0 / 100.0
        bills_all = p_bills + float(led.held("bills", FED))
        soma_coupon_interest = float(led.held("coupons", FED)) * self.config.fed.soma_coupon_yield
        self.interest_cost_today = factor * (
            bills_all * rates.on_rrp + private_coupon_interest + soma_coupon_interest
        )
