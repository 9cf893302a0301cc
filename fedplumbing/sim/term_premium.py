"""Duration supply and the 10-year term premium; the Treasury's response to a short-duration Fed.

Pure arithmetic, no Mesa. Units: US$ billions, yields percent per year, term premium bp.

Duration supply (FACTS.md, "The Fed, the Treasury and duration")
-----------------------------------------------------------------
Holdings are converted to *10-year equivalents*: face value times modified duration divided by
the modified duration of a 10-year par note (annual coupons at the yield; 8.11 at 4%). Fed
research rule of thumb: removing 10-year equivalents worth 1% of GDP from private hands lowers the
10-year term premium by about 10 bp; adding them raises it by the same.

The short-duration Fed and the Treasury's response (:func:`short_duration_scenario`)
-----------------------------------------------------------------------------------
Two SOMA paths are run with identical caps, MBS treatment and RMPs: the *short* path rolls every
maturing coupon into bills, the *baseline* path rolls them into new coupons (the new-issue mix).
Let ``X`` be the coupons the short Fed let mature into bills (about $1.9T over five years from
the early-2026 book) and ``dC = baseline.coupons - short.coupons`` (face ``X``, the coupons the
Fed would otherwise hold at the horizon).

Accounting assumptions (stylised, stated so they can be challenged):

* Baseline: the Treasury keeps the private sector's holdings (amounts and maturity structure)
  as they are today, ``P = D0 - S0``; whatever the Fed buys on net (RMPs, reinvested MBS
  paydowns) is newly issued to it. Debt at the horizon ``D = P + S``.
* Response **A** (keep private bill supply, sell more coupons to the private sector): the
  Treasury keeps its coupon auction sizes, so the private sector takes the coupons ``dC`` the Fed
  no longer buys; the Fed's extra bills are extra bill issuance, so private bills are unchanged.
  Private 10-year equivalents rise by ``teq(dC)``.
* Response **B** (issue more bills to the Fed, keep private coupon supply): the Treasury swaps
  ``dC`` of coupon issuance for ``X`` of bills sold to the Fed. Private holdings are unchanged
  (0 bp); the Treasury's WAM falls.

Both responses hold private *bill* supply at today's level, as FACTS.md describes them; A
therefore issues ``X`` more debt in total than B (a stylised comparison of supply, not a
financing plan). Had A instead cut private bill issuance by ``X`` (same total debt as B), the
term-premium effect would be only ~1.5 bp smaller (bills carry ~3% of a 10-year's duration).

Calibration (tests/sim/test_term_premium.py), from the early-2026 SOMA ($4.2T, bills 7%, over 10y
40%, WAM 9.3 years; MBS $2.05T at a 3% pool coupon, 6.25% mortgage rate, paydowns into bills,
RMPs $20B/month) over 60 months: ``X`` = $1.93T; SOMA bills $289B -> $4.33T (69%), WAM 9.3 -> 4.1
years (FACTS: $3.8T, 60%, about 4 years; the model's RMPs for all five years add more bills;
without RMPs: bills 61%, WAM 5.1 years, since the SOMA must grow for bills to reach 55%).
A: ``teq(dC)`` = $1.16T -> +39 bp with GDP $30T (the same coupons at issue, before ageing,
are $1.35T -> +45 bp). FACTS quotes "$1.7T 10-year equivalents, +40-50 bp": $1.7T at 10 bp per
1% of GDP of $30T would be +57 bp, so those two figures are not consistent with each other;
$1.7T is what one gets by scaling $1.9T by maturity (9/10) instead of by duration. The 40-50 bp
range matches the duration-weighted $1.2-1.5T. B: private bill share stays at 24.5%; Treasury
WAM 71 -> 62 months (FACTS: about 60).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from fedplumbing.sim.soma import (
    BILL_YEARS,
    COUPON_YEARS,
    NEW_COUPON_MIX,
    MaturityLadder,
    SomaPortfolio,
    mbs_paydown,
    run_month,
)

__all__ = [
    "DEBT_MIX_2026",
    "DurationShiftResult",
    "TreasuryDebt",
    "TreasuryResponse",
    "ladder_ten_year_equivalents",
    "ladder_teq_weights",
    "modified_duration",
    "short_duration_scenario",
    "ten_year_equivalents",
    "term_premium_change_bp",
    "treasury_response",
]


def modified_duration(
    maturity_years: float | np.ndarray, yield_pct: float = 4.0
) -> float | np.ndarray:
    """Compute the modified duration of a par-coupon bond with annual coupons at the yield.

    Cash flows fall at ``T, T-1, T-2, ...`` (all > 0) years, each a coupon equal to the yield,
    plus the principal at ``T``; a maturity under a year is a single payment (like a bill), so its
    Macaulay duration is ``T``. Modified duration = Macaulay / (1 + y). Maturities <= 0 give 0.

    Args:
        maturity_years: Remaining maturity in years (scalar or array).
        yield_pct: Yield (and coupon), % per year, annual compounding.

    Returns:
        Modified duration in years, same shape as ``maturity_years``.

    """
    y = yield_pct / 100.0
    t_mat = np.atleast_1d(np.asarray(maturity_years, dtype=np.float64))
    n_max = int(np.ceil(t_mat.max())) if t_mat.size and t_mat.max() > 0 else 1
    times = t_mat[:, None] - np.arange(n_max)[None, :]  # (n, k): T - k
    alive = times > 0
    cash = np.where(alive, y, 0.0)
    cash[:, 0] += np.where(t_mat > 0, 1.0, 0.0)
    disc = np.where(alive, (1.0 + y) ** -np.where(alive, times, 0.0), 0.0)
    price = (cash * disc).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        macaulay = np.where(price > 0, (times * cash * disc).sum(axis=1) / price, 0.0)
    out = macaulay / (1.0 + y)
    if np.ndim(maturity_years) == 0:
        return float(out[0])
    return out


def ten_year_equivalents(
    amounts_by_maturity_years: Mapping[float, float] | np.ndarray,
    maturities_years: np.ndarray | None = None,
    *,
    yield_pct: float = 4.0,
) -> float:
    """Convert holdings to 10-year equivalents by modified duration.

    Args:
        amounts_by_maturity_years: Either ``{maturity_years: face_bn}`` or an array of face
            values, $bn (then ``maturities_years`` is required).
        maturities_years: Remaining maturities in years, same shape as the amounts array.
        yield_pct: Yield used for all durations, % per year.

    Returns:
        Sum of ``face * D(m) / D(10)``, $bn of 10-year notes.

    Raises:
        ValueError: If the shapes do not match or maturities are missing.

    """
    if isinstance(amounts_by_maturity_years, Mapping):
        if maturities_years is not None:
            raise ValueError("give maturities either as mapping keys or as an array, not both")
        mats = np.fromiter(amounts_by_maturity_years.keys(), dtype=np.float64)
        amounts = np.fromiter(amounts_by_maturity_years.values(), dtype=np.float64)
    else:
        if maturities_years is None:
            raise ValueError("maturities_years is required with an array of amounts")
        amounts = np.asarray(amounts_by_maturity_years, dtype=np.float64)
        mats = np.asarray(maturities_years, dtype=np.float64)
        if amounts.shape != mats.shape:
            raise ValueError(f"shape mismatch: amounts {amounts.shape}, maturities {mats.shape}")
    if amounts.size == 0:
        return 0.0
    d10 = modified_duration(10.0, yield_pct)
    durations = np.asarray(modified_duration(mats.ravel(), yield_pct))
    return float(amounts.ravel() @ durations / d10)


_DURATION_CACHE: dict[float, tuple[np.ndarray, np.ndarray]] = {}


def _ladder_teq_weights(yield_pct: float) -> tuple[np.ndarray, np.ndarray]:
    """10-year-equivalent weight per bill slot and per coupon slot (cached by yield)."""
    key = float(yield_pct)
    if key not in _DURATION_CACHE:
        d10 = modified_duration(10.0, yield_pct)
        _DURATION_CACHE[key] = (
            np.asarray(modified_duration(BILL_YEARS, yield_pct)) / d10,
            np.asarray(modified_duration(COUPON_YEARS, yield_pct)) / d10,
        )
    return _DURATION_CACHE[key]


def ladder_teq_weights(yield_pct: float) -> tuple[np.ndarray, np.ndarray]:
    """10-year-equivalent weight per bill slot and per coupon slot at `yield_pct` (read-only use).

    `ladder_ten_year_equivalents` is ``bills @ w_bills + coupons @ w_coupons`` with these.
    """
    return _ladder_teq_weights(yield_pct)


def ladder_ten_year_equivalents(ladder: MaturityLadder, *, yield_pct: float = 4.0) -> float:
    """10-year equivalents of a maturity ladder (SOMA or Treasury debt), $bn.

    Args:
        ladder: The holdings (slot ``m`` has ``(m + 0.5) / 12`` years left).
        yield_pct: Yield, % per year.

    Returns:
        10-year equivalents, $bn. MBS in a ``SomaPortfolio`` are not included.

    """
    w_bills, w_coupons = _ladder_teq_weights(yield_pct)
    return float(ladder.bills @ w_bills + ladder.coupons @ w_coupons)


def term_premium_change_bp(
    private_10y_eq_change_bn: float, gdp_bn: float, *, bp_per_pct_gdp: float = 10.0
) -> float:
    """Change in the 10-year term premium from a change in private duration supply.

    Args:
        private_10y_eq_change_bn: Change in 10-year equivalents held by the private sector, $bn
            (positive when the private sector must absorb more duration).
        gdp_bn: Nominal GDP, $bn.
        bp_per_pct_gdp: Term premium change per 1% of GDP of 10-year equivalents, bp.

    Returns:
        Change in the term premium, bp.

    Raises:
        ValueError: If ``gdp_bn`` is not positive.

    """
    if gdp_bn <= 0:
        raise ValueError("gdp_bn must be positive")
    return bp_per_pct_gdp * 100.0 * private_10y_eq_change_bn / gdp_bn


@dataclass
class TreasuryDebt(MaturityLadder):
    """Marketable Treasury debt outstanding (all holders) by monthly maturity ladder, $bn.

    Same layout as :class:`~fedplumbing.sim.soma.SomaPortfolio` (bills: 12 slots, coupons: 361);
    build it with ``TreasuryDebt.from_mix(**DEBT_MIX_2026)``.
    """

    def private_bills(self, soma: MaturityLadder) -> float:
        """Bills held outside the Fed, $bn."""
        return float(self.bills.sum() - soma.bills.sum())

    def private_total(self, soma: MaturityLadder) -> float:
        """Marketable debt held outside the Fed, $bn."""
        return self.treasuries - soma.treasuries

    def private_bill_share(self, soma: MaturityLadder) -> float:
        """Bills as a share of the marketable debt held outside the Fed.

        Args:
            soma: The Fed's Treasury holdings.

        Returns:
            Private bills / private holdings.

        Raises:
            ValueError: If the Fed holds more than is outstanding.

        """
        private = self.private_total(soma)
        if private <= 0 or self.private_bills(soma) < -1e-9:
            raise ValueError("the SOMA holds more than the debt outstanding")
        return self.private_bills(soma) / private


DEBT_MIX_2026: dict[str, object] = {
    "treasuries_bn": 30000.0,
    "bill_share": 0.22,
    "bucket_shares": {"<1y coupons": 0.095, "1-3y": 0.205, "3-10y": 0.305, ">10y": 0.175},
}
"""Marketable Treasury debt, early 2026: $30T, bills 22%, WAM 71 months (keyword arguments for
``TreasuryDebt.from_mix``). With the early-2026 SOMA the private bill share is 24.5%."""


@dataclass(frozen=True)
class TreasuryResponse:
    """The Treasury's response to a short-duration Fed, measured at the horizon.

    Attributes:
        name: ``"A"`` or ``"B"``.
        debt: Marketable debt at the horizon under this response.
        private_10y_eq_change_bn: Change in private 10-year equivalents vs. the baseline, $bn.
        term_premium_change_bp: Implied 10-year term premium change, bp.
        private_bills_change_bn: Change in private bill holdings vs. the baseline, $bn.
        private_coupons_change_bn: Change in private coupon holdings vs. the baseline, $bn.
        private_bill_share: Private bill share at the horizon.
        treasury_wam_months: Treasury WAM at the horizon, months.

    """

    name: str
    debt: TreasuryDebt
    private_10y_eq_change_bn: float
    term_premium_change_bp: float
    private_bills_change_bn: float
    private_coupons_change_bn: float
    private_bill_share: float
    treasury_wam_months: float


def treasury_response(
    debt_start: TreasuryDebt,
    soma_start: SomaPortfolio,
    soma_baseline: SomaPortfolio,
    soma_short: SomaPortfolio,
    response: Literal["A", "B"],
    *,
    gdp_bn: float = 30000.0,
    yield_pct: float = 4.0,
    bp_per_pct_gdp: float = 10.0,
) -> TreasuryResponse:
    """Compute the Treasury's response A or B to a Fed that rolls its coupons into bills.

    See the module docstring for the accounting. The private sector's holdings in the baseline
    are today's, ``debt_start - soma_start`` (slot by slot); the debt at the horizon is the
    private holdings plus the Fed's.

    Args:
        debt_start: Marketable debt today.
        soma_start: SOMA today.
        soma_baseline: SOMA at the horizon when maturing coupons are rolled into coupons.
        soma_short: SOMA at the horizon when maturing coupons are rolled into bills (same caps,
            MBS treatment and RMPs as the baseline).
        response: ``"A"`` (private sector absorbs the coupons the Fed no longer buys) or ``"B"``
            (the Treasury issues bills to the Fed instead of those coupons).
        gdp_bn: Nominal GDP, $bn.
        yield_pct: Yield for durations, % per year.
        bp_per_pct_gdp: Term premium per 1% of GDP of 10-year equivalents, bp.

    Returns:
        The response's effect at the horizon.

    Raises:
        ValueError: On an unknown response.

    """
    if response not in ("A", "B"):
        raise ValueError(f"response must be 'A' or 'B', got {response!r}")
    private_bills = debt_start.bills - soma_start.bills
    private_coupons = debt_start.coupons - soma_start.coupons
    extra_private_coupons = np.zeros_like(private_coupons)
    if response == "A":
        extra_private_coupons = np.maximum(soma_baseline.coupons - soma_short.coupons, 0.0)
    debt = TreasuryDebt(
        bills=private_bills + soma_short.bills,
        coupons=private_coupons + extra_private_coupons + soma_short.coupons,
    )
    _, w_coupons = _ladder_teq_weights(yield_pct)
    teq_change = float(extra_private_coupons @ w_coupons)
    return TreasuryResponse(
        name=response,
        debt=debt,
        private_10y_eq_change_bn=teq_change,
        term_premium_change_bp=term_premium_change_bp(
            teq_change, gdp_bn, bp_per_pct_gdp=bp_per_pct_gdp
        ),
        private_bills_change_bn=0.0,
        private_coupons_change_bn=float(extra_private_coupons.sum()),
        private_bill_share=debt.private_bill_share(soma_short),
        treasury_wam_months=debt.wam_months(),
    )


@dataclass(frozen=True)
class DurationShiftResult:
    """Outcome of :func:`short_duration_scenario`.

    Attributes:
        months: Horizon, months.
        soma_start: SOMA today (not mutated).
        soma_short: SOMA at the horizon, coupons rolled into bills.
        soma_baseline: SOMA at the horizon, coupons rolled into new coupons.
        coupons_rolled_into_bills_bn: Coupons that matured at the Fed and were rolled into bills
            over the horizon, $bn (``X``).
        coupons_shifted_10y_eq_at_issue_bn: 10-year equivalents of ``X`` in the new-issue coupon
            mix at issue (before ageing), $bn.
        fed_10y_eq_change_bn: SOMA 10-year equivalents, short minus baseline at the horizon, $bn.
        treasury_wam_months_start: Treasury WAM today, months.
        private_bill_share_start: Private bill share today.
        a: Response A.
        b: Response B.

    """

    months: int
    soma_start: SomaPortfolio
    soma_short: SomaPortfolio
    soma_baseline: SomaPortfolio
    coupons_rolled_into_bills_bn: float
    coupons_shifted_10y_eq_at_issue_bn: float
    fed_10y_eq_change_bn: float
    treasury_wam_months_start: float
    private_bill_share_start: float
    a: TreasuryResponse
    b: TreasuryResponse


def short_duration_scenario(
    soma: SomaPortfolio,
    debt: TreasuryDebt,
    *,
    months: int = 60,
    rmp_per_month: float = 20.0,
    mortgage_rate_pct: float = 6.25,
    mbs_pool_coupon_pct: float = 3.0,
    mbs_reinvestment: Literal["treasuries", "bills", "mbs", "none"] = "bills",
    gdp_bn: float = 30000.0,
    yield_pct: float = 4.0,
    bp_per_pct_gdp: float = 10.0,
) -> DurationShiftResult:
    """Run the short-duration Fed and its baseline, and the Treasury's responses A and B.

    Both SOMA paths: no Treasury runoff (cap ``None``), MBS paydowns (from
    :func:`~fedplumbing.sim.soma.mbs_paydown`) fully reinvested per ``mbs_reinvestment`` (MBS
    cap 0), RMPs of ``rmp_per_month``; they differ only in rolling maturing coupons into bills
    (short) or into the new-issue coupon mix (baseline).

    Args:
        soma: SOMA today (copied, not mutated).
        debt: Marketable Treasury debt today.
        months: Horizon, months.
        rmp_per_month: Reserve-management bill purchases, $bn/month.
        mortgage_rate_pct: 30-year mortgage rate, % (held constant).
        mbs_pool_coupon_pct: Average coupon of the Fed's MBS pools, %.
        mbs_reinvestment: Where MBS paydowns go (see :func:`~fedplumbing.sim.soma.run_month`).
        gdp_bn: Nominal GDP, $bn.
        yield_pct: Yield for durations, % per year.
        bp_per_pct_gdp: Term premium per 1% of GDP of 10-year equivalents, bp.

    Returns:
        Paths' end states and both responses.

    """
    paths: dict[str, SomaPortfolio] = {}
    rolled: dict[str, float] = {}
    for mode in ("bills", "coupons"):
        p = soma.copy()
        rolled[mode] = 0.0
        for _ in range(months):
            flows = run_month(
                p,
                None,
                0.0,
                mbs_paydown(p.mbs, mortgage_rate_pct, mbs_pool_coupon_pct),
                treasury_reinvestment=mode,
                mbs_reinvestment=mbs_reinvestment,
                reserve_management_bills=rmp_per_month,
            )
            rolled[mode] += flows.coupons_rolled
        paths[mode] = p
    short, base = paths["bills"], paths["coupons"]
    at_issue = rolled["bills"] * ten_year_equivalents(
        {float(y): s for y, s in NEW_COUPON_MIX.items()}, yield_pct=yield_pct
    )
    kwargs = {"gdp_bn": gdp_bn, "yield_pct": yield_pct, "bp_per_pct_gdp": bp_per_pct_gdp}
    return DurationShiftResult(
        months=months,
        soma_start=soma.copy(),
        soma_short=short,
        soma_baseline=base,
        coupons_rolled_into_bills_bn=rolled["bills"],
        coupons_shifted_10y_eq_at_issue_bn=at_issue,
        fed_10y_eq_change_bn=ladder_ten_year_equivalents(short, yield_pct=yield_pct)
        - ladder_ten_year_equivalents(base, yield_pct=yield_pct),
        treasury_wam_months_start=debt.wam_months(),
        private_bill_share_start=debt.private_bill_share(soma),
        a=treasury_response(debt, soma, base, short, "A", **kwargs),
        b=treasury_response(debt, soma, base, short, "B", **kwargs),
    )
