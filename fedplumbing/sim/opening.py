"""Opening state: heterogeneous populations and the opening balance sheets.

The opening balance sheets are those of the start of a business day, after yesterday's
overnight trades have unwound: money funds and FHLBs hold their cash at custodian banks,
dealers are overdrawn at their clearing banks by what they must refinance today. They are
entered as one balanced posting; the public (households, firms, hedge funds, foreigners:
the non-modelled sector) holds whatever the modelled agents do not.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from fedplumbing.agents.base import Population, pareto_sizes
from fedplumbing.sim.config import ConfigError, ScenarioConfig, apply_overrides
from fedplumbing.sim.ledger import INSTRUMENTS, Ledger, Leg
from fedplumbing.sim.payments import FED, PUBLIC, TREASURY

#: Equity of dealers as a share of their gross positions.
DEALER_EQUITY_SHARE = 0.04
#: Equity of banks as a share of assets.
BANK_EQUITY_SHARE = 0.10
#: Share of bank Treasury holdings in bills.
BANK_BILL_SHARE = 0.2
#: Fed funds arbitrage capacity of a foreign bank, as a share of its assets.
ARBITRAGE_CAPACITY_SHARE = 0.02


def build_populations(cfg: ScenarioConfig, rng: np.random.Generator) -> dict[str, Population]:
    """Create the agent populations with their parameter arrays, rows in ledger order."""
    p = cfg.population
    start = 3
    pops: dict[str, Population] = {}
    for name, n in (
        ("banks", p.banks),
        ("mmfs", p.mmfs),
        ("dealers", p.dealers),
        ("fhlbs", p.fhlbs),
    ):
        pops[name] = Population(name, slice(start, start + n))
        start += n

    b, bk = pops["banks"], cfg.banks
    assets = pareto_sizes(rng, p.banks, bk.size_tail, cfg.initial.bank_assets)
    active = np.zeros(p.banks, dtype=bool)
    active[: p.repo_active_banks] = True
    # LCLoR shares: the repo-active banks' comfortable levels are the calibrated block the
    # SFOS measures (their group mean, no draw); the seed spreads the rest's around theirs.
    # Each group's aggregate LCLoR is its assets times its mean share, whatever the draws.
    lclor_share = np.where(active, 1.0, np.exp(bk.lclor_dispersion * rng.standard_normal(p.banks)))
    for group, mean in (
        (active, bk.lclor_share * (1.0 + bk.big_bank_lclor_premium)),
        (~active, bk.lclor_share),
    ):
        if group.any():
            w = lclor_share[group] * assets[group]
            lclor_share[group] *= mean * assets[group].sum() / w.sum()
    # foreign banks at evenly spaced size ranks (the largest banks are domestic), so that
    # the foreign share, and the fed funds arbitrage capacity, is the same in every size band
    foreign = evenly_spaced(p.banks, bk.foreign_share)
    cost_bp = np.maximum(
        bk.balance_sheet_cost_bp + bk.cost_dispersion_bp * rng.standard_normal(p.banks), 0.0
    )
    arb_bp = np.maximum(bk.arbitrage_cost_bp + 2.0 * rng.standard_normal(p.banks), 0.5)
    b.state = {
        "assets": assets,
        "lclor": bk.lclor_scale * lclor_share * assets,
        "shock_sd": np.maximum(bk.shock_share * assets, 1e-6),
        "cost": cost_bp / 100.0,
        "foreign": foreign,
        "repo_active": active,
        "arbitrage_cost": arb_bp / 100.0,
        "arbitrage_capacity": np.where(foreign, ARBITRAGE_CAPACITY_SHARE * assets, 0.0),
    }

    m, mm = pops["mmfs"], cfg.mmfs
    m.state = {
        "assets": pareto_sizes(rng, p.mmfs, mm.size_tail, cfg.initial.mmf_assets),
        "premium": np.maximum(
            mm.repo_premium_bp + mm.premium_dispersion_bp * rng.standard_normal(p.mmfs), 0.0
        )
        / 100.0,
    }
    d = pops["dealers"]
    d.state = {
        "share": pareto_sizes(rng, p.dealers, cfg.dealers.size_tail, 1.0),
        "foreign": evenly_spaced(p.dealers, cfg.dealers.foreign_share),
    }
    f = pops["fhlbs"]
    f.state = {"share": np.full(p.fhlbs, 1.0 / p.fhlbs)}

    # custodians: money funds, dealers and FHLBs bank with the largest banks, each
    # custodian's client book in proportion to its size (largest clients placed first)
    n_custodians = max(1, min(10, p.banks))
    weights = assets[:n_custodians] / assets[:n_custodians].sum()
    for pop, size in ((m, m["assets"]), (d, d["share"]), (f, f["share"])):
        pop.custodian = assign_custodians(size, weights)
    return pops


def evenly_spaced(n: int, share: float) -> np.ndarray:
    """Flags `share` of `n` agents sorted by size, at evenly spaced ranks (the largest not).

    Used for foreign ownership, so that the foreign share is the same in every size band.
    """
    rank_share = share * np.arange(n + 1)
    return np.floor(rank_share[1:] + 1e-9) > np.floor(rank_share[:-1] + 1e-9)


def assign_custodians(sizes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Custodian of each client (deterministic).

    Largest clients first, each to the custodian furthest below its target share
    `weights` of the clients' total.
    """
    target = weights * sizes.sum()
    booked = np.zeros_like(target)
    out = np.zeros(len(sizes), dtype=np.int64)
    for j in np.argsort(-sizes, kind="stable"):
        k = int(np.argmax(target - booked))
        out[j] = k
        booked[k] += sizes[j]
    return out


