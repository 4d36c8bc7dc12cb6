"""Administration: staff, accounts, numbers, API tokens and the demo seed."""
