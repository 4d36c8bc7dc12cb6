"""Twilio's webhooks: inbound texts and status callbacks."""
