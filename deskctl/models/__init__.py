"""Pure dataclasses and rules. No click, requests, sqlite or keyring here."""
