"""Fakes of the ports, for tests and for ``textdesk topics test``; and clocks.

One module per group of ports: ``effects`` (what a topic's effects reach), ``tables``
(in-memory tables and their unit of work), ``sending`` (the dispatcher's), ``live_agents``
(the assigner's and the hand-off's), ``clock``.  The Twilio stand-in is
``textdesk.adapters.twilio.sandbox`` (a real HTTP server, used by the sandbox mode too),
and serving an app on loopback is ``textdesk.adapters.local_server``.
"""
