"""The Fed's securities portfolio (SOMA) by maturity, and the FOMC runoff rules.

Pure arithmetic, no Mesa: the Fed agent calls :func:`run_month` once a month (on the
mid-month / month-end redemption dates) and posts the returned flows through the ledger.

Conventions
-----------
* Units: US$ billions (float64); rates percent per year; dates ``datetime.date``.
* Maturity ladders are monthly. ``ladder[m]`` is the face value that matures ``m`` months from
  now; index 0 matures *this* month. Bills: 12 slots (0..11); coupons (notes, bonds, TIPS and FRNs
  lumped together): 361 slots (0..360). For weighted-average maturity (WAM) a holding in slot
  ``m`` has ``(m + 0.5) / 12`` years left (it matures, on average, half-way through its month).
* "Under 1 year" holdings are bills *plus* coupons with less than a year left (slots 0..11 of the
  coupon ladder). Remaining-maturity buckets of the coupon ladder: ``<1y coupons`` = slots 0..11,
  ``1-3y`` = 12..35, ``3-10y`` = 36..119, ``>10y`` = 120..360.

Spreading a bucket mix over months (:meth:`MaturityLadder.from_mix`)
--------------------------------------------------------------------
* Bills: the steady-state stock profile of :data:`NEW_BILL_MIX` (a bill of ``n`` months issued
  every month occupies slots 0..n-1), so the stock is consistent with how it rolls; its mean
  remaining maturity is about 2.2 months.
* Coupons under 1y, 1-3y and 3-10y: uniform over the bucket's months.
* Coupons over 10y: density declining linearly from weight 1 at 10 years to
  :data:`LONG_END_WEIGHT` (0.8) at 30 years (mean about 19.7 years instead of 20.0 for uniform):
  there are few bonds with 25-30 years left in the SOMA (outright bond purchases stopped in March
  2022), and many 20-year bonds (re-introduced 2020) and 2011-14 / 2020-21 thirty-year bonds with
  10-25 years left.
* Check against FACTS.md (see ``tests/sim/test_soma.py``): the 2022 mix (:data:`MIX_2022`: 22%
  under 1y of which 5.65% bills, 22% 1-3y, 31% 3-10y, 25% over 10y) gives a WAM of 7.46 years
  (FACTS: about 7.7); the early-2026 mix (:data:`MIX_2026`: bills 6.9% = $289B of $4.2T, 9% other
  under 1y, 34.1% 1-3y, 10% 3-10y, 40% over 10y) gives 9.26 years (FACTS: about 9), and has
  $1.93T of coupons maturing within five years (FACTS: about $1.9T). One fixed spreading cannot hit
  both exactly (the 2022 book wants a longer >10y bucket, the aged 2026 book a shorter one);
  the linear decline splits the difference, both within 0.5 years.

Runoff rules (:func:`run_month`), from FACTS.md
-----------------------------------------------
Treasury runoff = min(cap, maturing), **coupons first**: coupons are redeemed up to the cap; only
when the month's coupon maturities fall short of the cap are bills redeemed, for the remainder and
at most the maturing bills. Everything above the cap is rolled over at auction (add-ons): maturing
bills into new bills (:data:`NEW_BILL_MIX`), maturing coupons into new coupons
(:data:`NEW_COUPON_MIX`) or, for the short-duration Fed, into bills. MBS paydowns above the MBS cap
are reinvested (into Treasury coupons, into bills, or into agency MBS). Reserve-management
purchases (RMPs) add bills.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple, Self

import numpy as np

__all__ = [
    "BILL_SLOTS",
    "COUPON_SLOTS",
    "LONG_END_WEIGHT",
    "MIX_2022",
    "MIX_2026",
    "NEW_BILL_MIX",
    "NEW_COUPON_MIX",
    "MaturityLadder",
    "MonthlyRunoff",
    "PolicyInForce",
    "RunoffSchedule",
    "RunoffStep",
    "SomaPortfolio",
    "mbs_paydown",
    "run_month",
]

BILL_SLOTS = 12
"""Length of the bill ladder (remaining maturities 0..11 months)."""

COUPON_SLOTS = 361
"""Length of the coupon ladder (remaining maturities 0..360 months)."""

NEW_BILL_MIX: dict[int, float] = {1: 0.28, 2: 0.26, 3: 0.17, 4: 0.13, 6: 0.14, 12: 0.02}
"""Shares of new bills by original maturity in months, used for every bill purchase.

