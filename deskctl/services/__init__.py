"""Use cases with the integration's rules. Usable without click; every rule is testable here."""
