"""Every write that has a rule behind it. Views, the admin and commands call these."""