Approximates 2025 gross bill auction volumes per month: 4-week ~$380B and half the 6-week ~$160B
(-> 1 month), the other half of the 6-week and the 8-week ~$480B (-> 2 months), 13-week ~$320B,
17-week ~$260B, 26-week ~$280B, 52-week ~$46B. Weighted to 1-3 months, as in the bill stock.
"""

NEW_COUPON_MIX: dict[int, float] = {
    2: 0.215,
    3: 0.180,
    5: 0.218,
    7: 0.137,
    10: 0.131,
    20: 0.041,
    30: 0.078,
}
"""Shares of new coupons by original maturity in years, used when coupons are bought at auction.

Monthly nominal coupon auction sizes in 2025 (2y $69B, 3y $58B, 5y $70B, 7y $44B, 10y $42B incl.
reopenings, 20y $13B, 30y $25B; TIPS and FRNs folded in). Average original maturity 7.5 years;
average modified duration at a 4% yield 70% of a 10-year note's.
"""

LONG_END_WEIGHT = 0.8
"""Relative density of >10y coupons at 30 years left vs. at 10 years left (see module doc)."""

MIX_2022: dict[str, object] = {
    "treasuries_bn": 5770.0,
    "bill_share": 0.0565,
    "bucket_shares": {"1-3y": 0.22, "3-10y": 0.31, ">10y": 0.25},
    "mbs_bn": 2700.0,
}
"""SOMA at the start of QT (May 2022), keyword arguments for :meth:`SomaPortfolio.from_mix`.

