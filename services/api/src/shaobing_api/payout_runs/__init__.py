"""Payout runs, the pre-payment check: started, carried out in the background, reviewed,
overridden, approved and exported as files; their pages."""
