"""Standing facilities: what the markets did not absorb by the end of the day.

Money funds and FHLBs place leftover cash at the ON RRP (per-counterparty cap). After the
late payment shock, dealers still short borrow at the SRF (if it exists and they have
collateral) or raise cash at a fire-sale cost from the public; banks below their LCLoR top up
at the SRF when it is their cheapest source, and any bank still overdrawn borrows at the
discount window. No account ends the day overdrawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.sim import markets
from fedplumbing.sim.ledger import ASSET_COLUMN, LIABILITY_COLUMN, SECURITIES, Leg
from fedplumbing.sim.payments import FED_ROW, PUBLIC, PUBLIC_ROW
from fedplumbing.sim.repo_market import collateral_capacity, pledge_for

if TYPE_CHECKING:
    from fedplumbing.agents.base import Population
    from fedplumbing.sim.model import FedPlumbingModel


def change_hedge_fund_lending(model: FedPlumbingModel, change: np.ndarray, label: str) -> None:
    """Dealers lend `change` more to hedge funds (negative: hedge funds repay).

    The collateral hedge funds pledge, which dealers may re-pledge, follows the loans.
    """
    post_hedge_fund_lending(model, change, label)
    reset_rehypothecable(model)


def post_hedge_fund_lending(model: FedPlumbingModel, change: np.ndarray, label: str) -> None:
    """The posting of `change_hedge_fund_lending`, without the custody reset that follows."""
    led, pay, dealers = model.ledger, model.payments, model.dealers
    total = change.sum()
    delta = pay.zeros()
    delta[dealers.rows] = -change
    delta[PUBLIC] = total
    pay.pay(
        label,
        delta,
        Leg(dealers.rows, led.asset("hf_repo"), change),
        Leg(PUBLIC, led.liability("hf_repo"), total),
        amount=float(np.abs(change).sum()),
    )


def reset_rehypothecable(model: FedPlumbingModel) -> None:
    """Dealers may re-pledge the collateral of their hedge-fund loans.

    When hedge funds repay during the day, the collateral the dealer has already re-pledged
    overnight comes back to them only when the overnight trades unwind the next morning, so
    the dealer's re-pledgeable custody never falls below what it has pledged beyond its own
    holdings.
    """
    led, dealers = model.ledger, model.dealers
    hf = led.held("hf_repo", dealers.rows)
    s = SECURITIES.index("coupons")
    repledged = led.pledged[dealers.rows, s] - led.held("coupons", dealers.rows)
    led.set_rehypothecable(
        "coupons",
        dealers.rows,
        np.maximum(hf / (1 - model.config.dealers.haircut), repledged),
    )


class Facilities:
    """The Fed's standing facilities and the end-of-day settlement of shortfalls.

    Attributes:
        today: amounts used today by facility ($bn).
        late_shock: today's end-of-day payment shock by bank (reversed tomorrow morning).
    """

    def __init__(self) -> None:
        self.today: dict[str, float] = {}
        self.late_shock: np.ndarray | None = None
        self._late_shock_size = 0.0  # half of sum(|late_shock|), the size logged
        # ledger rows used every day, built once per model (see `_rows`)
        self._row_cache: dict[str, np.ndarray] = {}

    def _rows(self, key: str, *populations: Population) -> np.ndarray:
        """The ledger rows of `populations`, one after the other, kept under `key`.

        Built once per model. Read-only, like `FED_ROW` (the kernels they go to are
        compiled for read-only rows).
        """
        rows = self._row_cache.get(key)
        if rows is None:
            rows = np.concatenate([np.arange(pop.rows.start, pop.rows.stop) for pop in populations])
            rows.flags.writeable = False
            self._row_cache[key] = rows
        return rows

    def place_at_on_rrp(self, model: FedPlumbingModel) -> None:
        """Money funds and FHLBs invest leftover cash at the ON RRP, up to the cap."""
        cfg, led = model.config, model.ledger
        mmfs, fhlbs = model.mmfs, model.fhlbs
        lent = np.empty(mmfs.size + fhlbs.size)
        # each population's leftover cash written straight into its part of the orders
        np.subtract(
            led.held("deposits", mmfs.rows),
            cfg.mmfs.liquidity_buffer * led.owed("mmf_shares", mmfs.rows),
            out=lent[: mmfs.size],
        )
        lent[mmfs.size :] = led.held("deposits", fhlbs.rows)  # FHLBs keep no buffer
        # np.clip(lent, 0, cap), bit for bit (signed zeros and NaN included), at less
        # than half its cost on short vectors
        np.maximum(0.0, lent, out=lent)
        np.minimum(lent, cfg.fed.on_rrp_cap, out=lent)
        rate = model.rates_today.on_rrp
        self.today["on_rrp"] = model.overnight.book_at_rate(
            "ON RRP",
            "on_rrp",
            self._rows("on_rrp", mmfs, fhlbs),
            lent,
            FED_ROW,
            np.array([lent.sum()]),
            rate,
            model.accrual_days_today,
        )

    def apply_late_payment_shock(self, model: FedPlumbingModel) -> None:
        """Zero-sum end-of-day shifts of deposits (and reserves) between banks.

        Compiled, one kernel (`_late_shock_loops`) works out the shifts and posts them; the
        numpy path, and the reference it is checked against in debug mode, is
        `_late_shock` and `_shift_deposits`.
        """
        sd = model.banks["shock_sd"]
        draws = model.rng.standard_normal(len(sd))
        label = "late payment shock"
        if not markets.USE_COMPILED:
            self.late_shock, self._late_shock_size = _late_shock(sd, draws)
            self._shift_deposits(model, self.late_shock, label, self._late_shock_size)
            return
        led = model.ledger
        eps = np.empty(sd.size)
        shock = [eps, 0.0]  # the shifts and their size, from the kernel or the reference

        def apply(balances: np.ndarray) -> dict[str, float]:
            shock[1] = _late_shock_kernel(
                balances,
                model.banks.rows.start,
                np.ascontiguousarray(sd, dtype=float),
                draws,
                eps,
                False,
            )
            return {label: shock[1]}

        def reference() -> None:
            shock[:] = _late_shock(sd, draws)
            self._shift_deposits(model, shock[0], label, shock[1])

        led.post_compiled(apply, reference)
        self.late_shock, self._late_shock_size = shock

    def reverse_late_payment_shock(self, model: FedPlumbingModel) -> None:
        """Yesterday's late payments come back in the morning (intraday timing)."""
        if self.late_shock is None:
            return
        # the same size as yesterday's shock (|-x| is |x|), not summed again
        label, eps, size = "late payment reversal", self.late_shock, self._late_shock_size
        led = model.ledger
        if not markets.USE_COMPILED:
            self._shift_deposits(model, -eps, label, size)
        else:

            def apply(balances: np.ndarray) -> dict[str, float]:
                # the shock's kernel, reversing: one kernel to load rather than two
                _late_shock_kernel(balances, model.banks.rows.start, eps, eps, eps, True)
                return {label: size}

            led.post_compiled(apply, lambda: self._shift_deposits(model, -eps, label, size))
        self.late_shock = None

    @staticmethod
    def _shift_deposits(model: FedPlumbingModel, eps: np.ndarray, label: str, size: float) -> None:
        """Move `eps` of deposits and reserves between banks; `size` is half of sum(|eps|)."""
        led, rows = model.ledger, model.banks.rows
        led.post(
            label,
            Leg(rows, led.liability("deposits"), eps),
            Leg(rows, led.asset("reserves"), eps),
            amount=size,
        )

    def cover_dealers(self, model: FedPlumbingModel) -> None:
        """Dealers still overdrawn borrow at the SRF, else at a fire-sale cost.

        The SRF only when its rate plus stigma is at most the fire-sale cost: the same
        comparison dealers' repo bids make (`FedPlumbingModel.dealer_fallback_rate`).
        """
        cfg, led, rates = model.config, model.ledger, model.rates_today
        dealers = model.dealers
        rows = self._rows("dealers", dealers)
        need = np.maximum(-led.held("deposits", dealers.rows), 0.0)
        cut = np.minimum(need, model.dealer_elastic_unfilled)
        cut_total = cut.sum()
        if cut_total > 0:
            change_hedge_fund_lending(model, -cut, "hedge funds deleverage")
            need = need - cut
        self.today["hedge_fund_cut"] = float(cut_total)
        fire_rate = rates.iorb + cfg.dealers.fire_sale_cost_bp / 100.0
        srf_cost = rates.srf + cfg.fed.srf_stigma_bp / 100.0
        if cfg.fed.srf_enabled and srf_cost <= fire_rate and need.sum() > 0:
            srf = np.minimum(
                need, np.maximum(collateral_capacity(model, dealers.rows, cfg.fed.srf_haircut), 0.0)
            )
            self._borrow_srf(model, rows, srf)
            rest = need - srf
            srf_total = float(srf.sum())
        else:
            # no SRF (or a dearer one): `need - 0.0` is `need` and the take-up 0.0
            rest = need
            srf_total = 0.0
        rest_total = rest.sum()
        self.today["srf_dealers"] = srf_total
        self.today["fire_sale"] = float(rest_total)
        if rest_total > 0:
            _lend_overnight(
                model, "fire-sale funding", "repo", PUBLIC_ROW, rows, rest, rest_total, fire_rate
            )

    def cover_banks(self, model: FedPlumbingModel) -> None:
        """Banks below their LCLoR use the SRF when cheapest; overdrafts go to the window."""
        cfg, led, rates = model.config, model.ledger, model.rates_today
        banks = model.banks
        rows = self._rows("banks", banks)
        reserves = led.held("reserves", banks.rows)
        srf_cost = rates.srf + cfg.fed.srf_stigma_bp / 100.0
        dw_cost = rates.discount + cfg.fed.discount_stigma_bp / 100.0
        if cfg.fed.srf_enabled and srf_cost < dw_cost:
            eligible = banks["repo_active"]
            gap = np.where(eligible, np.maximum(banks["lclor"] - reserves, 0.0), 0.0)
            srf = np.minimum(
                gap, np.maximum(collateral_capacity(model, banks.rows, cfg.fed.srf_haircut), 0.0)
            )
            self._borrow_srf(model, rows, srf)
            self.today["srf_banks"] = float(srf.sum())
            # read again: `reserves` is a view of the ledger, and already holds the SRF
            # loans (adding `srf` to it counted them twice, leaving banks whose collateral
            # capped their SRF loans overdrawn until `cover_late_overdrafts`)
            overdraft = np.maximum(-led.held("reserves", banks.rows), 0.0)
        else:
            # no SRF: adding zeros changes only a -0.0, which np.maximum(-x, 0.0) maps to
            # 0.0 either way, so the overdrafts are the same without the zeros
            self.today["srf_banks"] = 0.0
            overdraft = np.maximum(-reserves, 0.0)
        self.today["discount_window"] = 0.0
        self._borrow_window(model, rows, overdraft)

    def cover_late_overdrafts(self, model: FedPlumbingModel) -> None:
        """Overdrafts left by the day's last payments go to the discount window too.

        `cover_banks` brings an overdrawn bank to exactly zero; the interest and income
        posted after it (MBS interest and dealer carry, paid from the public's deposits)
        can take a few $ million more from it. No account ends the day overdrawn.
        """
        reserves = model.ledger.held("reserves", model.banks.rows)
        if reserves.min() >= 0.0:
            return
        self._borrow_window(model, self._rows("banks", model.banks), np.maximum(-reserves, 0.0))

    def _borrow_window(self, model: FedPlumbingModel, rows: np.ndarray, amount: np.ndarray) -> None:
        """Banks (ledger `rows`) borrow `amount` at the discount window overnight."""
        total = amount.sum()
        self.today["discount_window"] += float(total)
        if total > 0:
            rate = model.rates_today.discount
            _lend_overnight(
                model, "discount window", "discount_window", FED_ROW, rows, amount, total, rate
            )

    def _borrow_srf(self, model: FedPlumbingModel, rows: np.ndarray, amount: np.ndarray) -> None:
        total = amount.sum()
        if total <= 0:
            return
        _lend_overnight(
            model, "SRF", "fed_repo", FED_ROW, rows, amount, total, model.rates_today.srf
        )
        pledge_for(
            model,
            rows,
            amount,
            FED_ROW,
            np.array([total]),
            model.config.fed.srf_haircut,
        )


