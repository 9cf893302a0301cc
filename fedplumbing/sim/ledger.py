"""The ledger: every balance sheet in one matrix, changed only by double-entry postings.

Each holder (the Fed, the Treasury, the non-modelled public, and every bank, money fund,
dealer and FHLB) has one row. Each instrument has an asset column (who holds the claim) and a
liability column (who owes it); a last column is equity. A posting is a list of legs
`(holders, column, amount)`; it is accepted only if, for every holder it touches,
assets - liabilities - equity does not change, and, for every instrument, holdings change by
as much as the amount outstanding. Nothing else in the model writes to the matrix: the cash
legs of a payment are added, within `post`, by the payment router it is given, and
`post_compiled` lets a compiled kernel add the legs of postings it makes (debug mode checks
them against the same postings made leg by leg).

Securities pledged as repo collateral stay on the borrower's balance sheet (as under US GAAP)
but are recorded in a custody matrix: the lender holds them until the trade unwinds, and a
borrower can pledge only what it owns and has not pledged already.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

import numpy as np

INSTRUMENTS: tuple[str, ...] = (
    "reserves",  # Fed liability, held by banks
    "tga",  # Fed liability, held by the Treasury
    "on_rrp",  # Fed liability, held by MMFs and FHLBs
    "currency",  # Fed liability (currency and other autonomous), held by the public
    "bills",  # Treasury liability
    "coupons",  # Treasury liability (notes and bonds)
    "mbs",  # agency MBS, liability of the public (mortgage borrowers via agencies)
    "fed_other_assets",  # other Fed assets, liability of the public
    "loans",  # bank loans to the public
    "deposits",  # bank liability, held by the public and by nonbanks at custodian banks
    "mmf_shares",  # MMF liability, held by the public
    "repo",  # private overnight repo: borrower liability, lender asset
    "fed_funds",  # overnight unsecured interbank loans
    "fed_repo",  # Fed repo lending (SRF, temporary open-market operations)
    "discount_window",  # Fed discount-window loans to banks
    "hf_repo",  # dealers' reverse repo to hedge funds (liability of the public)
    "advances",  # FHLB advances to banks
    "fhlb_debt",  # FHLB bonds and discount notes, held by the public
)
SECURITIES: tuple[str, ...] = ("bills", "coupons", "mbs")
#: The matrix's layout, the same for every ledger: instrument k's asset column is 2k, its
#: liability column 2k + 1, and equity comes last (compiled postings take the columns
#: they write as constant arrays built from these).
ASSET_COLUMN: dict[str, int] = {name: 2 * k for k, name in enumerate(INSTRUMENTS)}
LIABILITY_COLUMN: dict[str, int] = {name: 2 * k + 1 for k, name in enumerate(INSTRUMENTS)}
EQUITY_COLUMN = 2 * len(INSTRUMENTS)

Index = int | slice | np.ndarray


class Leg(NamedTuple):
    """One side of a posting: add `amount` to `column` of `holders` (signed).

    A named tuple rather than a dataclass: a day builds a few hundred legs, and a tuple is
    the cheapest immutable record to create.
    """

    holders: Index
    column: int
    amount: float | np.ndarray


def add_legs(balances: np.ndarray, legs: Iterable[Leg]) -> None:
    """Add each leg's amount to its cells of `balances`, leg after leg."""
    for holders, column, value in legs:
        if type(holders) is slice:
            # add in place through the view: `balances[h, c] += v` would also copy the sum
            # back onto itself
            view = balances[holders, column]
            view += value
        else:
            balances[holders, column] += value


class CashRouter(Protocol):
    """What turns a vector of cash changes into the cash legs of a posting (`Payments`)."""

    def cash_legs(self, delta: np.ndarray) -> list[Leg]:
        """The legs that change each holder's cash by `delta`."""

    def apply_cash(self, balances: np.ndarray, delta: np.ndarray) -> float:
        """Add `cash_legs(delta)` to `balances`, bit for bit; return sum(max(delta, 0))."""


#: Largest error of an identity `Ledger.check` lets pass ($bn): rounding leaves errors and
#: overdrafts of about 1e-13, a defect leaves more.
TOLERANCE = 1e-6


class LedgerError(RuntimeError):
    """A posting or an identity does not balance."""