FACTS.md's shares (23% under 1y, 22%, 31%, 25%) add up to 101% by rounding; the three coupon
buckets are kept and "under 1y" takes the remainder (22%: 5.65% bills, $326B, plus coupons).
"""

MIX_2026: dict[str, object] = {
    "treasuries_bn": 4200.0,
    "bill_share": 289.0 / 4200.0,
    "bucket_shares": {"1-3y": 0.341, "3-10y": 0.10, ">10y": 0.40},
    "mbs_bn": 2050.0,
}
"""SOMA in early 2026 (bills $289B, 7%; over 10y 40%), keyword arguments for ``from_mix``."""

BUCKETS: dict[str, tuple[int, int]] = {
    "<1y coupons": (0, 12),
    "1-3y": (12, 36),
    "3-10y": (36, 120),
    ">10y": (120, COUPON_SLOTS),
}
"""Coupon-ladder slot ranges ``[lo, hi)`` of the remaining-maturity buckets."""

_DEFAULT_BUCKET_SHARES = {"1-3y": 0.22, "3-10y": 0.31, ">10y": 0.25}

BILL_YEARS = (np.arange(BILL_SLOTS) + 0.5) / 12.0
"""Remaining maturity (years) of each bill slot."""

COUPON_YEARS = (np.arange(COUPON_SLOTS) + 0.5) / 12.0
"""Remaining maturity (years) of each coupon slot."""


def _bill_stock_profile() -> np.ndarray:
    """Steady-state bill stock by slot implied by :data:`NEW_BILL_MIX` (sums to 1)."""
    profile = np.zeros(BILL_SLOTS)
    for months, share in NEW_BILL_MIX.items():
        profile[:months] += share
    return profile / profile.sum()


def _coupon_bucket_weights(bucket: str) -> np.ndarray:
    """Within-bucket spreading weights over the coupon ladder (sum to 1)."""
    lo, hi = BUCKETS[bucket]
    w = np.zeros(COUPON_SLOTS)
    if bucket == ">10y":
        w[lo:hi] = np.linspace(1.0, LONG_END_WEIGHT, hi - lo)
    else:
        w[lo:hi] = 1.0
    return w / w.sum()


@dataclass
class MaturityLadder:
    """Marketable Treasury securities by remaining maturity (monthly ladders, $bn face).

    Attributes:
        bills: Bills by remaining maturity in months, length 12 (index 0 = matures this month).
        coupons: Notes and bonds by remaining maturity in months, length 361 (0..360).

    """

    bills: np.ndarray
    coupons: np.ndarray

    def __post_init__(self) -> None:
        self.bills = np.asarray(self.bills, dtype=np.float64).copy()
        self.coupons = np.asarray(self.coupons, dtype=np.float64).copy()
        if self.bills.shape != (BILL_SLOTS,):
            raise ValueError(f"bills must have shape ({BILL_SLOTS},), got {self.bills.shape}")
        if self.coupons.shape != (COUPON_SLOTS,):
            raise ValueError(f"coupons must have shape ({COUPON_SLOTS},), got {self.coupons.shape}")
        if (self.bills < 0).any() or (self.coupons < 0).any():
            raise ValueError("ladder holdings must be non-negative")

    @staticmethod
    def _ladders_from_mix(
        treasuries_bn: float,
        bill_share: float,
        bucket_shares: Mapping[str, float] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Spread a bucket mix over the monthly ladders (see the module docstring).

        Args:
            treasuries_bn: Total face value, $bn.
            bill_share: Share of bills in the total (0..1).
            bucket_shares: Shares of the total in coupon buckets ``"1-3y"``, ``"3-10y"``,
                ``">10y"`` and optionally ``"<1y coupons"``. Without ``"<1y coupons"`` that
                bucket takes the remainder ``1 - bill_share - sum(shares)``; with it, all shares
                plus ``bill_share`` must sum to 1.

        Returns:
            The bill and coupon ladders.

        Raises:
            ValueError: On unknown buckets, negative shares or shares that do not add up.

        """
        shares = dict(_DEFAULT_BUCKET_SHARES if bucket_shares is None else bucket_shares)
        unknown = set(shares) - set(BUCKETS)
        if unknown:
            raise ValueError(f"unknown buckets {sorted(unknown)}; known: {list(BUCKETS)}")
        if treasuries_bn < 0 or not 0.0 <= bill_share <= 1.0:
            raise ValueError("treasuries_bn must be >= 0 and bill_share in [0, 1]")
        if "<1y coupons" not in shares:
            shares["<1y coupons"] = 1.0 - bill_share - sum(shares.values())
        if any(s < -1e-12 for s in shares.values()):
            raise ValueError(f"bucket shares imply a negative share: {shares}")
        total_share = bill_share + sum(shares.values())
        if abs(total_share - 1.0) > 1e-9:
            raise ValueError(f"bill share plus bucket shares sum to {total_share}, not 1")
        bills = treasuries_bn * bill_share * _bill_stock_profile()
        coupons = np.zeros(COUPON_SLOTS)
        for bucket, share in shares.items():
            coupons += treasuries_bn * max(share, 0.0) * _coupon_bucket_weights(bucket)
        return bills, coupons

    @classmethod
    def from_mix(
        cls,
        treasuries_bn: float,
        bill_share: float,
        bucket_shares: Mapping[str, float] | None = None,
    ) -> Self:
        """Build a ladder whose bucket totals match a remaining-maturity mix.

        Args:
            treasuries_bn: Total face value, $bn.
            bill_share: Share of bills (0..1).
            bucket_shares: Coupon bucket shares of the total (see :meth:`_ladders_from_mix`);
                default ``{"1-3y": .22, "3-10y": .31, ">10y": .25}`` (SOMA 2022).

        Returns:
            The ladder.

        """
        bills, coupons = cls._ladders_from_mix(treasuries_bn, bill_share, bucket_shares)
        return cls(bills=bills, coupons=coupons)

    @property
    def treasuries(self) -> float:
        """Total face value of bills and coupons, $bn."""
        return float(self.bills.sum() + self.coupons.sum())

    def bucket_totals(self) -> dict[str, float]:
        """Return holdings by bucket, $bn.

        Returns:
            ``{"bills", "<1y coupons", "1-3y", "3-10y", ">10y"}``; "bills" is all bills (they are
            all under 1 year), the others are coupon ladder slices by remaining maturity.

        """
        out = {"bills": float(self.bills.sum())}
        for bucket, (lo, hi) in BUCKETS.items():
            out[bucket] = float(self.coupons[lo:hi].sum())
        return out

    def bill_share(self) -> float:
        """Bills as a share of the total (0 when empty)."""
        total = self.treasuries
        return float(self.bills.sum()) / total if total > 0 else 0.0

    def wam_years(self) -> float:
        """Weighted-average remaining maturity in years (0 when empty)."""
        total = self.treasuries
        if total <= 0:
            return 0.0
        return float(self.bills @ BILL_YEARS + self.coupons @ COUPON_YEARS) / total

    def treasury_stats(self) -> tuple[float, float, float]:
        """`treasuries`, `bill_share()` and `wam_years()` at once (the same floats).

        For the daily record: each sum is taken once rather than once per measure.
        """
        bills = self.bills.sum()
        total = float(bills + self.coupons.sum())
        if total <= 0:
            return total, 0.0, 0.0
        wam = float(self.bills @ BILL_YEARS + self.coupons @ COUPON_YEARS) / total
        return total, float(bills) / total, wam

    def wam_months(self) -> float:
        """Weighted-average remaining maturity in months (0 when empty)."""
        return 12.0 * self.wam_years()

    def maturing_this_month(self) -> tuple[float, float]:
        """Face value maturing this month, $bn.

        Returns:
            ``(bills, coupons)``.

        """
        return float(self.bills[0]), float(self.coupons[0])

    def maturing_within(self, months: int) -> tuple[float, float]:
        """Face value maturing within the next ``months`` months (this month included), $bn.

        Args:
            months: Horizon in months (>= 0).

        Returns:
            ``(bills, coupons)``.

        """
        return float(self.bills[:months].sum()), float(self.coupons[:months].sum())

    def age_one_month(self) -> None:
        """Shift both ladders down one month; what was in slot 0 is dropped (it has matured).

        Call only after the month's maturities have been dealt with (see :func:`run_month`).
        """
        self.bills[:-1] = self.bills[1:]
        self.bills[-1] = 0.0
        self.coupons[:-1] = self.coupons[1:]
        self.coupons[-1] = 0.0

    def buy_bills(self, amount_bn: float) -> None:
        """Add new bills spread by original maturity per :data:`NEW_BILL_MIX`.

        A new ``n``-month bill goes in slot ``n - 1`` (call after :meth:`age_one_month`, so a
        1-month bill matures next month).

        Args:
            amount_bn: Face value bought, $bn (>= 0).

        """
        if amount_bn < 0:
            raise ValueError("amount_bn must be >= 0")
        for months, share in NEW_BILL_MIX.items():
            self.bills[months - 1] += amount_bn * share

    def buy_coupons(self, amount_bn: float) -> None:
        """Add new coupons spread by original maturity per :data:`NEW_COUPON_MIX`.

        A new ``n``-year coupon goes in slot ``12 n - 1``.

        Args:
            amount_bn: Face value bought, $bn (>= 0).

        """
        if amount_bn < 0:
            raise ValueError("amount_bn must be >= 0")
        for years, share in NEW_COUPON_MIX.items():
            self.coupons[12 * years - 1] += amount_bn * share

    def copy(self) -> Self:
        """Deep copy."""
        return copy.deepcopy(self)


