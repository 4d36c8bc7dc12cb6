"""Prometheus metrics: what an operator watches."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INBOUND = Counter("textdesk_inbound_total", "Inbound webhooks", ["result"])
OUTBOUND = Counter("textdesk_outbound_total", "Outbound send attempts by outcome", ["outcome"])
STATUS_CALLBACKS = Counter("textdesk_status_callbacks_total", "Status callbacks", ["status"])
DISPATCH_LAG = Gauge(
    "textdesk_dispatcher_lag_seconds", "Age of the oldest due outbound message at last claim"
)
INBOX_LAG = Gauge("textdesk_inbox_lag_seconds", "Age of the oldest unprocessed inbound message")
PROCESS_SECONDS = Histogram(
    "textdesk_process_batch_seconds", "Time to process one batch of inbound messages"
)
# Read from the database at each scrape (web/ops.py), so every process reports the same.
OUTBOX_WAITING = Gauge(
    "textdesk_outbox_waiting", "Outbound texts not yet accepted by Twilio, by state", ["state"]
)
OUTBOX_OLDEST_WAITING = Gauge(
    "textdesk_outbox_oldest_waiting_seconds", "Age of the oldest outbound text not yet accepted"
)
OUTBOX_RETRYING = Gauge(
    "textdesk_outbox_retrying", "Outbound texts waiting after at least one failed attempt"
)
SENDERS_PAUSED = Gauge(
    "textdesk_senders_paused", "Sender numbers whose sends are held while Twilio keeps failing"
)
# ServiceNow as the record store (adapters/servicenow/client.py): every call's outcome
# (ok, not_found, refused, rate_limited, server_error, timeout, unreachable,
# breaker_open, auth_failed), so an operator sees an instance failing before texters say so.
SERVICENOW_REQUESTS = Counter(
    "textdesk_servicenow_requests_total", "Calls to the ServiceNow instance by outcome", ["outcome"]
)
# Reports kept while the remote record store did not answer (records/backlog.py), by
# what became of them: kept, made, retry (a try failed; tried again later).
RECORD_BACKLOG = Counter(
    "textdesk_record_backlog_total", "Reports kept for the record store, by outcome", ["outcome"]
)
# Polling the instance for its changes (notifications/instance_polling.py): rounds by
# outcome (ok, failed); a failed round's changes are read again by the next.
SERVICENOW_POLLS = Counter(
    "textdesk_servicenow_polls_total",
    "Rounds of polling the ServiceNow instance by outcome",
    ["outcome"],
)
