"""Log-in throttling on top of django-axes: the settings' checks, the client's address
behind our proxies, the lockout page, and lockouts in the admin."""