class Ledger:
    """All balance sheets of the model as a (holders x accounts) matrix in $ billions.

    Args:
        holder_names: one name per holder row.
        debug: check every posting for balance (slower; tests turn it on).

    Attributes:
        balances: the matrix; read it freely, never write it outside `post`.
        flows: amounts posted today by posting label (reset by `start_day`).
    """

    def __init__(self, holder_names: list[str], debug: bool = False) -> None:
        self.holder_names = holder_names
        self.n_holders = len(holder_names)
        self.n_instruments = len(INSTRUMENTS)
        self.equity_col = EQUITY_COLUMN
        # column-major: postings and `held`/`owed` touch whole columns, which are then
        # contiguous in memory
        self.balances = np.zeros((self.n_holders, 2 * self.n_instruments + 1), order="F")
        #: every holder's assets and liabilities (a view: all columns but equity)
        self._holdings = self.balances[:, : 2 * self.n_instruments]
        self.debug = debug
        self.flows: dict[str, float] = defaultdict(float)
        n_sec = len(SECURITIES)
        self.pledged = np.zeros((self.n_holders, n_sec), order="F")
        self.held_as_collateral = np.zeros((self.n_holders, n_sec), order="F")
        self.rehypothecable = np.zeros((self.n_holders, n_sec), order="F")
        self._security = {name: k for k, name in enumerate(SECURITIES)}
        self._asset_col = ASSET_COLUMN
        self._liab_col = LIABILITY_COLUMN

    # ------------------------------------------------------------------ columns
    def asset(self, instrument: str) -> int:
        """Column of holdings of `instrument` (an asset of the holder)."""
        return self._asset_col[instrument]

    def liability(self, instrument: str) -> int:
        """Column of amounts owed on `instrument` (a liability of the issuer)."""
        return self._liab_col[instrument]

    def held(self, instrument: str, holders: Index) -> np.ndarray | float:
        """Holdings of `instrument` by `holders`."""
        return self.balances[holders, self._asset_col[instrument]]

    def owed(self, instrument: str, holders: Index) -> np.ndarray | float:
        """Amounts owed on `instrument` by `holders`."""
        return self.balances[holders, self._liab_col[instrument]]

    def equity(self, holders: Index) -> np.ndarray | float:
        """Equity (net worth) of `holders`."""
        return self.balances[holders, self.equity_col]

    # ------------------------------------------------------------------ postings
    def post(
        self,
        label: str,
        *legs: Leg,
        amount: float | None = None,
        cash: tuple[CashRouter, np.ndarray] | None = None,
    ) -> None:
        """Apply a balanced set of legs atomically.

        Args:
            label: name of the transaction (for the day's flow log), e.g. "tax receipts".
            legs: the legs; holders are an int, a slice or an array of distinct indices.
            amount: size to log for the flow table (default: the gross cash received when
                `cash` is given, else the gross size of the first leg).
            cash: (router, delta): the posting's cash legs, which move each holder's cash by
                `delta` (a vector by ledger row); the router adds them to the matrix before
                `legs` (see `CashRouter`).

        Raises:
            LedgerError: in debug mode, when a holder's balance sheet or an instrument's
                identity would not balance.
        """
        balances = self.balances
        if cash is not None:
            router, delta = cash
            if self.debug:
                # the posting balances, and the router adds exactly its legs, bit for bit
                cash_legs = router.cash_legs(delta)
                self._check_balanced(label, (*cash_legs, *legs))
                expected = balances.copy(order="F")
                add_legs(expected, cash_legs)
                received = router.apply_cash(balances, delta)
                if not np.array_equal(balances, expected, equal_nan=True):
                    raise LedgerError(f"posting '{label}': cash legs applied differ from listed")
            else:
                received = router.apply_cash(balances, delta)
            if amount is None:
                amount = received
        elif self.debug:
            self._check_balanced(label, legs)
        add_legs(balances, legs)
        if amount is None and legs:
            amount = float(np.sum(np.abs(legs[0].amount)))
            if isinstance(legs[0].holders, slice) and np.ndim(legs[0].amount) == 0:
                amount *= len(range(*legs[0].holders.indices(self.n_holders)))
        self.flows[label] += float(amount or 0.0)

    def post_compiled(
        self,
        apply: Callable[[np.ndarray], dict[str, float]],
        reference: Callable[[], object],
    ) -> None:
        """Make postings through a compiled kernel that adds their legs to the matrix.

        Args:
            apply: adds the legs of one or more postings to the matrix it is given and
                returns the amount to log by label; it must make the same additions, in the
                same order, as `reference`.
            reference: makes the same postings leg by leg through `post`. In debug mode it
                runs instead (each posting checked) and `apply` runs on a copy of the matrix,
                which must come out the same bit for bit, with the same amounts logged.

        Raises:
            LedgerError: in debug mode, when a posting does not balance or `apply` differs
                from `reference`.
        """
        if not self.debug:
            for label, amount in apply(self.balances).items():
                self.flows[label] += amount
            return
        expected = self.balances.copy(order="F")
        amounts = apply(expected)
        logged = dict(self.flows)
        reference()
        if not np.array_equal(self.balances, expected, equal_nan=True):
            raise LedgerError(f"compiled postings {list(amounts)} differ from their legs")
        for label, amount in amounts.items():
            if self.flows[label] != logged.get(label, 0.0) + amount:
                raise LedgerError(f"compiled posting '{label}' logs a different amount")

    def _check_balanced(self, label: str, legs: tuple[Leg, ...]) -> None:
        net = np.zeros(self.n_holders)
        by_instrument = np.zeros(self.n_instruments)
        for leg in legs:
            idx = np.arange(self.n_holders)[leg.holders]
            if idx.ndim and np.unique(idx).size != idx.size:
                # `add_legs` adds a repeated holder's amounts once, not summed
                raise LedgerError(f"posting '{label}': a leg lists the same holder twice")
            amt = np.broadcast_to(np.asarray(leg.amount, dtype=float), np.shape(idx))
            if not np.all(np.isfinite(amt)):
                raise LedgerError(f"posting '{label}': non-finite amount")
            if leg.column == self.equity_col:
                sign = -1.0
            else:
                k, side = divmod(leg.column, 2)
                sign = 1.0 if side == 0 else -1.0
                by_instrument[k] += sign * float(np.sum(amt))
            np.add.at(net, idx, sign * amt)
        scale = 1.0 + max(
            (float(np.max(np.abs(np.asarray(leg.amount)))) for leg in legs), default=0.0
        )
        bad = np.flatnonzero(np.abs(net) > 1e-9 * scale)
        if bad.size:
            h = bad[0]
            raise LedgerError(
                f"posting '{label}' unbalances {self.holder_names[h]}'s balance "
                f"sheet by {net[h]:.6g} $bn"
            )
        bad = np.flatnonzero(np.abs(by_instrument) > 1e-9 * scale)
        if bad.size:
            k = bad[0]
            raise LedgerError(
                f"posting '{label}' changes holdings and issuance of "
                f"{INSTRUMENTS[k]} by different amounts ({by_instrument[k]:.6g})"
            )

    def start_day(self) -> None:
        """Reset the day's flow log."""
        self.flows = defaultdict(float)

    # ------------------------------------------------------------------ collateral
    def pledge(
        self, security: str, borrowers: np.ndarray, pledged: np.ndarray, custody_share: np.ndarray
    ) -> None:
        """Move collateral into lenders' custody until the trades unwind.

        Args:
            security: "bills", "coupons" or "mbs".
            borrowers: distinct rows of the borrowers.
            pledged: amount each borrower pledges ($bn face).
            custody_share: share of the total each holder receives (one entry per row,
                summing to 1).

        Raises:
            LedgerError: if a borrower would pledge more than it can (own holdings plus
                re-pledgeable collateral, less what it has already pledged).
        """
        s = self._security[security]
        if self.debug and np.unique(borrowers).size != np.size(borrowers):
            # `+=` on repeated rows adds once: the pledges would not add up
            raise LedgerError(f"pledge of {security}: the same borrower is listed twice")
        if np.count_nonzero(pledged > self.unencumbered(security, borrowers) + 1e-9):
            raise LedgerError(f"cannot pledge more {security} than held unencumbered")
        self.pledged[borrowers, s] += pledged
        self.held_as_collateral[:, s] += float(np.sum(pledged)) * custody_share

    def release(self, security: str | None = None) -> None:
        """Return all collateral of `security` (default: every security) to its owners.

        Called when the overnight trades have unwound.
        """
        if security is None:  # every morning: `fill` is the cheapest way to clear a matrix
            self.pledged.fill(0.0)
            self.held_as_collateral.fill(0.0)
            return
        s = self._security[security]
        self.pledged[:, s] = 0.0
        self.held_as_collateral[:, s] = 0.0

    def unencumbered(self, security: str, holders: Index) -> np.ndarray | float:
        """Securities a holder can still pledge today.

        Its own holdings plus collateral it may re-pledge (received under term trades), less
        what it has pledged today.
        """
        s = self._security[security]
        return (
            self.held(security, holders)
            + self.rehypothecable[holders, s]
            - self.pledged[holders, s]
        )

    def set_rehypothecable(self, security: str, holders: Index, amount: float | np.ndarray) -> None:
        """Record collateral received under term trades that `holders` may re-pledge."""
        self.rehypothecable[holders, self._security[security]] = amount

    # ------------------------------------------------------------------ identities
    def invariant_errors(self) -> dict[str, float]:
        """Largest absolute error of each accounting identity ($ billions).

        Keys: "balance sheets" (assets - liabilities - equity, worst holder),
        "instruments" (holdings - amount outstanding, worst instrument; reserves are an
        instrument, so this covers bank reserve accounts against the Fed's liability),
        "collateral" (pledged vs held as collateral; pledged beyond holdings), "negative
        holdings" (the most negative asset or liability of any holder: no account ends the
        day overdrawn, nobody holds or owes less than nothing).
        """
        b = self.balances
        assets = b[:, 0 : 2 * self.n_instruments : 2].sum(axis=1)
        liabs = b[:, 1 : 2 * self.n_instruments : 2].sum(axis=1)
        sheet = float(np.max(np.abs(assets - liabs - b[:, self.equity_col])))
        inst = b[:, 0 : 2 * self.n_instruments : 2].sum(axis=0) - b[
            :, 1 : 2 * self.n_instruments : 2
        ].sum(axis=0)
        over = (
            self.pledged
            - self.rehypothecable
            - np.stack([self.held(s, slice(None)) for s in SECURITIES], axis=1)
        )
        coll = max(
            float(np.max(np.abs(self.pledged.sum(0) - self.held_as_collateral.sum(0)))),
            float(max(0.0, np.max(over))),
        )
        return {
            "balance sheets": sheet,
            "instruments": float(np.max(np.abs(inst))),
            "collateral": coll,
            "negative holdings": float(max(0.0, -np.min(self._holdings))),
        }

    def check(self, tol: float = TOLERANCE, *, holdings: bool = True) -> None:
        """Raise LedgerError naming the identity that broke, if any exceeds `tol`.

        Args:
            tol: largest error allowed ($bn).
            holdings: also refuse negative holdings (an end-of-day check: during the day,
                and in the morning before the markets, an account may be overdrawn).
        """
        for name, err in self.invariant_errors().items():
            if err > tol and (holdings or name != "negative holdings"):
                where = f" ({self._lowest_holding()})" if name == "negative holdings" else ""
                raise LedgerError(f"identity '{name}' broken by {err:.3g} $bn{where}")

    def check_holdings(self) -> None:
        """`check`, run only when some account is below zero by more than `TOLERANCE`.

        A few microseconds: runs call it every day (`FedPlumbingModel.step`), where the
        whole `check` would cost about a third of the day.
        """
        if self._holdings.min() < -TOLERANCE:
            self.check()

    def _lowest_holding(self) -> str:
        """Which holder's account is the most negative, e.g. "banks[131]'s deposits owed"."""
        row, column = np.unravel_index(int(np.argmin(self._holdings)), self._holdings.shape)
        instrument, side = INSTRUMENTS[column // 2], ("held", "owed")[column % 2]
        return f"{self.holder_names[row]}'s {instrument} {side}"

    # ------------------------------------------------------------------ display
    def t_account(self, holders: Index, name: str | None = None) -> str:
        """Render the (summed) balance sheet of `holders` as a T-account."""
        rows = self.balances[holders]
        row = rows.sum(axis=0) if rows.ndim == 2 else rows
        left = [
            (n, row[self._asset_col[n]]) for n in INSTRUMENTS if abs(row[self._asset_col[n]]) > 1e-9
        ]
        right = [
            (n, row[self._liab_col[n]]) for n in INSTRUMENTS if abs(row[self._liab_col[n]]) > 1e-9
        ]
        right.append(("equity", row[self.equity_col]))
        title = name or (self.holder_names[holders] if isinstance(holders, int) else "sector")
        lines = [f"{title:^57}", f"{'assets':<28}|{'liabilities':>28}", "-" * 57]
        for i in range(max(len(left), len(right))):
            a = f"{left[i][0]:<16}{left[i][1]:>11,.1f}" if i < len(left) else ""
            r = f"{right[i][0]:<16}{right[i][1]:>11,.1f}" if i < len(right) else ""
            lines.append(f"{a:<28}|{r:>28}")
        return "\n".join(lines)

    def sheet(self, holders: Index) -> dict[str, dict[str, float]]:
        """Balance sheet of `holders` (summed) as {"assets": {...}, "liabilities": {...}}."""
        rows = self.balances[holders]
        row = rows.sum(axis=0) if rows.ndim == 2 else rows
        return {
            "assets": {
                n: float(row[self._asset_col[n]])
                for n in INSTRUMENTS
                if abs(row[self._asset_col[n]]) > 1e-9
            },
            "liabilities": {
                **{
                    n: float(row[self._liab_col[n]])
                    for n in INSTRUMENTS
                    if abs(row[self._liab_col[n]]) > 1e-9
                },
                "equity": float(row[self.equity_col]),
            },
        }