@dataclass
class SomaPortfolio(MaturityLadder):
    """The System Open Market Account: Treasuries by maturity ladder plus agency MBS.

    Attributes:
        bills: Bills by remaining maturity in months, length 12 (index 0 = matures this month).
        coupons: Notes and bonds by remaining maturity in months, length 361.
        mbs: Agency MBS (remaining principal), $bn.

    """

    mbs: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.mbs = float(self.mbs)
        if self.mbs < 0:
            raise ValueError("mbs must be >= 0")

    @classmethod
    def from_mix(
        cls,
        treasuries_bn: float,
        bill_share: float,
        bucket_shares: Mapping[str, float] | None = None,
        mbs_bn: float = 0.0,
    ) -> Self:
        """Build a SOMA whose Treasury bucket totals match a remaining-maturity mix.

        Args:
            treasuries_bn: SOMA Treasuries, $bn.
            bill_share: Share of bills in SOMA Treasuries (0..1).
            bucket_shares: Coupon bucket shares of SOMA Treasuries; default the 2022 mix
                ``{"1-3y": .22, "3-10y": .31, ">10y": .25}``. ``"<1y coupons"`` takes the
                remainder unless given.
            mbs_bn: Agency MBS, $bn.

        Returns:
            The portfolio. ``SomaPortfolio.from_mix(**MIX_2022)`` and ``(**MIX_2026)`` give the
            calibrated 2022 and early-2026 books.

        """
        bills, coupons = cls._ladders_from_mix(treasuries_bn, bill_share, bucket_shares)
        return cls(bills=bills, coupons=coupons, mbs=mbs_bn)

    @property
    def total(self) -> float:
        """Treasuries plus MBS, $bn."""
        return self.treasuries + self.mbs


