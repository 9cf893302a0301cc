"""The simulation engine: ledger, calendar, markets, facilities, config, model, CLI."""
