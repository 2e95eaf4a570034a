"""The registry: participants, their key histories, agreements and filings — one rule set
for the CLI and the API."""