def _lend_overnight(
    model: FedPlumbingModel,
    label: str,
    instrument: str,
    lender: np.ndarray,
    rows: np.ndarray,
    amount: np.ndarray,
    total: float,
    rate: float,
) -> None:
    """One lender (ledger row `lender`) lends `amount` to `rows` overnight at `rate`.

    `total` is `amount.sum()`, which every caller has already computed.
    """
    model.overnight.book_at_rate(
        label,
        instrument,
        lender,
        np.array([total]),
        rows,
        amount,
        rate,
        model.accrual_days_today,
    )


def _late_shock(sd: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, float]:
    """Each bank's late payment shock (zero-sum) and its size, half of sum(|shock|)."""
    eps = sd * draws
    eps -= sd * eps.sum() / sd.sum()
    return eps, float(np.abs(eps).sum() / 2)


#: The columns a late payment moves (constants in the compiled kernels).
_DEPOSITS_OWED = LIABILITY_COLUMN["deposits"]
_RESERVES_HELD = ASSET_COLUMN["reserves"]


def _shift_loops(balances: np.ndarray, bank_start: int, eps: np.ndarray, negate: bool) -> None:
    """`Facilities._shift_deposits` of `eps` (or of `-eps`) as loops, leg after leg."""
    for column in (_DEPOSITS_OWED, _RESERVES_HELD):
        for i in range(eps.size):
            balances[bank_start + i, column] += -eps[i] if negate else eps[i]


