"""Privacy controls: declared cookies, consent choices, analytics only by consent, GPC honoured."""