def mbs_paydown(
    mbs_bn: float,
    mortgage_rate_pct: float,
    pool_coupon_pct: float,
    *,
    scheduled_share: float = 25.0 / 2700.0,
    prepay_per_pp: float = 16.8 / 2700.0,
    prepay_floor_share: float = 0.0005,
    prepay_at_par_share: float = 0.004,
    prepay_max_share: float = 0.04,
) -> float:
    """Monthly principal paydown of an agency MBS book: scheduled amortisation plus prepayments.

    ``paydown = B * (scheduled_share + p(x))``, with ``B = mbs_bn`` and refinancing incentive
    ``x = pool_coupon_pct - mortgage_rate_pct`` (pp). The prepayment share is a logistic S-curve

        ``p(x) = floor + (max - floor) / (1 + exp(-k (x - c)))``

    with ``k`` and ``c`` solved so that ``p(0) = prepay_at_par_share`` and
    ``p'(0) = prepay_per_pp`` (NY Fed: about +$16.8B/month of prepayments per 1 pp lower mortgage
    rate on a $2.7T book). Defaults give ``k = 1.95`` per pp and ``c = 1.19`` pp: prepayments
    are about $11B/month at par on $2.7T, fall toward ``prepay_floor_share`` (turnover, ~$1.4B on
    $2.7T) when mortgage rates are well above the pool coupon, and saturate at
    ``prepay_max_share`` (~$108B on $2.7T, a ~40% CPR refinancing wave) when far below.
    Never negative and never more than the balance.

    Args:
        mbs_bn: MBS balance, $bn.
        mortgage_rate_pct: Current 30-year mortgage rate, % per year.
        pool_coupon_pct: Weighted-average coupon of the mortgages in the book, % per year.
        scheduled_share: Scheduled amortisation per month as a share of the balance
            (about $25B/month on $2.7T).
        prepay_per_pp: Slope of the prepayment share per pp of refinancing incentive at par.
        prepay_floor_share: Prepayment share per month with no incentive at all.
        prepay_at_par_share: Prepayment share per month when the mortgage rate equals the coupon.
        prepay_max_share: Prepayment share per month in a full refinancing wave.

    Returns:
        Paydown this month, $bn.

    Raises:
        ValueError: If the shares are not ``0 <= floor < at_par < max`` or the slope is not
            attainable by the S-curve.

    """
    if mbs_bn <= 0:
        return 0.0
    lo, par, hi = prepay_floor_share, prepay_at_par_share, prepay_max_share
    if not 0.0 <= lo < par < hi:
        raise ValueError("need 0 <= prepay_floor_share < prepay_at_par_share < prepay_max_share")
    if scheduled_share < 0 or prepay_per_pp <= 0:
        raise ValueError("scheduled_share must be >= 0 and prepay_per_pp > 0")
    s0 = (par - lo) / (hi - lo)  # logistic value at x = 0
    k = prepay_per_pp / ((hi - lo) * s0 * (1.0 - s0))
    c = math.log((1.0 - s0) / s0) / k  # logistic(-k c) = s0
    z = -k * (pool_coupon_pct - mortgage_rate_pct - c)
    logistic = 1.0 / (1.0 + math.exp(z)) if z < 700 else 0.0
    share = scheduled_share + lo + (hi - lo) * logistic
    return float(min(mbs_bn, mbs_bn * share))


TreasuryReinvestment = Literal["coupons", "bills"]
MbsReinvestment = Literal["treasuries", "bills", "mbs", "none"]


