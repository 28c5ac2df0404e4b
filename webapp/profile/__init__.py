"""Profile: see and correct your personal information inline, with a verified email change."""