def post_opening_balances(
    ledger: Ledger,
    pops: dict[str, Population],
    cfg: ScenarioConfig,
    soma_bills: float,
    soma_coupons: float,
    rng: np.random.Generator,
) -> None:
    """Enter every opening balance sheet as one balanced posting.

    Raises:
        ConfigError: when the opening aggregates are inconsistent (e.g. the Fed's assets do
            not cover its liabilities, or the private sector would hold negative securities).
    """
    ini = cfg.initial
    n = ledger.n_holders
    target = np.zeros((n, 2 * len(INSTRUMENTS)))

    def put(instrument: str, rows: int | slice, amount: float | np.ndarray, side: str) -> None:
        col = ledger.asset(instrument) if side == "asset" else ledger.liability(instrument)
        target[rows, col] += amount

    banks, mmfs, dealers, fhlbs = (pops[k] for k in ("banks", "mmfs", "dealers", "fhlbs"))

    # Money funds: bills + cash to invest; shares = assets
    mmf_assets = mmfs["assets"]
    mmf_bills = ini.mmf_bill_share * mmf_assets
    put("bills", mmfs.rows, mmf_bills, "asset")
    put("deposits", mmfs.rows, mmf_assets - mmf_bills, "asset")
    put("mmf_shares", mmfs.rows, mmf_assets, "liability")

    # Dealers: inventory and hedge-fund lending, overdrawn by what they must refinance today
    share = dealers["share"]
    inventory = ini.dealer_inventory * share
    hf = ini.hedge_fund_repo * share
    equity = DEALER_EQUITY_SHARE * (inventory + hf)
    put("bills", dealers.rows, 0.3 * inventory, "asset")
    put("coupons", dealers.rows, 0.7 * inventory, "asset")
    put("hf_repo", dealers.rows, hf, "asset")
    put("deposits", dealers.rows, -(inventory + hf - equity), "asset")
    put("hf_repo", PUBLIC, ini.hedge_fund_repo, "liability")

    # FHLBs: liquidity in cash, advances to banks, funded by debt
    fhlb_cash = ini.fhlb_liquidity * fhlbs["share"]
    put("deposits", fhlbs.rows, fhlb_cash, "asset")
    bank_assets = banks["assets"]
    not_active = ~banks["repo_active"]
    adv_w = np.where(not_active, bank_assets, 0.3 * bank_assets)
    advances = ini.fhlb_advances * adv_w / adv_w.sum()
    put("advances", banks.rows, advances, "liability")
    put("advances", fhlbs.rows, ini.fhlb_advances * fhlbs["share"], "asset")
    fhlb_debt = ini.fhlb_advances + ini.fhlb_liquidity
    put("fhlb_debt", fhlbs.rows, fhlb_debt * fhlbs["share"] * 0.95, "liability")
    put("fhlb_debt", PUBLIC, fhlb_debt * 0.95, "asset")

    # Fed and Treasury
    reserves_sod = ini.reserves + ini.on_rrp  # ON RRP has unwound into cash this morning
    fed_assets = soma_bills + soma_coupons + ini.mbs
    currency = fed_assets - reserves_sod - ini.tga - ini.fed_capital
    if currency <= 0:
        raise ConfigError(
            f"initial: SOMA ({fed_assets:,.0f} $bn) does not cover reserves + ON RRP + TGA + "
            f"capital ({reserves_sod + ini.tga + ini.fed_capital:,.0f} $bn); raise "
            "initial.soma_coupons or initial.mbs, or lower the liabilities"
        )
    put("bills", FED, soma_bills, "asset")
    put("coupons", FED, soma_coupons, "asset")
    put("mbs", FED, ini.mbs, "asset")
    put("mbs", PUBLIC, ini.mbs, "liability")
    put("currency", FED, currency, "liability")
    put("currency", PUBLIC, currency, "asset")
    put("tga", FED, ini.tga, "liability")
    put("tga", TREASURY, ini.tga, "asset")
    put("bills", TREASURY, soma_bills + ini.private_bills, "liability")
    put("coupons", TREASURY, soma_coupons + ini.private_coupons, "liability")

    # Banks: reserves (custodians also hold their clients' cash), Treasuries, loans
    custodial = np.zeros(banks.size)
    for pop in (mmfs, dealers, fhlbs):
        cash = target[pop.rows, ledger.asset("deposits")]
        custodial += np.bincount(pop.custodian, weights=cash, minlength=banks.size)
    base_total = reserves_sod - custodial.sum()
    if base_total <= 0:
        raise ConfigError(
            "initial: reserves are too small for the cash positions of money "
            "funds, dealers and FHLBs; raise initial.reserves"
        )
    # small banks hold a buffer above their comfortable level; the large repo-active banks
    # hold their comfortable level plus the rest of the surplus, in proportion to size
    lclor = banks["lclor"]
    active = banks["repo_active"]
    small = np.where(active, 0.0, lclor * (1.0 + cfg.banks.small_bank_buffer))
    weight = bank_assets * np.exp(0.2 * rng.standard_normal(banks.size)) * active
    surplus = base_total - small.sum() - lclor[active].sum()
    if surplus > 0:
        base = small + active * lclor + surplus * weight / weight.sum()
    else:
        need = small + active * lclor
        base = base_total * need / need.sum()
    reserves = base + custodial
    if np.any(reserves < 0):
        # custodians overdrawn by their clients' positions: spread the deficit over all banks
        short = np.minimum(reserves, 0.0)
        reserves -= short
        reserves += short.sum() * reserves / reserves.sum()
    treasuries = cfg.initial.bank_treasuries_share * bank_assets
    put("reserves", banks.rows, reserves, "asset")
    put("reserves", FED, reserves_sod, "liability")
    put("bills", banks.rows, BANK_BILL_SHARE * treasuries, "asset")
    put("coupons", banks.rows, (1 - BANK_BILL_SHARE) * treasuries, "asset")
    loans = np.maximum(bank_assets - reserves - treasuries, 0.0)
    put("loans", banks.rows, loans, "asset")
    put("loans", PUBLIC, loans.sum(), "liability")
    total_assets = reserves + treasuries + loans
    bank_equity = BANK_EQUITY_SHARE * total_assets
    deposits = total_assets - bank_equity - advances
    put("deposits", banks.rows, deposits, "liability")
    # each bank's own depositors are the public: a custodian smaller than its clients' cash
    # would owe the public less than nothing once its clients invest that cash
    public_at = deposits - custodial
    worst = int(np.argmin(public_at))
    if public_at[worst] < -1e-6:
        raise ConfigError(
            f"banks.size_tail: custodian bank {worst} ({deposits[worst]:,.0f} $bn of "
            f"deposits) is too small for its clients' cash ({custodial[worst]:,.0f} $bn of "
            "money funds', dealers' and FHLBs' deposits); custodians are the largest banks: "
            "a heavier tail of bank sizes (a lower banks.size_tail), fewer banks or smaller "
            "money funds (initial.mmf_assets) gives them room"
        )
    # public deposits = bank deposits - nonbank deposits
    nonbank_dep = sum(
        target[p.rows, ledger.asset("deposits")].sum() for p in (mmfs, dealers, fhlbs)
    )
    put("deposits", PUBLIC, deposits.sum() - nonbank_dep, "asset")
    put("mmf_shares", PUBLIC, mmf_assets.sum(), "asset")

    # the public holds the rest of the Treasury securities
    for sec in ("bills", "coupons"):
        issued = target[TREASURY, ledger.liability(sec)]
        held = target[:, ledger.asset(sec)].sum()
        rest = issued - held
        if rest < 0:
            raise ConfigError(
                f"initial.private_{sec}: money funds, dealers and banks hold "
                f"{held - (soma_bills if sec == 'bills' else soma_coupons):,.0f} "
                f"$bn of {sec}, more than the private supply; raise it"
            )
        put(sec, PUBLIC, rest, "asset")

    assets = target[:, 0::2].sum(axis=1)
    liabs = target[:, 1::2].sum(axis=1)
    legs = [
        Leg(slice(None), col, target[:, col])
        for col in range(target.shape[1])
        if np.any(target[:, col])
    ]
    legs.append(Leg(slice(None), ledger.equity_col, assets - liabs))
    ledger.post("opening balances", *legs, amount=0.0)