@dataclass(frozen=True)
class MonthlyRunoff:
    """One month of SOMA flows, $bn (all >= 0).

    Attributes:
        coupons_matured: Coupons that matured this month.
        bills_matured: Bills that matured this month.
        coupons_redeemed: Maturing coupons not reinvested (runoff).
        bills_redeemed: Maturing bills not reinvested (runoff).
        coupons_rolled: Maturing coupons rolled over at auction (into ``coupons_rolled_into``).
        bills_rolled: Maturing bills rolled over at auction into new bills.
        coupons_rolled_into: ``"coupons"`` (new-issue coupon mix) or ``"bills"``.
        mbs_paydown: MBS principal paid down this month.
        mbs_runoff: Paydowns not reinvested (runoff).
        mbs_reinvested: Paydowns reinvested (into ``mbs_reinvested_into``).
        mbs_reinvested_into: ``"treasuries"`` (new coupons), ``"bills"``, ``"mbs"`` or ``"none"``.
        rmp_bills: Reserve-management purchases of bills.
        bills_bought: All bills bought this month (rolls, reinvestment, RMPs).
        coupons_bought: All coupons bought this month.

    """

    coupons_matured: float
    bills_matured: float
    coupons_redeemed: float
    bills_redeemed: float
    coupons_rolled: float
    bills_rolled: float
    coupons_rolled_into: str
    mbs_paydown: float
    mbs_runoff: float
    mbs_reinvested: float
    mbs_reinvested_into: str
    rmp_bills: float
    bills_bought: float
    coupons_bought: float

    @property
    def treasury_runoff(self) -> float:
        """Treasury runoff (coupons plus bills redeemed), $bn."""
        return self.coupons_redeemed + self.bills_redeemed

    @property
    def runoff(self) -> float:
        """Total runoff (Treasuries plus MBS), $bn."""
        return self.treasury_runoff + self.mbs_runoff

    @property
    def net_change(self) -> float:
        """Change in SOMA holdings this month: ``-runoff + rmp_bills``, $bn."""
        return -self.runoff + self.rmp_bills


def _check_cap(name: str, cap: float | None) -> None:
    if cap is not None and (math.isnan(cap) or cap < 0):
        raise ValueError(f"{name} must be None or >= 0 (inf for no reinvestment), got {cap}")


