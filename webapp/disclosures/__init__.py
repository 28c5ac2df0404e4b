"""Who received your information: the disclosure register and the standing third parties."""
