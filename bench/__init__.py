"""`make bench`: the site's throughput against a hello-world Flask app, and mail delivery."""
