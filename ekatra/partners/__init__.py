"""Partner systems: keys, learner accounts, coupons, progress and certificates."""
