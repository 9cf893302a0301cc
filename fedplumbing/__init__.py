"""fedplumbing: an agent-based, stock-flow-consistent model of US money-market plumbing."""
