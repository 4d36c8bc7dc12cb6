"""The SMS channel: texts in (inbound), the bot's turn (answering), texts out (outbound)."""