_shift_kernel = markets.compiled(_shift_loops)


def _late_shock_loops(
    balances: np.ndarray,
    bank_start: int,
    sd: np.ndarray,
    draws: np.ndarray,
    eps: np.ndarray,
    reverse: bool,
) -> float:
    """`_late_shock`, then `Facilities._shift_deposits`, as loops: the same floats.

    Args:
        balances: the ledger's matrix (changed in place).
        bank_start: the first bank's row.
        sd: each bank's shock standard deviation.
        draws: each bank's standard normal draw.
        eps: filled with each bank's shock; when reversing, yesterday's shock.
        reverse: shift `-eps` back instead (`sd` and `draws` are not used).

    Returns:
        The shock's size, half of sum(|eps|) (0 when reversing: the caller knows it).
    """
    if reverse:
        _shift_kernel(balances, bank_start, eps, True)
        return 0.0
    for i in range(sd.size):
        eps[i] = sd[i] * draws[i]
    eps_total, sd_total = markets.numpy_sum(eps), markets.numpy_sum(sd)
    for i in range(sd.size):
        eps[i] -= sd[i] * eps_total / sd_total
    magnitudes = np.empty(sd.size)
    for i in range(sd.size):
        magnitudes[i] = abs(eps[i])
    _shift_kernel(balances, bank_start, eps, False)
    return markets.numpy_sum(magnitudes) / 2


_late_shock_kernel = markets.compiled(_late_shock_loops)
