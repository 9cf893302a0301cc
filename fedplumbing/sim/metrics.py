"""Daily metrics: the tidy row recorded at the end of each business day."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fedplumbing.sim.markets import Clearing
from fedplumbing.sim.payments import FED, TREASURY

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel


#: Facility use below this ($bn, i.e. $1) is what rounding in the postings leaves (an account
#: overdrawn by 1e-13), not a loan: it is recorded as zero. Balances are not touched.
FACILITY_DUST = 1e-9


def without_dust(amount: float) -> float:
    """`amount`, or 0.0 when it is below `FACILITY_DUST` in size."""
    return amount if abs(amount) >= FACILITY_DUST else 0.0


class DailyRecorder:
    """Collects one row per day; `frame()` returns them as a DataFrame.

    Rates are in percent, spreads in basis points, amounts in $ billions.
    """

    def __init__(self, model: FedPlumbingModel) -> None:
        self.model = model
        self.rows: list[dict[str, Any]] = []
        self.last_repo_spread_bp = float("nan")
        #: the last repo spread recorded on a day that was not a month-end (bp)
        self.last_calm_repo_spread_bp = float("nan")
        self.last_repo_rate = float("nan")
        led = model.ledger
        # the columns read every day, looked up once
        self._asset_columns = slice(0, 2 * led.n_instruments, 2)
        self._reserves_l = led.liability("reserves")
        self._on_rrp_l = led.liability("on_rrp")
        self._tga_a = led.asset("tga")
        self._currency_l = led.liability("currency")
        self._bills_a = led.asset("bills")
        self._coupons_a = led.asset("coupons")
        self._mbs_a = led.asset("mbs")
        self._fed_repo_a = led.asset("fed_repo")
        self._mmf_shares_l = led.liability("mmf_shares")

    def record(self, repo: Clearing, fed_funds: Clearing, fed_net_income: float) -> None:
        """Record today's outcomes."""
        m = self.model
        led, r = m.ledger, m.rates_today
        # the matrix read directly (the values `held`/`owed` return), to spare ~15 lookups
        b = led.balances
        bills, coupons = self._bills_a, self._coupons_a
        fac = m.facilities.today
        bank_assets = float(b[m.banks.rows, self._asset_columns].sum())
        reserves = float(b[FED, self._reserves_l])
        sofr = _pct(repo)
        effr = _pct(fed_funds)
        # no SRF (off, or a replay day before it existed, priced at inf): a blank rate
        srf_rate = r.srf if m.config.fed.srf_enabled and r.srf < math.inf else float("nan")
        dealers = m.dealers.rows
        srf_dealers, srf_banks = fac.get("srf_dealers", 0.0), fac.get("srf_banks", 0.0)
        _, soma_bill_share, soma_wam_years = m.fed.soma.treasury_stats()
        median_sofr = sofr[50.0]
        row = {
            "date": m.date,
            "sofr": median_sofr,
            "sofr_p1": sofr[1.0],
            "sofr_p25": sofr[25.0],
            "sofr_p75": sofr[75.0],
            "sofr_p99": sofr[99.0],
            "effr": effr[50.0],
            "effr_p1": effr[1.0],
            "effr_p99": effr[99.0],
            "iorb": r.iorb,
            "on_rrp_rate": r.on_rrp,
            "srf_rate": srf_rate,
            "discount_rate": r.discount,
            "reserves": reserves,
            "on_rrp": float(b[FED, self._on_rrp_l]),
            "tga": float(b[TREASURY, self._tga_a]),
            "currency": float(b[FED, self._currency_l]),
            "fed_assets": float(b[FED, self._asset_columns].sum()),
            "soma_treasuries": float(b[FED, bills] + b[FED, coupons]),
            "soma_mbs": float(b[FED, self._mbs_a]),
            "srf_take_up": without_dust(srf_dealers + srf_banks),
            "discount_window_take_up": without_dust(fac.get("discount_window", 0.0)),
            "fed_repo_ops": float(b[FED, self._fed_repo_a]) - srf_dealers - srf_banks,
            "fire_sale_funding": without_dust(fac.get("fire_sale", 0.0)),
            "bank_assets": bank_assets,
            "reserves_to_assets": reserves / bank_assets if bank_assets > 0 else float("nan"),
            "repo_volume": repo.volume,
            "ff_volume": fed_funds.volume,
            "repo_spread_bp": (median_sofr - r.iorb) * 100.0,
            "repo_spread_p99_bp": (sofr[99.0] - r.iorb) * 100.0,
            "effr_spread_bp": (effr[50.0] - r.iorb) * 100.0,
            "dealer_inventory": float(b[dealers, bills].sum() + b[dealers, coupons].sum()),
            "mmf_assets": float(b[m.mmfs.rows, self._mmf_shares_l].sum()),
            "fed_net_income": fed_net_income,
            "fed_deferred_asset": max(
                0.0, m.config.initial.fed_capital - float(b[FED, led.equity_col])
            ),
            "soma_wam_years": soma_wam_years,  # m.fed.wam_years
            "drivers": "; ".join(m.calendar.day_names(m.day)),
            **_policy_columns(m, soma_bill_share),
        }
        self.last_repo_spread_bp = row["repo_spread_bp"]
        if not m.flags["is_month_end"]:
            self.last_calm_repo_spread_bp = row["repo_spread_bp"]
        self.last_repo_rate = row["sofr"]
        self.rows.append(row)

    def frame(self) -> pd.DataFrame:
        """All recorded days as a DataFrame."""
        df = pd.DataFrame(self.rows)
        if not df.empty:
            df["date"] = pd.to_datetime(df["date"])
        return df


def _pct(clearing: Clearing) -> dict[float, float]:
    if clearing.volume > 0:
        return clearing.percentiles
    return dict.fromkeys((1.0, 25.0, 50.0, 75.0, 99.0), np.nan)


def _policy_columns(m: FedPlumbingModel, soma_bill_share: float) -> dict[str, float]:
    """Fed income by asset and liability, remittances, SOMA mix and the Treasury's debt.

    Args:
        m: the model.
        soma_bill_share: ``m.fed.bill_share`` (the caller has it at hand).
    """
    inc, debt = m.fed.income_today, m.treasury.debt
    return {
        "fed_income_assets": inc.assets,
        "fed_income_liabilities": inc.liabilities,
        "fed_income_soma_coupons": inc.soma_coupons,
        "fed_income_soma_bills": inc.soma_bills,
        "fed_income_mbs": inc.mbs,
        "fed_income_lending": inc.lending,
        "fed_expense_iorb": inc.iorb,
        "fed_expense_on_rrp": inc.on_rrp,
        "fed_remittances": m.fed.remitted_today,
        "soma_bill_share": soma_bill_share,
        "treasury_interest_cost": debt.interest_cost_today,
        "treasury_wam_months": debt.treasury_wam_months,
        "private_bill_share": debt.private_bill_share,
        "private_10y_eq": debt.private_teq,
        "term_premium_bp": debt.term_premium_bp,
    }
