"""Your data: the export of everything Sentro holds about a person, and their sign-in history."""
