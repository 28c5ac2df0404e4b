"""Account closure: the request, staff review, and erasure over the data map."""