def run_month(
    portfolio: SomaPortfolio,
    treasury_cap: float | None,
    mbs_cap: float | None,
    mbs_paydown: float,
    *,
    treasury_reinvestment: TreasuryReinvestment = "coupons",
    mbs_reinvestment: MbsReinvestment = "treasuries",
    reserve_management_bills: float = 0.0,
    bills_for_sale: float = math.inf,
) -> MonthlyRunoff:
    """Apply one month of the FOMC runoff rules to ``portfolio`` (mutated, and aged one month).

    Order: maturities in slot 0 are split into runoff and rollover; the ladders age one month;
    then the month's purchases (rollovers, MBS reinvestment, RMPs) go into the aged ladders, so a
    new 1-month bill matures at the next call. Holdings change by exactly
    ``-(treasury runoff + MBS runoff) + RMPs``.

    Args:
        portfolio: The SOMA; mutated in place.
        treasury_cap: Monthly Treasury runoff cap, $bn. ``None``: no runoff (full
            reinvestment); ``math.inf``: no reinvestment. Coupons are redeemed first, up to the
            cap; bills only for what is left of the cap, at most the maturing bills.
        mbs_cap: Monthly MBS runoff cap, $bn (``None``: no runoff; ``inf``: no reinvestment).
        mbs_paydown: MBS principal paid down this month, $bn (e.g. from the module's
            ``mbs_paydown`` function); capped at the MBS balance.
        treasury_reinvestment: ``"coupons"``: roll maturing coupons into new coupons per
            :data:`NEW_COUPON_MIX`; ``"bills"``: roll all maturing coupons into bills (the
            short-duration Fed). Maturing bills always roll into bills.
        mbs_reinvestment: Where paydowns above the MBS cap go: ``"treasuries"`` (new coupons per
            :data:`NEW_COUPON_MIX`, as in 2017-2019 / 2022-2025), ``"bills"`` (from December
            2025), ``"mbs"`` (back into agency MBS, as before 2017), or ``"none"`` (no
            reinvestment: all paydowns run off whatever the cap).
        reserve_management_bills: Reserve-management purchases of bills this month, $bn.
        bills_for_sale: Bills the market holds, $bn: the Fed's bill purchases in the market
            (MBS paydowns reinvested into bills, then reserve-management purchases) stop
            there; paydowns it cannot reinvest run off, purchases it cannot make are not made.

    Returns:
        The month's flows.

    Raises:
        ValueError: On negative caps, paydowns or RMPs, or unknown reinvestment choices.

    """
    _check_cap("treasury_cap", treasury_cap)
    _check_cap("mbs_cap", mbs_cap)
    if treasury_reinvestment not in ("coupons", "bills"):
        raise ValueError(
            f"treasury_reinvestment must be 'coupons' or 'bills', got {treasury_reinvestment!r}"
        )
    if mbs_reinvestment not in ("treasuries", "bills", "mbs", "none"):
        raise ValueError(f"unknown mbs_reinvestment {mbs_reinvestment!r}")
    if mbs_paydown < 0 or reserve_management_bills < 0:
        raise ValueError("mbs_paydown and reserve_management_bills must be >= 0")
    if not bills_for_sale >= 0:  # NaN too: checked before the portfolio changes
        raise ValueError(f"bills_for_sale must be >= 0, got {bills_for_sale}")

    bills_matured, coupons_matured = portfolio.maturing_this_month()

    # Treasuries: coupons first, then bills for the remainder of the cap.
    if treasury_cap is None:
        coupons_redeemed = bills_redeemed = 0.0
    else:
        coupons_redeemed = min(treasury_cap, coupons_matured)
        bills_redeemed = min(treasury_cap - coupons_redeemed, bills_matured)
    coupons_rolled = coupons_matured - coupons_redeemed
    bills_rolled = bills_matured - bills_redeemed

    # MBS: paydowns up to the cap run off, the rest is reinvested.
    paydown = min(float(mbs_paydown), portfolio.mbs)
    if mbs_reinvestment == "none":
        mbs_runoff = paydown
    elif mbs_cap is None:
        mbs_runoff = 0.0
    else:
        mbs_runoff = min(mbs_cap, paydown)
    mbs_reinvested = paydown - mbs_runoff
    # bills bought in the market: the MBS reinvestment first, then the RMPs, at most what
    # the market holds (a public short of bills cannot sell them)
    if mbs_reinvestment == "bills" and mbs_reinvested > bills_for_sale:
        mbs_runoff += mbs_reinvested - bills_for_sale
        mbs_reinvested = bills_for_sale
    left = bills_for_sale - (mbs_reinvested if mbs_reinvestment == "bills" else 0.0)
    if reserve_management_bills > left:
        reserve_management_bills = max(left, 0.0)

    portfolio.age_one_month()
    portfolio.mbs -= paydown

    bills_bought = bills_rolled + reserve_management_bills
    coupons_bought = 0.0
    if treasury_reinvestment == "bills":
        bills_bought += coupons_rolled
    else:
        coupons_bought += coupons_rolled
    if mbs_reinvestment == "bills":
        bills_bought += mbs_reinvested
    elif mbs_reinvestment == "treasuries":
        coupons_bought += mbs_reinvested
    elif mbs_reinvestment == "mbs":
        portfolio.mbs += mbs_reinvested
    portfolio.buy_bills(bills_bought)
    portfolio.buy_coupons(coupons_bought)

    return MonthlyRunoff(
        coupons_matured=coupons_matured,
        bills_matured=bills_matured,
        coupons_redeemed=coupons_redeemed,
        bills_redeemed=bills_redeemed,
        coupons_rolled=coupons_rolled,
        bills_rolled=bills_rolled,
        coupons_rolled_into=treasury_reinvestment,
        mbs_paydown=paydown,
        mbs_runoff=mbs_runoff,
        mbs_reinvested=mbs_reinvested,
        mbs_reinvested_into=mbs_reinvestment,
        rmp_bills=float(reserve_management_bills),
        bills_bought=bills_bought,
        coupons_bought=coupons_bought,
    )


