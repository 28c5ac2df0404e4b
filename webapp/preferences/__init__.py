"""Email preferences: which lists a person is on, one-click unsubscribe, campaigns."""
