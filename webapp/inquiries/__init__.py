"""Privacy questions and requests: the person's file, staff answers, Privacy Act due dates."""