class RunoffStep(NamedTuple):
    """One step of a runoff schedule, in force from ``start`` until the next step.

    Attributes:
        start: First day in force.
        treasury_cap: Treasury cap, $bn/month (``None``: no runoff; ``inf``: no reinvestment).
        mbs_cap: MBS cap, $bn/month (same conventions).
        rmp_per_month: Reserve-management bill purchases, $bn/month.
        treasury_reinvestment: ``"coupons"`` or ``"bills"`` (see :func:`run_month`).
        mbs_reinvestment: ``"treasuries"``, ``"bills"``, ``"mbs"`` or ``"none"``.

    """

    start: date
    treasury_cap: float | None
    mbs_cap: float | None
    rmp_per_month: float = 0.0
    treasury_reinvestment: TreasuryReinvestment = "coupons"
    mbs_reinvestment: MbsReinvestment = "treasuries"


class PolicyInForce(NamedTuple):
    """The balance-sheet policy in force on a day (see :meth:`RunoffSchedule.caps_on`)."""

    treasury_cap: float | None
    mbs_cap: float | None
    rmp_per_month: float = 0.0
    treasury_reinvestment: TreasuryReinvestment = "coupons"
    mbs_reinvestment: MbsReinvestment = "treasuries"


@dataclass
class RunoffSchedule:
    """A step schedule of runoff caps and reserve-management purchases.

    Attributes:
        steps: ``RunoffStep``s or tuples ``(start, treasury_cap, mbs_cap, rmp_per_month[,
            treasury_reinvestment[, mbs_reinvestment]])``; sorted by start date on construction.

    """

    steps: list[RunoffStep] = field(default_factory=list)

    def __post_init__(self) -> None:
        steps = [RunoffStep(*s) for s in self.steps]
        steps.sort(key=lambda s: s.start)
        starts = [s.start for s in steps]
        if len(set(starts)) != len(starts):
            raise ValueError("two steps start on the same date")
        for s in steps:
            _check_cap("treasury_cap", s.treasury_cap)
            _check_cap("mbs_cap", s.mbs_cap)
            if s.rmp_per_month < 0:
                raise ValueError("rmp_per_month must be >= 0")
        self.steps = steps

    def caps_on(self, day: date) -> PolicyInForce:
        """Return the policy in force on ``day``.

        Args:
            day: The date.

        Returns:
            The latest step starting on or before ``day``; before the first step, caps ``None``
            (no runoff, full reinvestment) and no RMPs.

        """
        current = PolicyInForce(None, None, 0.0)
        for s in self.steps:
            if s.start > day:
                break
            current = PolicyInForce(*s[1:])
        return current

    @classmethod
    def qt_2017_2019(cls) -> RunoffSchedule:
        """Build the 2017-2019 runoff (FACTS.md): caps up quarterly, Treasury $15B from May 2019.

        Runoff ends in August 2019; from then on MBS paydowns are reinvested in Treasuries.
        """
        return cls(
            steps=[
                RunoffStep(date(2017, 10, 1), 6.0, 4.0),
                RunoffStep(date(2018, 1, 1), 12.0, 8.0),
                RunoffStep(date(2018, 4, 1), 18.0, 12.0),
                RunoffStep(date(2018, 7, 1), 24.0, 16.0),
                RunoffStep(date(2018, 10, 1), 30.0, 20.0),
                RunoffStep(date(2019, 5, 1), 15.0, 20.0),
                RunoffStep(date(2019, 8, 1), None, None),
            ]
        )

    @classmethod
    def qt_2022_2025(cls, rmp_per_month: float = 20.0) -> RunoffSchedule:
        """Build the 2022-2025 runoff and the end of QT (FACTS.md, DESIGN.md section 8).

        $30B/$17.5B from June 2022, $60B/$35B from September 2022, Treasury cap $25B from
        June 2024 and $5B from April 2025; from 1 December 2025 no runoff, MBS paydowns
        reinvested in bills, and reserve-management bill purchases from mid-December 2025.

        Args:
            rmp_per_month: Reserve-management purchases from 12 December 2025, $bn/month.

        """
        return cls(
            steps=[
                RunoffStep(date(2022, 6, 1), 30.0, 17.5),
                RunoffStep(date(2022, 9, 1), 60.0, 35.0),
                RunoffStep(date(2024, 6, 1), 25.0, 35.0),
                RunoffStep(date(2025, 4, 1), 5.0, 35.0),
                RunoffStep(date(2025, 12, 1), None, 0.0, 0.0, "coupons", "bills"),
                RunoffStep(date(2025, 12, 12), None, 0.0, rmp_per_month, "coupons", "bills"),
            ]
        )
