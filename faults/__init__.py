"""The fault suite (``make faults``): real textdesk processes, real faults, one table.

See docs/reliability.md for what each scenario does and how to read the table.
"""