#: Day one's ON RRP may miss `initial.on_rrp` by this much ($bn) or this share of it.
FIT_TOLERANCE, FIT_TOLERANCE_SHARE = 2.0, 0.005


def fit_opening_on_rrp(
    config: ScenarioConfig,
    rng: int | np.random.SeedSequence | np.random.Generator | None,
    max_trials: int = 20,
) -> ScenarioConfig:
    """`config` with the opening hedge-fund book that makes day one end at `initial.on_rrp`.

    Money funds put at the ON RRP whatever cash dealers do not borrow, and dealers borrow to
    finance their hedge-fund book, so day one's ON RRP falls one for one as that book grows
    (until money funds run out of cash). A scenario that states its opening split of
    reserves and ON RRP (May 2022: $3.3T and $2.3T) but inherits a hedge-fund book
    calibrated on 2017-2019 would otherwise see the agents reallocate a trillion dollars on
    the first day. Each trial builds the model with the same seed and runs its first day;
    the book is found by regula falsi within the parameter's allowed range.

    Args:
        config: a policy-mode scenario with `initial.fit_on_rrp` set.
        rng: the seed the model will use (a Generator is copied, not advanced).
        max_trials: model days to run at most.

    Returns:
        The scenario with `initial.hedge_fund_repo` solved and `initial.fit_on_rrp` off.

    Raises:
        ConfigError: when no hedge-fund book in range gives the stated ON RRP.
    """
    from fedplumbing.sim.model import FedPlumbingModel  # the model imports this module

    target = config.initial.on_rrp
    bound = {f.name: f.metadata for f in dataclasses.fields(config.initial)}["hedge_fund_repo"]
    lower, upper = float(bound["lo"]), float(bound["hi"])  # its allowed range

    def with_book(book: float) -> ScenarioConfig:
        return apply_overrides(
            config, {"initial.hedge_fund_repo": book, "initial.fit_on_rrp": False}
        )

    def day_one(book: float) -> float:
        seed = copy.deepcopy(rng) if isinstance(rng, np.random.Generator) else rng
        model = FedPlumbingModel(with_book(book), rng=seed)
        model.step()
        return float(model.ledger.owed("on_rrp", FED))

    tolerance = max(FIT_TOLERANCE, FIT_TOLERANCE_SHARE * target)
    # day one's ON RRP falls as the book grows: keep a bracket [lo, hi] around the book
    # (error > 0 at lo, < 0 at hi) and narrow it by regula falsi, kept off its ends
    lo, hi = lower, upper
    err_lo: float | None = None
    err_hi: float | None = None
    book = min(max(config.initial.hedge_fund_repo, lower), upper)
    error = day_one(book) - target
    step = 0.0
    for _ in range(max_trials - 1):
        if abs(error) <= tolerance:
            return with_book(book)
        if error > 0:
            lo, err_lo = book, error
        else:
            hi, err_hi = book, error
        width = hi - lo
        if width < 1e-6:
            break
        if err_lo is not None and err_hi is not None:
            guess = lo + err_lo * width / (err_lo - err_hi)
            guess = min(max(guess, lo + 0.1 * width), hi - 0.1 * width)
        else:  # one side still open: step as if a dollar of book took a dollar of ON RRP,
            # at least twice the last step (day one's ON RRP has flat stretches)
            step = max(abs(error), 2.0 * step)
            guess = min(max(book + (step if error > 0 else -step), lo), hi)
            if guess == book:
                break
        book = guess
        error = day_one(book) - target
    if abs(error) <= tolerance:
        return with_book(book)
    raise ConfigError(
        f"initial.on_rrp: no opening hedge-fund book in [{lower:,.0f}, {upper:,.0f}] $bn makes "
        f"day one end with {target:,.0f} $bn at the ON RRP (last try {target + error:,.0f} $bn "
        f"with {book:,.0f} $bn); change initial.on_rrp, initial.mmf_bill_share or "
        "initial.mmf_assets, undo a behavioural setting that changes where money funds and "
        "dealers put cash on day one (stigma, premiums, market imbalances), or leave "
        "initial.fit_on_rrp off"
    )
