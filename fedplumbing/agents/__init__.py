"""The agents: Fed, Treasury, banks, money-market funds, dealers and FHLBs."""
