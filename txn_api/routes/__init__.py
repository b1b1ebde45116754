"""One router per resource; `txn_api.main` includes them."""
