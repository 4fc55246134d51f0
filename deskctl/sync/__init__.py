"""The Accounts/Contacts sync: mapping and fingerprints, a pure planner, an executor, and
the run that ties them to the backend and the state store."""
